// KillSwitchRoutes over a NETLINK_ROUTE socket.
#pragma once

#include "service/rules/kill_switch_routes.hpp"
#include "service/rules/netlink.hpp"

namespace vpnsteer::rules {

class NetlinkKillSwitchRoutes final : public KillSwitchRoutes {
public:
    explicit NetlinkKillSwitchRoutes(RouteNetlinkSocket& socket)
        : socket_(socket) {}

    bool add(const KillSwitchRoute& route) override;
    bool remove(const KillSwitchRoute& route) override;
    std::vector<KillSwitchRoute> list() override;

private:
    RouteNetlinkSocket& socket_;
};

} // namespace vpnsteer::rules
