// The layouts of `vpnsteer status`: wg's byte units and handshake ages, the text form and the
// JSON document scripts rely on.
#include "cli/status_format.hpp"
#include "test_cli_fakes.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vpnsteer::cli {
namespace {

using testing::vpnWithDerivedFields;

constexpr std::int64_t now = 1'700'000'000;

DaemonStatus twoVpns() {
    VpnStatus us = vpnWithDerivedFields("us", 1);
    us.systemWide = true;
    us.publicKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
    us.endpoint = "vpn-us.example.net:51820";
    us.latestHandshake = now - 65;
    us.rxBytes = 1536;
    us.txBytes = 5 * 1024 * 1024 + 512 * 1024;
    us.dns = {"198.51.100.53", "2001:db8:1::53"};
    us.activePeer = "gw2";
    us.peers = {{"gw1", "198.51.100.1:51820", "silent", 1'699'999'988u},
                {"gw2", "198.51.100.2:51820", "alive", 1'699'999'992u},
                {"gw3", "gw3.example.net:51820", "untried", 0}};
    // Never connected: no endpoint, no DNS, nothing received.
    VpnStatus de = vpnWithDerivedFields("de", 7, "fastd");
    de.bridge = "br-germany";
    de.txBytes = 1023;
    VpnStatus ff = vpnWithDerivedFields("ff", 8, "fastd");
    ff.endpoint = "198.51.100.8:10000";
    ff.rxBytes = 2048;
    ff.txBytes = 4096;
    ff.dns = {"198.51.100.53"};
    ff.transportMode = "performance";
    ff.connectedPeer = "gw1";
    ff.method = "null";
    ff.established = now - 182;
    return {.systemWide = "us", .vpns = {us, de, ff}};
}

TEST(FormatBytes, UsesWgsUnits) {
    EXPECT_EQ(formatBytes(0), "0 B");
    EXPECT_EQ(formatBytes(1023), "1023 B");
    EXPECT_EQ(formatBytes(1024), "1.00 KiB");
    EXPECT_EQ(formatBytes(1536), "1.50 KiB");
    EXPECT_EQ(formatBytes(1024 * 1024 - 1), "1024.00 KiB"); // wg rounds the same way
    EXPECT_EQ(formatBytes(1024 * 1024), "1.00 MiB");
    EXPECT_EQ(formatBytes(3ull << 30), "3.00 GiB");
    EXPECT_EQ(formatBytes(5ull << 40), "5.00 TiB");
    EXPECT_EQ(formatBytes(2048ull << 40), "2048.00 TiB");
}

TEST(FormatHandshake, SaysNeverForZero) {
    EXPECT_EQ(formatHandshake(0, now), "never");
}

TEST(FormatHandshake, CountsBackFromNowLikeWg) {
    EXPECT_EQ(formatHandshake(now, now), "0 seconds ago");
    EXPECT_EQ(formatHandshake(now - 1, now), "1 second ago");
    EXPECT_EQ(formatHandshake(now - 42, now), "42 seconds ago");
    EXPECT_EQ(formatHandshake(now - 60, now), "1 minute ago");
    EXPECT_EQ(formatHandshake(now - 65, now), "1 minute, 5 seconds ago");
    EXPECT_EQ(formatHandshake(now - (2 * 86400 + 3 * 3600 + 1), now),
              "2 days, 3 hours, 1 second ago");
    EXPECT_EQ(formatHandshake(now - 366 * 86400, now), "1 year, 1 day ago");
}

TEST(FormatHandshake, NamesAClockThatWentBackwards) {
    EXPECT_EQ(formatHandshake(now + 10, now), "in the future (the system clock went backwards)");
}

TEST(StatusText, ShowsEveryPropertyLikeWgShow) {
    std::ostringstream out;
    writeStatusText(out, twoVpns(), now);
    EXPECT_EQ(out.str(), "system-wide: us\n"
                         "\n"
                         "vpn: us\n"
                         "  id: 1\n"
                         "  protocol: wireguard\n"
                         "  interface: us\n"
                         "  table: 1\n"
                         "  fwmark: 10001\n"
                         "  bridge: br-us\n"
                         "  system-wide: yes\n"
                         "  public key: hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"
                         "  endpoint: vpn-us.example.net:51820\n"
                         "  latest handshake: 1 minute, 5 seconds ago\n"
                         "  transfer: 1.50 KiB received, 5.50 MiB sent\n"
                         "  dns: 198.51.100.53, 2001:db8:1::53\n"
                         "  active peer: gw2\n"
                         "  peer gw1: 198.51.100.1:51820, silent (12 seconds ago)\n"
                         "  peer gw2: 198.51.100.2:51820, alive (8 seconds ago)\n"
                         "  peer gw3: gw3.example.net:51820, untried\n"
                         "\n"
                         "vpn: de\n"
                         "  id: 7\n"
                         "  protocol: fastd\n"
                         "  interface: de\n"
                         "  table: 7\n"
                         "  fwmark: 10007\n"
                         "  bridge: br-germany\n"
                         "  system-wide: no\n"
                         "  transport mode: (not configurable)\n"
                         "  connected peer: (none)\n"
                         "  method: (none)\n"
                         "  endpoint: (none)\n"
                         "  established: never\n"
                         "  transfer: 0 B received, 1023 B sent\n"
                         "  dns: (none)\n"
                         "\n"
                         "vpn: ff\n"
                         "  id: 8\n"
                         "  protocol: fastd\n"
                         "  interface: ff\n"
                         "  table: 8\n"
                         "  fwmark: 10008\n"
                         "  bridge: br-ff\n"
                         "  system-wide: no\n"
                         "  transport mode: performance\n"
                         "  connected peer: gw1\n"
                         "  method: null\n"
                         "  endpoint: 198.51.100.8:10000\n"
                         "  established: 3 minutes, 2 seconds ago\n"
                         "  transfer: 2.00 KiB received, 4.00 KiB sent\n"
                         "  dns: 198.51.100.53\n");
}

TEST(StatusText, SaysNoneWhenNoVpnCarriesTheHost) {
    std::ostringstream out;
    writeStatusText(out, DaemonStatus{}, now);
    EXPECT_EQ(out.str(), "system-wide: none\n");
}

TEST(StatusJson, IsTheDocumentedStableLayout) {
    EXPECT_EQ(statusJson(twoVpns()), R"({
  "systemWide": "us",
  "vpns": [
    {
      "name": "us",
      "id": 1,
      "protocol": "wireguard",
      "interface": "us",
      "table": 1,
      "firewallMark": 10001,
      "bridge": "br-us",
      "systemWide": true,
      "publicKey": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
      "endpoint": "vpn-us.example.net:51820",
      "latestHandshake": 1699999935,
      "transportMode": null,
      "connectedPeer": null,
      "method": null,
      "established": null,
      "rxBytes": 1536,
      "txBytes": 5767168,
      "dns": [
        "198.51.100.53",
        "2001:db8:1::53"
      ],
      "activePeer": "gw2",
      "peers": [
        {
          "name": "gw1",
          "endpoint": "198.51.100.1:51820",
          "result": "silent",
          "since": 1699999988
        },
        {
          "name": "gw2",
          "endpoint": "198.51.100.2:51820",
          "result": "alive",
          "since": 1699999992
        },
        {
          "name": "gw3",
          "endpoint": "gw3.example.net:51820",
          "result": "untried",
          "since": null
        }
      ]
    },
    {
      "name": "de",
      "id": 7,
      "protocol": "fastd",
      "interface": "de",
      "table": 7,
      "firewallMark": 10007,
      "bridge": "br-germany",
      "systemWide": false,
      "publicKey": null,
      "endpoint": null,
      "latestHandshake": null,
      "transportMode": null,
      "connectedPeer": null,
      "method": null,
      "established": null,
      "rxBytes": 0,
      "txBytes": 1023,
      "dns": [],
      "activePeer": null,
      "peers": []
    },
    {
      "name": "ff",
      "id": 8,
      "protocol": "fastd",
      "interface": "ff",
      "table": 8,
      "firewallMark": 10008,
      "bridge": "br-ff",
      "systemWide": false,
      "publicKey": null,
      "endpoint": "198.51.100.8:10000",
      "latestHandshake": null,
      "transportMode": "performance",
      "connectedPeer": "gw1",
      "method": "null",
      "established": 1699999818,
      "rxBytes": 2048,
      "txBytes": 4096,
      "dns": [
        "198.51.100.53"
      ],
      "activePeer": null,
      "peers": []
    }
  ]
}
)");
}

TEST(StatusJson, HasNullSystemWideAndAnEmptyListWhenThereIsNothing) {
    const auto document = nlohmann::json::parse(statusJson(DaemonStatus{}));
    EXPECT_TRUE(document.at("systemWide").is_null());
    EXPECT_EQ(document.at("vpns"), nlohmann::json::array());
}

TEST(StatusJson, StaysValidJsonForAnyString) {
    DaemonStatus status{.systemWide = "quote\" backslash\\ newline\n", .vpns = {}};
    const auto document = nlohmann::json::parse(statusJson(status));
    EXPECT_EQ(document.at("systemWide"), "quote\" backslash\\ newline\n");
}

} // namespace
} // namespace vpnsteer::cli
