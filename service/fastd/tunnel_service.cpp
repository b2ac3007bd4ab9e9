#include "service/fastd/tunnel_service.hpp"

#include <ctime>

namespace vpnsteer::fastd {

FastdService::FastdService(sd_event* event, dbus::ManagerObject& manager, UnitRestarter& units,
                           const FastdServiceSettings& settings, dbus::Journal journal)
    : modes_(settings.stateDir)
    , tunnels_(
          FastdSystem{.status = status_,
                      .units = units,
                      .modes = modes_,
                      .wallSeconds = [] { return static_cast<std::uint64_t>(std::time(nullptr)); }},
          settings.fastdDir, std::move(journal),
          [&manager](const std::string& vpn, const std::vector<std::string>& properties) {
              manager.announceTunnel(vpn, properties);
          })
    // fastd's status changes at most once per handshake: a look every second is enough, and
    // sd-event's default slack (accuracy 0) does not matter to it.
    , timer_(event, 1'000'000, 0, [this] { tunnels_.tick(); }) {
    manager.addFollower(tunnels_);
    manager.addTunnelFigures(tunnels_);
    manager.setTransportModeControl(tunnels_);
}

} // namespace vpnsteer::fastd
