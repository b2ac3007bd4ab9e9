#include "service/wireguard/tunnel_service.hpp"

#include "service/wireguard/open_device.hpp"

#include <ctime>
#include <net/if.h>

namespace vpnsteer::wireguard {

TunnelService::TunnelService(sd_event* event, dbus::ManagerObject& manager,
                             TunnelsSettings settings, dbus::Journal journal)
    : resolver_(event)
    , clock_(event)
    , tunnels_(TunnelsSystem{
                   .openDevice = [](const Vpn& vpn) { return openDevice(vpn); },
                   .interfaceIndex =
                       [](const std::string& name) { return if_nametoindex(name.c_str()); },
                   .resolver = &resolver_,
                   .now = [] { return Clock::now(); },
                   .wallSeconds = [] { return static_cast<std::uint64_t>(std::time(nullptr)); },
                   .random =
                       [this](std::size_t bound) {
                           return std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
                       },
                   .probe = [this](const Vpn& vpn) { probes_.send(vpn); },
                   .forgetProbe = [this](const std::string& name) { probes_.forget(name); },
                   .clock = &clock_,
               },
               settings, std::move(journal),
               [&manager](const std::string& vpn, const std::vector<std::string>& properties) {
                   manager.announceTunnel(vpn, properties);
               })
    , links_(LinkEvents{
          .appeared = [this](const std::string& name,
                             unsigned index) { tunnels_.linkAppeared(name, index); },
          .removed = [this](const std::string& name,
                            unsigned index) { tunnels_.linkRemoved(name, index); },
          .eventsLost = [this] { tunnels_.tick(); },
      })
    , timer_(event, tickMicroseconds, tickAccuracyMicroseconds, [this] { tunnels_.tick(); }) {
    sd_event_source* source = nullptr;
    dbus::checkSdResult(
        sd_event_add_io(event, &source, links_.fd(), EPOLLIN, &TunnelService::onLinks, this),
        "watching the netlink link monitor");
    linkSource_.reset(source);
    manager.addFollower(tunnels_);
    manager.addTunnelFigures(tunnels_);
}

int TunnelService::onLinks(sd_event_source*, int, uint32_t, void* self) {
    static_cast<TunnelService*>(self)->links_.readPending();
    return 0;
}

} // namespace vpnsteer::wireguard
