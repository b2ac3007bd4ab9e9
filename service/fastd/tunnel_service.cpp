#include "service/fastd/tunnel_service.hpp"

#include <ctime>
#include <system_error>

namespace vpnsteer::fastd {
namespace {

constexpr std::uint64_t tickMicroseconds = 1'000'000;

void check(int result, const char* what) {
    if (result < 0) {
        throw std::system_error(-result, std::generic_category(), what);
    }
}

} // namespace

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
          }) {
    sd_event_source* source = nullptr;
    check(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, tickMicroseconds, 0,
                                     &FastdService::onTick, this),
          "adding the fastd timer");
    timer_.reset(source);
    check(sd_event_source_set_enabled(source, SD_EVENT_ON), "enabling the fastd timer");
    manager.addFollower(tunnels_);
    manager.addTunnelFigures(tunnels_);
    manager.setTransportModeControl(tunnels_);
}

int FastdService::onTick(sd_event_source* source, uint64_t, void* self) {
    static_cast<FastdService*>(self)->tunnels_.tick();
    sd_event_source_set_time_relative(source, tickMicroseconds);
    return 0;
}

} // namespace vpnsteer::fastd
