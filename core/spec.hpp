// The vpnsteer spec (/etc/vpnsteer/vpns.json, version 1) as a typed, validated model,
// and every number derived from it (DESIGN.md, "Numbers derived from a VPN's id").
//
// Pure: parseSpec() reads only the string it is given. Every program links this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vpnsteer {

enum class Protocol { wireguard, fastd };
std::string_view toString(Protocol protocol);

// How the WireGuard device is provided: by the kernel module (networkd creates it from a
// .netdev), by wireguard-go (a unit starts it and vpnsteerd configures it over UAPI), or
// "automatic": whichever the running kernel supports.
enum class WireguardImplementation { automatic, kernel, userspace };
std::string_view toString(WireguardImplementation implementation);

enum class AddressFamily { ipv4, ipv6 };

// An address with its prefix length, e.g. 198.51.100.2/32. The text is kept as the
// user wrote it (normalised to include the prefix) so rendered files quote it back.
struct InterfaceAddress {
    AddressFamily family = AddressFamily::ipv4;
    std::string address; // without the prefix
    int prefixLength = 32;

    std::string withPrefix() const { return address + "/" + std::to_string(prefixLength); }
    bool operator==(const InterfaceAddress&) const = default;
};

// host:port or [v6]:port. `host` is a DNS name, an IPv4 literal or an IPv6 literal
// (without brackets).
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    bool hostIsIpv6 = false;

    std::string toString() const; // brackets an IPv6 host again
    bool operator==(const Endpoint&) const = default;
};

struct WireguardPeer {
    std::string name; // label shown on D-Bus; "peer0", "peer1"... when not given
    std::string publicKey;
    Endpoint endpoint;
    std::optional<std::string> presharedKeyFile;
    std::optional<int> persistentKeepalive; // seconds, 1..65535

    bool operator==(const WireguardPeer&) const = default;
};

// How vpnsteerd judges the active gateway of a WireGuard VPN and when it fails over to the
// next (docs/gateways.md). All in seconds. The defaults fail over to a live gateway within
// 30 s: a dead one is noticed after at most silenceTimeout (+1 s of sampling), and the next
// either handshakes at once or is given up after handshakeTimeout.
struct FailoverSettings {
    // A peer just installed that has not completed a handshake by then is dead. WireGuard
    // retries an unanswered initiation after 5 s (REKEY_TIMEOUT, plus up to 1/3 s of jitter),
    // so 8 s allows two tries and their round trips.
    int handshakeTimeout = 8;
    // Packets went into the tunnel but nothing came back for this long: the peer is dead.
    int silenceTimeout = 15;
    // Once nothing came back for this long, vpnsteerd sends a probe through the tunnel (a
    // DNS query to the VPN's DNS server), so that an idle tunnel can be judged too.
    int probeInterval = 3;

    bool operator==(const FailoverSettings&) const = default;
};

enum class FastdTransportMode { secure, performance };
std::string_view toString(FastdTransportMode mode);

struct FastdPeer {
    std::string name;
    std::string key; // 64 hex digits
    std::vector<Endpoint> remotes;

    bool operator==(const FastdPeer&) const = default;
};

struct FastdSettings {
    std::string secretFile;
    std::vector<std::string> methods; // in order of preference
    std::vector<FastdPeer> peers;
    int mtu = 1406;
    bool configurable = false;
    FastdTransportMode transportMode = FastdTransportMode::secure;

    bool operator==(const FastdSettings&) const = default;
};

// The methods that are offered without encryption: what "performance" puts first and
// "secure" leaves out.
bool isUnencryptedFastdMethod(std::string_view method);

// The method list fastd is given, in order. A VPN that is not configurable uses `methods`
// as written. A configurable one follows `mode` the way Freifunk's uplinks do:
// performance puts null@l2tp and null first, then the encrypted methods; secure offers
// the encrypted methods only.
std::vector<std::string> fastdMethodsFor(const FastdSettings& fastd, FastdTransportMode mode);

// Every number vpnsteer derives from a VPN's id lives here, so that the generator,
// vpnsteerd and the NixOS module agree (and stay compatible with the original module).
namespace derive {
inline constexpr std::uint32_t firewallMarkBase = 10000;
inline constexpr std::uint32_t mainRulePriorityBase = 100;
inline constexpr std::uint32_t bridgeRulePriorityBase = 200;
inline constexpr std::uint32_t systemWideRulePriorityBase = 300;
// Rules that send tunnel-marked and WAN-marked packets to `main`. They sit below 100 so
// they precede every VPN's rules: two system-wide VPNs never loop into each other.
inline constexpr std::uint32_t wanBypassRulePriority = 80;
inline constexpr std::uint32_t tunnelBypassRulePriority = 90;
// The kill-switch routes sit at the highest metric so a real route always wins.
inline constexpr std::uint32_t killSwitchMetric = 4294967295u;
inline constexpr std::uint32_t defaultWanMark = 10000;
} // namespace derive

