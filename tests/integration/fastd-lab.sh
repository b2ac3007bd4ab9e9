#!/usr/bin/env bash
# fastd as a tunnel protocol (issue 8), end to end in the lab with two real fastd 22 pairs.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd, fastd × 2
#      └── [vpn] fastd providers A (exit 198.51.100.1) and B (exit 198.51.100.2), each
#                offering null, null+salsa2012+umac, salsa2012+umac in that order
#
#   VPN A: id 1, configurable, transportMode secure, methods [salsa2012+umac, null]
#   VPN B: id 2, not configurable, methods [null+salsa2012+umac, salsa2012+umac], its remote
#          given by host name (fastd resolves it)
#   VPN C: id 4, WireGuard (wireguard-go): the two protocols side by side
#
# The client's fastd instances are the generated vpn-NAME-fastd.service units, run by
# tests/lib/unit-supervisor.sh (the lab has no systemd); vpnsteerd restarts them through its
# pid files (--restart-by-pid-file). What is checked:
# - the generated config is mode 0600, fastd runs in group vpnsteer-wan, and both
#   handshakes complete;
# - the method is the one the lists imply, on vpnsteerd's Vpn object (read from the client's
#   status socket) and in the provider's own status socket;
# - SetTransportMode switches A between null (performance) and salsa2012+umac (secure), the
#   choice is stored and outlives a restart of vpnsteerd, and bad calls get named errors;
# - system-wide A, a transport-mode switch (a fastd restart) and a Switch to B under
#   continuous traffic, then a Switch to the WireGuard VPN C: answers only from the VPNs'
#   exits, the leak meter stays at 0.
#
# - `vpnsteer status` shows each fastd VPN's transport mode, connected peer, method and
#   established time, in text and in --json.
#
# Usage: fastd-lab.sh VPNSTEERD VPNSTEER_GENERATOR VPNSTEER
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"

usage="usage: $0 VPNSTEERD VPNSTEER_GENERATOR VPNSTEER"
VPNSTEERD=$(realpath "${1:?$usage}")
generator=$(realpath "${2:?$usage}")
VPNSTEER=$(realpath "${3:?$usage}")
require_root
require_command ip nsenter unshare fastd wireguard-go wg iptables-legacy ip6tables-legacy dnsmasq dig python3 jq \
	dbus-daemon busctl /lib/systemd/systemd-networkd
[[ -c /dev/net/tun ]] || skip_test "fastd needs /dev/net/tun"
# shellcheck source=tests/lib/lab.sh
source "$e2e_here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$e2e_here/../lib/assert.sh"

lab_init fastd 260
lab_topology || e2e_abort "the lab topology did not come up"
# fastd runs in group vpnsteer-wan (its config says so): the group the package creates.
lab_project_groups client || e2e_abort "could not give the client the project's groups"
A=a$LAB_ID B=b$LAB_ID C=c$LAB_ID
provider_methods=(null null+salsa2012+umac salsa2012+umac)
lab_fastd_provider "$A" 1 "${provider_methods[@]}" || e2e_abort "provider A did not come up"
lab_fastd_provider "$B" 2 "${provider_methods[@]}" || e2e_abort "provider B did not come up"
lab_vpn_provider "$C" 4 || e2e_abort "provider C did not come up"
LAB_STEER_EXTRA[$A]='"configurable": true, "transportMode": "secure", "methods": ["salsa2012+umac", "null"]'
LAB_STEER_EXTRA[$B]='"methods": ["null+salsa2012+umac", "salsa2012+umac"]'
lab_steer_spec "$A:1" "$B:2:name" "$C:4" || e2e_abort "could not write the spec"
lab_steer_start "$generator" "$VPNSTEERD" || e2e_abort "the client did not come up"
EXIT4_A=${LAB_VPN_EXIT4[$A]} EXIT6_A=${LAB_VPN_EXIT6[$A]}
EXIT4_B=${LAB_VPN_EXIT4[$B]} EXIT6_B=${LAB_VPN_EXIT6[$B]}
EXIT4_C=${LAB_VPN_EXIT4[$C]} EXIT6_C=${LAB_VPN_EXIT6[$C]}
echo "lab $LAB_ID up: VPN A = $A (exit $EXIT4_A), VPN B = $B (exit $EXIT4_B)"

