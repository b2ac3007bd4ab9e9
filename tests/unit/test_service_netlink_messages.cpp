// The netlink messages vpnsteerd builds and reads for rules and kill-switch routes.
#include "service/rules/kill_switch_route.hpp"
#include "service/rules/netlink.hpp"
#include "service/rules/policy_rule.hpp"

#include <gtest/gtest.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <sys/socket.h>

namespace vpnsteer::rules {
namespace {

PolicyRule systemWideRule(AddressFamily family) {
    PolicyRule rule;
    rule.family = family;
    rule.priority = 302;
    rule.table = 2;
    rule.firewallMark = 10002;
    rule.invert = true;
    return rule;
}

PolicyRule keepLocalRule(AddressFamily family) {
    PolicyRule rule;
    rule.family = family;
    rule.priority = 101;
    rule.table = mainTable;
    rule.suppressPrefixLength = 0;
    return rule;
}

PolicyRule bypassRule(AddressFamily family) {
    PolicyRule rule;
    rule.family = family;
    rule.priority = 90;
    rule.table = mainTable;
    rule.firewallMark = 10001;
    return rule;
}

// The kernel answers with RTM_NEWRULE; a request is read back the same way.
PolicyRule roundTrip(const PolicyRule& rule, int type = RTM_NEWRULE) {
    NetlinkMessagePtr message = encodeRule(rule, type);
    std::optional<PolicyRule> decoded = decodeRule(nlmsg_hdr(message.get()));
    EXPECT_TRUE(decoded.has_value()) << rule.describe();
    return decoded.value_or(PolicyRule{});
}

TEST(PolicyRuleMessage, EveryKindOfRuleSurvivesEncodingAndDecoding) {
    for (AddressFamily family : {AddressFamily::ipv4, AddressFamily::ipv6}) {
        for (const PolicyRule& rule :
             {systemWideRule(family), keepLocalRule(family), bypassRule(family)}) {
            EXPECT_EQ(roundTrip(rule), rule) << rule.describe();
            EXPECT_EQ(roundTrip(rule, RTM_DELRULE), rule) << rule.describe();
        }
    }
}

TEST(PolicyRuleMessage, CarriesVpnsteersProtocolAndTheHeaderFields) {
    NetlinkMessagePtr message = encodeRule(systemWideRule(AddressFamily::ipv6), RTM_NEWRULE);
    const nlmsghdr* header = nlmsg_hdr(message.get());
    EXPECT_EQ(header->nlmsg_type, RTM_NEWRULE);
    EXPECT_EQ(header->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
    const auto* fib = static_cast<const fib_rule_hdr*>(nlmsg_data(header));
    EXPECT_EQ(fib->family, AF_INET6);
    EXPECT_EQ(fib->action, FR_ACT_TO_TBL);
    EXPECT_EQ(fib->flags & FIB_RULE_INVERT, FIB_RULE_INVERT);
    nlattr* protocol =
        nlmsg_find_attr(const_cast<nlmsghdr*>(header), sizeof(fib_rule_hdr), FRA_PROTOCOL);
    ASSERT_NE(protocol, nullptr);
    EXPECT_EQ(nla_get_u8(protocol), 118);
}

TEST(PolicyRuleMessage, DescribesRulesTheWayIpRuleWritesThem) {
    EXPECT_EQ(systemWideRule(AddressFamily::ipv4).describe(),
              "IPv4 rule 302 (not fwmark 10002 lookup 2)");
    EXPECT_EQ(keepLocalRule(AddressFamily::ipv6).describe(),
              "IPv6 rule 101 (lookup main suppress_prefixlength 0)");
    EXPECT_EQ(bypassRule(AddressFamily::ipv4).describe(),
              "IPv4 rule 90 (fwmark 10001 lookup main)");
}

TEST(PolicyRuleMessage, ARuleWithASourceIsNeverOneOfOurs) {
    // The bridge rule `from 10.20.1.0/24 lookup 1` shares a table with the VPN's rules.
    NetlinkMessagePtr message = allocateMessage(RTM_NEWRULE, 0);
    fib_rule_hdr header{};
    header.family = AF_INET;
    header.action = FR_ACT_TO_TBL;
    header.src_len = 24;
    ASSERT_GE(nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO), 0);
    const std::uint8_t source[4] = {10, 20, 1, 0};
    ASSERT_GE(nla_put(message.get(), FRA_SRC, sizeof source, source), 0);
    ASSERT_GE(nla_put_u32(message.get(), FRA_PRIORITY, 201), 0);
    ASSERT_GE(nla_put_u32(message.get(), FRA_TABLE, 1), 0);
    ASSERT_GE(nla_put_u8(message.get(), FRA_PROTOCOL, RTPROT_STATIC), 0);

    std::optional<PolicyRule> rule = decodeRule(nlmsg_hdr(message.get()));
    ASSERT_TRUE(rule.has_value());
    EXPECT_TRUE(rule->hasOtherSelectors);
    EXPECT_EQ(rule->protocol, RTPROT_STATIC);
    PolicyRule plain = *rule;
    plain.hasOtherSelectors = false;
    EXPECT_NE(*rule, plain);
}

TEST(PolicyRuleMessage, IgnoresMessagesThatAreNotRules) {
    NetlinkMessagePtr message = allocateMessage(RTM_NEWLINK, 0);
    EXPECT_FALSE(decodeRule(nlmsg_hdr(message.get())).has_value());
    NetlinkMessagePtr truncated = allocateMessage(RTM_NEWRULE, 0);
    EXPECT_FALSE(decodeRule(nlmsg_hdr(truncated.get())).has_value());
}

TEST(PolicyRuleMessage, SameEffectIgnoresOnlyTheProtocol) {
    PolicyRule networkds = bypassRule(AddressFamily::ipv4);
    networkds.protocol = RTPROT_STATIC;
    EXPECT_TRUE(bypassRule(AddressFamily::ipv4).sameEffect(networkds));
    EXPECT_NE(bypassRule(AddressFamily::ipv4), networkds);
    EXPECT_FALSE(bypassRule(AddressFamily::ipv4).sameEffect(bypassRule(AddressFamily::ipv6)));
}

TEST(KillSwitchRouteMessage, SurvivesEncodingAndDecoding) {
    for (AddressFamily family : {AddressFamily::ipv4, AddressFamily::ipv6}) {
        KillSwitchRoute route{family, 7, vpnsteerProtocol};
        NetlinkMessagePtr message = encodeRoute(route, RTM_NEWROUTE);
        std::optional<KillSwitchRoute> decoded = decodeKillSwitchRoute(nlmsg_hdr(message.get()));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(*decoded, route);
    }
    EXPECT_EQ((KillSwitchRoute{AddressFamily::ipv6, 7, vpnsteerProtocol}).describe(),
              "IPv6 route unreachable default table 7 metric 4294967295");
}

TEST(KillSwitchRouteMessage, OtherRoutesAreNotKillSwitchRoutes) {
    auto routeMessage = [](unsigned char type, std::uint32_t metric) {
        NetlinkMessagePtr message = allocateMessage(RTM_NEWROUTE, 0);
        rtmsg header{};
        header.rtm_family = AF_INET;
        header.rtm_type = type;
        header.rtm_table = 7;
        EXPECT_GE(nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO), 0);
        EXPECT_GE(nla_put_u32(message.get(), RTA_PRIORITY, metric), 0);
        return message;
    };
    // The tunnel's own default route in the table.
    EXPECT_FALSE(decodeKillSwitchRoute(nlmsg_hdr(routeMessage(RTN_UNICAST, 4294967295u).get())));
    // An unreachable route somebody put at another metric.
    EXPECT_FALSE(decodeKillSwitchRoute(nlmsg_hdr(routeMessage(RTN_UNREACHABLE, 100).get())));
    EXPECT_TRUE(decodeKillSwitchRoute(nlmsg_hdr(routeMessage(RTN_UNREACHABLE, 4294967295u).get())));
}

TEST(NetlinkError, NamesWhatWasTriedAndLibnlsReason) {
    std::system_error error =
        netlinkError(-NLE_PERM, "adding IPv4 rule 302 (not fwmark 10002 lookup 2)");
    EXPECT_STREQ(error.what(),
                 "adding IPv4 rule 302 (not fwmark 10002 lookup 2): Operation not permitted");
    EXPECT_EQ(error.code().category(), netlinkCategory());
}

} // namespace
} // namespace vpnsteer::rules
