// vpnsteerd as the CLI sees it: the calls of its D-Bus API (service/org.vpnsteer1.*.xml) that
// the subcommands make, behind an interface so unit tests run the subcommands against a fake.
// cli/dbus_daemon.cpp is the real one, over the CLI's own connection to the system bus
// (cli/system_bus.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vpnsteer::cli {

// One row of org.vpnsteer1.Manager.ListVpns.
struct VpnListing {
    std::string name{};
    std::uint32_t id = 0;
    std::string objectPath{};
    bool systemWide = false;

    bool operator==(const VpnListing&) const = default;
};

// One row of org.vpnsteer1.Vpn.Peers: a gateway and its latest judgement.
struct PeerListing {
    std::string name{};
    std::string endpoint{};
    std::string result{};
    std::uint64_t since = 0; // seconds since the epoch, 0 while untried

    bool operator==(const PeerListing&) const = default;
};

// The org.vpnsteer1.Vpn properties of one VPN. Empty strings and zeros mean what the XML
// says they mean: not known (yet), or never.
struct VpnStatus {
    std::string name{};
    std::uint32_t id = 0;
    std::string protocol{};
    std::string interface {};
    std::uint32_t table = 0;
    std::uint32_t firewallMark = 0;
    std::string bridge{};
    bool systemWide = false;
    std::string publicKey{};
    std::string endpoint{};
    std::uint64_t latestHandshake = 0; // seconds since the epoch, 0 for never
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
    std::vector<std::string> dns{};
    std::string activePeer{};
    std::vector<PeerListing> peers{};
    // fastd VPNs only (docs/fastd.md).
    std::string transportMode{}; // "secure" or "performance"; "" when not configurable
    std::string connectedPeer{};
    std::string method{};
    std::uint64_t established = 0; // seconds since the epoch, 0 while not connected

    bool operator==(const VpnStatus&) const = default;
};

// What `vpnsteer status` shows: the Manager's SystemWide and the VPNs asked for, by id.
struct DaemonStatus {
    std::string systemWide{}; // the VPN carrying the host's traffic, or ""
    std::vector<VpnStatus> vpns{};
};

// Every call throws sdbus::Error (its header only: the class needs no library) with the D-Bus
// error vpnsteerd (or the bus) answered;
// cli/daemon_error.hpp turns it into a message that says what to do.
class Daemon {
public:
    virtual ~Daemon() = default;

    // Manager.ListVpns: every VPN of the spec in force, sorted by id.
    virtual std::vector<VpnListing> listVpns() = 0;
    // All org.vpnsteer1.Vpn properties of a VPN that listVpns() returned.
    virtual VpnStatus vpnStatus(const VpnListing& vpn) = 0;
    // Manager.SystemWide.
    virtual std::string systemWide() = 0;
    // Manager.SpecPath: the spec file vpnsteerd serves.
    virtual std::string specPath() = 0;
    virtual void up(const std::string& name) = 0;
    virtual void down(const std::string& name) = 0;
    virtual void switchTo(const std::string& name) = 0;
};

// Thrown when there is no system bus to reach vpnsteerd on (no socket, or nobody listening
// on it); the text is sd-bus's reason.
class BusUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Opens the connection to vpnsteerd; throws BusUnavailable. Only the subcommands that need
// the daemon call it, so check, genkey and pubkey work without a bus.
using DaemonConnector = std::function<std::unique_ptr<Daemon>()>;

} // namespace vpnsteer::cli
