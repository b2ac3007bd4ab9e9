#!/usr/bin/env bash
# End to end (issue 4 item 4): the system-wide VPN's tunnel disappears under traffic,
# once by deleting the interface and once by killing wireguard-go.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd
#      └── [vpn] provider A (exit 198.51.100.1)
#
# Without its device, table 1 loses the route through the tunnel; the kill switch
# (vpnsteerd's `unreachable default` at metric 4294967295) then ends every lookup, so
# - the client's questions fail instead of reaching inet from wan's address;
# - the leak meter stays at 0;
# - once wireguard-go is back (as systemd would restart vpn-A-wireguard-go.service),
#   networkd restores the route and the answers come from A's exit again.
#
# Usage: e2e-tunnel-loss.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"
e2e_init e2e-tunnel-loss 110 "$@"

expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A system-wide" client "$EXIT4_A" "$EXIT6_A"

tunnel_is_gone() { ! n_client ip link show dev "$A" >/dev/null 2>&1; }

# lose_tunnel HOW WHAT: take A's tunnel away by HOW under traffic, check the kill switch,
# bring wireguard-go back and check that the traffic returns to A.
lose_tunnel() {
	local how=$1 what=$2 from
	echo "== $what"
	lab_leak_reset
	lab_traffic_start client traffic "$LAB_INET4" "$LAB_INET6"
	e2e_more_questions traffic 20
	$how
	expect_status "the tunnel device $A is gone" 0 wait_for -t 10 tunnel_is_gone
	expect "the kill switch stays in table $ID_A (IPv4)" \
		'^unreachable default .*metric 4294967295' n_client ip -4 route show table "$ID_A"
	expect "the kill switch stays in table $ID_A (IPv6)" \
		'^unreachable default .*metric 4294967295' n_client ip -6 route show table "$ID_A"
	from=$(($(lab_traffic_lines traffic) + 1))
	e2e_more_questions traffic 40
	expect_traffic "without the tunnel: no answer at all" traffic "$from" 100000 "(none)"
	expect_no_leak "without the tunnel: the leak meter stays at 0"

	lab_stop "wireguard-go-$A"
	lab_steer_start_tunnel "$A" || e2e_abort "wireguard-go for $A did not come back"
	e2e_more_questions traffic 5
	expect_exit "the tunnel is back" client "$EXIT4_A" "$EXIT6_A"
	from=$(($(lab_traffic_lines traffic) + 1))
	e2e_more_questions traffic 40
	lab_traffic_stop traffic
	expect_traffic "the tunnel is back: continuous traffic from A's exit" traffic "$from" 0 \
		"$EXIT4_A" "$EXIT6_A"
	expect_traffic "all along: nothing from wan's address" traffic 1 10000 \
		"$EXIT4_A" "$EXIT6_A"
	expect_no_leak "all along: the leak meter stays at 0"
	rm -f "$(lab_log traffic)"
}

delete_interface() { n_client ip link del dev "$A"; }
kill_wireguard_go() { kill -KILL "$(lab_pid "wireguard-go-$A")"; }

lose_tunnel delete_interface "ip link del $A"
lose_tunnel kill_wireguard_go "wireguard-go for $A killed (SIGKILL)"

expect_system_wide "SystemWide is still $A" "$A"
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
