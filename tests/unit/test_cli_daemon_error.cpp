// What the CLI says for each way a D-Bus call to vpnsteerd fails, and the GetAll answer it
// reads a VPN's status from.
#include "cli/daemon_error.hpp"
#include "cli/dbus_daemon.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>
#include <map>
#include <sdbus-c++/Error.h>

namespace vpnsteer::cli {
namespace {

const DaemonErrorContext aboutUs{.vpnName = "us", .specPath = "/etc/vpnsteer/vpns.json"};

const std::string notRunning =
    "vpnsteer: vpnsteerd is not running; start it with: systemctl start vpnsteerd";

TEST(DaemonError, NoOwnerOfTheNameMeansNotRunning) {
    EXPECT_EQ(describeDaemonError("org.freedesktop.DBus.Error.ServiceUnknown",
                                  "The name org.vpnsteer1 was not provided by any .service files",
                                  aboutUs),
              notRunning);
    EXPECT_EQ(describeDaemonError("org.freedesktop.DBus.Error.NameHasNoOwner",
                                  "Could not get owner of name 'org.vpnsteer1': no such name",
                                  aboutUs),
              notRunning);
    EXPECT_EQ(daemonNotRunningMessage(), notRunning);
}

TEST(DaemonError, UnknownVpnNamesTheVpnAndTheSpecAndPointsToList) {
    EXPECT_EQ(describeDaemonError("org.vpnsteer1.Error.UnknownVpn", "no VPN named 'us'", aboutUs),
              "vpnsteer: no VPN named 'us' in /etc/vpnsteer/vpns.json; see: vpnsteer list");
    EXPECT_EQ(describeDaemonError("org.vpnsteer1.Error.UnknownVpn", "whatever",
                                  {.vpnName = "x", .specPath = "/tmp/lab/vpns.json"}),
              "vpnsteer: no VPN named 'x' in /tmp/lab/vpns.json; see: vpnsteer list");
}

TEST(DaemonError, AccessDeniedSaysWhoMayChangeVpns) {
    EXPECT_EQ(describeDaemonError("org.freedesktop.DBus.Error.AccessDenied",
                                  "Rejected send message, 1 matched rules; ...", aboutUs),
              "vpnsteer: permission denied: changing VPNs needs root or membership in the "
              "vpnsteer group");
}

TEST(DaemonError, ADaemonThatStopsAnsweringPointsToItsLog) {
    for (const char* name :
         {"org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout"}) {
        EXPECT_EQ(describeDaemonError(name, "Remote peer disconnected", aboutUs),
                  "vpnsteer: vpnsteerd did not answer (Remote peer disconnected); see: "
                  "journalctl -u vpnsteerd")
            << name;
    }
}

TEST(DaemonError, AFailedActivationPointsToTheLog) {
    EXPECT_EQ(describeDaemonError("org.freedesktop.DBus.Error.Spawn.ChildExited",
                                  "Process org.vpnsteer1 exited with status 1", aboutUs),
              "vpnsteer: vpnsteerd could not be started (Process org.vpnsteer1 exited with "
              "status 1); see: journalctl -u vpnsteerd");
    EXPECT_EQ(describeDaemonError("org.freedesktop.systemd1.UnitFailed", "Unit failed", aboutUs),
              "vpnsteer: vpnsteerd could not be started (Unit failed); see: journalctl -u "
              "vpnsteerd");
}

TEST(DaemonError, AnyOtherErrorIsQuotedWithItsName) {
    EXPECT_EQ(describeDaemonError("org.vpnsteer1.Error.Failed",
                                  "adding rule 301 (not fwmark 10001 lookup 1): Operation not "
                                  "permitted",
                                  aboutUs),
              "vpnsteer: vpnsteerd: adding rule 301 (not fwmark 10001 lookup 1): Operation not "
              "permitted (org.vpnsteer1.Error.Failed)");
    EXPECT_EQ(describeDaemonError("org.vpnsteer1.Error.InvalidArgument",
                                  "the VPN name must not be empty", {}),
              "vpnsteer: vpnsteerd: the VPN name must not be empty "
              "(org.vpnsteer1.Error.InvalidArgument)");
}

TEST(VpnStatusFromProperties, ReadsEveryProperty) {
    const std::map<std::string, BusValue> properties{
        {"Name", BusValue::string("us")},
        {"Id", BusValue::uint32(1)},
        {"Protocol", BusValue::string("wireguard")},
        {"Interface", BusValue::string("us")},
        {"Table", BusValue::uint32(1)},
        {"FirewallMark", BusValue::uint32(10001)},
        {"Bridge", BusValue::string("br-us")},
        {"SystemWide", BusValue::boolean(true)},
        {"PublicKey", BusValue::string("key=")},
        {"Endpoint", BusValue::string("192.0.2.10:51820")},
        {"LatestHandshake", BusValue::uint64(1'700'000'000)},
        {"RxBytes", BusValue::uint64(12)},
        {"TxBytes", BusValue::uint64(34)},
        {"Dns", BusValue::strings({"198.51.100.53"})},
        {"ActivePeer", BusValue::string("gw1")},
        {"Peers",
         BusValue("a(ssst)", BusValue::Items{BusValue(
                                 "(ssst)", BusValue::Items{BusValue::string("gw1"),
                                                           BusValue::string("192.0.2.10:51820"),
                                                           BusValue::string("alive"),
                                                           BusValue::uint64(1'700'000'001)})})},
    };
    VpnStatus expected = testing::vpnWithDerivedFields("us", 1);
    expected.systemWide = true;
    expected.publicKey = "key=";
    expected.endpoint = "192.0.2.10:51820";
    expected.latestHandshake = 1'700'000'000;
    expected.rxBytes = 12;
    expected.txBytes = 34;
    expected.dns = {"198.51.100.53"};
    expected.activePeer = "gw1";
    expected.peers = {{"gw1", "192.0.2.10:51820", "alive", 1'700'000'001}};
    EXPECT_EQ(vpnStatusFromProperties(properties), expected);
}

TEST(VpnStatusFromProperties, ReadsAFastdVpnsConnection) {
    const std::map<std::string, BusValue> properties{
        {"Name", BusValue::string("ff")},
        {"Protocol", BusValue::string("fastd")},
        {"Endpoint", BusValue::string("198.51.100.8:10000")},
        {"TransportMode", BusValue::string("secure")},
        {"ConnectedPeer", BusValue::string("gw1")},
        {"Method", BusValue::string("salsa2012+umac")},
        {"Established", BusValue::uint64(1'700'000'002)},
    };
    const VpnStatus expected{.name = "ff",
                             .protocol = "fastd",
                             .endpoint = "198.51.100.8:10000",
                             .transportMode = "secure",
                             .connectedPeer = "gw1",
                             .method = "salsa2012+umac",
                             .established = 1'700'000'002};
    EXPECT_EQ(vpnStatusFromProperties(properties), expected);
}

TEST(VpnStatusFromProperties, RefusesAnEstablishedThatIsNoTimestamp) {
    EXPECT_THROW(vpnStatusFromProperties({{"Established", BusValue::string("now")}}), sdbus::Error);
}

TEST(VpnStatusFromProperties, LeavesMissingPropertiesAtTheirDefault) {
    const VpnStatus status = vpnStatusFromProperties({{"Name", BusValue::string("de")}});
    EXPECT_EQ(status, VpnStatus{.name = "de"});
}

TEST(VpnStatusFromProperties, RefusesAPropertyOfTheWrongType) {
    EXPECT_THROW(vpnStatusFromProperties({{"Id", BusValue::string("one")}}), sdbus::Error);
}

} // namespace
} // namespace vpnsteer::cli
