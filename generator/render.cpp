#include "generator/render.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <stdexcept>
#include <utility>

namespace vpnsteer::generator {
namespace {

// Sections, keys and comments in the order they are added. Values reach it already
// checked: core refuses newlines, control characters, '=' and a leading '[' in anything
// that becomes a value, and renderOptionsProblem() refuses unsafe paths.
class IniFile {
public:
    explicit IniFile(const RenderOptions& options)
        : text_(fileHeader(options)) {
        text_.reserve(1024); // every generated file fits: no regrowth while appending
    }

    IniFile& section(std::string_view name) {
        text_.append("\n[").append(name).append("]\n");
        return *this;
    }
    IniFile& comment(std::string_view line) {
        text_.append("# ").append(line).append("\n");
        return *this;
    }
    IniFile& set(std::string_view key, std::string_view value) {
        text_.append(key).append("=").append(value).append("\n");
        return *this;
    }
    IniFile& set(std::string_view key, std::uint32_t value) {
        return set(key, std::to_string(value));
    }

    std::string text() && { return std::move(text_); }

private:
    std::string text_;
};

bool isControlCharacter(char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

// systemd expands %-specifiers in most unit settings (SourcePath=, Description=,
// ExecStart=; systemd.unit(5), "Specifiers"): a literal '%' is written "%%".
std::string escapeSpecifiers(std::string_view value) {
    std::string result;
    result.reserve(value.size() + 8);
    for (char c : value) {
        result += c;
        if (c == '%')
            result += '%';
    }
    return result;
}

// One word of an ExecStart= command line (systemd.service(5), "Command lines"): systemd
// expands specifiers and splits at white space, honouring quotes and C escapes. In the
// arguments, but not in the program's path, it also expands $VAR and ${VAR}
// (systemd-analyze verify of systemd 252 takes "$$" in the path literally).
enum class WordKind { program, argument };
std::string execWord(std::string_view word, WordKind kind) {
    std::string escaped;
    escaped.reserve(word.size() + 8);
    bool needsQuotes = word.empty();
    for (char c : word) {
        switch (c) {
        case '%':
            escaped += "%%";
            break;
        case '$':
            escaped += kind == WordKind::argument ? "$$" : "$";
            break;
        case '"':
        case '\\':
            escaped += '\\';
            escaped += c;
            needsQuotes = true;
            break;
        case ' ':
        case '\t':
        case '\'':
        case ';':
            escaped += c;
            needsQuotes = true;
            break;
        default:
            escaped += c;
        }
    }
    return needsQuotes ? "\"" + escaped + "\"" : escaped;
}

std::string commandLine(std::string_view program,
                        std::initializer_list<std::string_view> arguments) {
    std::string line = execWord(program, WordKind::program);
    for (std::string_view argument : arguments)
        line.append(" ").append(execWord(argument, WordKind::argument));
    return line;
}

void requireRenderable(const RenderOptions& options) {
    if (auto problem = renderOptionsProblem(options))
        throw std::invalid_argument(*problem);
}

std::string serviceName(std::string_view vpnName) {
    Vpn vpn;
    vpn.name = vpnName;
    return vpn.unitName();
}

std::string tunnelNetdev(const Vpn& vpn, const RenderOptions& options) {
    IniFile file(options);
    file.section("NetDev").set("Name", vpn.name).set("Kind", "wireguard");

    file.section("WireGuard").set("PrivateKeyFile", vpn.privateKeyFile);
    file.comment("The tunnel's own packets carry this mark: the rule at priority " +
                 std::to_string(derive::tunnelBypassRulePriority) + " sends them to the uplink.");
    file.set("FirewallMark", vpn.firewallMark());

    if (vpn.peers.empty())
        return std::move(file).text();
    const WireguardPeer& peer = vpn.peers.front();
    file.section("WireGuardPeer");
    if (vpn.peers.size() > 1)
        file.comment("vpnsteerd selects one of the " + std::to_string(vpn.peers.size()) +
                     " peers of this VPN at run time; the first one is the starting point.");
    file.set("PublicKey", peer.publicKey);
    file.set("AllowedIPs", "0.0.0.0/0").set("AllowedIPs", "::/0");
    file.set("Endpoint", peer.endpoint.toString());
    if (peer.presharedKeyFile)
        file.set("PresharedKeyFile", *peer.presharedKeyFile);
    if (peer.persistentKeepalive)
        file.set("PersistentKeepalive", std::to_string(*peer.persistentKeepalive));
    return std::move(file).text();
}

std::string tunnelNetwork(const Vpn& vpn, const RenderOptions& options) {
    const std::string table = std::to_string(vpn.routingTable());
    IniFile file(options);
    file.section("Match").set("Name", vpn.name);

    file.section("Link");
    file.comment("The tunnel may well be down: systemd-networkd-wait-online must not wait for it.");
    file.set("RequiredForOnline", "no");

    file.section("Network");
    for (const auto& address : {vpn.addrV4, vpn.addrV6})
        if (address)
            file.set("Address", address->withPrefix());
    for (const auto& server : vpn.dns)
        file.set("DNS", server);
    file.comment("vpnsteerd sends every query here only while this VPN carries the host's "
                 "traffic.");
    file.set("DNSDefaultRoute", "no");
    file.set("LinkLocalAddressing", "no");

    // The default routes live in the VPN's own table; the policy rules decide who uses it.
    // PreferredSource= (not Source=, which matches the source prefix) makes the host's
    // own connections leave with the VPN address.
    for (const auto& [address, everything] :
         {std::pair{vpn.addrV4, "0.0.0.0/0"}, std::pair{vpn.addrV6, "::/0"}}) {
        if (!address)
            continue;
        file.section("Route")
            .set("Destination", everything)
            .set("PreferredSource", address->address)
            .set("Table", table);
    }

    file.section("RoutingPolicyRule");
    file.comment("The tunnel's own packets go to the uplink, even while a VPN carries the "
                 "host's traffic.");
    file.set("FirewallMark", vpn.firewallMark())
        .set("Table", "main")
        .set("Priority", derive::tunnelBypassRulePriority)
        .set("Family", "both");
    return std::move(file).text();
}

std::string bridgeNetdev(const Vpn& vpn, const RenderOptions& options) {
    IniFile file(options);
    file.section("NetDev").set("Name", vpn.bridge).set("Kind", "bridge");
    return std::move(file).text();
}

// The bridge carries the rule and the kill switch because it outlives the tunnel: while
// the tunnel is gone, whatever sits on the bridge must still find table ID, and find it
// unreachable.
std::string bridgeNetwork(const Vpn& vpn, const RenderOptions& options) {
    const std::string table = std::to_string(vpn.routingTable());
    IniFile file(options);
    file.section("Match").set("Name", vpn.bridge);

    file.section("Link");
    file.comment("A bridge with nothing on it has no carrier: systemd-networkd-wait-online must "
                 "not wait for it.");
    file.set("RequiredForOnline", "no");

    file.section("Network").set("Address", vpn.bridgeAddressV4());
    file.comment("The address, rule and routes must be in place before the first namespace or "
                 "container joins.");
    file.set("ConfigureWithoutCarrier", "yes");
    file.set("LinkLocalAddressing", "no");

    file.section("RoutingPolicyRule");
    file.comment("Whatever sits on the bridge leaves through " + vpn.name +
                 ", whether or not it carries the host's traffic.");
    file.set("From", vpn.bridgeSubnetV4())
        .set("Table", table)
        .set("Priority", vpn.bridgeRulePriority());

    bool first = true;
    for (const char* everything : {"0.0.0.0/0", "::/0"}) {
        file.section("Route");
        if (std::exchange(first, false))
            file.comment("Kill switch: without the tunnel's routes, table " + table +
                         " ends here instead of falling through to main.");
        file.set("Type", "unreachable")
            .set("Destination", everything)
            .set("Table", table)
            .set("Metric", derive::killSwitchMetric);
    }
    return std::move(file).text();
}

// The group whose DNS queries vpnsteerd's nat rule hands to the WAN DNS forwarder
// (units/sysusers-vpnsteer.conf, service/nat/dns_redirect.hpp).
constexpr const char* tunnelDaemonDnsGroup = "vpnsteer-wan";
// systemd-resolved's varlink socket, which nss-resolve uses (systemd-resolved.service(8)).
constexpr const char* resolvedVarlinkSocket = "/run/systemd/resolve/io.systemd.Resolve";

// What units/vpnsteer-wan-dns.conf gives any daemon that must resolve names over the uplink
// (docs/dns.md, "Uplink only"). In the group from its first instruction on, the daemon's
// queries to 127.0.0.53 and 127.0.0.1 go to the WAN DNS forwarder (vpnsteerd's nat rule).
// With nss-resolve, glibc would ask systemd-resolved over its varlink socket instead of port
// 53, and resolved would send the query into whichever VPN is system-wide. Out of reach,
// nss-resolve answers UNAVAIL and "resolve [!UNAVAIL=return] dns" falls through to the dns
// module and resolv.conf's 127.0.0.53, which the redirect takes. "-": a host without resolved.
void resolveThroughWanDnsForwarder(IniFile& file) {
    file.set("SupplementaryGroups", tunnelDaemonDnsGroup);
    file.set("InaccessiblePaths", std::string("-") + resolvedVarlinkSocket);
}

// A fastd config file: `key value;` lines and peer blocks (fastd.readthedocs.io,
// manual/config). Strings are double-quoted with '"' and '\\' escaped; core has already
// refused control characters in every value that reaches it.
class FastdConfig {
public:
    explicit FastdConfig(const RenderOptions& options)
        : text_(fileHeader(options)) {}

    FastdConfig& comment(std::string_view line) {
        text_.append(indent_).append("# ").append(line).append("\n");
        return *this;
    }
    FastdConfig& line(std::string_view statement) {
        text_.append(indent_).append(statement).append(";\n");
        return *this;
    }
    FastdConfig& blank() {
        text_.append("\n");
        return *this;
    }
    FastdConfig& open(std::string_view block) {
        text_.append(indent_).append(block).append(" {\n");
        indent_ = "\t";
        return *this;
    }
    FastdConfig& close() {
        indent_.clear();
        text_.append("}\n");
        return *this;
    }
    static std::string string(std::string_view value) {
        std::string quotedValue = "\"";
        for (char c : value) {
            if (c == '"' || c == '\\')
                quotedValue += '\\';
            quotedValue += c;
        }
        return quotedValue + "\"";
    }

    std::string text() && { return std::move(text_); }

private:
    std::string text_;
    std::string indent_;
};

bool isIpv4Literal(const std::string& host) {
    in_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

void addMethods(FastdConfig& config, const std::vector<std::string>& methods) {
    for (const auto& method : methods)
        config.line("method " + FastdConfig::string(method));
}

std::string fastdConfig(const Vpn& vpn, const RenderOptions& options) {
    const FastdSettings& fastd = *vpn.fastd;
    FastdConfig config(options);
    config.blank();
    config.line("mode tun").line("interface " + FastdConfig::string(vpn.name));
    config.line("mtu " + std::to_string(fastd.mtu));
    config.comment("The tunnel's own packets carry this mark: the rule at priority " +
                   std::to_string(derive::tunnelBypassRulePriority) + " sends them to the uplink.");
    config.line("packet mark " + std::to_string(vpn.firewallMark()));
    config.comment("As a member of this group, fastd's lookups of its remotes go to the WAN DNS "
                   "forwarder,");
    config.comment("through the uplink, whichever VPN carries the host's traffic.");
    config.line("group " + FastdConfig::string(tunnelDaemonDnsGroup));
    config.comment("vpnsteerd reads the connection state here.");
    config.line("status socket " +
                FastdConfig::string(filenames::fastdStatusSocket(options.fastdDir, vpn.name)));
    config.line("include " + FastdConfig::string(fastd.secretFile));
    if (fastd.configurable)
        config.comment("The methods come from " + vpn.name +
                       ".secure.methods or .performance.methods (the transport mode).");
    else
        addMethods(config, fastd.methods);
    for (const auto& peer : fastd.peers) {
        config.blank().open("peer " + FastdConfig::string(peer.name));
        config.line("key " + FastdConfig::string(peer.key));
        for (const auto& remote : peer.remotes) {
            if (remote.hostIsIpv6)
                config.line("remote [" + remote.host + "]:" + std::to_string(remote.port));
            else if (isIpv4Literal(remote.host))
                config.line("remote " + remote.host + ":" + std::to_string(remote.port));
            else
                config.line("remote " + FastdConfig::string(remote.host) + " port " +
                            std::to_string(remote.port));
        }
        config.close();
    }
    return std::move(config).text();
}

std::string fastdMethods(const Vpn& vpn, FastdTransportMode mode, const RenderOptions& options) {
    FastdConfig config(options);
    config.comment(std::string("The methods of ") + vpn.name + " in " +
                   std::string(toString(mode)) + " mode, in order of preference.");
    addMethods(config, fastdMethodsFor(*vpn.fastd, mode));
    return std::move(config).text();
}

std::string fastdService(const Vpn& vpn, const RenderOptions& options) {
    const std::string configPath = options.fastdDir + "/" + vpn.name + ".conf";
    IniFile file(options);
    file.section("Unit")
        .set("Description", "fastd tunnel " + escapeSpecifiers(vpn.name))
        .set("Documentation", "man:vpnsteer(8)")
        .set("SourcePath", escapeSpecifiers(options.specPath));

    file.section("Service");
    // fastd tells systemd once its interface exists (sd_notify READY=1).
    file.set("Type", "notify");
    std::string command = commandLine(options.fastdPath, {"--config", configPath});
    if (vpn.fastd->configurable) {
        file.comment("The spec's transport mode, unless the user chose one (SetTransportMode).");
        file.set("Environment", filenames::transportModeFileText(vpn.fastd->transportMode));
        file.set("EnvironmentFile",
                 "-" + escapeSpecifiers(filenames::transportModeFile(options.stateDir, vpn.name)));
        // The one word systemd must expand: renderOptionsProblem() keeps the folder free of
        // white space, quotes, '$' and '%'.
        command += " --config " + options.fastdDir + "/" + vpn.name +
                   ".${VPNSTEER_TRANSPORT_MODE}.methods";
    }
    file.set("ExecStart", command);
    // The unit puts fastd in the group before it runs, not only once fastd applies its
    // config's `group`.
    file.comment(
        "fastd looks its remotes up through vpnsteerd's WAN DNS forwarder, over the uplink.");
    resolveThroughWanDnsForwarder(file);
    // A dead fastd is a dead VPN: the kill-switch routes hold traffic back meanwhile.
    file.set("Restart", "on-failure").set("RestartSec", "1s");
    return std::move(file).text();
}

// `tunnelUnit`: the unit that runs the tunnel's daemon (wireguard-go, fastd), or "".
std::string vpnService(std::string_view vpnName, const std::string& tunnelUnit,
                       const RenderOptions& options) {
    const std::string name(vpnName);
    IniFile file(options);
    file.section("Unit")
        .set("Description", "Send all traffic of this host through VPN " + escapeSpecifiers(name))
        .set("Documentation", "man:vpnsteer(8)")
        .set("SourcePath", escapeSpecifiers(options.specPath));
    // Wants=, not Requires=: systemd restarts a unit that Requires= one being restarted,
    // and restarting this one runs "down" then "up", a window in which traffic would take
    // the uplink. vpnsteerd keeps the rules across its own restart (adoption), so the
    // VPN stays system-wide. Without the daemon, "up" fails and so does this unit.
    std::string wants = "vpnsteerd.service";
    std::string after = "vpnsteerd.service systemd-networkd.service";
    if (!tunnelUnit.empty()) {
        wants += " " + tunnelUnit;
        after += " " + tunnelUnit;
    }
    file.set("Wants", wants);
    file.set("After", after);

    file.section("Service")
        .set("Type", "oneshot")
        .set("RemainAfterExit", "yes")
        .set("ExecStart", commandLine(options.cliPath, {"up", name}))
        .set("ExecStop", commandLine(options.cliPath, {"down", name}));
    return std::move(file).text();
}

} // namespace

std::optional<std::string> renderOptionsProblem(const RenderOptions& options) {
    for (const auto& [what, path] :
         {std::pair{"spec path", &options.specPath}, std::pair{"vpnsteer path", &options.cliPath},
          std::pair{"fastd path", &options.fastdPath},
          std::pair{"fastd config folder", &options.fastdDir},
          std::pair{"state folder", &options.stateDir}}) {
        const std::string prefix = std::string("the ") + what;
        if (path->empty() || path->front() != '/')
            return prefix + " must be absolute, got " + quoted(*path);
        if (std::any_of(path->begin(), path->end(), isControlCharacter))
            return prefix + " must not contain control characters, got " + quoted(*path);
        // systemd's parser joins a line that ends in a backslash with the next one.
        if (path->back() == '\\')
            return prefix + " must not end with a backslash, got " + quoted(*path);
    }
    // Environment= splits its value at white space and expands specifiers, and ld.so(8)
    // splits LD_PRELOAD at spaces and colons: the path must need no quoting at all.
    const std::string& packetmark = options.packetmarkPath;
    if (packetmark.empty() || packetmark.front() != '/' ||
        packetmark.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789_./+-") != std::string::npos)
        return "the libpacketmark path must be absolute and hold only letters, digits and "
               "_./+-, got " +
               quoted(packetmark);
    // The fastd unit names a file of this folder in a word where systemd expands a variable
    // (fastdService()): nothing in it may need quoting or escaping.
    if (options.fastdDir.find_first_of(" \t\"'\\$%;") != std::string::npos)
        return "the fastd config folder must not contain white space, quotes, '$', '%' or ';', "
               "got " +
               quoted(options.fastdDir);
    return std::nullopt;
}

std::string quoted(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string result = "\"";
    for (char c : text) {
        if (isControlCharacter(c) || c == '"' || c == '\\') {
            auto byte = static_cast<unsigned char>(c);
            result.append("\\x").append(1, hex[byte >> 4]).append(1, hex[byte & 0xf]);
        } else {
            result += c;
        }
    }
    return result + "\"";
}

std::string fileHeader(const RenderOptions& options) {
    return "# Automatically generated by vpnsteer-generator from " + options.specPath +
           "\n"
           "# Do not edit: change the spec and run \"systemctl daemon-reload\".\n";
}

bool usesWireguardGo(const Vpn& vpn, const RenderOptions& options) {
    if (vpn.protocol != Protocol::wireguard)
        return false;
    switch (vpn.implementation) {
    case WireguardImplementation::kernel:
        return false;
    case WireguardImplementation::userspace:
        return true;
    case WireguardImplementation::automatic:
        return !options.kernelHasWireguard;
    }
    return false;
}

std::string wireguardGoUnitName(std::string_view vpn) {
    return "vpnsteer-wireguard-go@" + std::string(vpn) + ".service";
}

FileSet renderNetworkFiles(const Spec& spec, const RenderOptions& options) {
    requireRenderable(options);
    FileSet files;
    for (const auto& [name, vpn] : spec.vpns) {
        if (vpn.protocol == Protocol::wireguard) {
            // wireguard-go creates the device itself; networkd cannot (and on a kernel
            // without WireGuard would only log a failure).
            if (!usesWireguardGo(vpn, options))
                files.emplace(filenames::tunnelNetdev(name), tunnelNetdev(vpn, options));
        }
        files.emplace(filenames::tunnelNetwork(name), tunnelNetwork(vpn, options));
        files.emplace(filenames::bridgeNetdev(name), bridgeNetdev(vpn, options));
        files.emplace(filenames::bridgeNetwork(name), bridgeNetwork(vpn, options));
    }
    return files;
}

FileSet renderUnitFiles(const Spec& spec, const std::set<std::string>& invalidVpns,
                        const RenderOptions& options) {
    requireRenderable(options);
    FileSet files;
    for (const auto& [name, vpn] : spec.vpns) {
        std::string tunnelUnit;
        if (usesWireguardGo(vpn, options)) {
            tunnelUnit = wireguardGoUnitName(name);
        } else if (vpn.fastd) {
            tunnelUnit = filenames::fastdUnit(name);
            files.emplace(tunnelUnit, fastdService(vpn, options));
        }
        files.emplace(vpn.unitName(), vpnService(name, tunnelUnit, options));
    }
    for (const auto& name : invalidVpns)
        if (isValidInterfaceName(name) && !spec.vpns.count(name))
            files.emplace(serviceName(name), vpnService(name, "", options));
    return files;
}

std::set<std::string> fastdFileNames(std::string_view vpn) {
    const std::string name(vpn);
    return {name + ".conf", name + ".secure.methods", name + ".performance.methods"};
}

bool isFastdFile(std::string_view fileName) {
    return fileName.ends_with(".conf") || fileName.ends_with(".methods");
}

FileSet renderFastdFiles(const Spec& spec, const RenderOptions& options) {
    requireRenderable(options);
    FileSet files;
    for (const auto& [name, vpn] : spec.vpns) {
        if (!vpn.fastd)
            continue;
        files.emplace(name + ".conf", fastdConfig(vpn, options));
        if (vpn.fastd->configurable)
            for (FastdTransportMode mode :
                 {FastdTransportMode::secure, FastdTransportMode::performance})
                files.emplace(name + "." + std::string(toString(mode)) + ".methods",
                              fastdMethods(vpn, mode, options));
    }
    return files;
}

std::string renderTimesyncdDropIn(const WanSettings& wan, const RenderOptions& options) {
    requireRenderable(options);
    IniFile file(options);
    file.section("Service");
    // A WireGuard gateway refuses the handshakes of a client whose clock went backwards, and
    // a system-wide VPN would carry NTP through that very tunnel (docs/gateways.md).
    file.comment("NTP leaves through the uplink, whichever VPN carries the host's traffic and "
                 "whether or not");
    file.comment("its tunnel works: every socket has the WAN mark, and the rule at priority " +
                 std::to_string(derive::wanBypassRulePriority) + " sends it to main.");
    file.set("Environment", "LD_PRELOAD=" + options.packetmarkPath +
                                " LIBPACKETMARK_MARK=" + std::to_string(wan.mark));
    // systemd merges these lists with the unit's own (systemd.exec(5)): its CAP_SYS_TIME
    // stays.
    file.comment("Setting a mark needs CAP_NET_ADMIN; the unit's own capabilities stay.");
    file.set("AmbientCapabilities", "CAP_NET_ADMIN");
    file.set("CapabilityBoundingSet", "CAP_NET_ADMIN");
    file.comment("NTP server names are looked up through vpnsteerd's WAN DNS forwarder, over "
                 "the uplink.");
    resolveThroughWanDnsForwarder(file);
    return std::move(file).text();
}

std::set<std::string> networkFileNames(std::string_view vpn) {
    return {filenames::tunnelNetdev(vpn), filenames::tunnelNetwork(vpn),
            filenames::bridgeNetdev(vpn), filenames::bridgeNetwork(vpn)};
}

} // namespace vpnsteer::generator
