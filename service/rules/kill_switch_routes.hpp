// The kill-switch routes in the kernel's routing tables. The real one speaks netlink
// (NetlinkKillSwitchRoutes); unit tests use a fake.
#pragma once

#include "service/rules/kill_switch_route.hpp"

#include <vector>

namespace vpnsteer::rules {

class KillSwitchRoutes {
public:
    virtual ~KillSwitchRoutes() = default;

    // Adds `route`. Returns false when the table already had it (from anyone). Throws
    // std::system_error naming the route on any other failure.
    virtual bool add(const KillSwitchRoute& route) = 0;
    // Removes `route` if it carries route.protocol. Returns false when there was none.
    virtual bool remove(const KillSwitchRoute& route) = 0;
    // Every kill-switch route of both families, in every table.
    virtual std::vector<KillSwitchRoute> list() = 0;
};

} // namespace vpnsteer::rules
