// vpnsteer list, status, up, down and switch, run in-process against a fake vpnsteerd: the
// calls they make, what they print, and the message for each way the daemon can fail.
#include "cli/subcommand.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vpnsteer::cli {
namespace {

using testing::FakeHost;
using testing::Outcome;
using testing::vpnWithDerivedFields;

const std::string notRunning =
    "vpnsteer: vpnsteerd is not running; start it with: systemctl start vpnsteerd\n";
const std::string permissionDenied = "vpnsteer: permission denied: changing VPNs needs root or "
                                     "membership in the vpnsteer group\n";

struct Command {
    int (*main)(const Invocation&);
    std::string_view synopsis;
};
const Command list{listMain, "list"};
const Command status{statusMain, "status [NAME] [--json]"};
const Command up{upMain, "up NAME"};
const Command down{downMain, "down NAME"};
const Command switchTo{switchMain, "switch NAME"};

class DaemonCommand : public ::testing::Test {
protected:
    void SetUp() override {
        VpnStatus us = vpnWithDerivedFields("us", 1);
        us.systemWide = true;
        us.endpoint = "vpn-us.example.net:51820";
        us.dns = {"198.51.100.53"};
        VpnStatus nl = vpnWithDerivedFields("nl", 12, "fastd");
        nl.systemWide = true;
        fake_.daemon.vpns = {us, vpnWithDerivedFields("germany", 7), nl};
        fake_.daemon.systemWide = "us";
        // A loose uplink: no rp_filter warning unless a test asks for one.
        fake_.files["/proc/net/route"] =
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
            "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        fake_.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
        fake_.files["/proc/sys/net/ipv4/conf/eth0/rp_filter"] = "2\n";
    }

    Outcome run(int (*subcommand)(const Invocation&), std::string_view synopsis,
                std::vector<std::string_view> args = {}) {
        host_ = fake_.host();
        return testing::runSubcommand(subcommand, synopsis, host_, std::move(args));
    }
    Outcome run(const Command& command, std::vector<std::string_view> args = {}) {
        return run(command.main, command.synopsis, std::move(args));
    }

    void failWith(const std::string& method, const std::string& name,
                  const std::string& message = "") {
        fake_.daemon.failures[method] = {name, message};
    }

    FakeHost fake_;
    Host host_;
};

TEST_F(DaemonCommand, ListPrintsOneAlignedLinePerVpnInIdOrder) {
    Outcome outcome = run(list);
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.err, "");
    EXPECT_EQ(outcome.out, "us        1  system-wide\n"
                           "germany   7\n"
                           "nl       12  system-wide\n");
    EXPECT_EQ(fake_.daemon.calls, std::vector<std::string>{"ListVpns"});
}

TEST_F(DaemonCommand, ListOfAnEmptySpecPrintsNothing) {
    fake_.daemon.vpns.clear();
    Outcome outcome = run(list);
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, "");
}

