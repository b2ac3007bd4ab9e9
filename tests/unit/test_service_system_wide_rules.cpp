// vpnsteerd's rule logic against a fake kernel: the rule sets of Up, Down and Switch,
// idempotence, adoption on start, restoring what vanished, and reloads.
#include "service/rules/system_wide_rules.hpp"
#include "tests/unit/test_service_fakes.hpp"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

namespace vpnsteer::rules {
namespace {

using test::FakeKillSwitchRoutes;
using test::FakeRuleTable;
using test::FakeSysctl;

Vpn makeVpn(const std::string& name, int id) {
    Vpn vpn;
    vpn.name = name;
    vpn.id = id;
    vpn.bridge = "br-" + name;
    return vpn;
}

Spec makeSpec(std::initializer_list<std::pair<const char*, int>> vpns) {
    Spec spec;
    for (const auto& [name, id] : vpns) {
        spec.vpns.emplace(name, makeVpn(name, id));
    }
    return spec;
}

PolicyRule rule(AddressFamily family, std::uint32_t priority, std::uint32_t table,
                std::optional<std::uint32_t> mark, bool invert = false,
                std::optional<std::uint32_t> suppress = std::nullopt,
                std::uint8_t protocol = vpnsteerProtocol) {
    PolicyRule r;
    r.family = family;
    r.priority = priority;
    r.table = table;
    r.firewallMark = mark;
    r.invert = invert;
    r.suppressPrefixLength = suppress;
    r.protocol = protocol;
    return r;
}

constexpr auto v4 = AddressFamily::ipv4;
constexpr auto v6 = AddressFamily::ipv6;

class SystemWideRulesTest : public ::testing::Test {
protected:
    FakeRuleTable kernelRules;
    FakeKillSwitchRoutes kernelRoutes;
    FakeSysctl sysctl;
    SystemWideRules rules{kernelRules, kernelRoutes, sysctl};
    Spec spec = makeSpec({{"us", 1}, {"de", 2}});

