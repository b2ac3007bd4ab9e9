// How `vpnsteer status` shows vpnsteerd's state: text for people, laid out like `wg show`,
// and a JSON document for scripts. Pure: the clock comes in as a number.
#pragma once

#include "cli/daemon.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace vpnsteer::cli {

// A byte count in wg's units: "512 B", then two decimals of KiB, MiB, GiB or TiB.
std::string formatBytes(std::uint64_t bytes);

// LatestHandshake (seconds since the epoch) as wg shows it, "1 minute, 5 seconds ago",
// or "never" for 0. `now` is seconds since the epoch too.
std::string formatHandshake(std::uint64_t latestHandshake, std::int64_t now);

// The text form:
//
//   system-wide: us
//
//   vpn: us
//     id: 1
//     ...
//     transfer: 1.50 KiB received, 0 B sent
//     dns: 198.51.100.53
//     active peer: gw2                          (WireGuard gateway selection)
//     peer gw1: 198.51.100.1:51820, silent (12 seconds ago)
//     peer gw2: 198.51.100.2:51820, alive (8 seconds ago)
//
// A fastd VPN shows its connection instead of WireGuard's public key and handshake:
//
//     system-wide: no
//     transport mode: secure                    ("(not configurable)" for a fixed method list)
//     connected peer: gw1
//     method: salsa2012+umac
//     endpoint: 198.51.100.8:10000
//     established: 3 minutes, 2 seconds ago
//     transfer: ...
//
// "system-wide: none" when no VPN carries the host's traffic.
void writeStatusText(std::ostream& out, const DaemonStatus& status, std::int64_t now);

// The JSON form, a stable document for scripts (keys in this order, two-space indent, and a
// final newline); unknown values are null rather than "" or 0:
//
//   { "systemWide": "us" | null,
//     "vpns": [ { "name", "id", "protocol", "interface", "table", "firewallMark", "bridge",
//                 "systemWide", "publicKey" | null, "endpoint" | null,
//                 "latestHandshake": seconds since the epoch | null,
//                 "transportMode" | null, "connectedPeer" | null, "method" | null,
//                 "established": seconds since the epoch | null, "rxBytes", "txBytes",
//                 "dns": [...], "activePeer" | null,
//                 "peers": [ { "name", "endpoint", "result", "since" | null }, ... ] }, ... ] }
//
// The VPNs are in id order; the key names are the D-Bus property names in camelCase. Every VPN
// has every key: a WireGuard VPN's fastd keys are null, and a fastd VPN's publicKey and
// latestHandshake.
std::string statusJson(const DaemonStatus& status);

} // namespace vpnsteer::cli