# vpn_property VPN NAME: a property of org.vpnsteer1.Vpn, as busctl prints it.
vpn_property() {
	n_client busctl --system get-property org.vpnsteer1 "/org/vpnsteer1/vpn/$1" \
		org.vpnsteer1.Vpn "$2"
}
vpn_call() {
	local vpn=$1
	shift
	n_client busctl --system call org.vpnsteer1 "/org/vpnsteer1/vpn/$vpn" org.vpnsteer1.Vpn "$@"
}
provider_method() {
	lab_fastd_method vpn "/run/fastd-${LAB_VPN_DEVICE[$1]}.sock"
}
# expect_method VPN METHOD: both ends of VPN's tunnel use METHOD. After a restart of the
# client's fastd the provider answers a new handshake only once its own rate limit allows
# (about 15 s after the previous one), and the client tries again every 20 s or so: hence
# the longer wait.
expect_method() {
	local EXPECT_TIMEOUT=$((EXPECT_TIMEOUT > 45 ? EXPECT_TIMEOUT : 45))
	expect "$1: vpnsteerd shows method $2" "^s \"$(re_escape "$2")\"\$" vpn_property "$1" Method
	expect "$1: the provider's fastd uses $2" "$(re "$2")" provider_method "$1"
}

echo "== The generated fastd config, and the handshakes"
expect_equal "A's fastd config is mode 0600" 600 \
	"$(n_client stat -c %a "/run/vpnsteer/fastd/$A.conf")"
for vpn in "$A" "$B"; do
	expect "$vpn: connected to peer gw" '^s "gw"$' vpn_property "$vpn" ConnectedPeer
	expect "$vpn: Established is set" '^t [1-9][0-9]*$' vpn_property "$vpn" Established
	expect "$vpn: Endpoint is the provider's" "^s \"$(re_escape "${LAB_VPN_ENDPOINT[$vpn]}")\"\$" \
		vpn_property "$vpn" Endpoint
done
# No VPN is system-wide yet, so fastd's lookup went where the host's do: the uplink's resolver.
# (While one is, the WAN DNS forwarder takes the queries of group vpnsteer-wan there.)
expect "fastd looked up B's remote ${LAB_VPN_HOSTNAME[$B]}" "query\\[A\\] $(re_escape "${LAB_VPN_HOSTNAME[$B]}")" \
	cat "$(lab_log isp-dns)"
expect_method "$A" salsa2012+umac
expect_method "$B" null+salsa2012+umac
# Its remote lookups then go where the WAN group's DNS goes (the WAN DNS forwarder).
wan_gid=$(n_client getent group vpnsteer-wan | cut -d: -f3)
expect "A's fastd runs in group vpnsteer-wan ($wan_gid)" "^Gid:\s+$wan_gid\s+$wan_gid\s" \
	grep '^Gid:' "/proc/$(cat "$LAB_DIR/units/vpn-$A-fastd.service.pid")/status"
expect "A is in secure mode" '^s "secure"$' vpn_property "$A" TransportMode
expect "B has no transport mode" '^s ""$' vpn_property "$B" TransportMode

echo "== vpnsteer status shows the fastd connections"
# status_of VPN: the lines of VPN's block in `vpnsteer status`, from "vpn: VPN" to the blank line.
status_of() {
	n_client "$VPNSTEER" status | sed -n "/^vpn: $1\$/,/^\$/p"
}
# status_json VPN FILTER: FILTER (jq) applied to VPN's object in `vpnsteer status --json`.
status_json() {
	n_client "$VPNSTEER" status --json | jq -c --arg vpn "$1" ".vpns[] | select(.name == \$vpn) | $2"
}
expect "status: A's transport mode" '^  transport mode: secure$' status_of "$A"
expect "status: A's connected peer" '^  connected peer: gw$' status_of "$A"
expect "status: A's method" '^  method: salsa2012\+umac$' status_of "$A"
expect "status: A's connection age" '^  established: [0-9].* ago$' status_of "$A"
expect "status: B's methods are fixed" '^  transport mode: \(not configurable\)$' status_of "$B"
expect "status: B's method" '^  method: null\+salsa2012\+umac$' status_of "$B"
expect_no "status: no WireGuard handshake line for a fastd VPN" 'latest handshake' status_of "$A"
expect "status --json: A's fastd keys" \
	'^\["secure","gw","salsa2012\+umac",true\]$' \
	status_json "$A" '[.transportMode, .connectedPeer, .method, .established > 0]'
