// Tells vpnsteerd when a network interface appears or goes (RTNLGRP_LINK), so it can
// configure a WireGuard device as soon as wireguard-go or networkd has made it. Non-blocking:
// the event loop polls fd() and calls readPending().
#pragma once

#include "service/rules/netlink.hpp"

#include <functional>
#include <string>

namespace vpnsteer::wireguard {

struct LinkEvents {
    std::function<void(const std::string& name, unsigned index)> appeared;
    std::function<void(const std::string& name, unsigned index)> removed;
    // Notifications were lost: the handler must look at every interface it cares about.
    std::function<void()> eventsLost;
};

class LinkMonitor {
public:
    explicit LinkMonitor(LinkEvents events); // throws std::system_error
    int fd() const;
    void readPending(); // handlers must not throw

private:
    static int onMessage(nl_msg* message, void* self);

    LinkEvents events_;
    rules::NetlinkSocketPtr socket_;
};

} // namespace vpnsteer::wireguard