    const Vpn& vpn(const std::string& name) { return spec.vpns.at(name); }
};

TEST_F(SystemWideRulesTest, StartAddsBypassRulesAndKillSwitchRoutesForEveryVpn) {
    KernelReport report = rules.apply(spec, true);
    EXPECT_TRUE(report.failures.empty());
    EXPECT_EQ(kernelRules.rules, (std::vector<PolicyRule>{
                                     rule(v4, 80, mainTable, 10000),
                                     rule(v6, 80, mainTable, 10000),
                                     rule(v4, 90, mainTable, 10001),
                                     rule(v6, 90, mainTable, 10001),
                                     rule(v4, 90, mainTable, 10002),
                                     rule(v6, 90, mainTable, 10002),
                                 }));
    EXPECT_EQ(kernelRoutes.routes, (std::vector<KillSwitchRoute>{
                                       {v4, 1, vpnsteerProtocol},
                                       {v4, 2, vpnsteerProtocol},
                                       {v6, 1, vpnsteerProtocol},
                                       {v6, 2, vpnsteerProtocol},
                                   }));
    EXPECT_EQ(sysctl.values["net.ipv4.conf.all.src_valid_mark"], "1");
    EXPECT_EQ(report.changes.size(), 10u);
    EXPECT_EQ(rules.carrier(), "");
}

TEST_F(SystemWideRulesTest, UpAddsItsTwoRulesForBothFamilies) {
    rules.apply(spec, true);
    const std::vector<PolicyRule> before = kernelRules.rules;
    KernelReport report = rules.up(vpn("de"));
    EXPECT_EQ(report.changes, (std::vector<std::string>{
                                  "added IPv4 rule 102 (lookup main suppress_prefixlength 0)",
                                  "added IPv6 rule 102 (lookup main suppress_prefixlength 0)",
                                  "added IPv4 rule 302 (not fwmark 10002 lookup 2)",
                                  "added IPv6 rule 302 (not fwmark 10002 lookup 2)",
                              }));
    std::vector<PolicyRule> expected = before;
    for (const PolicyRule& added : {rule(v4, 102, mainTable, std::nullopt, false, 0),
                                    rule(v6, 102, mainTable, std::nullopt, false, 0),
                                    rule(v4, 302, 2, 10002, true), rule(v6, 302, 2, 10002, true)}) {
        expected.push_back(added);
    }
    EXPECT_EQ(kernelRules.rules, expected);
    EXPECT_TRUE(rules.isSystemWide("de"));
    EXPECT_EQ(rules.carrier(), "de");
}

TEST_F(SystemWideRulesTest, DownRestoresTheRuleSetExactly) {
    rules.apply(spec, true);
    const std::vector<std::string> before = kernelRules.describeAll();
    rules.up(vpn("us"));
    rules.down("us");
    EXPECT_EQ(kernelRules.describeAll(), before);
    EXPECT_FALSE(rules.isSystemWide("us"));
}

TEST_F(SystemWideRulesTest, DownRemovesOnlyWhatUpAdded) {
    // Somebody else's rule at the same priority, and the bridge rule of the table.
    PolicyRule foreign = rule(v4, 301, 1, 10001, true, std::nullopt, RTPROT_STATIC);
    PolicyRule bridge = rule(v4, 201, 1, std::nullopt, false, std::nullopt, RTPROT_STATIC);
    bridge.hasOtherSelectors = true;
    kernelRules.rules = {bridge, foreign};
    rules.apply(spec, true);
    rules.up(vpn("us"));
    rules.down("us");
    EXPECT_NE(std::find(kernelRules.rules.begin(), kernelRules.rules.end(), foreign),
              kernelRules.rules.end());
    EXPECT_NE(std::find(kernelRules.rules.begin(), kernelRules.rules.end(), bridge),
              kernelRules.rules.end());
}

TEST_F(SystemWideRulesTest, UpAndDownAreIdempotent) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    const std::vector<PolicyRule> up = kernelRules.rules;
    EXPECT_TRUE(rules.up(vpn("us")).changes.empty());
    EXPECT_EQ(kernelRules.rules, up);
    rules.down("us");
    const std::vector<PolicyRule> down = kernelRules.rules;
    EXPECT_TRUE(rules.down("us").changes.empty());
    EXPECT_TRUE(rules.down("de").changes.empty());
    EXPECT_EQ(kernelRules.rules, down);
}

TEST_F(SystemWideRulesTest, SwitchBringsTheNewUpBeforeTheOldGoesDown) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    kernelRules.operations.clear();
    rules.switchTo(vpn("de"));
    EXPECT_EQ(kernelRules.operations,
              (std::vector<std::string>{
                  "add IPv4 rule 102 (lookup main suppress_prefixlength 0)",
                  "add IPv6 rule 102 (lookup main suppress_prefixlength 0)",
                  "add IPv4 rule 302 (not fwmark 10002 lookup 2)",
                  "add IPv6 rule 302 (not fwmark 10002 lookup 2)",
                  "remove IPv6 rule 301 (not fwmark 10001 lookup 1)",
                  "remove IPv4 rule 301 (not fwmark 10001 lookup 1)",
                  "remove IPv6 rule 101 (lookup main suppress_prefixlength 0)",
                  "remove IPv4 rule 101 (lookup main suppress_prefixlength 0)",
              }));
    EXPECT_EQ(rules.systemWide(), std::set<std::string>{"de"});
}

TEST_F(SystemWideRulesTest, WithTwoUpTheLowerIdCarries) {
    rules.apply(spec, true);
    rules.up(vpn("de"));
    rules.up(vpn("us"));
    EXPECT_EQ(rules.carrier(), "us");
    EXPECT_EQ(rules.systemWide(), (std::set<std::string>{"de", "us"}));
    rules.down("us");
    EXPECT_EQ(rules.carrier(), "de");
}

TEST_F(SystemWideRulesTest, StartAdoptsSystemWideRulesInsteadOfDuplicatingThem) {
    {
        SystemWideRules previousRun(kernelRules, kernelRoutes, sysctl);
        previousRun.apply(spec, true);
        previousRun.up(vpn("de"));
    }
    const std::vector<PolicyRule> left = kernelRules.rules;
    kernelRules.operations.clear();
    KernelReport report = rules.apply(spec, true);
    EXPECT_TRUE(report.changes.empty());
    EXPECT_TRUE(kernelRules.operations.empty());
    EXPECT_EQ(kernelRules.rules, left);
    EXPECT_EQ(rules.systemWide(), std::set<std::string>{"de"});
    EXPECT_EQ(rules.carrier(), "de");
}

TEST_F(SystemWideRulesTest, AdoptionCompletesAHalfDoneUp) {
    // A previous run was killed after its first rule.
    kernelRules.rules = {rule(v4, 101, mainTable, std::nullopt, false, 0)};
    rules.apply(spec, true);
    EXPECT_TRUE(rules.isSystemWide("us"));
    for (const PolicyRule& wanted : systemWideRulesOf(vpn("us"))) {
        EXPECT_EQ(std::count(kernelRules.rules.begin(), kernelRules.rules.end(), wanted), 1)
            << wanted.describe();
    }
}

