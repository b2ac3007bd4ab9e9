// vpnsteer exec, run in-process: who the command runs as, what it asks the launcher to make
// from vpnsteerd's answer, what it refuses, and the pure parts of the namespace (addresses,
// veth names, resolv.conf). The kernel side is tested in the lab
// (tests/integration/bridges-dns-exec.sh).
#include "cli/bridge_namespace.hpp"
#include "cli/command_user.hpp"
#include "cli/subcommand.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>

namespace vpnsteer::cli {
namespace {

using testing::FakeHost;
using testing::Outcome;

constexpr std::string_view synopsis = "exec NAME -- CMD [ARG...]";

class Exec : public ::testing::Test {
protected:
    void SetUp() override {
        fake_.daemon.vpns = {
            VpnStatus{.name = "us", .id = 1, .bridge = "br-us", .dns = {"198.51.100.53"}},
            VpnStatus{.name = "de", .id = 7, .bridge = "br-germany", .dns = {}},
        };
    }

    Outcome run(std::vector<std::string_view> args) {
        Host host = fake_.host();
        host.caller = [this] { return caller_; };
        host.runInBridgeNamespace = [this](const BridgeNamespaceRequest& request, std::ostream&) {
            requests_.push_back(request);
            return commandStatus_;
        };
        return testing::runSubcommand(execMain, synopsis, host, std::move(args));
    }

    FakeHost fake_;
    CallerIdentity caller_{.realUid = 0, .effectiveUid = 0, .sudoUid = "1000", .sudoGid = "100"};
    std::vector<BridgeNamespaceRequest> requests_;
    int commandStatus_ = 0;
};

TEST_F(Exec, AsksTheLauncherForTheVpnsBridgeAsTheSudoCaller) {
    Outcome outcome = run({"de", "--", "curl", "-s", "https://example.org"});
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.err, "");
    ASSERT_EQ(requests_.size(), 1u);
    EXPECT_EQ(requests_[0], (BridgeNamespaceRequest{
                                .vpnName = "de",
                                .vpnId = 7,
                                .bridge = "br-germany",
                                .dns = {},
                                .user = {.uid = 1000, .gid = 100},
                                .command = {"curl", "-s", "https://example.org"},
                            }));
}

TEST_F(Exec, RootWithoutSudoRunsTheCommandAsRoot) {
    caller_ = {.realUid = 0, .effectiveUid = 0};
    run({"us", "--", "id"});
    ASSERT_EQ(requests_.size(), 1u);
    EXPECT_EQ(requests_[0].user, (CommandUser{.uid = 0, .gid = 0}));
    EXPECT_EQ(requests_[0].dns, std::vector<std::string>{"198.51.100.53"});
}

TEST_F(Exec, TheCommandsExitStatusIsTheCli) {
    commandStatus_ = 42;
    EXPECT_EQ(run({"us", "--", "false"}).status, 42);
}

TEST_F(Exec, NonRootIsRefusedBeforeAnythingHappens) {
    caller_ = {.realUid = 1000, .effectiveUid = 1000};
    Outcome outcome = run({"us", "--", "id"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "vpnsteer: exec needs root to make a network namespace on the "
                           "bridge; members of the vpnsteer group run it as: sudo vpnsteer exec "
                           "NAME -- CMD (see docs/exec.md)\n");
    EXPECT_EQ(fake_.daemon.connections, 0);
    EXPECT_TRUE(requests_.empty());
}

TEST_F(Exec, UnknownVpnGetsTheUsualMessage) {
    Outcome outcome = run({"mars", "--", "id"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err,
              "vpnsteer: no VPN named 'mars' in /etc/vpnsteer/vpns.json; see: vpnsteer list\n");
    EXPECT_TRUE(requests_.empty());
}

TEST_F(Exec, NoDaemonNoNamespace) {
    fake_.daemon.busUnavailable = true;
    Outcome outcome = run({"us", "--", "id"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err,
              "vpnsteer: vpnsteerd is not running; start it with: systemctl start vpnsteerd\n");
    EXPECT_TRUE(requests_.empty());
}

TEST_F(Exec, UsageErrors) {
    for (auto args : std::vector<std::vector<std::string_view>>{
             {}, {"us"}, {"us", "--"}, {"us", "id"}, {"us", "id", "-u"}, {"--", "us", "id"}}) {
        Outcome outcome = run(args);
        EXPECT_EQ(outcome.status, 1);
        EXPECT_EQ(outcome.err, "Usage: vpnsteer exec NAME -- CMD [ARG...]\n");
    }
    EXPECT_EQ(fake_.daemon.connections, 0);
    EXPECT_TRUE(requests_.empty());
}

TEST(CommandUser, FromSudosVariables) {
    using Result = std::variant<CommandUser, std::string>;
    EXPECT_EQ(commandUserOf({.realUid = 0, .effectiveUid = 0, .sudoUid = "1000", .sudoGid = "10"}),
              Result(CommandUser{.uid = 1000, .gid = 10}));
    EXPECT_EQ(commandUserOf({.realUid = 0, .effectiveUid = 0}),
              Result(CommandUser{.uid = 0, .gid = 0}));
    EXPECT_EQ(commandUserOf({.realUid = 0, .effectiveUid = 0, .sudoUid = "1x", .sudoGid = "10"}),
              Result(std::string("SUDO_UID must be a user id, got '1x'")));
    EXPECT_EQ(commandUserOf({.realUid = 0, .effectiveUid = 0, .sudoUid = "1000"}),
              Result(std::string("SUDO_GID must be a group id, got ''")));
    EXPECT_EQ(
        commandUserOf({.realUid = 0, .effectiveUid = 0, .sudoUid = "4294967295", .sudoGid = "0"}),
        Result(std::string("SUDO_UID must be a user id, got '4294967295'")));
    EXPECT_EQ(commandUserOf({.realUid = 1000, .effectiveUid = 0}),
              Result(std::string("exec must not run set-user-ID; use: sudo vpnsteer exec NAME -- "
                                 "CMD")));
}

TEST(BridgeNamespace, AddressesAndVethNames) {
    EXPECT_EQ(bridgeSubnetAddress(7, firstExecHost), "10.20.7.128");
    EXPECT_EQ(bridgeSubnetAddress(99, lastExecHost), "10.20.99.254");
    EXPECT_EQ(execVethName(99, 254), "vx99-254");
    // The lab's app namespace (.2) and the bridge (.1) are outside exec's range.
    EXPECT_GT(firstExecHost, 2u);
    EXPECT_LT(lastExecHost, 255u);
}

TEST(BridgeNamespace, ResolvConfHasTheVpnsServers) {
    EXPECT_EQ(execResolvConf("us", {"198.51.100.53", "2001:db8::53"}),
              "# vpnsteer exec: the DNS servers of VPN us\n"
              "nameserver 198.51.100.53\n"
              "nameserver 2001:db8::53\n");
    EXPECT_EQ(execResolvConf("de", {}), "# vpnsteer exec: the DNS servers of VPN de\n"
                                        "# (the spec gives none: names do not resolve here)\n");
    EXPECT_EQ(execResolvConf("x", {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}),
              "# vpnsteer exec: the DNS servers of VPN x\n"
              "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n"
              "# not read by glibc, which uses the first three: nameserver 192.0.2.4\n");
}

} // namespace
} // namespace vpnsteer::cli
