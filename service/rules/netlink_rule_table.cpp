#include "service/rules/netlink_rule_table.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <sys/socket.h>

namespace vpnsteer::rules {

bool NetlinkRuleTable::add(const PolicyRule& rule) {
    NetlinkMessagePtr message = encodeRule(rule, RTM_NEWRULE);
    const int error = socket_.request(message.get());
    if (error == -NLE_EXIST || ipv6Absent(rule.family, error)) {
        return false;
    }
    if (error < 0) {
        throw netlinkError(error, "adding " + rule.describe());
    }
    return true;
}

bool NetlinkRuleTable::remove(const PolicyRule& rule) {
    NetlinkMessagePtr message = encodeRule(rule, RTM_DELRULE);
    const int error = socket_.request(message.get());
    if (error == -NLE_OBJ_NOTFOUND || ipv6Absent(rule.family, error)) {
        return false;
    }
    if (error < 0) {
        throw netlinkError(error, "removing " + rule.describe());
    }
    return true;
}

std::vector<PolicyRule> NetlinkRuleTable::list() {
    std::vector<PolicyRule> rules;
    NetlinkMessagePtr request = allocateMessage(RTM_GETRULE, NLM_F_DUMP);
    // AF_UNSPEC asks for the rules of every family in one dump.
    fib_rule_hdr header{};
    header.family = AF_UNSPEC;
    if (nlmsg_append(request.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0) {
        throw std::bad_alloc();
    }
    socket_.dump(request.get(), "the routing policy rules", [&](const nlmsghdr* answer) {
        if (auto rule = decodeRule(answer)) {
            rules.push_back(*rule);
        }
    });
    return rules;
}

} // namespace vpnsteer::rules
