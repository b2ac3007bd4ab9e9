// Listens to the kernel's rule and route notifications, so that vpnsteerd can put back at
// once what somebody else removed. Non-blocking: the daemon's event loop polls fd() and calls
// readPending() when it is readable.
#pragma once

#include "service/rules/kill_switch_route.hpp"
#include "service/rules/netlink.hpp"
#include "service/rules/policy_rule.hpp"

#include <functional>

namespace vpnsteer::rules {

struct NetlinkEvents {
    std::function<void(const PolicyRule&)> ruleAdded;
    std::function<void(const PolicyRule&)> ruleRemoved;
    std::function<void(const KillSwitchRoute&)> routeRemoved;
    // Notifications were lost (the socket's buffer overran): the handler must compare the
    // whole kernel state with what it wants.
    std::function<void()> eventsLost;
};

class NetlinkMonitor {
public:
    // Joins RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE.
    explicit NetlinkMonitor(NetlinkEvents events);

    int fd() const;
    // Reads and dispatches every notification waiting on the socket. Handlers must not throw.
    void readPending();

private:
    static int onMessage(nl_msg* message, void* self);

    NetlinkEvents events_;
    NetlinkSocketPtr socket_;
};

} // namespace vpnsteer::rules
