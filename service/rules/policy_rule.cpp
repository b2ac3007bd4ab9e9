#include "service/rules/policy_rule.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <sys/socket.h>

namespace vpnsteer::rules {

namespace {

int addressFamily(AddressFamily family) {
    return family == AddressFamily::ipv4 ? AF_INET : AF_INET6;
}

std::string tableName(std::uint32_t table) {
    return table == mainTable ? "main" : std::to_string(table);
}

void put(nl_msg* message, int attribute, std::uint32_t value) {
    if (nla_put_u32(message, attribute, value) < 0) {
        throw std::bad_alloc();
    }
}

} // namespace

std::string PolicyRule::selectorText() const {
    std::string text;
    if (invert) {
        text += "not ";
    }
    if (firewallMark) {
        text += "fwmark " + std::to_string(*firewallMark) + " ";
    }
    text += "lookup " + tableName(table);
    if (suppressPrefixLength) {
        text += " suppress_prefixlength " + std::to_string(*suppressPrefixLength);
    }
    if (hasOtherSelectors) {
        text += " (and selectors vpnsteer does not use)";
    }
    return text;
}

std::string PolicyRule::describe() const {
    return std::string(family == AddressFamily::ipv4 ? "IPv4" : "IPv6") + " rule " +
           std::to_string(priority) + " (" + selectorText() + ")";
}

bool PolicyRule::sameEffect(const PolicyRule& other) const {
    PolicyRule mine = *this;
    mine.protocol = other.protocol;
    return mine == other;
}

NetlinkMessagePtr encodeRule(const PolicyRule& rule, int messageType) {
    const int flags = messageType == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0;
    NetlinkMessagePtr message = allocateMessage(messageType, flags);
    fib_rule_hdr header{};
    header.family = static_cast<std::uint8_t>(addressFamily(rule.family));
    header.action = FR_ACT_TO_TBL;
    header.table = static_cast<std::uint8_t>(rule.table < 256 ? rule.table : RT_TABLE_UNSPEC);
    header.flags = rule.invert ? FIB_RULE_INVERT : 0;
    if (nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO) < 0) {
        throw std::bad_alloc();
    }
    put(message.get(), FRA_PRIORITY, rule.priority);
    put(message.get(), FRA_TABLE, rule.table);
    if (rule.firewallMark) {
        put(message.get(), FRA_FWMARK, *rule.firewallMark);
        put(message.get(), FRA_FWMASK, 0xffffffffu);
    }
    if (rule.suppressPrefixLength) {
        put(message.get(), FRA_SUPPRESS_PREFIXLEN, *rule.suppressPrefixLength);
    }
    if (nla_put_u8(message.get(), FRA_PROTOCOL, rule.protocol) < 0) {
        throw std::bad_alloc();
    }
    return message;
}

std::optional<PolicyRule> decodeRule(const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWRULE && message->nlmsg_type != RTM_DELRULE) {
        return std::nullopt;
    }
    auto* header = const_cast<nlmsghdr*>(message);
    if (!nlmsg_valid_hdr(header, sizeof(fib_rule_hdr))) {
        return std::nullopt;
    }
    nlattr* attributes[FRA_MAX + 1] = {};
    // No policy: every attribute vpnsteerd reads is checked for its size below.
    if (nlmsg_parse(header, sizeof(fib_rule_hdr), attributes, FRA_MAX, nullptr) < 0) {
        return std::nullopt;
    }
    const auto* fib = static_cast<const fib_rule_hdr*>(nlmsg_data(header));
    auto u32 = [&](int type) -> std::optional<std::uint32_t> {
        if (attributes[type] == nullptr || nla_len(attributes[type]) < 4) {
            return std::nullopt;
        }
        return nla_get_u32(attributes[type]);
    };

    PolicyRule rule;
    if (fib->family == AF_INET) {
        rule.family = AddressFamily::ipv4;
    } else if (fib->family == AF_INET6) {
        rule.family = AddressFamily::ipv6;
    } else {
        return std::nullopt;
    }
    rule.priority = u32(FRA_PRIORITY).value_or(0);
    rule.table = u32(FRA_TABLE).value_or(fib->table);
    rule.invert = (fib->flags & FIB_RULE_INVERT) != 0;
    rule.protocol =
        attributes[FRA_PROTOCOL] != nullptr ? nla_get_u8(attributes[FRA_PROTOCOL]) : RTPROT_UNSPEC;
    rule.firewallMark = u32(FRA_FWMARK);
    const std::uint32_t mask = u32(FRA_FWMASK).value_or(0xffffffffu);
    // The kernel reports "no suppression" as the absent attribute or as -1.
    if (auto suppress = u32(FRA_SUPPRESS_PREFIXLEN); suppress && *suppress != 0xffffffffu) {
        rule.suppressPrefixLength = suppress;
    }
    if (rule.firewallMark == 0u) {
        rule.firewallMark.reset();
    }
    rule.hasOtherSelectors =
        fib->action != FR_ACT_TO_TBL || fib->src_len != 0 || fib->dst_len != 0 || fib->tos != 0 ||
        (rule.firewallMark && mask != 0xffffffffu) || attributes[FRA_SRC] != nullptr ||
        attributes[FRA_DST] != nullptr || attributes[FRA_IIFNAME] != nullptr ||
        attributes[FRA_OIFNAME] != nullptr || attributes[FRA_GOTO] != nullptr ||
        attributes[FRA_UID_RANGE] != nullptr || attributes[FRA_IP_PROTO] != nullptr ||
        attributes[FRA_SPORT_RANGE] != nullptr || attributes[FRA_DPORT_RANGE] != nullptr ||
        attributes[FRA_L3MDEV] != nullptr || attributes[FRA_TUN_ID] != nullptr ||
        attributes[FRA_FLOW] != nullptr ||
        (attributes[FRA_SUPPRESS_IFGROUP] != nullptr &&
         nla_get_u32(attributes[FRA_SUPPRESS_IFGROUP]) != 0xffffffffu);
    return rule;
}

} // namespace vpnsteer::rules
