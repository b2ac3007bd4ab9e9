#!/usr/bin/env bash
# End to end (issue 4 items 3 and 4): the endpoint is a host name, and the provider moves.
#
#   [inet] echo, public DNS (NAME.vpn.lab.example) ── [wan] NAT, ISP resolver, leak meter
#      │                                                    └── [client] networkd, vpnsteerd
#      └── [vpn] provider A: 198.51.100.1, later also 198.51.100.101 (exit stays .1)
#
# VPN A's endpoint is A.vpn.lab.example:51821. vpnsteerd resolves it itself through the
# uplink (the ISP resolver, from the client's resolv.conf), with its DNS socket carrying
# the WAN mark: A is system-wide throughout, so an unmarked query would enter A's tunnel
# and never reach the ISP resolver. vpnsteerd runs with --resolve-interval 3.
# - at start, the device's peer has the name's address, and the Vpn object shows it
#   (Endpoint), with the tunnel's PublicKey;
# - the provider moves (lab_vpn_move: new address, new DNS record, the old one dropped);
#   within the re-resolve interval (plus a tick) the peer's endpoint is the new address,
#   the traffic comes back from A's exit, and the leak meter stays at 0.
#
# Usage: e2e-endpoint.sh VPNSTEERD VPNSTEER_GENERATOR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/e2e-lab.sh
source "$here/e2e-lab.sh" # e2e_require, expect_traffic, e2e_more_questions
e2e_require "${1:-}" "${2:-}"
vpnsteerd=$VPNSTEERD generator=$GENERATOR

interval=3
lab_init e2e-endpoint 110
lab_topology || { echo "FAIL: the lab did not come up" >&2; exit 1; }
A=a$LAB_ID
lab_vpn_provider "$A" 1 || { echo "FAIL: provider A did not come up" >&2; exit 1; }
exit4=${LAB_VPN_EXIT4[$A]} exit6=${LAB_VPN_EXIT6[$A]}
old=${LAB_VPN_ENDPOINT[$A]}
lab_steer_spec "$A:1:name"
LAB_STEER_ARGS="--resolve-interval $interval"
lab_steer_start "$generator" "$vpnsteerd" || { echo "FAIL: the client did not come up" >&2; exit 1; }

vpn_property() {
	lab_exec client busctl --system get-property org.vpnsteer1 "/org/vpnsteer1/vpn/$A" \
		org.vpnsteer1.Vpn "$1"
}
echo "== the endpoint $A.vpn.lab.example resolves to $old"
expect "the spec names the host" "\"endpoint\": \"$(re_escape "${LAB_VPN_HOSTNAME[$A]}"):51821\"" \
	cat "$LAB_SPEC"
expect "the peer's endpoint is its address" "	$(re_escape "$old")\$" n_client wg show "$A" endpoints
expect "Endpoint shows it" "^s \"$(re_escape "$old")\"\$" vpn_property Endpoint
expect "PublicKey is the tunnel's" \
	"^s \"$(re_escape "$(wg pubkey <"${LAB_VPN_CLIENT_KEY[$A]}")")\"\$" vpn_property PublicKey
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
lab_leak_reset
expect "A system-wide: tcp over IPv4 from its exit" "^$(re_escape "$exit4")\$" \
	lab_echo client tcp "$LAB_INET4"
expect "LatestHandshake is set" '^t [1-9][0-9]*$' vpn_property LatestHandshake
expect "RxBytes counts" '^t [1-9][0-9]*$' vpn_property RxBytes

echo "== the provider moves to 198.51.100.101"
lab_traffic_start client traffic "$LAB_INET4" "$LAB_INET6"
moved_at=$EPOCHREALTIME
lab_vpn_move "$A" 198.51.100.101
new=${LAB_VPN_ENDPOINT[$A]}
wait_for -t $((interval + 15)) sh -c "nsenter -t ${LAB_HOLDER[client]} -m -n wg show $A endpoints | grep -qF '$new'" || true
elapsed=$(awk -v a="$moved_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a + 0.999 }')
expect "the peer follows to $new" "	$(re_escape "$new")\$" n_client wg show "$A" endpoints
expect_status "it did so within the interval ($interval s) and a tick: took ${elapsed} s" 0 \
	test "$elapsed" -le $((interval + 2))
expect "Endpoint shows $new" "^s \"$(re_escape "$new")\"\$" vpn_property Endpoint
from=$(($(lab_traffic_lines traffic) + 1))
e2e_more_questions traffic 100
lab_traffic_stop traffic
# A question in flight at the moment of the update may go unanswered.
expect_traffic "after the move: answers from A's exit" traffic "$from" 2 "$exit4" "$exit6"
expect_traffic "all along: no answer from wan's address" traffic 1 100000 "$exit4" "$exit6"
count=$(lab_leak_count)
expect_equal "all along: the leak meter stays at 0" 0 "$count"
expect "the tunnel's packets went to the new address" '^[1-9][0-9]*$' \
	_lab_counter iptables-legacy "tunnel $A moved"
expect "vpnsteerd said so" "now resolves to $(re_escape "$new")" cat "$(lab_log vpnsteerd)"
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
