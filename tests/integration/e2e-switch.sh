#!/usr/bin/env bash
# End to end (issue 4 item 4): Switch between two VPNs under continuous traffic.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd
#      └── [vpn] providers A (exit 198.51.100.1) and B (exit 198.51.100.2)
#
# The client asks inet's echo service a question every 20 ms (TCP and UDP, IPv4 and
# IPv6) while busctl switches A -> B -> A -> B. A switch is "up the new, then down the
# old" (DESIGN.md), so:
# - every answer comes from A's or B's exit, never from wan's address;
# - the leak meter stays at 0 throughout;
# - after each switch the answers come from the new VPN's exit, and SystemWide names it;
# - hardly a question goes unanswered (a new tunnel's first handshake may delay one).
#
# Usage: e2e-switch.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"
e2e_init e2e-switch 110 "$@"

expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A system-wide" client "$EXIT4_A" "$EXIT6_A"

lab_leak_reset
lab_traffic_start client traffic "$LAB_INET4" "$LAB_INET6"
e2e_more_questions traffic 50
# switch_to VPN EXIT4 EXIT6: Switch under traffic, and what follows from it.
switch_to() {
	local vpn=$1 exit4=$2 exit6=$3 from
	echo "== Switch to $vpn under traffic"
	expect_status "Switch($vpn) succeeds" 0 lab_steer_call Switch s "$vpn"
	expect_system_wide "SystemWide is $vpn" "$vpn"
	# Questions asked once the switch has returned are the new VPN's.
	from=$(($(lab_traffic_lines traffic) + 1))
	e2e_more_questions traffic 60
	expect_traffic "after the switch to $vpn: answers from its exit" traffic "$from" 2 \
		"$exit4" "$exit6"
}
switch_to "$B" "$EXIT4_B" "$EXIT6_B"
switch_to "$A" "$EXIT4_A" "$EXIT6_A"
switch_to "$B" "$EXIT4_B" "$EXIT6_B"
lab_traffic_stop traffic

expect_traffic "all along: answers from A's or B's exit only" traffic 1 5 \
	"$EXIT4_A" "$EXIT6_A" "$EXIT4_B" "$EXIT6_B"
expect_no_leak "all along: the leak meter stays at 0"
expect_equal "only $B is system-wide at the end" \
	"$(printf '%s\n' "$((ID_B + 100)):" "$((ID_B + 300)):")" \
	"$(n_client ip -4 rule | grep -oE '^[13]0[0-9]:' | sort)"
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
