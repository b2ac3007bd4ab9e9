#include "service/rules/netlink_monitor.hpp"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>

namespace vpnsteer::rules {

NetlinkMonitor::NetlinkMonitor(NetlinkEvents events)
    : events_(std::move(events))
    // Route notifications come in bursts (a link going down takes its routes along); a
    // larger buffer makes an overrun, and with it a full comparison, rarer.
    , socket_(openNotificationSocket(
          {RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE},
          &NetlinkMonitor::onMessage, this, "the netlink monitor socket", 4 << 20)) {}

int NetlinkMonitor::fd() const {
    return nl_socket_get_fd(socket_.get());
}

void NetlinkMonitor::readPending() {
    readNotifications(socket_.get(), events_.eventsLost);
}

int NetlinkMonitor::onMessage(nl_msg* message, void* opaque) {
    auto* self = static_cast<NetlinkMonitor*>(opaque);
    const nlmsghdr* header = nlmsg_hdr(message);
    switch (header->nlmsg_type) {
    case RTM_NEWRULE:
        if (auto rule = decodeRule(header); rule && self->events_.ruleAdded) {
            self->events_.ruleAdded(*rule);
        }
        break;
    case RTM_DELRULE:
        if (auto rule = decodeRule(header); rule && self->events_.ruleRemoved) {
            self->events_.ruleRemoved(*rule);
        }
        break;
    case RTM_DELROUTE:
        if (auto route = decodeKillSwitchRoute(header); route && self->events_.routeRemoved) {
            self->events_.routeRemoved(*route);
        }
        break;
    default:
        break;
    }
    return NL_OK;
}

} // namespace vpnsteer::rules