expect "status --json: B's transport mode is null" '^null$' status_json "$B" .transportMode
expect "status --json: WireGuard C has null fastd keys" '^\[null,null,null,null\]$' \
	status_json "$C" '[.transportMode, .connectedPeer, .method, .established]'

echo "== Bad SetTransportMode calls"
# set_mode_reply VPN MODE: dbus-send's answer to SetTransportMode (it names the error).
set_mode_reply() {
	n_client dbus-send --system --print-reply --dest=org.vpnsteer1 "/org/vpnsteer1/vpn/$1" \
		org.vpnsteer1.Vpn.SetTransportMode "string:$2" 2>&1 || true
}
expect "SetTransportMode(fast): InvalidArgument" \
	'^Error org\.vpnsteer1\.Error\.InvalidArgument: transport mode must be "secure" or "performance", got "fast"$' \
	set_mode_reply "$A" fast
expect "SetTransportMode on B: NotConfigurable" \
	"^Error org\.vpnsteer1\.Error\.NotConfigurable: VPN \"$B\" is not configurable" \
	set_mode_reply "$B" performance
expect "SetTransportMode on WireGuard C: WrongProtocol" \
	"^Error org\.vpnsteer1\.Error\.WrongProtocol: VPN \"$C\" is a wireguard VPN" \
	set_mode_reply "$C" performance
expect "A is still in secure mode" '^s "secure"$' vpn_property "$A" TransportMode

echo "== A system-wide; performance, then a Switch to B, under traffic"
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A system-wide" client "$EXIT4_A" "$EXIT6_A"
lab_leak_reset
lab_traffic_start client traffic "$LAB_INET4" "$LAB_INET6"
e2e_more_questions traffic 50
expect_status "SetTransportMode(performance) on A succeeds" 0 \
	vpn_call "$A" SetTransportMode s performance
expect "A is in performance mode" '^s "performance"$' vpn_property "$A" TransportMode
expect_equal "the choice is stored" VPNSTEER_TRANSPORT_MODE=performance \
	"$(cat "$LAB_DIR/state/fastd/$A.mode")"
expect_method "$A" null
from=$(($(lab_traffic_lines traffic) + 1))
e2e_more_questions traffic 60
expect_traffic "after the restart of A's fastd: answers from A's exit" traffic "$from" 2 \
	"$EXIT4_A" "$EXIT6_A"

expect_status "Switch($B) succeeds" 0 lab_steer_call Switch s "$B"
expect_system_wide "SystemWide is $B" "$B"
from=$(($(lab_traffic_lines traffic) + 1))
e2e_more_questions traffic 60
expect_traffic "after the switch to B: answers from B's exit" traffic "$from" 2 \
	"$EXIT4_B" "$EXIT6_B"

expect_status "Switch($C) to WireGuard succeeds" 0 lab_steer_call Switch s "$C"
expect_system_wide "SystemWide is $C" "$C"
from=$(($(lab_traffic_lines traffic) + 1))
e2e_more_questions traffic 60
expect_traffic "after the switch to C: answers from C's exit" traffic "$from" 2 \
	"$EXIT4_C" "$EXIT6_C"
lab_traffic_stop traffic
# Unanswered ones are allowed here: while A's fastd reconnects, its kill switch holds them.
expect_traffic "all along: answers from the VPNs' exits only" traffic 1 200 \
	"$EXIT4_A" "$EXIT6_A" "$EXIT4_B" "$EXIT6_B" "$EXIT4_C" "$EXIT6_C"
expect_no_leak "all along: the leak meter stays at 0"

echo "== The choice outlives vpnsteerd"
lab_stop vpnsteerd
lab_steer_start_daemon "$VPNSTEERD" || e2e_abort "vpnsteerd did not start again"
expect "after a restart of vpnsteerd, A is still in performance mode" '^s "performance"$' \
	vpn_property "$A" TransportMode
expect_method "$A" null

echo "== Back to secure"
expect_status "SetTransportMode(secure) on A succeeds" 0 vpn_call "$A" SetTransportMode s secure
expect_method "$A" salsa2012+umac
expect_status "Down($C) succeeds" 0 lab_steer_call Down s "$C"
expect_system_wide "nothing is system-wide" ""
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
