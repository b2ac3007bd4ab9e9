// Object paths of VPNs: names may hold '-' and '.', which object paths do not allow.
#include "service/dbus/names.hpp"

#include <gtest/gtest.h>

namespace vpnsteer::dbus {
namespace {

TEST(VpnObjectPath, PlainNamesStayReadable) {
    EXPECT_EQ(vpnObjectPath("us"), "/org/vpnsteer1/vpn/us");
    EXPECT_EQ(vpnObjectPath("Ovpn7"), "/org/vpnsteer1/vpn/Ovpn7");
}

TEST(VpnObjectPath, EscapesEverythingButLettersAndDigits) {
    EXPECT_EQ(vpnObjectPath("us-west.2"), "/org/vpnsteer1/vpn/us_2dwest_2e2");
    EXPECT_EQ(vpnObjectPath("a_b"), "/org/vpnsteer1/vpn/a_5fb");
    // A leading digit is escaped too: sd-bus keeps element names identifier-like.
    EXPECT_EQ(vpnObjectPath("1x"), "/org/vpnsteer1/vpn/_31x");
}

TEST(VpnObjectPath, DecodesBackToTheName) {
    for (const char* name : {"us", "us-west.2", "a_b", "1x", "de-1.x"}) {
        EXPECT_EQ(vpnNameFromObjectPath(vpnObjectPath(name)), name);
    }
    EXPECT_EQ(vpnNameFromObjectPath("/org/vpnsteer1"), "");
    EXPECT_EQ(vpnNameFromObjectPath("/org/other/vpn/us"), "");
}

} // namespace
} // namespace vpnsteer::dbus
