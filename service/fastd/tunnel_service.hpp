// FastdTunnels on vpnsteerd's sd-event loop: the one-second timer and the hookup to the D-Bus
// manager (spec follower, live figures, SetTransportMode, PropertiesChanged).
#pragma once

#include "service/dbus/bus_event_source.hpp"
#include "service/dbus/manager_object.hpp"
#include "service/fastd/mode_files.hpp"
#include "service/fastd/status_socket.hpp"
#include "service/fastd/tunnels.hpp"

#include <string>
#include <systemd/sd-event.h>

namespace vpnsteer::fastd {

struct FastdServiceSettings {
    std::string fastdDir = "/run/vpnsteer/fastd";
    std::string stateDir = "/var/lib/vpnsteer";
};

class FastdService {
public:
    // Registers with `manager` (call before manager.start()); `units` must outlive this.
    // Throws std::system_error.
    FastdService(sd_event* event, dbus::ManagerObject& manager, UnitRestarter& units,
                 const FastdServiceSettings& settings, dbus::Journal journal);
    FastdService(const FastdService&) = delete;
    FastdService& operator=(const FastdService&) = delete;

private:
    UnixStatusSocket status_;
    TransportModeFiles modes_;
    FastdTunnels tunnels_;
    dbus::RepeatingTimer timer_;
};

} // namespace vpnsteer::fastd
