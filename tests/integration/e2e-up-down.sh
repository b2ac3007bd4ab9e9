#!/usr/bin/env bash
# End to end (issue 4 item 4): Up and Down of the real vpnsteerd, seen from the internet.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd ── [app]
#      └── [vpn] providers A (exit 198.51.100.1) and B (exit 198.51.100.2)
#
# - Up A: the client's TCP and UDP, IPv4 and IPv6, reach inet from A's exit; under
#   continuous traffic the leak meter stays at 0 (steady state).
# - Down A: they reach inet from wan's address again.
# - The app namespace on br-A reaches inet from A's exit whether A is system-wide, no
#   VPN is, or B is; its packets never leave outside A's tunnel.
#
# The app's path is all the product's: networkd's bridge and its rule 201, table 1, and
# vpnsteerd's SNAT rule for the bridge (service/nat).
#
# Usage: e2e-up-down.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"
e2e_init e2e-up-down 110 "$@"

echo "== no VPN is system-wide: the client exits through wan"
expect_system_wide "SystemWide is empty at start" ""
expect_exit "no VPN" client "$LAB_WAN_PUBLIC4" "$LAB_WAN_PUBLIC6"

echo "== Up A"
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_system_wide "SystemWide is $A" "$A"
lab_leak_reset
expect_exit "A system-wide" client "$EXIT4_A" "$EXIT6_A"
expect_no_leak "Up: no packet left outside the tunnel"

echo "== steady state under continuous traffic"
lab_leak_reset
lab_traffic_start client steady "$LAB_INET4" "$LAB_INET6"
e2e_more_questions steady 200
lab_traffic_stop steady
expect_traffic "steady state: every answer from A's exit" steady 1 0 "$EXIT4_A" "$EXIT6_A"
expect_no_leak "steady state: the leak meter stays at 0"
expect "A's tunnel has carried packets across wan" "^[1-9][0-9]*$" lab_tunnel_packets "$A"

echo "== the app namespace on br-$A"
lab_app_attach "br-$A" "$ID_A" || e2e_abort "could not plug the app into br-$A"
lab_leak_reset
expect_exit "app, A system-wide" app "$EXIT4_A" ""
expect_no_leak "app, A system-wide: no leak"

echo "== Down A"
expect_status "Down($A) succeeds" 0 lab_steer_call Down s "$A"
expect_system_wide "SystemWide is empty again" ""
expect_exit "A down" client "$LAB_WAN_PUBLIC4" "$LAB_WAN_PUBLIC6"
lab_leak_reset
expect_exit "app, no VPN system-wide" app "$EXIT4_A" ""
expect_no_leak "app, no VPN system-wide: its packets stay in A's tunnel"

echo "== Up B: the app stays with A"
expect_status "Up($B) succeeds" 0 lab_steer_call Up s "$B"
expect_system_wide "SystemWide is $B" "$B"
lab_leak_reset
expect_exit "B system-wide" client "$EXIT4_B" "$EXIT6_B"
expect_exit "app, B system-wide" app "$EXIT4_A" ""
expect_no_leak "B system-wide: no leak, from the client or the app"
expect_status "Down($B) succeeds" 0 lab_steer_call Down s "$B"
expect_exit "B down" client "$LAB_WAN_PUBLIC4" "$LAB_WAN_PUBLIC6"

expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
