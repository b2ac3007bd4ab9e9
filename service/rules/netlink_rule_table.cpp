#include "service/rules/netlink_rule_table.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <sys/socket.h>

namespace vpnsteer::rules {

bool NetlinkRuleTable::add(const PolicyRule& rule) {
    return socket_.change(encodeRule(rule, RTM_NEWRULE).get(), rule.family, -NLE_EXIST,
                          [&] { return "adding " + rule.describe(); });
}

bool NetlinkRuleTable::remove(const PolicyRule& rule) {
    return socket_.change(encodeRule(rule, RTM_DELRULE).get(), rule.family, -NLE_OBJ_NOTFOUND,
                          [&] { return "removing " + rule.describe(); });
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