TEST_F(SystemWideRulesTest, RulesOfOthersAreNotAdopted) {
    kernelRules.rules = {rule(v4, 301, 1, 10001, true, std::nullopt, RTPROT_STATIC)};
    rules.apply(spec, true);
    EXPECT_FALSE(rules.isSystemWide("us"));
}

TEST_F(SystemWideRulesTest, BypassRulesAndRoutesOfNetworkdAreNotDuplicated) {
    const PolicyRule networkds = rule(v4, 90, mainTable, 10001, false, std::nullopt, RTPROT_STATIC);
    kernelRules.rules = {networkds};
    kernelRoutes.routes = {{v4, 1, RTPROT_STATIC}};
    rules.apply(spec, true);
    EXPECT_EQ(std::count_if(kernelRules.rules.begin(), kernelRules.rules.end(),
                            [&](const PolicyRule& r) { return r.sameEffect(networkds); }),
              1);
    EXPECT_EQ(kernelRoutes.routes.size(), 4u);
    EXPECT_EQ(kernelRoutes.additions, 3);
}

TEST_F(SystemWideRulesTest, OurBypassRuleGivesWayToNetworkdsEquivalent) {
    rules.apply(spec, true);
    const PolicyRule networkds = rule(v6, 90, mainTable, 10002, false, std::nullopt, RTPROT_STATIC);
    kernelRules.rules.push_back(networkds);
    KernelReport report = rules.ruleAdded(networkds);
    EXPECT_EQ(report.changes,
              std::vector<std::string>{"removed IPv6 rule 90 (fwmark 10002 lookup main): an equal "
                                       "rule with protocol 4 does its job"});
    // ...and comes back when networkd's goes.
    kernelRules.rules.pop_back();
    report = rules.ruleRemoved(networkds);
    EXPECT_EQ(report.changes, std::vector<std::string>{
                                  "put back IPv6 rule 90 (fwmark 10002 lookup main), which had "
                                  "vanished"});
}

TEST_F(SystemWideRulesTest, AVanishedRuleIsPutBack) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    const std::vector<PolicyRule> complete = kernelRules.rules;
    for (const PolicyRule& gone :
         {rule(v4, 301, 1, 10001, true), rule(v6, 101, mainTable, std::nullopt, false, 0),
          rule(v4, 80, mainTable, 10000)}) {
        ASSERT_TRUE(kernelRules.remove(gone));
        KernelReport report = rules.ruleRemoved(gone);
        EXPECT_EQ(report.changes,
                  std::vector<std::string>{"put back " + gone.describe() + ", which had vanished"});
    }
    EXPECT_EQ(kernelRules.describeAll().size(), complete.size());
    for (const PolicyRule& wanted : complete) {
        EXPECT_NE(std::find(kernelRules.rules.begin(), kernelRules.rules.end(), wanted),
                  kernelRules.rules.end());
    }
}

TEST_F(SystemWideRulesTest, WhatDownRemovedIsNotPutBack) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    rules.down("us");
    EXPECT_TRUE(rules.ruleRemoved(rule(v4, 301, 1, 10001, true)).changes.empty());
    // Nor is somebody else's rule vpnsteerd does not want.
    EXPECT_TRUE(rules.ruleRemoved(rule(v4, 500, 9, 5)).changes.empty());
}

TEST_F(SystemWideRulesTest, AVanishedKillSwitchRouteIsPutBack) {
    rules.apply(spec, true);
    const KillSwitchRoute route{v6, 2, RTPROT_STATIC};
    kernelRoutes.remove({v6, 2, vpnsteerProtocol});
    KernelReport report = rules.routeRemoved(route);
    EXPECT_EQ(report.changes,
              std::vector<std::string>{"put back IPv6 route unreachable default table 2 metric "
                                       "4294967295, which had vanished"});
    EXPECT_TRUE(rules.routeRemoved(KillSwitchRoute{v6, 9, RTPROT_STATIC}).changes.empty());
}