TEST_F(DaemonCommand, StatusShowsTheCarrierAndEveryVpn) {
    Outcome outcome = run(status);
    EXPECT_EQ(outcome.status, 0);
    EXPECT_EQ(outcome.err, "");
    EXPECT_TRUE(outcome.out.starts_with("system-wide: us\n\nvpn: us\n  id: 1\n")) << outcome.out;
    EXPECT_NE(outcome.out.find("\nvpn: germany\n  id: 7\n"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("\nvpn: nl\n  id: 12\n"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("  endpoint: vpn-us.example.net:51820\n"), std::string::npos);
    EXPECT_EQ(fake_.daemon.calls,
              (std::vector<std::string>{"ListVpns", "SystemWide", "GetAll /org/vpnsteer1/vpn/us",
                                        "GetAll /org/vpnsteer1/vpn/germany",
                                        "GetAll /org/vpnsteer1/vpn/nl"}));
}

TEST_F(DaemonCommand, StatusOfOneVpnAsksOnlyForIt) {
    Outcome outcome = run(status, {"germany"});
    EXPECT_EQ(outcome.status, 0);
    EXPECT_TRUE(outcome.out.starts_with("system-wide: us\n\nvpn: germany\n")) << outcome.out;
    EXPECT_EQ(outcome.out.find("vpn: us"), std::string::npos) << outcome.out;
    EXPECT_EQ(fake_.daemon.calls, (std::vector<std::string>{"ListVpns", "SystemWide",
                                                            "GetAll /org/vpnsteer1/vpn/germany"}));
}

TEST_F(DaemonCommand, StatusJsonIsTheDocumentWithTheVpnsAskedFor) {
    for (auto args :
         {std::vector<std::string_view>{"--json"}, std::vector<std::string_view>{"nl", "--json"},
          std::vector<std::string_view>{"--json", "nl"}}) {
        Outcome outcome = run(status, args);
        EXPECT_EQ(outcome.status, 0);
        EXPECT_EQ(outcome.err, "");
        const auto document = nlohmann::json::parse(outcome.out);
        EXPECT_EQ(document.at("systemWide"), "us");
        if (args.size() == 1) {
            ASSERT_EQ(document.at("vpns").size(), 3u);
            EXPECT_EQ(document.at("vpns")[0].at("name"), "us");
            EXPECT_EQ(document.at("vpns")[0].at("endpoint"), "vpn-us.example.net:51820");
            EXPECT_EQ(document.at("vpns")[2].at("firewallMark"), 10012);
        } else {
            ASSERT_EQ(document.at("vpns").size(), 1u);
            EXPECT_EQ(document.at("vpns")[0].at("name"), "nl");
            EXPECT_EQ(document.at("vpns")[0].at("systemWide"), true);
        }
    }
}

TEST_F(DaemonCommand, StatusOfAnUnknownVpnSaysSoLikeUp) {
    Outcome outcome = run(status, {"mars"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err,
              "vpnsteer: no VPN named 'mars' in /etc/vpnsteer/vpns.json; see: vpnsteer list\n");
}

TEST_F(DaemonCommand, StatusWarnsAboutStrictRpFilterOnStderrOnly) {
    fake_.files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "1\n";
    fake_.files["/proc/sys/net/ipv4/conf/eth0/rp_filter"] = "0\n";
    for (auto args : {std::vector<std::string_view>{}, std::vector<std::string_view>{"--json"}}) {
        Outcome outcome = run(status, args);
        EXPECT_EQ(outcome.status, 0);
        EXPECT_EQ(outcome.err,
                  "vpnsteer: warning: net.ipv4.conf.all.rp_filter is 1 (strict), so the kernel "
                  "drops a system-wide VPN's replies on the uplink; make it loose with: sysctl -w "
                  "net.ipv4.conf.all.rp_filter=2\n");
        EXPECT_EQ(outcome.out.find("warning"), std::string::npos);
    }
}

TEST_F(DaemonCommand, StatusRefusesBadArguments) {
    for (auto args :
         {std::vector<std::string_view>{"us", "nl"}, std::vector<std::string_view>{"--yaml"},
          std::vector<std::string_view>{"--json", "--json"}}) {
        Outcome outcome = run(status, args);
        EXPECT_EQ(outcome.status, 1);
        EXPECT_EQ(outcome.err, "Usage: vpnsteer status [NAME] [--json]\n");
        EXPECT_EQ(outcome.out, "");
    }
    EXPECT_EQ(fake_.daemon.connections, 0);
}

TEST_F(DaemonCommand, UpDownAndSwitchMakeTheirOneCallSilently) {
    for (const auto& [command, call] :
         {std::pair{up, "Up germany"}, std::pair{down, "Down germany"},
          std::pair{switchTo, "Switch germany"}}) {
        fake_.daemon.calls.clear();
        Outcome outcome = run(command, {"germany"});
        EXPECT_EQ(outcome.status, 0) << call;
        EXPECT_EQ(outcome.out, "") << call;
        EXPECT_EQ(outcome.err, "") << call;
        EXPECT_EQ(fake_.daemon.calls, std::vector<std::string>{call});
    }
}

TEST_F(DaemonCommand, UpDownAndSwitchWantExactlyOneName) {
    for (auto args : {std::vector<std::string_view>{}, std::vector<std::string_view>{"a", "b"},
                      std::vector<std::string_view>{"--all"}}) {
        for (const Command& command : {up, down, switchTo}) {
            Outcome outcome = run(command.main, command.synopsis, args);
            EXPECT_EQ(outcome.status, 1);
            EXPECT_EQ(outcome.err, "Usage: vpnsteer " + std::string(command.synopsis) + "\n");
        }
    }
    EXPECT_EQ(fake_.daemon.connections, 0);
}

TEST_F(DaemonCommand, UnknownVpnQuotesTheSpecTheDaemonServes) {
    failWith("Up", "org.vpnsteer1.Error.UnknownVpn", "no VPN named 'mars'");
    fake_.daemon.specPath = "/srv/lab/vpns.json";
    Outcome outcome = run(up, {"mars"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err,
              "vpnsteer: no VPN named 'mars' in /srv/lab/vpns.json; see: vpnsteer list\n");
}

TEST_F(DaemonCommand, UnknownVpnFallsBackToTheDefaultSpecWhenSpecPathFails) {
    failWith("Down", "org.vpnsteer1.Error.UnknownVpn", "no VPN named 'mars'");
    failWith("SpecPath", "org.freedesktop.DBus.Error.NoReply", "Remote peer disconnected");
    Outcome outcome = run(down, {"mars"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err,
              "vpnsteer: no VPN named 'mars' in /etc/vpnsteer/vpns.json; see: vpnsteer list\n");
}

TEST_F(DaemonCommand, NoBusMeansTheDaemonIsNotRunning) {
    fake_.daemon.busUnavailable = true;
    for (const Command& command : {list, status, up, switchTo}) {
        std::vector<std::string_view> args;
        if (command.synopsis.ends_with("NAME"))
            args.push_back("us");
        Outcome outcome = run(command.main, command.synopsis, args);
        EXPECT_EQ(outcome.status, 1) << command.synopsis;
        EXPECT_EQ(outcome.out, "") << command.synopsis;
        EXPECT_EQ(outcome.err, notRunning) << command.synopsis;
    }
}

TEST_F(DaemonCommand, NoOwnerOfTheBusNameMeansTheDaemonIsNotRunning) {
    failWith("ListVpns", "org.freedesktop.DBus.Error.ServiceUnknown",
             "The name org.vpnsteer1 was not provided by any .service files");
    Outcome outcome = run(list);
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, notRunning);
    failWith("Switch", "org.freedesktop.DBus.Error.NameHasNoOwner", "no owner");
    outcome = run(switchTo, {"us"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, notRunning);
}

TEST_F(DaemonCommand, AccessDeniedSaysWhoMay) {
    failWith("Up", "org.freedesktop.DBus.Error.AccessDenied",
             "Rejected send message, 2 matched rules; type=\"method_call\"");
    Outcome outcome = run(up, {"us"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, permissionDenied);
}

TEST_F(DaemonCommand, OtherErrorsAreQuoted) {
    failWith("Up", "org.vpnsteer1.Error.Failed",
             "adding rule 101 (lookup main suppress_prefixlength 0): Operation not permitted");
    Outcome outcome = run(up, {"us"});
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.err, "vpnsteer: vpnsteerd: adding rule 101 (lookup main "
                           "suppress_prefixlength 0): Operation not permitted "
                           "(org.vpnsteer1.Error.Failed)\n");
}

TEST_F(DaemonCommand, AStatusThatFailsHalfwayPrintsNothingButTheError) {
    failWith("GetAll", "org.freedesktop.DBus.Error.UnknownObject", "Unknown object.");
    Outcome outcome = run(status);
    EXPECT_EQ(outcome.status, 1);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err,
              "vpnsteer: vpnsteerd: Unknown object. (org.freedesktop.DBus.Error.UnknownObject)\n");
}

} // namespace
} // namespace vpnsteer::cli
