// Bridge SNAT's reconciliation (service/nat/bridge_snat.hpp) against a fake nat table that
// counts commits: the chain holds one rule per bridge, however often the spec is applied.
#include "service/nat/bridge_snat.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <system_error>

namespace vpnsteer::nat {
namespace {

// The kernel's table as libiptc shows it: write() is one commit replacing chain and hooks.
class FakeSnatTable final : public SnatTable {
public:
    SnatChainState state;
    int commits = 0;
    int refuseWith = 0; // an errno: read() and write() fail as libiptc does without the table

    SnatChainState read() override {
        failIfRefused("reading the nat table");
        return state;
    }

    void write(const std::vector<SnatRule>& rules) override {
        failIfRefused("writing the nat chain VPNSTEER-SNAT");
        state = SnatChainState{rules, 1};
        ++commits;
    }

private:
    void failIfRefused(const std::string& what) const {
        if (refuseWith != 0) {
            throw std::system_error(refuseWith, std::generic_category(), what);
        }
    }
};

Vpn makeVpn(const std::string& name, int id, std::optional<std::string> addrV4) {
    Vpn vpn;
    vpn.name = name;
    vpn.id = id;
    vpn.bridge = "br-" + name;
    if (addrV4) {
        vpn.addrV4 = InterfaceAddress{AddressFamily::ipv4, *addrV4, 32};
    }
    return vpn;
}

Spec makeSpec(std::initializer_list<Vpn> vpns) {
    Spec spec;
    for (const Vpn& vpn : vpns) {
        spec.vpns.emplace(vpn.name, vpn);
    }
    return spec;
}

const Vpn us = makeVpn("us", 1, "198.51.100.2");
const Vpn de = makeVpn("de", 2, "198.51.100.3");

SnatRule rule(const std::string& source, const std::string& toSource) {
    return SnatRule{source, toSource};
}

class BridgeSnatTest : public ::testing::Test {
protected:
    FakeSnatTable table;
    BridgeSnat snat{table};
};

TEST_F(BridgeSnatTest, OneRulePerBridgeInIdOrderAndOneHook) {
    // "de" sorts before "us" by name; the chain is in id order.
    const rules::KernelReport report = snat.apply(makeSpec({de, us}));
    EXPECT_TRUE(report.failures.empty());
    EXPECT_EQ(table.state.rules, (std::vector{rule("10.20.1.0/24", "198.51.100.2"),
                                              rule("10.20.2.0/24", "198.51.100.3")}));
    EXPECT_EQ(table.state.hooks, 1);
    EXPECT_EQ(table.commits, 1);
    EXPECT_EQ(report.changes,
              (std::vector<std::string>{
                  "added nat rule VPNSTEER-SNAT -s 10.20.1.0/24 -j SNAT --to-source 198.51.100.2",
                  "added nat rule VPNSTEER-SNAT -s 10.20.2.0/24 -j SNAT --to-source 198.51.100.3",
                  "POSTROUTING jumped to VPNSTEER-SNAT 0 times, now once"}));
}

TEST_F(BridgeSnatTest, ApplyingTheSameSpecAgainChangesNothing) {
    snat.apply(makeSpec({us, de}));
    for (int reload = 0; reload < 3; ++reload) {
        EXPECT_TRUE(snat.apply(makeSpec({us, de})).changes.empty());
    }
    EXPECT_EQ(table.commits, 1);
    EXPECT_EQ(table.state.rules.size(), 2u);
}

TEST_F(BridgeSnatTest, RulesFoundAfterARestartAreKeptAsTheyAre) {
    table.state = SnatChainState{{rule("10.20.1.0/24", "198.51.100.2")}, 1};
    BridgeSnat restarted(table);
    EXPECT_TRUE(restarted.apply(makeSpec({us})).changes.empty());
    EXPECT_EQ(table.commits, 0);
}

TEST_F(BridgeSnatTest, AVpnThatLeftTheSpecLosesItsRule) {
    snat.apply(makeSpec({us, de}));
    const rules::KernelReport report = snat.apply(makeSpec({us}));
    EXPECT_EQ(table.state.rules, (std::vector{rule("10.20.1.0/24", "198.51.100.2")}));
    EXPECT_EQ(report.changes,
              (std::vector<std::string>{"removed nat rule VPNSTEER-SNAT -s 10.20.2.0/24 -j SNAT "
                                        "--to-source 198.51.100.3"}));
}

TEST_F(BridgeSnatTest, AnEmptySpecLeavesAnEmptyHookedChain) {
    snat.apply(makeSpec({us}));
    snat.apply(Spec{});
    EXPECT_TRUE(table.state.rules.empty());
    EXPECT_EQ(table.state.hooks, 1);
}

TEST_F(BridgeSnatTest, ANewAddressReplacesTheRule) {
    snat.apply(makeSpec({us}));
    snat.apply(makeSpec({makeVpn("us", 1, "198.51.100.9")}));
    EXPECT_EQ(table.state.rules, (std::vector{rule("10.20.1.0/24", "198.51.100.9")}));
}

TEST_F(BridgeSnatTest, DuplicatedHooksAndForeignRulesAreRepaired) {
    table.state =
        SnatChainState{{rule("10.20.1.0/24", "198.51.100.2"),
                        SnatRule{"a rule with target MASQUERADE from 0.0.0.0/0", "", true}},
                       2};
    const rules::KernelReport report = snat.apply(makeSpec({us}));
    EXPECT_EQ(table.state, (SnatChainState{{rule("10.20.1.0/24", "198.51.100.2")}, 1}));
    EXPECT_EQ(report.changes,
              (std::vector<std::string>{
                  "removed nat rule VPNSTEER-SNAT a rule with target MASQUERADE from 0.0.0.0/0",
                  "POSTROUTING jumped to VPNSTEER-SNAT 2 times, now once"}));
}

TEST_F(BridgeSnatTest, AVpnWithoutAnIpv4AddressGetsNoRule) {
    snat.apply(makeSpec({us, makeVpn("v6only", 3, std::nullopt)}));
    EXPECT_EQ(table.state.rules, (std::vector{rule("10.20.1.0/24", "198.51.100.2")}));
}

TEST_F(BridgeSnatTest, NoLegacyIptablesIsAFailureInTheReportNotAnException) {
    table.refuseWith = ENOENT;
    rules::KernelReport report;
    EXPECT_NO_THROW(report = snat.apply(makeSpec({us})));
    ASSERT_EQ(report.failures.size(), 1u);
    EXPECT_NE(report.failures[0].find("reading the nat table"), std::string::npos);
    EXPECT_NE(report.failures[0].find("not source-NATed, everything else works"),
              std::string::npos);
}

} // namespace
} // namespace vpnsteer::nat
