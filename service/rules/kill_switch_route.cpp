#include "service/rules/kill_switch_route.hpp"

#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <sys/socket.h>

namespace vpnsteer::rules {

std::string KillSwitchRoute::describe() const {
    return std::string(family == AddressFamily::ipv4 ? "IPv4" : "IPv6") +
           " route unreachable default table " + std::to_string(table) + " metric " +
           std::to_string(derive::killSwitchMetric);
}

NetlinkMessagePtr encodeRoute(const KillSwitchRoute& route, int messageType) {
    const int flags = messageType == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0;
    NetlinkMessagePtr message = allocateMessage(messageType, flags);
    rtmsg header{};
    header.rtm_family = route.family == AddressFamily::ipv4 ? AF_INET : AF_INET6;
    header.rtm_dst_len = 0; // default
    header.rtm_table =
        static_cast<unsigned char>(route.table < 256 ? route.table : RT_TABLE_UNSPEC);
    header.rtm_protocol = route.protocol;
    header.rtm_scope = RT_SCOPE_UNIVERSE;
    header.rtm_type = RTN_UNREACHABLE;
    if (nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(message.get(), RTA_TABLE, route.table) < 0 ||
        nla_put_u32(message.get(), RTA_PRIORITY, derive::killSwitchMetric) < 0) {
        throw std::bad_alloc();
    }
    return message;
}

std::optional<KillSwitchRoute> decodeKillSwitchRoute(const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWROUTE && message->nlmsg_type != RTM_DELROUTE) {
        return std::nullopt;
    }
    auto* header = const_cast<nlmsghdr*>(message);
    if (!nlmsg_valid_hdr(header, sizeof(rtmsg))) {
        return std::nullopt;
    }
    nlattr* attributes[RTA_MAX + 1] = {};
    if (nlmsg_parse(header, sizeof(rtmsg), attributes, RTA_MAX, nullptr) < 0) {
        return std::nullopt;
    }
    const auto* route = static_cast<const rtmsg*>(nlmsg_data(header));
    auto u32 = [&](int type) -> std::optional<std::uint32_t> {
        if (attributes[type] == nullptr || nla_len(attributes[type]) < 4) {
            return std::nullopt;
        }
        return nla_get_u32(attributes[type]);
    };
    if ((route->rtm_family != AF_INET && route->rtm_family != AF_INET6) ||
        route->rtm_type != RTN_UNREACHABLE || route->rtm_dst_len != 0 || route->rtm_src_len != 0 ||
        u32(RTA_PRIORITY) != derive::killSwitchMetric) {
        return std::nullopt;
    }
    KillSwitchRoute killSwitch;
    killSwitch.family = route->rtm_family == AF_INET ? AddressFamily::ipv4 : AddressFamily::ipv6;
    killSwitch.table = u32(RTA_TABLE).value_or(route->rtm_table);
    killSwitch.protocol = route->rtm_protocol;
    return killSwitch;
}

} // namespace vpnsteer::rules