struct Vpn {
    std::string name; // also the tunnel's interface name
    int id = 0;
    Protocol protocol = Protocol::wireguard;
    WireguardImplementation implementation = WireguardImplementation::automatic;
    std::optional<InterfaceAddress> addrV4;
    std::optional<InterfaceAddress> addrV6;
    std::vector<std::string> dns;
    std::string bridge; // br-NAME unless set
    std::string privateKeyFile;
    std::vector<WireguardPeer> peers; // WireGuard: one active at a time
    // WireGuard: given in the spec; without it a VPN of several peers uses the defaults and
    // one of a single peer is never judged (it has nowhere to fail over to).
    std::optional<FailoverSettings> failover;
    std::optional<FastdSettings> fastd;

    std::uint32_t firewallMark() const { return derive::firewallMarkBase + id; }
    std::uint32_t routingTable() const { return static_cast<std::uint32_t>(id); }
    std::uint32_t mainRulePriority() const { return derive::mainRulePriorityBase + id; }
    std::uint32_t bridgeRulePriority() const { return derive::bridgeRulePriorityBase + id; }
    std::uint32_t systemWideRulePriority() const { return derive::systemWideRulePriorityBase + id; }
    std::string bridgeAddressV4() const; // 10.20.ID.1/24
    std::string bridgeSubnetV4() const;  // 10.20.ID.0/24
    std::string unitName() const { return "vpn-" + name + ".service"; }
    // The settings vpnsteerd judges the active peer with, or nullopt when it does not.
    std::optional<FailoverSettings> failoverInForce() const {
        if (failover || peers.size() > 1)
            return failover.value_or(FailoverSettings{});
        return std::nullopt;
    }

    bool operator==(const Vpn&) const = default;
};

struct WanSettings {
    std::uint32_t mark = derive::defaultWanMark;
    std::vector<Endpoint> dnsListen;  // default 127.0.0.1:54 and [::1]:54
    std::vector<Endpoint> dnsServers; // static upstreams; empty: follow the uplink's DNS

    bool operator==(const WanSettings&) const = default;
};

struct Spec {
    int version = 1;
    WanSettings wan;
    std::map<std::string, Vpn> vpns; // valid VPNs only, sorted by name

    // The VPN with the lowest id, or nullptr when there is none.
    const Vpn* defaultVpn() const;
    const Vpn* find(std::string_view name) const;
};

// One problem in the spec: the JSON path of the offending value ("vpns.us.id") and what
// is wrong with it, quoting the value ("must be 1..99, got 120").
struct SpecError {
    std::string path;
    std::string message;

    std::string toString() const { return path + ": " + message; }
    // Whether the problem lies in the top-level section `section` ("wan" for
    // "wan.dns.listen[0]").
    bool isIn(std::string_view section) const {
        return path.starts_with(section) &&
               (path.size() == section.size() || path[section.size()] == '.');
    }
    bool operator==(const SpecError&) const = default;
};

struct ParseResult {
    Spec spec;                         // everything that is valid
    std::vector<SpecError> errors;     // every problem found, in document order
    std::set<std::string> invalidVpns; // names of VPNs left out of `spec` because of errors
    // True when the document could not be used at all (not JSON, not an object, wrong
    // version): no VPN is known, so nothing may be torn down on its account either.
    bool rejected = false;
    bool ok() const { return errors.empty(); }
};

// Parses and validates a whole spec. Never throws for bad input: each problem is an
// entry in `errors`, and VPNs without problems are still in `spec`. A document that is
// not JSON, or whose top level is unusable, yields no VPNs at all.
ParseResult parseSpec(std::string_view json);

// Checks used by the parser, exposed for the daemon's D-Bus argument checks.
bool isValidInterfaceName(std::string_view name);
bool isValidWireguardKey(std::string_view base64);

// The file names the generator owns for a VPN, which depend only on its name.
namespace filenames {
std::string tunnelNetdev(std::string_view vpn);  // 60-vpnsteer-NAME.netdev
std::string tunnelNetwork(std::string_view vpn); // 60-vpnsteer-NAME.network
std::string bridgeNetdev(std::string_view vpn);  // 61-vpnsteer-NAME-bridge.netdev
std::string bridgeNetwork(std::string_view vpn); // 61-vpnsteer-NAME-bridge.network
bool isOwned(std::string_view filename);         // *-vpnsteer-*

// fastd VPNs: the unit that runs fastd, and the files shared by the generator, that unit
// and vpnsteerd. `fastdDir` is /run/vpnsteer/fastd, `stateDir` /var/lib/vpnsteer on a host.
std::string fastdUnit(std::string_view vpn); // vpn-NAME-fastd.service
std::string fastdStatusSocket(std::string_view fastdDir, std::string_view vpn); // DIR/NAME.sock
// The transport mode a user chose (VPNSTEER_TRANSPORT_MODE=...), read by the unit as an
// EnvironmentFile= and written by vpnsteerd: STATE/fastd/NAME.mode.
std::string transportModeFile(std::string_view stateDir, std::string_view vpn);
std::string transportModeFileText(FastdTransportMode mode);
} // namespace filenames

} // namespace vpnsteer
