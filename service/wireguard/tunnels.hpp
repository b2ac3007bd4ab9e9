// Keeps each WireGuard VPN's device configured (issue 4 items 2 and 3): whenever the device
// of a VPN exists (at start, when it appears, when wireguard-go comes back with a new one),
// vpnsteerd gives it
// - for wireguard-go, which networkd cannot configure: the private key, the firewall mark
//   (id + 10000) and the active peer, through the UAPI socket;
// - for a kernel device, which networkd configured from the .netdev: only what networkd
//   cannot do, the peer's endpoint after its host name resolved to another address
//   (networkd resolves it once and never again: systemd issue 9911), and the active peer
//   when the VPN has several.
// It re-resolves endpoint host names on a timer and when the handshake is stale, and keeps
// the figures org.vpnsteer1.Vpn shows.
//
// A VPN of several peers (or with a "failover" object) has a GatewaySelector: the device
// holds one peer at a time, sampled every second; when the selector finds it dead, it is
// replaced by the next (DeviceChange::replacePeer drops every other peer, and with it the
// old peer's routes through the tunnel, which are its allowed IPs). Probes through the
// tunnel keep an idle tunnel judgeable; a handshake that fails while the system clock is
// not synchronized is explained in the journal.
//
// Everything runs on vpnsteerd's event loop: main calls linkAppeared/linkRemoved from the
// link monitor and tick() from a one-second timer. No call throws.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/dbus/tunnel_figures.hpp"
#include "service/wireguard/clock_sync.hpp"
#include "service/wireguard/device.hpp"
#include "service/wireguard/endpoint_resolver.hpp"
#include "service/wireguard/gateway_selector.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vpnsteer::wireguard {

// WireGuard rekeys at least every 120 s while the tunnel is used (REKEY_AFTER_TIME); a
// handshake older than 135 s means the peer has not answered for a while, and may have moved.
// The same figure as wireguard-tools' contrib/reresolve-dns.
inline constexpr std::chrono::seconds staleHandshakeAge{135};
inline constexpr std::chrono::seconds defaultResolveInterval{60};

struct TunnelsSystem {
    // The device of VPN `vpn` (its interface is its name). Throws std::system_error.
    std::function<std::unique_ptr<WireguardDevice>(const Vpn& vpn)> openDevice;
    // The interface index of a name, 0 when there is none.
    std::function<unsigned(const std::string& name)> interfaceIndex;
    // Resolves endpoint host names; may be null (then only address literals work).
    EndpointResolver* resolver = nullptr;
    std::function<Clock::time_point()> now = [] { return Clock::now(); };
    std::function<std::uint64_t()> wallSeconds; // the epoch, for handshake ages
    // Gateway selection: random numbers, the probe through a tunnel (throws
    // std::system_error), and the clock's synchronization; each may be null in tests that
    // do not need it (no probes, no clock warning, always the first candidate).
    GatewaySelector::Random random;
    std::function<void(const Vpn& vpn)> probe;
    // Lets go of what the probes keep for the VPN called `name` (its socket): when the VPN
    // leaves the spec, changes, or loses its device. Must not throw; may be null.
    std::function<void(const std::string& name)> forgetProbe;
    ClockSynchronization* clock = nullptr;
};

struct TunnelsSettings {
    std::chrono::seconds resolveInterval = defaultResolveInterval;
    // How often each device is read (figures, staleness, and whether it still holds vpnsteerd's
    // configuration: a `wg set` by hand or a restarted wireguard-go is noticed then).
    std::chrono::seconds checkInterval{5};
};

class WireguardTunnels final : public dbus::SpecFollower, public dbus::TunnelFiguresSource {
public:
    using Announce = std::function<void(const std::string& vpn, const std::vector<std::string>&)>;

    WireguardTunnels(TunnelsSystem system, TunnelsSettings settings, dbus::Journal journal,
                     Announce announce);

    // SpecFollower: the WireGuard VPNs now in force; configures the devices that exist.
    rules::KernelReport specApplied(const Spec& spec) override;
    // TunnelFiguresSource
    std::optional<dbus::TunnelFigures> tunnelFigures(const std::string& vpn) override;

    void linkAppeared(const std::string& name, unsigned index) noexcept;
    void linkRemoved(const std::string& name, unsigned index) noexcept;
    void tick() noexcept;

private:
    struct Tunnel {
        Vpn vpn;
        unsigned index = 0; // of the device vpnsteerd configured; 0 for none yet
        std::unique_ptr<WireguardDevice> device;
        bool configured = false;
        std::string publicKey;              // base64, from privateKeyFile
        std::optional<IpEndpoint> endpoint; // the peer's address in use (literal or resolved)
        std::optional<Clock::time_point> lastResolve;
        std::optional<std::size_t> resolving; // the peer whose name is being resolved
        Clock::time_point nextCheck{};
        dbus::TunnelFigures figures;
        std::string lastError; // journalled once, not every second
        // Gateway selection; without a selector the first peer is the only one used.
        std::optional<GatewaySelector> selector;
        std::size_t active = 0;      // index in vpn.peers
        bool chosen = false;         // whether `active` was chosen (or adopted) yet
        bool restartJudging = false; // the next sample starts the active peer's judging
        bool unresolved = false;     // the active peer's host name did not resolve
        bool reinstall = false;      // install the active peer afresh even if the device has it
    };

    void configure(Tunnel& tunnel, bool force);
    void choose(Tunnel& tunnel, const DeviceStatus& status);
    void activate(Tunnel& tunnel, std::size_t peer);
    void startJudging(Tunnel& tunnel);
    void judge(Tunnel& tunnel);
    void failOver(Tunnel& tunnel, PeerResult result);
    void setResult(Tunnel& tunnel, PeerResult result);
    void check(Tunnel& tunnel);
    void startResolve(Tunnel& tunnel);
    void resolved(const std::string& name, std::size_t peer, const std::string& host,
                  ResolveResult result);
    void useEndpoint(Tunnel& tunnel, const IpEndpoint& endpoint);
    void failed(Tunnel& tunnel, const std::string& text);
    void forgetProbe(const std::string& name);
    void announce(Tunnel& tunnel, const dbus::TunnelFigures& before);

    TunnelsSystem system_;
    TunnelsSettings settings_;
    dbus::Journal journal_;
    Announce announce_;
    std::map<std::string, Tunnel> tunnels_;
    WanSettings wan_;
};

} // namespace vpnsteer::wireguard
