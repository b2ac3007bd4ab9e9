// WireguardTunnels on vpnsteerd's sd-event loop: the link monitor, the one-second timer,
// and the hookup to the D-Bus manager (spec follower, live figures, PropertiesChanged).
#pragma once

#include "service/dbus/bus_event_source.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/wireguard/dns_resolver.hpp"
#include "service/wireguard/link_monitor.hpp"
#include "service/wireguard/timedated_clock.hpp"
#include "service/wireguard/tunnel_probe.hpp"
#include "service/wireguard/tunnels.hpp"

#include <cstdint>
#include <memory>
#include <random>
#include <systemd/sd-event.h>

namespace vpnsteer::wireguard {

// WireguardTunnels::tick(): gateway judging samples the counters on each tick, so every tick
// that comes late lengthens a failover (docs/gateways.md, "Failover time"). sd-event's default
// slack of 250 ms made it one tick per 1.25 s; a millisecond still lets the kernel coalesce.
inline constexpr std::uint64_t tickMicroseconds = 1'000'000;
inline constexpr std::uint64_t tickAccuracyMicroseconds = 1'000;

class TunnelService {
public:
    // Registers with `manager` (call before manager.start()). Throws std::system_error.
    TunnelService(sd_event* event, dbus::ManagerObject& manager, TunnelsSettings settings,
                  dbus::Journal journal);
    TunnelService(const TunnelService&) = delete;
    // Endpoint host names are resolved through these when the spec names no servers.
    void useUplinkServers(UplinkServers servers) { resolver_.useUplinkServers(std::move(servers)); }
    TunnelService& operator=(const TunnelService&) = delete;

private:
    static int onLinks(sd_event_source*, int, uint32_t, void* self);

    UplinkDnsResolver resolver_;
    TimedatedClock clock_;
    TunnelProbes probes_;
    // Gateway order needs no secrecy, only a different order on each host and each start.
    std::mt19937_64 random_{std::random_device{}()};
    WireguardTunnels tunnels_;
    LinkMonitor links_;
    dbus::EventSourcePtr linkSource_;
    dbus::RepeatingTimer timer_;
};

} // namespace vpnsteer::wireguard
