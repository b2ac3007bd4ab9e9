#include "service/rules/netlink_kill_switch_routes.hpp"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <sys/socket.h>

namespace vpnsteer::rules {

bool NetlinkKillSwitchRoutes::add(const KillSwitchRoute& route) {
    return socket_.change(encodeRoute(route, RTM_NEWROUTE).get(), route.family, -NLE_EXIST,
                          [&] { return "adding " + route.describe(); });
}

bool NetlinkKillSwitchRoutes::remove(const KillSwitchRoute& route) {
    return socket_.change(encodeRoute(route, RTM_DELROUTE).get(), route.family, -NLE_OBJ_NOTFOUND,
                          [&] { return "removing " + route.describe(); });
}

std::vector<KillSwitchRoute> NetlinkKillSwitchRoutes::list() {
    std::vector<KillSwitchRoute> routes;
    for (int family : {AF_INET, AF_INET6}) {
        NetlinkMessagePtr request = allocateMessage(RTM_GETROUTE, NLM_F_DUMP);
        rtmsg header{};
        header.rtm_family = static_cast<unsigned char>(family);
        if (nlmsg_append(request.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0) {
            throw std::bad_alloc();
        }
        try {
            socket_.dump(request.get(), family == AF_INET ? "the IPv4 routes" : "the IPv6 routes",
                         [&](const nlmsghdr* answer) {
                             if (auto route = decodeKillSwitchRoute(answer)) {
                                 routes.push_back(*route);
                             }
                         });
        } catch (const std::system_error& error) {
            if (family != AF_INET6 ||
                error.code() != std::error_code(NLE_AF_NOSUPPORT, netlinkCategory())) {
                throw;
            }
        }
    }
    return routes;
}

} // namespace vpnsteer::rules
