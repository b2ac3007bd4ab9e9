#!/usr/bin/env bash
# End to end (issue 4 item 4): vpnsteerd restarts, by SIGTERM and by SIGKILL, while a
# VPN is system-wide and traffic flows.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd
#      └── [vpn] providers A (exit 198.51.100.1) and B (exit 198.51.100.2)
#
# vpnsteerd's rules live in the kernel, not in the process: whether it stops cleanly or
# dies, the host stays on A, so
# - every answer comes from A's exit while vpnsteerd is gone and after it is back;
# - the leak meter stays at 0;
# - the new vpnsteerd adopts the rules it finds (SystemWide is A, no rule twice), and
#   acts on them: Switch to B moves the traffic, Down returns it to wan.
#
# Usage: e2e-restart.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"
e2e_init e2e-restart 110 "$@"

expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A system-wide" client "$EXIT4_A" "$EXIT6_A"
rules_before=$(n_client ip -4 rule; n_client ip -6 rule)

lab_leak_reset
lab_traffic_start client traffic "$LAB_INET4" "$LAB_INET6"
e2e_more_questions traffic 40
for signal in TERM KILL; do
	echo "== vpnsteerd stopped by SIG$signal"
	pid=$(lab_pid vpnsteerd)
	lab_stop vpnsteerd "$signal"
	expect_status "vpnsteerd (pid $pid) is gone" 1 lab_pid_alive "$pid"
	from=$(($(lab_traffic_lines traffic) + 1))
	e2e_more_questions traffic 60
	expect_traffic "without vpnsteerd: answers from A's exit" traffic "$from" 0 \
		"$EXIT4_A" "$EXIT6_A"
	expect_equal "without vpnsteerd: the kernel keeps every rule" \
		"$rules_before" "$(n_client ip -4 rule; n_client ip -6 rule)"

	echo "== vpnsteerd started again"
	lab_steer_start_daemon "$VPNSTEERD" || e2e_abort "vpnsteerd did not start again"
	expect_system_wide "it adopts A as system-wide" "$A"
	from=$(($(lab_traffic_lines traffic) + 1))
	e2e_more_questions traffic 60
	expect_traffic "after the restart: answers from A's exit" traffic "$from" 0 \
		"$EXIT4_A" "$EXIT6_A"
	expect_equal "after the restart: the same rules, none twice" \
		"$rules_before" "$(n_client ip -4 rule; n_client ip -6 rule)"
done
lab_traffic_stop traffic
expect_traffic "all along: answers from A's exit only" traffic 1 0 "$EXIT4_A" "$EXIT6_A"
expect_no_leak "all along: the leak meter stays at 0"

echo "== the adopted state works"
expect_status "Switch($B) succeeds" 0 lab_steer_call Switch s "$B"
expect_exit "B system-wide" client "$EXIT4_B" "$EXIT6_B"
expect_no_leak "Switch after the restarts: no leak"
expect_status "Down($B) succeeds" 0 lab_steer_call Down s "$B"
expect_exit "no VPN" client "$LAB_WAN_PUBLIC4" "$LAB_WAN_PUBLIC6"
expect_no "no system-wide rule is left" '^(10[12]|30[12]):' n_client ip -4 rule
assert_done
