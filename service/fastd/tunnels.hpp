// Follows each fastd VPN's tunnel (issue 8): reads its status socket into the figures that
// org.vpnsteer1.Vpn shows (connected peer, method, when established, counters, the address in
// use), and carries out SetTransportMode: store the user's choice, restart the fastd unit,
// whose EnvironmentFile= then picks the method list of that mode (generator/render.cpp).
//
// Runs on vpnsteerd's event loop: tick() from a one-second timer. tick() never throws.
#pragma once

#include "core/spec.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/dbus/tunnel_figures.hpp"
#include "service/fastd/system.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vpnsteer::fastd {

struct FastdSystem {
    StatusSocket& status;
    UnitRestarter& units;
    TransportModeStore& modes;
    std::function<std::uint64_t()> wallSeconds; // the epoch
};

class FastdTunnels final : public dbus::SpecFollower,
                           public dbus::TunnelFiguresSource,
                           public dbus::TransportModeControl {
public:
    using Announce = std::function<void(const std::string& vpn, const std::vector<std::string>&)>;

    // `fastdDir` holds the status sockets (filenames::fastdStatusSocket).
    FastdTunnels(FastdSystem system, std::string fastdDir, dbus::Journal journal,
                 Announce announce);

    rules::KernelReport specApplied(const Spec& spec) override;
    std::optional<dbus::TunnelFigures> tunnelFigures(const std::string& vpn) override;
    void setTransportMode(const Vpn& vpn, FastdTransportMode mode) override;
    void tick() noexcept;

private:
    struct Tunnel {
        Vpn vpn;
        dbus::TunnelFigures figures;
        bool unreadable = false; // the last read failed, and that was journalled
    };
    void read(Tunnel& tunnel);
    // The stored mode of a configurable VPN, else the spec's.
    FastdTransportMode modeInForce(const Vpn& vpn);
    void announce(const Tunnel& tunnel, const dbus::TunnelFigures& before);

    FastdSystem system_;
    std::string fastdDir_;
    dbus::Journal journal_;
    Announce announce_;
    std::map<std::string, Tunnel> tunnels_;
};

} // namespace vpnsteer::fastd
