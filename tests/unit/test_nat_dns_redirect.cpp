// The DNS redirect of the tunnel daemons (service/nat/dns_redirect.hpp) against a fake nat
// table: the rules for the spec's forwarder, reconciled and never duplicated, and what happens
// without the group.
#include "service/nat/dns_redirect.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <system_error>

namespace vpnsteer::nat {
namespace {

class FakeRedirectTable final : public DnsRedirectTable {
public:
    RedirectChainState state;
    int commits = 0;
    bool refuse = false;

    RedirectChainState read() override {
        if (refuse) {
            throw std::system_error(ENOENT, std::generic_category(), "reading the nat table");
        }
        return state;
    }
    void write(const std::vector<RedirectRule>& rules) override {
        state = RedirectChainState{rules, 1};
        ++commits;
    }
};

constexpr std::uint32_t gid = 990;

Spec defaultSpec() {
    Spec spec;
    spec.wan.dnsListen = {{"127.0.0.1", 54, false}, {"::1", 54, true}};
    return spec;
}

class DnsRedirectTest : public ::testing::Test {
protected:
    FakeRedirectTable table;
    FakeRedirectTable table6;
    std::optional<std::uint32_t> group = gid;
    DnsRedirect redirect{table, table6, [this](const std::string& name) {
                             EXPECT_EQ(name, "vpnsteer-wan");
                             return group;
                         }};
};

TEST_F(DnsRedirectTest, UdpAndTcpToBothLocalResolversGoToTheForwarder) {
    const rules::KernelReport report = redirect.apply(defaultSpec());
    EXPECT_TRUE(report.failures.empty());
    std::vector<std::string> rules;
    for (const RedirectRule& rule : table.state.rules) {
        rules.push_back(rule.describe());
    }
    EXPECT_EQ(
        rules,
        (std::vector<std::string>{
            "-d 127.0.0.1/32 -p udp -m owner --gid-owner 990 --suppl-groups -m udp --dport 53 -j "
            "DNAT --to-destination 127.0.0.1:54",
            "-d 127.0.0.1/32 -p tcp -m owner --gid-owner 990 --suppl-groups -m tcp --dport 53 -j "
            "DNAT --to-destination 127.0.0.1:54",
            "-d 127.0.0.53/32 -p udp -m owner --gid-owner 990 --suppl-groups -m udp --dport 53 -j "
            "DNAT --to-destination 127.0.0.1:54",
            "-d 127.0.0.53/32 -p tcp -m owner --gid-owner 990 --suppl-groups -m tcp --dport 53 -j "
            "DNAT --to-destination 127.0.0.1:54",
        }));
    EXPECT_EQ(table.state.hooks, 1);
    ASSERT_EQ(table6.state.rules.size(), 2u);
    EXPECT_EQ(table6.state.rules[1].describe(),
              "-d ::1/128 -p tcp -m owner --gid-owner 990 --suppl-groups -m tcp --dport 53 -j DNAT "
              "--to-destination [::1]:54");
    EXPECT_EQ(table6.state.hooks, 1);
    EXPECT_EQ(report.changes.size(), 8u); // six rules and two hooks
}

TEST_F(DnsRedirectTest, ApplyingAgainChangesNothing) {
    redirect.apply(defaultSpec());
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(redirect.apply(defaultSpec()).changes.empty());
    }
    EXPECT_EQ(table.commits, 1);
    EXPECT_EQ(table6.commits, 1);
    EXPECT_EQ(table.state.rules.size(), 4u);
}

TEST_F(DnsRedirectTest, AHandAddedRuleAndASecondHookAreRepaired) {
    redirect.apply(defaultSpec());
    RedirectRule foreign;
    foreign.foreign = "a rule with target ACCEPT to 0.0.0.0/0";
    table.state.rules.push_back(foreign);
    table.state.hooks = 2;
    const rules::KernelReport report = redirect.apply(defaultSpec());
    EXPECT_EQ(report.changes,
              (std::vector<std::string>{
                  "removed nat rule VPNSTEER-WANDNS a rule with target ACCEPT to 0.0.0.0/0",
                  "OUTPUT jumped to VPNSTEER-WANDNS 2 times, now once"}));
    EXPECT_EQ(table.state.rules.size(), 4u);
    EXPECT_EQ(table.state.hooks, 1);
}

TEST_F(DnsRedirectTest, TheForwardersFirstIpv4AddressAndPortFromTheSpec) {
    Spec spec;
    spec.wan.dnsListen = {{"::1", 5454, true}, {"127.0.0.2", 5353, false}};
    redirect.apply(spec);
    ASSERT_EQ(table.state.rules.size(), 4u);
    for (const RedirectRule& rule : table.state.rules) {
        EXPECT_EQ(rule.toAddress, "127.0.0.2");
        EXPECT_EQ(rule.toPort, 5353);
    }
}

TEST_F(DnsRedirectTest, AFamilyTheForwarderDoesNotListenInHasNoRedirect) {
    Spec spec;
    spec.wan.dnsListen = {{"::1", 54, true}};
    EXPECT_TRUE(redirectRulesOf(spec, gid, AddressFamily::ipv4).empty());
    EXPECT_EQ(redirectRulesOf(spec, gid, AddressFamily::ipv6).size(), 2u);
    spec.wan.dnsListen = {{"127.0.0.1", 54, false}};
    EXPECT_TRUE(redirectRulesOf(spec, gid, AddressFamily::ipv6).empty());
}

TEST_F(DnsRedirectTest, WithoutTheGroupTheChainIsEmptiedAndTheReportSaysWhy) {
    redirect.apply(defaultSpec());
    group.reset();
    const rules::KernelReport report = redirect.apply(defaultSpec());
    EXPECT_TRUE(table.state.rules.empty());
    EXPECT_TRUE(table6.state.rules.empty());
    EXPECT_EQ(table.state.hooks, 1);
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("the group vpnsteer-wan does not exist"), std::string::npos);
    EXPECT_NE(report.failures[0].find("everything else works"), std::string::npos);
}

TEST_F(DnsRedirectTest, ATableThatCannotBeReadIsAFailureNotAnException) {
    table6.refuse = true;
    const rules::KernelReport report = redirect.apply(defaultSpec());
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("reading the nat table"), std::string::npos);
    EXPECT_NE(report.failures[0].find("IPv6 DNS of the tunnel daemons (group vpnsteer-wan) is not "
                                      "redirected to the WAN DNS forwarder"),
              std::string::npos);
    // IPv4 is redirected all the same.
    EXPECT_EQ(table.state.rules.size(), 4u);
}

} // namespace
} // namespace vpnsteer::nat
