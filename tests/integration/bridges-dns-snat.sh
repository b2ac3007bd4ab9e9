#!/usr/bin/env bash
# Bridge SNAT (issue 5 items 1 and 5): vpnsteerd's own nat chain, written through libiptc,
# seen with iptables-legacy and from the internet.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd ── [app] on br-A
#      └── [vpn] providers A (exit 198.51.100.1) and B (exit 198.51.100.2)
#
# - At start the client's nat table holds exactly one SNAT rule per bridge, in
#   VPNSTEER-SNAT, hooked once from POSTROUTING. No stand-in rule of the test's own.
# - The app namespace on br-A reaches inet from A's exit, with no VPN system-wide and with
#   B system-wide, and nothing leaks.
# - After repeated Reloads and restarts of vpnsteerd the table is byte for byte the same.
# - A VPN that leaves the spec loses its rule on Reload; a rule or hook added by hand is
#   repaired.
#
# Usage: bridges-dns-snat.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"
e2e_init bridges-dns-snat 150 "$@"

# Without the DNS redirect's chain (its own test is wan-uplink.sh): whether it holds rules
# depends on whether the machine has the group vpnsteer-wan.
nat_table() {
	n_client iptables-legacy -t nat -S | grep -v -- VPNSTEER-WANDNS
}

# The whole table as it must be with VPNs A and B.
expected_ab=$(printf '%s\n' "-P PREROUTING ACCEPT" "-P INPUT ACCEPT" "-P OUTPUT ACCEPT" \
	"-P POSTROUTING ACCEPT" "-N VPNSTEER-SNAT" "-A POSTROUTING -j VPNSTEER-SNAT" \
	"-A VPNSTEER-SNAT -s 10.20.$ID_A.0/24 -j SNAT --to-source ${LAB_VPN_ADDR4[$A]}" \
	"-A VPNSTEER-SNAT -s 10.20.$ID_B.0/24 -j SNAT --to-source ${LAB_VPN_ADDR4[$B]}")

# expect_nat_table WHAT EXPECTED: the client's nat table is exactly EXPECTED.
expect_nat_table() {
	local seen
	seen=$(nat_table 2>&1)
	if [[ "$seen" == "$2" ]]; then
		_expect_pass "$1"
	else
		_expect_fail "$1" "exactly:
$2" "$seen" iptables-legacy -t nat -S
	fi
}

echo "== at start: one SNAT rule per bridge"
expect_nat_table "the nat table holds one rule per bridge and one hook" "$expected_ab"

echo "== the app on br-$A, SNATed by vpnsteerd"
lab_app_attach "br-$A" "$ID_A" || e2e_abort "could not plug the app into br-$A"
lab_leak_reset
expect_exit "app, no VPN system-wide" app "$EXIT4_A" ""
expect_no_leak "app, no VPN system-wide: no leak"
expect_status "Up($B) succeeds" 0 lab_steer_call Up s "$B"
lab_leak_reset
expect_exit "app, B system-wide" app "$EXIT4_A" ""
expect_no_leak "app, B system-wide: no leak"
expect_status "Down($B) succeeds" 0 lab_steer_call Down s "$B"

echo "== repeated Reloads and restarts"
for round in 1 2 3; do
	expect_status "Reload $round succeeds" 0 lab_steer_call Reload
done
expect_nat_table "after 3 Reloads: still one rule per bridge" "$expected_ab"
for round in 1 2; do
	lab_stop vpnsteerd
	expect_nat_table "vpnsteerd stopped ($round): the rules stay" "$expected_ab"
	lab_steer_start_daemon "$VPNSTEERD" || e2e_abort "vpnsteerd did not start again"
	expect_nat_table "restart $round: still one rule per bridge" "$expected_ab"
done
expect_status "Reload after the restarts succeeds" 0 lab_steer_call Reload
expect_nat_table "restarts then Reload: still one rule per bridge" "$expected_ab"
lab_leak_reset
expect_exit "app after restarts" app "$EXIT4_A" ""
expect_no_leak "app after restarts: no leak"

echo "== a hook and a rule added by hand are repaired"
n_client iptables-legacy -t nat -A POSTROUTING -j VPNSTEER-SNAT
n_client iptables-legacy -t nat -A VPNSTEER-SNAT -s 10.20.$ID_A.0/24 -j MASQUERADE
expect_status "Reload succeeds" 0 lab_steer_call Reload
expect_nat_table "Reload repaired the chain and the hook" "$expected_ab"

echo "== B leaves the spec"
"$LAB_PYTHON" - "$LAB_SPEC" "$B" <<-'EOF_PY'
	import json, sys
	path, name = sys.argv[1], sys.argv[2]
	spec = json.load(open(path))
	del spec["vpns"][name]
	json.dump(spec, open(path, "w"), indent=2)
EOF_PY
expect_status "Reload without B succeeds" 0 lab_steer_call Reload
expect_nat_table "B's rule is gone, A's stays" "$(grep -v "10.20.$ID_B.0/24" <<<"$expected_ab")"
expect "vpnsteerd journalled the removal" "removed nat rule VPNSTEER-SNAT -s 10\.20\.$ID_B\.0/24" \
	cat "$(lab_log vpnsteerd)"
expect_exit "app after B left" app "$EXIT4_A" ""

expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
