#include "service/wireguard/link_monitor.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

namespace vpnsteer::wireguard {

LinkMonitor::LinkMonitor(LinkEvents events)
    : events_(std::move(events))
    , socket_(rules::openNotificationSocket({RTNLGRP_LINK}, &LinkMonitor::onMessage, this,
                                            "the netlink link monitor socket")) {}

int LinkMonitor::fd() const {
    return nl_socket_get_fd(socket_.get());
}

void LinkMonitor::readPending() {
    rules::readNotifications(socket_.get(), events_.eventsLost);
}

int LinkMonitor::onMessage(nl_msg* message, void* opaque) {
    auto* self = static_cast<LinkMonitor*>(opaque);
    nlmsghdr* header = nlmsg_hdr(message);
    if (header->nlmsg_type != RTM_NEWLINK && header->nlmsg_type != RTM_DELLINK) {
        return NL_OK;
    }
    nlattr* attributes[IFLA_MAX + 1] = {};
    if (nlmsg_parse(header, sizeof(ifinfomsg), attributes, IFLA_MAX, nullptr) < 0 ||
        attributes[IFLA_IFNAME] == nullptr) {
        return NL_OK;
    }
    const auto* info = static_cast<const ifinfomsg*>(nlmsg_data(header));
    const std::string name = nla_get_string(attributes[IFLA_IFNAME]);
    const auto index = static_cast<unsigned>(info->ifi_index);
    const auto& handler =
        header->nlmsg_type == RTM_NEWLINK ? self->events_.appeared : self->events_.removed;
    if (handler) {
        handler(name, index);
    }
    return NL_OK;
}

} // namespace vpnsteer::wireguard
