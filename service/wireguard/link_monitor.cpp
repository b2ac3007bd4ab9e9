#include "service/wireguard/link_monitor.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <new>

namespace vpnsteer::wireguard {

LinkMonitor::LinkMonitor(LinkEvents events)
    : events_(std::move(events))
    , socket_(nl_socket_alloc()) {
    if (!socket_) {
        throw std::bad_alloc();
    }
    nl_socket_disable_seq_check(socket_.get());
    nl_socket_modify_cb(socket_.get(), NL_CB_VALID, NL_CB_CUSTOM, &LinkMonitor::onMessage, this);
    if (int error = nl_connect(socket_.get(), NETLINK_ROUTE); error < 0) {
        throw rules::netlinkError(error, "connecting the netlink link monitor socket");
    }
    if (int error = nl_socket_add_memberships(socket_.get(), RTNLGRP_LINK, 0); error < 0) {
        throw rules::netlinkError(error, "joining the netlink link group");
    }
    if (int error = nl_socket_set_nonblocking(socket_.get()); error < 0) {
        throw rules::netlinkError(error, "making the netlink link monitor socket non-blocking");
    }
}

int LinkMonitor::fd() const {
    return nl_socket_get_fd(socket_.get());
}

void LinkMonitor::readPending() {
    for (;;) {
        const int result = nl_recvmsgs_default(socket_.get());
        if (result == -NLE_AGAIN) {
            return;
        }
        if (result < 0) {
            if (events_.eventsLost) {
                events_.eventsLost();
            }
            if (result != -NLE_NOMEM) {
                return;
            }
        }
    }
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