TEST_F(SystemWideRulesTest, RestorePutsBackEverythingAfterLostNotifications) {
    rules.apply(spec, true);
    rules.up(vpn("de"));
    const std::vector<PolicyRule> complete = kernelRules.rules;
    kernelRules.rules.clear();
    kernelRoutes.routes.clear();
    KernelReport report = rules.restore();
    EXPECT_TRUE(report.failures.empty());
    EXPECT_EQ(kernelRules.rules.size(), complete.size());
    EXPECT_EQ(kernelRoutes.routes.size(), 4u);
    EXPECT_TRUE(rules.restore().changes.empty());
}

TEST_F(SystemWideRulesTest, ReloadMovesARenumberedVpnWithoutAGap) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    kernelRules.operations.clear();
    rules.apply(makeSpec({{"us", 5}, {"de", 2}}), true);
    EXPECT_TRUE(rules.isSystemWide("us"));
    const auto& operations = kernelRules.operations;
    auto firstRemoval = std::find_if(operations.begin(), operations.end(), [](const auto& op) {
        return op.starts_with("remove IPv4 rule 301");
    });
    auto lastAddition = std::find_if(operations.begin(), operations.end(), [](const auto& op) {
        return op.starts_with("add IPv6 rule 305");
    });
    ASSERT_NE(firstRemoval, operations.end());
    ASSERT_NE(lastAddition, operations.end());
    EXPECT_LT(lastAddition, firstRemoval);
    for (std::uint32_t gone : {101u, 301u}) {
        EXPECT_EQ(std::count_if(kernelRules.rules.begin(), kernelRules.rules.end(),
                                [&](const PolicyRule& r) { return r.priority == gone; }),
                  0);
    }
    // The old mark's bypass rule and table 1's kill switch went with it.
    EXPECT_EQ(std::count_if(kernelRules.rules.begin(), kernelRules.rules.end(),
                            [](const PolicyRule& r) { return r.firewallMark == 10001u; }),
              0);
    EXPECT_EQ(std::count_if(kernelRoutes.routes.begin(), kernelRoutes.routes.end(),
                            [](const KillSwitchRoute& r) { return r.table == 1; }),
              0);
}

TEST_F(SystemWideRulesTest, AVpnThatLeftTheSpecLosesItsRules) {
    rules.apply(spec, true);
    rules.up(vpn("us"));
    Spec withoutUs = makeSpec({{"de", 2}});
    rules.apply(withoutUs, true);
    EXPECT_FALSE(rules.isSystemWide("us"));
    for (const PolicyRule& r : kernelRules.rules) {
        EXPECT_NE(r.firewallMark, std::optional<std::uint32_t>(10001)) << r.describe();
        EXPECT_NE(r.priority, 101u) << r.describe();
    }
}

TEST_F(SystemWideRulesTest, UnexplainedRulesAreRemovedOnlyForAWhollyValidSpec) {
    // Rules of a VPN whose entry has an error now: it is left out of the spec.
    SystemWideRules previousRun(kernelRules, kernelRoutes, sysctl);
    Spec withBroken = makeSpec({{"us", 1}, {"de", 2}, {"broken", 9}});
    previousRun.apply(withBroken, true);
    previousRun.up(withBroken.vpns.at("broken"));
    const std::size_t before = kernelRules.rules.size();

    rules.apply(spec, false);
    EXPECT_EQ(kernelRules.rules.size(), before);
    EXPECT_EQ(kernelRoutes.routes.size(), 6u);

    rules.apply(spec, true);
    for (const PolicyRule& r : kernelRules.rules) {
        EXPECT_NE(r.priority, 309u) << r.describe();
        EXPECT_NE(r.firewallMark, std::optional<std::uint32_t>(10009)) << r.describe();
    }
    EXPECT_EQ(kernelRoutes.routes.size(), 4u);
}

TEST_F(SystemWideRulesTest, ReloadDoesNotAdoptLikeAStartDoes) {
    rules.apply(spec, true);
    for (const PolicyRule& r : systemWideRulesOf(vpn("us"))) {
        kernelRules.add(r);
    }
    rules.apply(spec, false);
    EXPECT_FALSE(rules.isSystemWide("us"));
}

TEST_F(SystemWideRulesTest, AFailedUpNamesTheRuleAndCanBeUndone) {
    rules.apply(spec, true);
    kernelRules.refuse = [](const PolicyRule& r) {
        return r.family == AddressFamily::ipv6 && r.priority == 301;
    };
    try {
        rules.up(vpn("us"));
        FAIL() << "up() did not throw";
    } catch (const std::system_error& error) {
        EXPECT_STREQ(error.what(),
                     "adding IPv6 rule 301 (not fwmark 10001 lookup 1): Operation not permitted");
    }
    kernelRules.refuse = nullptr;
    rules.down("us");
    for (const PolicyRule& r : kernelRules.rules) {
        EXPECT_NE(r.priority, 101u);
        EXPECT_NE(r.priority, 301u);
    }
}

