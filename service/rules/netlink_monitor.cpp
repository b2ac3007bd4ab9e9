#include "service/rules/netlink_monitor.hpp"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <new>

namespace vpnsteer::rules {

NetlinkMonitor::NetlinkMonitor(NetlinkEvents events)
    : events_(std::move(events))
    , socket_(nl_socket_alloc()) {
    if (!socket_) {
        throw std::bad_alloc();
    }
    // Notifications carry sequence number 0 and come unasked.
    nl_socket_disable_seq_check(socket_.get());
    nl_socket_modify_cb(socket_.get(), NL_CB_VALID, NL_CB_CUSTOM, &NetlinkMonitor::onMessage, this);
    if (int error = nl_connect(socket_.get(), NETLINK_ROUTE); error < 0) {
        throw netlinkError(error, "connecting the netlink monitor socket");
    }
    if (int error = nl_socket_add_memberships(socket_.get(), RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
                                              RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0);
        error < 0) {
        throw netlinkError(error, "joining the netlink rule and route groups");
    }
    // Route notifications come in bursts (a link going down takes its routes along); a larger
    // buffer makes an overrun, and with it a full comparison, rarer.
    if (int error = nl_socket_set_buffer_size(socket_.get(), 4 << 20, 0); error < 0) {
        throw netlinkError(error, "sizing the netlink monitor socket's buffer");
    }
    if (int error = nl_socket_set_nonblocking(socket_.get()); error < 0) {
        throw netlinkError(error, "making the netlink monitor socket non-blocking");
    }
}

int NetlinkMonitor::fd() const {
    return nl_socket_get_fd(socket_.get());
}

void NetlinkMonitor::readPending() {
    for (;;) {
        const int result = nl_recvmsgs_default(socket_.get());
        if (result == -NLE_AGAIN) {
            return;
        }
        if (result < 0) {
            // ENOBUFS (which libnl reports as NLE_NOMEM) or anything else: what was missed is
            // unknown, so everything is compared.
            if (events_.eventsLost) {
                events_.eventsLost();
            }
            if (result != -NLE_NOMEM) {
                return;
            }
        }
    }
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
