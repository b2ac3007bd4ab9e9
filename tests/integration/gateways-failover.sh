#!/usr/bin/env bash
# Several gateways per VPN (issue 7): vpnsteerd keeps one of three gateways active, and
# when the active one dies under traffic it moves on, each gateway once before any repeat,
# without a leak. (The lab: tests/integration/gateways-lab.sh.)
#
# 1. The active gateway X is killed: within 30 s inet sees the traffic from another
#    gateway Y's exit; X's result on D-Bus is "silent".
# 2. X comes back to life, then Y is killed: vpnsteerd moves to the third gateway Z, not to
#    X, although X answers again: every peer is tried before any repeat (the journal's
#    "trying peer" lines name three different gateways first).
# 3. The leak meter reads 0 for the whole run.
# 4. Each change of the active gateway is announced (PropertiesChanged of ActivePeer and
#    Peers, seen by `busctl monitor`), and `vpnsteer status` (when given) shows it.
#
# The spec names the gateways by host name, so each attempt also goes through vpnsteerd's
# resolution through the uplink (a name's addresses used up are resolved again).
#
# Usage: gateways-failover.sh VPNSTEERD VPNSTEER_GENERATOR [VPNSTEER]
set -euo pipefail
# shellcheck source=tests/integration/gateways-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/gateways-lab.sh"
gateways_init gateways-failover 280 "${1:-}" "${2:-}" --names

target=30
vpnsteer=${3:+$(realpath "$3")}
lab_spawn client monitor busctl --system monitor \
	--match "type='signal',member='PropertiesChanged',path='/org/vpnsteer1/vpn/$G'" ||
	e2e_abort "busctl monitor did not start"
announced() { grep -c "\"$1\"" "$(lab_log monitor)" || true; }
before=$(announced ActivePeer)
lab_leak_reset
lab_traffic_start client traffic "$LAB_INET4"

# kill_active WHAT: the active gateway dies under traffic; traffic must come back through
# another within the target. Sets VICTIM and NOW_ACTIVE.
kill_active() {
	gateways_failover || e2e_abort "$1: no failover within 90 s"
	VICTIM=$FAILOVER_VICTIM NOW_ACTIVE=$(gateways_active)
	echo "killed $VICTIM, traffic back through $NOW_ACTIVE after $FAILOVER_SECONDS s"
	expect_status "$1: traffic resumes within $target s (took $FAILOVER_SECONDS s)" 0 \
		awk -v s="$FAILOVER_SECONDS" -v t="$target" 'BEGIN { exit !(s <= t) }'
}

echo "== kill the active gateway"
kill_active "first kill"
x=$VICTIM y=$NOW_ACTIVE
expect_status "another gateway is active" 1 test "$y" == "$x"
expect "the killed gateway's result is \"silent\"" "\"$x\" \"[^\"]*\" \"silent\"" \
	gateways_property Peers
expect "the new gateway's result is \"alive\"" "\"$y\" \"[^\"]*\" \"alive\"" \
	gateways_property Peers
expect_status "the change of ActivePeer was announced (PropertiesChanged)" 0 \
	test "$(announced ActivePeer)" -gt "$before"
expect_status "the change of Peers was announced (PropertiesChanged)" 0 \
	test "$(announced Peers)" -gt 0
if [[ -n "$vpnsteer" ]]; then
	expect "vpnsteer status shows the active peer" "^  active peer: $y\$" \
		lab_exec client "$vpnsteer" status "$G"
	expect "vpnsteer status shows the dead one" "^  peer $x: [^,]*, silent \(" \
		lab_exec client "$vpnsteer" status "$G"
	expect "vpnsteer status --json has activePeer" "\"activePeer\": \"$y\"" \
		lab_exec client "$vpnsteer" status "$G" --json
fi

echo "== $x is back; kill $y"
lab_gateway_revive "$x" || e2e_abort "$x did not come back"
kill_active "second kill"
z=$NOW_ACTIVE
expect_status "the third gateway, not $x again: each peer once before any repeat" 0 \
	test "$z" != "$x" -a "$z" != "$y"
tried=$(sed -n "s/.*trying peer \([a-z0-9]*\) of $G.*/\1/p" "$(lab_log vpnsteerd)" | head -n 3)
expect_equal "the journal's first three attempts are three different gateways" 3 \
	"$(sort -u <<<"$tried" | wc -l)"

lab_traffic_stop traffic
expect_status "the leak meter stayed at 0" 0 test "$(lab_leak_count)" == 0
[[ "$(lab_leak_count)" == 0 ]] || lab_leak_report
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