TEST_F(SystemWideRulesTest, UpSucceedsWhenTheSysctlCannotBeSetAndSaysSo) {
    rules.apply(spec, true);
    sysctl.readOnly = true;
    KernelReport report = rules.up(vpn("us"));
    EXPECT_EQ(report.changes.size(), 4u);
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_EQ(report.failures.front(),
              "setting net.ipv4.conf.all.src_valid_mark=1: Read-only file system");
    EXPECT_TRUE(rules.isSystemWide("us"));
}

TEST_F(SystemWideRulesTest, StartCarriesOnPastFailuresAndListsThem) {
    kernelRules.refuse = [](const PolicyRule& r) { return r.family == AddressFamily::ipv6; };
    KernelReport report = rules.apply(spec, true);
    EXPECT_EQ(report.failures.size(), 3u);
    EXPECT_EQ(kernelRules.rules.size(), 3u);
    EXPECT_EQ(kernelRoutes.routes.size(), 4u);
}

} // namespace
} // namespace vpnsteer::rules

namespace vpnsteer::rules {
namespace {

// The WAN-mark bypass (DESIGN.md "Bypass rules"): `fwmark WANMARK lookup main` at 80, both
// families, kept like every other rule of vpnsteerd.
class WanBypassTest : public SystemWideRulesTest {
protected:
    static Spec withWanMark(Spec spec, std::uint32_t mark) {
        spec.wan.mark = mark;
        return spec;
    }
    std::vector<PolicyRule> at80() const {
        std::vector<PolicyRule> found;
        std::copy_if(
            kernelRules.rules.begin(), kernelRules.rules.end(), std::back_inserter(found),
            [](const PolicyRule& r) { return r.priority == derive::wanBypassRulePriority; });
        return found;
    }
};

TEST_F(WanBypassTest, TheSpecsWanMarkGoesToMainInBothFamilies) {
    rules.apply(withWanMark(spec, 4242), true);
    EXPECT_EQ(at80(), (std::vector<PolicyRule>{rule(v4, 80, mainTable, 4242),
                                               rule(v6, 80, mainTable, 4242)}));
}

TEST_F(WanBypassTest, ARestartAdoptsTheRulesInsteadOfDuplicatingThem) {
    rules.apply(spec, true);
    SystemWideRules restarted{kernelRules, kernelRoutes, sysctl};
    const KernelReport report = restarted.apply(spec, true);
    EXPECT_TRUE(report.changes.empty());
    EXPECT_EQ(at80().size(), 2u);
}

TEST_F(WanBypassTest, BothFamiliesArePutBackWhenDeleted) {
    rules.apply(spec, true);
    for (const PolicyRule& gone :
         {rule(v4, 80, mainTable, 10000), rule(v6, 80, mainTable, 10000)}) {
        ASSERT_TRUE(kernelRules.remove(gone));
        EXPECT_EQ(rules.ruleRemoved(gone).changes,
                  std::vector<std::string>{"put back " + gone.describe() + ", which had vanished"});
    }
    EXPECT_EQ(at80().size(), 2u);
}

TEST_F(WanBypassTest, ANewWanMarkOnReloadIsInPlaceBeforeTheOldGoes) {
    rules.apply(spec, true);
    kernelRules.operations.clear();
    rules.apply(withWanMark(spec, 4242), true);
    EXPECT_EQ(at80(), (std::vector<PolicyRule>{rule(v4, 80, mainTable, 4242),
                                               rule(v6, 80, mainTable, 4242)}));
    const auto& operations = kernelRules.operations;
    const auto added = std::find(operations.begin(), operations.end(),
                                 "add IPv6 rule 80 (fwmark 4242 lookup main)");
    const auto removed = std::find(operations.begin(), operations.end(),
                                   "remove IPv4 rule 80 (fwmark 10000 lookup main)");
    ASSERT_NE(added, operations.end());
    ASSERT_NE(removed, operations.end());
    EXPECT_LT(added, removed);
    // The old mark's rule is not put back when it goes.
    EXPECT_TRUE(rules.ruleRemoved(rule(v4, 80, mainTable, 10000)).changes.empty());
}

} // namespace
} // namespace vpnsteer::rules
