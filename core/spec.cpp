#include "core/spec.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <new>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <variant>

namespace vpnsteer {

using Json = nlohmann::ordered_json;

std::string_view toString(Protocol protocol) {
    switch (protocol) {
    case Protocol::wireguard:
        return "wireguard";
    case Protocol::fastd:
        return "fastd";
    }
    return "?";
}

std::string_view toString(WireguardImplementation implementation) {
    switch (implementation) {
    case WireguardImplementation::automatic:
        return "auto";
    case WireguardImplementation::kernel:
        return "kernel";
    case WireguardImplementation::userspace:
        return "userspace";
    }
    return "?";
}

std::string_view toString(FastdTransportMode mode) {
    return mode == FastdTransportMode::secure ? "secure" : "performance";
}

bool isUnencryptedFastdMethod(std::string_view method) {
    return method == "null" || method == "null@l2tp";
}

std::vector<std::string> fastdMethodsFor(const FastdSettings& fastd, FastdTransportMode mode) {
    if (!fastd.configurable)
        return fastd.methods;
    std::vector<std::string> methods;
    if (mode == FastdTransportMode::performance)
        methods = {"null@l2tp", "null"};
    for (const auto& method : fastd.methods)
        if (!isUnencryptedFastdMethod(method))
            methods.push_back(method);
    return methods;
}

std::string Endpoint::toString() const {
    return (hostIsIpv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Vpn::bridgeAddressV4() const {
    return "10.20." + std::to_string(id) + ".1/24";
}
std::string Vpn::bridgeSubnetV4() const {
    return "10.20." + std::to_string(id) + ".0/24";
}

const Vpn* Spec::defaultVpn() const {
    const Vpn* best = nullptr;
    for (const auto& [name, vpn] : vpns)
        if (!best || vpn.id < best->id)
            best = &vpn;
    return best;
}

const Vpn* Spec::find(std::string_view name) const {
    auto it = vpns.find(std::string(name));
    return it == vpns.end() ? nullptr : &it->second;
}

namespace filenames {
std::string tunnelNetdev(std::string_view vpn) {
    return "60-vpnsteer-" + std::string(vpn) + ".netdev";
}
std::string tunnelNetwork(std::string_view vpn) {
    return "60-vpnsteer-" + std::string(vpn) + ".network";
}
std::string bridgeNetdev(std::string_view vpn) {
    return "61-vpnsteer-" + std::string(vpn) + "-bridge.netdev";
}
std::string bridgeNetwork(std::string_view vpn) {
    return "61-vpnsteer-" + std::string(vpn) + "-bridge.network";
}
bool isOwned(std::string_view filename) {
    return filename.find("-vpnsteer-") != std::string_view::npos &&
           (filename.ends_with(".netdev") || filename.ends_with(".network"));
}

std::string fastdUnit(std::string_view vpn) {
    return "vpn-" + std::string(vpn) + "-fastd.service";
}

std::string fastdStatusSocket(std::string_view fastdDir, std::string_view vpn) {
    return std::string(fastdDir) + "/" + std::string(vpn) + ".sock";
}

std::string transportModeFile(std::string_view stateDir, std::string_view vpn) {
    return std::string(stateDir) + "/fastd/" + std::string(vpn) + ".mode";
}

std::string transportModeFileText(FastdTransportMode mode) {
    return "VPNSTEER_TRANSPORT_MODE=" + std::string(toString(mode));
}
} // namespace filenames

namespace {

// The values quoted back in messages are printed as JSON so that control characters
// and quotes cannot garble the message; very long values are cut.
std::string quote(const Json& value) {
    std::string text = value.dump(-1, ' ', true, Json::error_handler_t::replace);
    if (text.size() > 80)
        text = text.substr(0, 77) + "...";
    return text;
}

std::string quote(const std::string& value) {
    return quote(Json(value));
}
std::string quote(std::string_view value) {
    return quote(Json(std::string(value)));
}

bool isAsciiAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A name is safe where it becomes an interface name, part of a file name, a unit name
// and (escaped) a D-Bus object path.
bool isSafeNameCharacter(char c) {
    return isAsciiAlnum(c) || c == '_' || c == '-' || c == '.';
}

std::optional<std::string> checkSafeName(std::string_view name, std::size_t maxBytes) {
    if (name.empty())
        return "must not be empty";
    if (!std::all_of(name.begin(), name.end(), isSafeNameCharacter))
        return "may contain only letters, digits, '_', '-' and '.', got " + quote(name);
    if (name.size() > maxBytes)
        return "must be at most " + std::to_string(maxBytes) + " bytes, got " + quote(name) + " (" +
               std::to_string(name.size()) + " bytes)";
    if (!isAsciiAlnum(name.front()))
        return "must start with a letter or digit, got " + quote(name);
    return std::nullopt;
}

// Characters that must never reach an INI file: a newline or control character could
// start a new key or section, and a trailing backslash joins the next line to this value
// (systemd.syntax(7)). Endpoints legitimately start with '[' ("[2001:db8::1]:51820").
enum class LeadingBracket { refused, allowed };
std::optional<std::string> checkUnitSafe(std::string_view value,
                                         LeadingBracket bracket = LeadingBracket::refused) {
    for (unsigned char c : value)
        if (c < 0x20 || c == 0x7f)
            return "must not contain control characters or newlines, got " + quote(value);
    if (bracket == LeadingBracket::refused && !value.empty() && value.front() == '[')
        return "must not start with '[', got " + quote(value);
    if (value.find('=') != std::string_view::npos)
        return "must not contain '=', got " + quote(value);
    if (value.find('\\') != std::string_view::npos)
        return "must not contain '\\', got " + quote(value);
    return std::nullopt;
}

std::optional<std::string> checkAbsolutePath(std::string_view path) {
    if (auto problem = checkUnitSafe(path))
        return problem;
    if (path.empty() || path.front() != '/')
        return "must be an absolute path, got " + quote(path);
    if (std::any_of(path.begin(), path.end(), [](char c) { return c == ' ' || c == '\t'; }))
        return "must not contain white space, got " + quote(path);
    if (path.find("/../") != std::string_view::npos || path.ends_with("/.."))
        return "must not contain '..', got " + quote(path);
    return std::nullopt;
}

bool parseIpv4(std::string_view text) {
    in_addr address{};
    return text.size() < INET_ADDRSTRLEN &&
           inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
}

bool parseIpv6(std::string_view text) {
    in6_addr address{};
    return text.size() < INET6_ADDRSTRLEN &&
           inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
bool isHostName(std::string_view name) {
    if (name.empty() || name.size() > 253)
        return false;
    bool allDigitsAndDots = true;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('.', start);
        if (end == std::string_view::npos)
            end = name.size();
        std::string_view label = name.substr(start, end - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label) {
            if (!isAsciiAlnum(c) && c != '-')
                return false;
            if (c < '0' || c > '9')
                allDigitsAndDots = false;
        }
        start = end + 1;
    }
    // "300.1.1.1" is a broken address, not a name.
    return !allDigitsAndDots;
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
    if (text.empty() || text.size() > 5 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    int port = std::stoi(std::string(text));
    if (port < 1 || port > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

enum class HostKind { nameOrAddress, addressOnly };

// host:port, [v6]:port; with a default port, also a bare host or [v6].
std::variant<Endpoint, std::string> parseEndpoint(std::string_view text, HostKind kind,
                                                  std::optional<std::uint16_t> defaultPort) {
    if (auto problem = checkUnitSafe(text, LeadingBracket::allowed))
        return *problem;
    std::string_view hostPart;
    std::optional<std::string_view> portPart;
    bool bracketed = false;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return "must be [IPv6]:port, got " + quote(text);
        hostPart = text.substr(1, close - 1);
        bracketed = true;
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return "must be [IPv6]:port, got " + quote(text);
            portPart = rest.substr(1);
        }
    } else {
        auto colon = text.rfind(':');
        if (colon != std::string_view::npos && text.find(':') != colon)
            return "an IPv6 address needs brackets, as in [2001:db8::1]:51820, got " + quote(text);
        if (colon == std::string_view::npos) {
            hostPart = text;
        } else {
            hostPart = text.substr(0, colon);
            portPart = text.substr(colon + 1);
        }
    }

    Endpoint endpoint;
    endpoint.host = std::string(hostPart);
    if (bracketed) {
        if (!parseIpv6(hostPart))
            return "must contain an IPv6 address in brackets, got " + quote(text);
        endpoint.hostIsIpv6 = true;
    } else if (!parseIpv4(hostPart)) {
        if (kind == HostKind::addressOnly)
            return "must be an IP address with an optional port ([IPv6]:port), got " + quote(text);
        if (!isHostName(hostPart))
            return "must be host:port or [IPv6]:port with a valid host, got " + quote(text);
    }

    if (!portPart) {
        if (!defaultPort)
            return "must include a port, as in host:51820, got " + quote(text);
        endpoint.port = *defaultPort;
    } else if (auto port = parsePort(*portPart)) {
        endpoint.port = *port;
    } else {
        return "port must be 1..65535, got " + quote(text);
    }
    return endpoint;
}

std::variant<InterfaceAddress, std::string> parseInterfaceAddress(std::string_view text,
                                                                  AddressFamily family) {
    const bool v4 = family == AddressFamily::ipv4;
    const int maxPrefix = v4 ? 32 : 128;
    const char* what = v4 ? "an IPv4 address" : "an IPv6 address";
    InterfaceAddress result;
    result.family = family;
    std::string_view address = text;
    result.prefixLength = maxPrefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        address = text.substr(0, slash);
        std::string_view prefix = text.substr(slash + 1);
        bool digits =
            !prefix.empty() && prefix.size() <= 3 &&
            std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; });
        int length = digits ? std::stoi(std::string(prefix)) : -1;
        if (length < 1 || length > maxPrefix)
            return std::string("must be ") + what + " with an optional prefix length 1.." +
                   std::to_string(maxPrefix) + ", got " + quote(text);
        result.prefixLength = length;
    }
    if (!(v4 ? parseIpv4(address) : parseIpv6(address)))
        return std::string("must be ") + what + ", got " + quote(text);
    result.address = std::string(address);
    return result;
}

int base64Value(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool isHexKey(std::string_view key) {
    return key.size() == 64 && std::all_of(key.begin(), key.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

const std::vector<std::string> defaultDns = {"46.227.67.134", "192.165.9.158"};
const std::set<std::string, std::less<>> fastdMethods = {"salsa2012+umac", "null+salsa2012+umac",
                                                         "null@l2tp", "null"};
const std::set<std::string, std::less<>> reservedInterfaceNames = {"all", "default", "lo"};

// "vpns.us", or vpns["odd name"] when the key would make the path ambiguous or unprintable.
std::string childPath(const std::string& parent, const std::string& key) {
    if (!key.empty() && std::all_of(key.begin(), key.end(), isSafeNameCharacter))
        return parent.empty() ? key : parent + "." + key;
    return (parent.empty() ? "spec" : parent) + "[" + quote(key) + "]";
}

// "vpns.us.peers[2]": the path of a list's item.
std::string itemPath(const std::string& list, std::size_t index) {
    return list + "[" + std::to_string(index) + "]";
}

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1,
                          diagonal + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// Collects errors for one part of the document and knows the JSON path it is at.
class Checker {
public:
    explicit Checker(std::vector<SpecError>& errors)
        : errors_(errors) {}

    std::size_t errorCount() const { return errors_.size(); }
    void fail(const std::string& path, std::string message) {
        errors_.push_back({path, std::move(message)});
    }

    const std::string* string(const std::string& path, const Json& value) {
        if (!value.is_string()) {
            fail(path, "must be a string, got " + quote(value));
            return nullptr;
        }
        return value.get_ptr<const std::string*>();
    }

    std::optional<std::int64_t> integer(const std::string& path, const Json& value,
                                        std::int64_t min, std::int64_t max) {
        // Positive JSON integers arrive unsigned; compare them unsigned so that values
        // beyond INT64_MAX cannot wrap into the range.
        const bool inRange =
            value.is_number_unsigned()
                ? value.get<std::uint64_t>() >=
                          static_cast<std::uint64_t>(std::max<std::int64_t>(min, 0)) &&
                      value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
                : value.is_number_integer() && value.get<std::int64_t>() >= min &&
                      value.get<std::int64_t>() <= max;
        if (!inRange) {
            fail(path, "must be an integer " + std::to_string(min) + ".." + std::to_string(max) +
                           ", got " + quote(value));
            return std::nullopt;
        }
        return value.get<std::int64_t>();
    }

    std::optional<bool> boolean(const std::string& path, const Json& value) {
        if (!value.is_boolean()) {
            fail(path, "must be true or false, got " + quote(value));
            return std::nullopt;
        }
        return value.get<bool>();
    }

    const Json* object(const std::string& path, const Json& value) {
        if (!value.is_object()) {
            fail(path, "must be an object, got " + quote(value));
            return nullptr;
        }
        return &value;
    }

    const Json* array(const std::string& path, const Json& value) {
        if (!value.is_array()) {
            fail(path, "must be a list, got " + quote(value));
            return nullptr;
        }
        return &value;
    }

    // A list that must hold something; `item` names what in the error ("peer").
    const Json* nonEmptyArray(const std::string& path, const Json& value, std::string_view item) {
        const Json* list = array(path, value);
        if (list && list->empty())
            fail(path, "must list at least one " + std::string(item));
        return list;
    }

    std::optional<std::string> path(const std::string& at, const Json& value) {
        const std::string* text = string(at, value);
        if (!text)
            return std::nullopt;
        if (auto problem = checkAbsolutePath(*text)) {
            fail(at, *problem);
            return std::nullopt;
        }
        return *text;
    }

    std::optional<Endpoint> endpoint(const std::string& at, const Json& value, HostKind kind,
                                     std::optional<std::uint16_t> defaultPort = std::nullopt) {
        const std::string* text = string(at, value);
        if (!text)
            return std::nullopt;
        auto parsed = parseEndpoint(*text, kind, defaultPort);
        if (auto* problem = std::get_if<std::string>(&parsed)) {
            fail(at, *problem);
            return std::nullopt;
        }
        return std::get<Endpoint>(parsed);
    }

    std::optional<std::string> wireguardKey(const std::string& at, const Json& value) {
        const std::string* text = string(at, value);
        if (!text)
            return std::nullopt;
        if (!isValidWireguardKey(*text)) {
            fail(at, "must be a WireGuard key (base64 of 32 bytes, 44 characters), got " +
                         quote(*text));
            return std::nullopt;
        }
        return *text;
    }

    std::optional<std::string> ipAddress(const std::string& at, const Json& value) {
        const std::string* text = string(at, value);
        if (!text)
            return std::nullopt;
        if (!parseIpv4(*text) && !parseIpv6(*text)) {
            fail(at, "must be an IPv4 or IPv6 address, got " + quote(*text));
            return std::nullopt;
        }
        return *text;
    }

    std::optional<std::string> name(const std::string& at, const Json& value,
                                    std::size_t maxBytes) {
        const std::string* text = string(at, value);
        if (!text)
            return std::nullopt;
        if (auto problem = checkSafeName(*text, maxBytes)) {
            fail(at, *problem);
            return std::nullopt;
        }
        return *text;
    }

    // Calls the handler of each known key in document order, and reports unknown ones
    // (with a suggestion when the key is a near miss of a known one).
    using Handler = std::function<void(const std::string& path, const Json& value)>;
    void fields(const std::string& path, const Json& object,
                const std::vector<std::pair<std::string_view, Handler>>& handlers) {
        for (const auto& item : object.items()) {
            // Not a structured binding: clang 14 cannot capture those in a lambda.
            const std::string& key = item.key();
            const Json& value = item.value();
            std::string at = childPath(path, key);
            auto it = std::find_if(handlers.begin(), handlers.end(),
                                   [&](const auto& handler) { return handler.first == key; });
            if (it != handlers.end()) {
                it->second(at, value);
                continue;
            }
            std::string message = "unknown field";
            std::size_t best = 3;
            std::string_view suggestion;
            for (const auto& [known, unused] : handlers)
                if (std::size_t distance = editDistance(key, known); distance < best) {
                    best = distance;
                    suggestion = known;
                }
            if (!suggestion.empty())
                message += "; did you mean \"" + std::string(suggestion) + "\"?";
            fail(at, message);
        }
    }

private:
    std::vector<SpecError>& errors_;
};

struct RawWireguardPeer {
    std::optional<std::string> publicKey;
    std::optional<Endpoint> endpoint;
    std::optional<std::string> presharedKeyFile;
    std::optional<int> persistentKeepalive;
};

// The handlers outlive this function's frame: they capture the objects themselves, as
// pointers, never this function's reference parameters.
auto wireguardPeerHandlers(Checker& checker, RawWireguardPeer& rawPeer, bool& keyGiven,
                           bool& endpointGiven) {
    Checker* check = &checker;
    RawWireguardPeer* peer = &rawPeer;
    bool* key = &keyGiven;
    bool* endpoint = &endpointGiven;
    return std::vector<std::pair<std::string_view, Checker::Handler>>{
        {"publicKey",
         [=](const std::string& at, const Json& v) {
             *key = true;
             peer->publicKey = check->wireguardKey(at, v);
         }},
        {"endpoint",
         [=](const std::string& at, const Json& v) {
             *endpoint = true;
             peer->endpoint = check->endpoint(at, v, HostKind::nameOrAddress);
         }},
        {"presharedKeyFile", [=](const std::string& at,
                                 const Json& v) { peer->presharedKeyFile = check->path(at, v); }},
        {"persistentKeepalive",
         [=](const std::string& at, const Json& v) {
             if (auto seconds = check->integer(at, v, 1, 65535))
                 peer->persistentKeepalive = static_cast<int>(*seconds);
         }},
    };
}

// Walks a list of named peer objects, the part both protocols share: the list must hold at
// least one item, each item must be an object, and no two peers may have one name.
// `parsePeer(path, object, index)` reads one item and returns its peer's name, or nullopt when
// the peer has none that could clash (a fastd peer whose name is missing or invalid).
template <typename ParsePeer>
void parseNamedPeerList(Checker& check, const std::string& at, const Json& value,
                        ParsePeer&& parsePeer) {
    const Json* list = check.nonEmptyArray(at, value, "peer");
    if (!list)
        return;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string peerPath = itemPath(at, i);
        const Json* object = check.object(peerPath, (*list)[i]);
        if (!object)
            continue;
        const std::optional<std::string> name = parsePeer(peerPath, *object, i);
        if (name && !names.insert(*name).second)
            check.fail(peerPath + ".name", "peer name " + quote(*name) + " is used twice");
    }
}

// One item of a WireGuard VPN's peers, added to vpn.peers when it has a key and an endpoint.
// Returns the peer's name, "peerN" by its place in the list unless given.
std::optional<std::string> parseWireguardPeer(Checker& check, const std::string& at,
                                              const Json& object, std::size_t index, Vpn& vpn) {
    RawWireguardPeer raw;
    bool keyGiven = false, endpointGiven = false;
    WireguardPeer peer;
    peer.name = "peer" + std::to_string(index);
    auto handlers = wireguardPeerHandlers(check, raw, keyGiven, endpointGiven);
    handlers.emplace_back("name", [&](const std::string& p, const Json& v) {
        if (auto name = check.name(p, v, 32))
            peer.name = *name;
    });
    check.fields(at, object, handlers);
    if (!keyGiven)
        check.fail(at + ".publicKey", "missing");
    if (!endpointGiven)
        check.fail(at + ".endpoint", "missing");
    std::string name = peer.name;
    if (raw.publicKey && raw.endpoint) {
        peer.publicKey = *raw.publicKey;
        peer.endpoint = *raw.endpoint;
        peer.presharedKeyFile = raw.presharedKeyFile;
        peer.persistentKeepalive = raw.persistentKeepalive;
        vpn.peers.push_back(std::move(peer));
    }
    return name;
}

// One item of a fastd VPN's peers, added to fastd.peers. Returns the peer's name, or nullopt
// when it is missing or invalid (already reported).
std::optional<std::string> parseFastdPeer(Checker& check, const std::string& at, const Json& object,
                                          FastdSettings& fastd) {
    FastdPeer peer;
    bool nameGiven = false, keyGiven = false, remotesGiven = false;
    check.fields(at, object,
                 {{"name",
                   [&](const std::string& p, const Json& v) {
                       nameGiven = true;
                       if (auto name = check.name(p, v, 32))
                           peer.name = *name;
                   }},
                  {"key",
                   [&](const std::string& p, const Json& v) {
                       keyGiven = true;
                       if (const std::string* key = check.string(p, v)) {
                           if (isHexKey(*key))
                               peer.key = *key;
                           else
                               check.fail(p, "must be a fastd public key (64 hex digits), got " +
                                                 quote(*key));
                       }
                   }},
                  {"remotes", [&](const std::string& p, const Json& v) {
                       remotesGiven = true;
                       const Json* remotes = check.nonEmptyArray(p, v, "remote");
                       if (!remotes)
                           return;
                       for (std::size_t r = 0; r < remotes->size(); ++r)
                           if (auto remote = check.endpoint(itemPath(p, r), (*remotes)[r],
                                                            HostKind::nameOrAddress))
                               peer.remotes.push_back(*remote);
                   }}});
    if (!nameGiven)
        check.fail(at + ".name", "missing");
    if (!keyGiven)
        check.fail(at + ".key", "missing");
    if (!remotesGiven)
        check.fail(at + ".remotes", "missing");
    std::optional<std::string> name;
    if (nameGiven && !peer.name.empty())
        name = peer.name;
    fastd.peers.push_back(std::move(peer));
    return name;
}

void parseWireguardPeerList(Checker& check, const std::string& at, const Json& value, Vpn& vpn) {
    parseNamedPeerList(check, at, value,
                       [&](const std::string& peerPath, const Json& object, std::size_t index) {
                           return parseWireguardPeer(check, peerPath, object, index, vpn);
                       });
}

void parseFastdPeerList(Checker& check, const std::string& at, const Json& value,
                        FastdSettings& fastd) {
    parseNamedPeerList(check, at, value,
                       [&](const std::string& peerPath, const Json& object, std::size_t) {
                           return parseFastdPeer(check, peerPath, object, fastd);
                       });
}

// The bounds keep every judgement meaningful: a handshake needs a few seconds, and a probe
// must come well before the silence that condemns the peer.
FailoverSettings parseFailover(Checker& check, const std::string& at, const Json& value) {
    FailoverSettings settings;
    const Json* object = check.object(at, value);
    if (!object)
        return settings;
    auto seconds = [&](int& field, std::int64_t min, std::int64_t max) {
        return [&field, &check, min, max](const std::string& p, const Json& v) {
            if (auto number = check.integer(p, v, min, max))
                field = static_cast<int>(*number);
        };
    };
    check.fields(at, *object,
                 {{"handshakeTimeout", seconds(settings.handshakeTimeout, 2, 600)},
                  {"silenceTimeout", seconds(settings.silenceTimeout, 2, 600)},
                  {"probeInterval", seconds(settings.probeInterval, 1, 300)}});
    if (settings.probeInterval >= settings.silenceTimeout)
        check.fail(at + ".probeInterval", "must be less than silenceTimeout (" +
                                              std::to_string(settings.silenceTimeout) + "), got " +
                                              std::to_string(settings.probeInterval));
    return settings;
}

// Parses one VPN. Returns it when it has no errors.
std::optional<Vpn> parseVpn(Checker& check, const std::string& name, const Json& value) {
    const std::string at = childPath("vpns", name);
    const std::size_t errorsBefore = check.errorCount();
    Vpn vpn;
    vpn.name = name;
    if (auto problem = checkSafeName(name, 15))
        check.fail(at, "the VPN name is its interface name and " + *problem);
    else if (reservedInterfaceNames.count(name))
        check.fail(at, "the VPN name " + quote(name) + " is reserved by the kernel");

    const Json* object = check.object(at, value);
    if (!object)
        return std::nullopt;

    bool idGiven = false, addrV4Given = false, privateKeyGiven = false, peersGiven = false;
    bool dnsGiven = false;
    std::optional<std::string> protocolText, implementationText;
    RawWireguardPeer single;
    bool singleKeyGiven = false, singleEndpointGiven = false;
    FastdSettings fastd;
    std::vector<std::string> fastdOnlyFields, wireguardOnlyFields;
    bool secretGiven = false, methodsGiven = false, transportModeGiven = false;
    std::optional<Json> peersValue;
    std::string peersPath;

    auto handlers = wireguardPeerHandlers(check, single, singleKeyGiven, singleEndpointGiven);
    handlers.reserve(24); // the fields below: no regrowth that moves every handler
    for (auto& handler : handlers) {
        wireguardOnlyFields.emplace_back(handler.first);
    }
    auto add = [&](std::string_view key, Checker::Handler handler) {
        handlers.emplace_back(key, std::move(handler));
    };
    add("id", [&](const std::string& p, const Json& v) {
        idGiven = true;
        if (auto id = check.integer(p, v, 1, 99))
            vpn.id = static_cast<int>(*id);
    });
    add("protocol", [&](const std::string& p, const Json& v) {
        if (const std::string* text = check.string(p, v)) {
            if (*text == "wireguard")
                vpn.protocol = Protocol::wireguard;
            else if (*text == "fastd")
                vpn.protocol = Protocol::fastd;
            else
                check.fail(p, "must be \"wireguard\" or \"fastd\", got " + quote(*text));
        }
    });
    add("implementation", [&](const std::string& p, const Json& v) {
        if (const std::string* text = check.string(p, v)) {
            implementationText = *text;
            if (*text == "auto")
                vpn.implementation = WireguardImplementation::automatic;
            else if (*text == "kernel")
                vpn.implementation = WireguardImplementation::kernel;
            else if (*text == "userspace")
                vpn.implementation = WireguardImplementation::userspace;
            else
                check.fail(p, "must be \"auto\", \"kernel\" or \"userspace\", got " + quote(*text));
        }
    });
    wireguardOnlyFields.emplace_back("implementation");
    add("addrV4", [&](const std::string& p, const Json& v) {
        addrV4Given = true;
        if (const std::string* text = check.string(p, v)) {
            auto parsed = parseInterfaceAddress(*text, AddressFamily::ipv4);
            if (auto* problem = std::get_if<std::string>(&parsed))
                check.fail(p, *problem);
            else
                vpn.addrV4 = std::get<InterfaceAddress>(parsed);
        }
    });
    add("addrV6", [&](const std::string& p, const Json& v) {
        if (const std::string* text = check.string(p, v)) {
            auto parsed = parseInterfaceAddress(*text, AddressFamily::ipv6);
            if (auto* problem = std::get_if<std::string>(&parsed))
                check.fail(p, *problem);
            else
                vpn.addrV6 = std::get<InterfaceAddress>(parsed);
        }
    });
    add("dns", [&](const std::string& p, const Json& v) {
        dnsGiven = true;
        const Json* list = check.array(p, v);
        if (!list)
            return;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string serverPath = itemPath(p, i);
            if (auto server = check.ipAddress(serverPath, (*list)[i])) {
                if (!seen.insert(*server).second)
                    check.fail(serverPath, "DNS server " + quote(*server) + " is listed twice");
                vpn.dns.push_back(*server);
            }
        }
    });
    add("bridgeDevice", [&](const std::string& p, const Json& v) {
        if (const std::string* text = check.string(p, v)) {
            if (auto problem = checkSafeName(*text, 15))
                check.fail(p, "the bridge name " + *problem);
            else if (reservedInterfaceNames.count(*text))
                check.fail(p, "the bridge name " + quote(*text) + " is reserved by the kernel");
            else
                vpn.bridge = *text;
        }
    });
    add("privateKeyFile", [&](const std::string& p, const Json& v) {
        privateKeyGiven = true;
        if (auto path = check.path(p, v))
            vpn.privateKeyFile = *path;
    });
    wireguardOnlyFields.emplace_back("privateKeyFile");
    add("failover",
        [&](const std::string& p, const Json& v) { vpn.failover = parseFailover(check, p, v); });
    wireguardOnlyFields.emplace_back("failover");
    add("peers", [&](const std::string& p, const Json& v) {
        peersGiven = true;
        peersValue = v;
        peersPath = p;
    });
    add("secretFile", [&](const std::string& p, const Json& v) {
        secretGiven = true;
        if (auto path = check.path(p, v))
            fastd.secretFile = *path;
    });
    add("methods", [&](const std::string& p, const Json& v) {
        methodsGiven = true;
        const Json* list = check.nonEmptyArray(p, v, "method");
        if (!list)
            return;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string methodPath = itemPath(p, i);
            const std::string* method = check.string(methodPath, (*list)[i]);
            if (!method)
                continue;
            if (!fastdMethods.count(*method))
                check.fail(methodPath,
                           "must be one of salsa2012+umac, null+salsa2012+umac, null@l2tp, null, "
                           "got " +
                               quote(*method));
            else if (std::find(fastd.methods.begin(), fastd.methods.end(), *method) !=
                     fastd.methods.end())
                check.fail(methodPath, "method " + quote(*method) + " is listed twice");
            else
                fastd.methods.push_back(*method);
        }
    });
    add("mtu", [&](const std::string& p, const Json& v) {
        if (auto mtu = check.integer(p, v, 1280, 9000))
            fastd.mtu = static_cast<int>(*mtu);
    });
    add("configurable", [&](const std::string& p, const Json& v) {
        if (auto configurable = check.boolean(p, v))
            fastd.configurable = *configurable;
    });
    add("transportMode", [&](const std::string& p, const Json& v) {
        transportModeGiven = true;
        if (const std::string* text = check.string(p, v)) {
            if (*text == "secure")
                fastd.transportMode = FastdTransportMode::secure;
            else if (*text == "performance")
                fastd.transportMode = FastdTransportMode::performance;
            else
                check.fail(p, "must be \"secure\" or \"performance\", got " + quote(*text));
        }
    });
    fastdOnlyFields = {"secretFile", "methods", "mtu", "configurable", "transportMode"};

    check.fields(at, *object, handlers);

    // Which fields belong to which protocol is known only once "protocol" is read.
    const auto& foreignFields =
        vpn.protocol == Protocol::wireguard ? fastdOnlyFields : wireguardOnlyFields;
    for (const auto& [key, unused] : object->items())
        if (std::find(foreignFields.begin(), foreignFields.end(), key) != foreignFields.end())
            check.fail(at + "." + key,
                       "is not a setting of " + std::string(toString(vpn.protocol)) + " VPNs");

    if (!idGiven)
        check.fail(at + ".id", "missing");
    if (!addrV4Given)
        check.fail(at + ".addrV4", "missing");
    if (!dnsGiven)
        vpn.dns = defaultDns;
    if (vpn.bridge.empty() && checkSafeName(name, 15) == std::nullopt) {
        std::string derived = "br-" + name;
        if (derived.size() > 15)
            check.fail(at + ".bridgeDevice", "the derived bridge name " + quote(derived) + " is " +
                                                 std::to_string(derived.size()) +
                                                 " bytes, at most 15; set bridgeDevice");
        else
            vpn.bridge = derived;
    }
    if (vpn.bridge == name)
        check.fail(at + ".bridgeDevice",
                   "must differ from the VPN's own interface name, got " + quote(vpn.bridge));

    if (vpn.protocol == Protocol::wireguard) {
        if (!privateKeyGiven)
            check.fail(at + ".privateKeyFile", "missing");
        const bool singleForm = singleKeyGiven || singleEndpointGiven || single.presharedKeyFile ||
                                single.persistentKeepalive;
        if (peersGiven && singleForm) {
            check.fail(at + ".peers", "give either peers or endpoint and publicKey, not both");
        } else if (peersGiven) {
            parseWireguardPeerList(check, peersPath, *peersValue, vpn);
        } else {
            if (!singleEndpointGiven)
                check.fail(at + ".endpoint", "missing");
            if (!singleKeyGiven)
                check.fail(at + ".publicKey", "missing");
            if (single.publicKey && single.endpoint)
                vpn.peers.push_back({"peer0", *single.publicKey, *single.endpoint,
                                     single.presharedKeyFile, single.persistentKeepalive});
        }
    } else {
        if (!secretGiven)
            check.fail(at + ".secretFile", "missing");
        if (!methodsGiven)
            fastd.methods = {"salsa2012+umac"};
        // Secure mode offers the encrypted methods only: a configurable VPN needs one.
        if (fastd.configurable && !fastd.methods.empty() &&
            std::all_of(fastd.methods.begin(), fastd.methods.end(), isUnencryptedFastdMethod))
            check.fail(at + ".methods", "a configurable VPN needs an encrypted method "
                                        "(salsa2012+umac or null+salsa2012+umac) for secure "
                                        "mode, got only unencrypted ones");
        // Only a configurable VPN rewrites its methods; elsewhere the word would mislead.
        if (transportModeGiven && !fastd.configurable &&
            fastd.transportMode == FastdTransportMode::performance)
            check.fail(at + ".transportMode",
                       "\"performance\" takes effect only with \"configurable\": true; list "
                       "the null methods first in methods instead");
        if (!peersGiven)
            check.fail(at + ".peers", "missing");
        else
            parseFastdPeerList(check, peersPath, *peersValue, fastd);
        vpn.fastd = std::move(fastd);
    }

    if (check.errorCount() != errorsBefore)
        return std::nullopt;
    return vpn;
}

WanSettings defaultWan() {
    WanSettings wan;
    wan.dnsListen = {{"127.0.0.1", 54, false}, {"::1", 54, true}};
    return wan;
}

WanSettings parseWan(Checker& check, const Json& value) {
    WanSettings wan = defaultWan();
    const Json* object = check.object("wan", value);
    if (!object)
        return wan;
    check.fields(
        "wan", *object,
        {{"mark",
          [&](const std::string& p, const Json& v) {
              if (auto mark = check.integer(p, v, 1, 4294967295LL)) {
                  auto m = static_cast<std::uint32_t>(*mark);
                  if (m > derive::firewallMarkBase && m < derive::firewallMarkBase + 100)
                      check.fail(p, "10001..10099 are the tunnels' marks, got " + quote(v));
                  else
                      wan.mark = m;
              }
          }},
         {"dns", [&](const std::string& p, const Json& v) {
              const Json* dns = check.object(p, v);
              if (!dns)
                  return;
              auto endpoints = [&](const std::string& lp, const Json& lv, HostKind kind,
                                   std::uint16_t port) {
                  std::vector<Endpoint> result;
                  if (const Json* list = check.array(lp, lv))
                      for (std::size_t i = 0; i < list->size(); ++i)
                          if (auto e = check.endpoint(itemPath(lp, i), (*list)[i], kind, port))
                              result.push_back(*e);
                  return result;
              };
              check.fields(p, *dns,
                           {{"listen",
                             [&](const std::string& lp, const Json& lv) {
                                 wan.dnsListen = endpoints(lp, lv, HostKind::addressOnly, 54);
                             }},
                            {"servers", [&](const std::string& lp, const Json& lv) {
                                 wan.dnsServers = endpoints(lp, lv, HostKind::addressOnly, 53);
                             }}});
          }}});
    return wan;
}

// Names that must be unique among all interfaces vpnsteer creates: tunnels and bridges.
// The VPN that comes first in the document keeps a contested id or name.
void checkCollisions(Checker& check, const std::vector<std::string>& order,
                     std::map<std::string, Vpn>& vpns, std::set<std::string>& invalid) {
    std::map<int, std::string> ids;
    std::map<std::string, std::string> interfaces; // interface name -> "vpns.X.field"
    for (const auto& name : order) {
        auto it = vpns.find(name);
        if (it == vpns.end())
            continue;
        const Vpn& vpn = it->second;
        const std::string at = childPath("vpns", name);
        bool ok = true;
        if (auto [owner, inserted] = ids.emplace(vpn.id, name); !inserted) {
            check.fail(at + ".id",
                       std::to_string(vpn.id) + " is already used by vpns." + owner->second);
            ok = false;
        }
        for (const auto& [interface, field] :
             {std::pair{vpn.name, std::string()},
              std::pair{vpn.bridge, std::string(".bridgeDevice")}}) {
            auto owner = interfaces.find(interface);
            if (owner != interfaces.end()) {
                check.fail(at + field, "interface name " + quote(interface) +
                                           " is already used by " + owner->second);
                ok = false;
            }
        }
        if (ok) {
            interfaces.emplace(vpn.name, at);
            interfaces.emplace(vpn.bridge, at + ".bridgeDevice");
        } else {
            invalid.insert(name);
            vpns.erase(it);
        }
    }
}

} // namespace

bool isValidInterfaceName(std::string_view name) {
    return !checkSafeName(name, 15) && !reservedInterfaceNames.count(name);
}

bool isValidWireguardKey(std::string_view key) {
    if (key.size() != 44 || key[43] != '=')
        return false;
    for (std::size_t i = 0; i < 43; ++i)
        if (base64Value(key[i]) < 0)
            return false;
    // 32 bytes fill 42 full characters and 4 bits of the 43rd; the 2 bits left over
    // must be zero or the text is not the canonical encoding of a key.
    return (base64Value(key[42]) & 0x3) == 0;
}

ParseResult parseSpec(std::string_view text) {
    ParseResult result;
    Checker check(result.errors);
    Json document;
    try {
        document = Json::parse(text);
    } catch (const Json::exception& error) {
        // Not only parse_error: a number too large for a double ("6e697") is out_of_range.
        std::string what = error.what();
        // "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at ..."
        if (auto bracket = what.find("] "); bracket != std::string::npos)
            what = what.substr(bracket + 2);
        check.fail("spec", "not valid JSON: " + what);
        result.rejected = true;
        return result;
    }
    if (!document.is_object()) {
        check.fail("spec", "must be a JSON object, got " + quote(document));
        result.rejected = true;
        return result;
    }
    if (!document.contains("version")) {
        check.fail("version", "missing; this is vpnsteer spec version 1, so add \"version\": 1");
        result.rejected = true;
        return result;
    }
    if (const Json& version = document["version"]; version != 1) {
        check.fail("version", "must be 1, got " + quote(version));
        result.rejected = true;
        return result;
    }

    result.spec.wan = defaultWan();
    std::vector<std::string> order;
    check.fields(
        "", document,
        {{"version", [](const std::string&, const Json&) {}},
         {"wan", [&](const std::string&, const Json& v) { result.spec.wan = parseWan(check, v); }},
         {"vpns", [&](const std::string& p, const Json& v) {
              const Json* vpns = check.object(p, v);
              if (!vpns)
                  return;
              for (const auto& [name, value] : vpns->items()) {
                  order.push_back(name);
                  if (auto vpn = parseVpn(check, name, value))
                      result.spec.vpns.emplace(name, std::move(*vpn));
                  else
                      result.invalidVpns.insert(name);
              }
          }}});
    checkCollisions(check, order, result.spec.vpns, result.invalidVpns);
    return result;
}

} // namespace vpnsteer
