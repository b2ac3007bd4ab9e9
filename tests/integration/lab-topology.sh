#!/usr/bin/env bash
# The lab itself, without vpnsteer: the ground truth every later test relies on.
#
#   [inet] echo, public DNS ── [wan] NAT, ISP resolver, leak meter ── [client] ── [app]
#      └──── [vpn] provider "one": wireguard-go, exit 198.51.100.1 / 2001:db8:198::1
#
# The client's tunnel is wireguard-go configured by `wg set`, and the routing is
# wg-quick's, added by `ip` commands (wg-quick(8): fwmark on the device, `not
# fwmark M lookup T` and `lookup main suppress_prefixlength 0`). The test shows:
# - without the rules, inet sees wan's address and the leak meter counts;
# - with them, inet sees the VPN's exit, and the meter stays at 0 while the
#   tunnel counter grows (so the meter tells tunnel packets from leaks);
# - the ISP resolver counts queries sent to it and none sent through the tunnel;
# - the app namespace on a bridge exits through the VPN whether or not the
#   client does (bridge, rule and SNAT made by hand here);
# - deleting the tunnel leaks without a kill-switch route and does not with
#   one (the meter sees the difference that vpnsteer's kill switch makes).
#
# Usage: lab-topology.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$here/../lib/skip.sh"

require_root
require_command ip nsenter unshare wireguard-go wg iptables-legacy ip6tables-legacy \
	dnsmasq dig python3
# shellcheck source=tests/lib/lab.sh
source "$here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$here/../lib/assert.sh"

lab_init lab-topology 110
lab_topology || {
	echo "FAIL: the lab topology did not come up" >&2
	exit 1
}
lab_vpn_provider one 1 || {
	echo "FAIL: the VPN provider did not come up" >&2
	exit 1
}
device=wg$LAB_ID
mark=51820 # wg-quick's defaults: fwmark and table 51820
table=51820
lab_client_tunnel one "$device" "$mark" || {
	echo "FAIL: the client's tunnel did not come up" >&2
	exit 1
}
for family in 4 6; do
	n_client ip "-$family" route add default dev "$device" table "$table"
done

exit4=${LAB_VPN_EXIT4[one]}
exit6=${LAB_VPN_EXIT6[one]}
re4() { re_escape "$1"; }

# The meters as lines for expect, which polls a command's output.
leaks() { echo "leaked packets: $(lab_leak_count)"; }
tunnel_packets() { echo "tunnel packets: $(lab_tunnel_packets one)"; }

echo "== without rules: the client exits through wan"
lab_leak_reset
for proto in tcp udp; do
	expect "$proto over IPv4 arrives from wan's address" "^$(re4 "$LAB_WAN_PUBLIC4")$" \
		lab_echo client "$proto" "$LAB_INET4"
	expect "$proto over IPv6 arrives from wan's address" "^$(re4 "$LAB_WAN_PUBLIC6")$" \
		lab_echo client "$proto" "$LAB_INET6"
done
expect "the leak meter counts the packets that bypassed the tunnel" \
	"^leaked packets: [1-9][0-9]*$" leaks

lab_dns_reset
expect "the ISP resolver answers the client (forwarding to the public DNS)" \
	"^$(re4 "$LAB_INET4")$" n_client dig +time=1 +tries=1 +short "@$LAB_ISP_DNS4" "echo.$LAB_DOMAIN" A
expect_equal "the DNS-leak meter counted that one query" 1 "$(lab_dns_queries)"

echo "== wg-quick's rules: the client exits through the VPN"
for family in 4 6; do
	n_client ip "-$family" rule add not fwmark "$mark" table "$table"
	n_client ip "-$family" rule add table main suppress_prefixlength 0
done
lab_leak_reset
lab_dns_reset
for proto in tcp udp; do
	expect "$proto over IPv4 arrives from the VPN exit" "^$(re4 "$exit4")$" \
		lab_echo client "$proto" "$LAB_INET4"
	expect "$proto over IPv6 arrives from the VPN exit" "^$(re4 "$exit6")$" \
		lab_echo client "$proto" "$LAB_INET6"
done
expect "the tunnel completed a handshake" '^[0-9]+$' lab_handshake_age "$device"
expect "the public DNS answers through the tunnel" "^$(re4 "$LAB_INET4")$" \
	n_client dig +time=1 +tries=1 +short "@$LAB_PUBLIC_DNS4" "echo.$LAB_DOMAIN" A
lab_traffic_start client steady "$LAB_INET4" "$LAB_INET6"
traffic_lines_at_least() { (($(lab_traffic_lines "$1") >= $2)); }
wait_for -t 10 traffic_lines_at_least steady 40
lab_traffic_stop steady
expect_equal "continuous traffic: every answer comes from the VPN exit" \
	"$(printf '%s\n' "tcp $LAB_INET4 $exit4" "tcp $LAB_INET6 $exit6" \
		"udp $LAB_INET4 $exit4" "udp $LAB_INET6 $exit6" | LC_ALL=C sort)" \
	"$(lab_traffic_answers steady | awk '{ print $2, $3, $4 }')"
expect_equal "the leak meter stays at 0" "leaked packets: 0" "$(leaks)"
expect "the tunnel's own packets crossed wan, and were not counted as leaks" \
	"^tunnel packets: [1-9][0-9]*$" tunnel_packets
expect_equal "no query reached the ISP resolver" 0 "$(lab_dns_queries)"

echo "== the app namespace on a bridge: through the VPN, with or without the client"
app_id=7
n_client ip link add "br-$LAB_ID" type bridge
n_client ip addr add "10.20.$app_id.1/24" dev "br-$LAB_ID"
n_client ip link set "br-$LAB_ID" up
n_client ip rule add from "10.20.$app_id.0/24" table "$table" priority $((200 + app_id))
# The provider accepts only the client's tunnel address: SNAT to it (vpnsteer's
# bridge SNAT, made by hand).
n_client iptables-legacy -t nat -A POSTROUTING -s "10.20.$app_id.0/24" -o "$device" -j MASQUERADE
lab_app_attach "br-$LAB_ID" "$app_id"
for proto in tcp udp; do
	expect "app: $proto arrives from the VPN exit" "^$(re4 "$exit4")$" \
		lab_echo app "$proto" "$LAB_INET4"
done
for family in 4 6; do
	n_client ip "-$family" rule del not fwmark "$mark" table "$table"
done
expect "client without the system-wide rule: from wan again" "^$(re4 "$LAB_WAN_PUBLIC4")$" \
	lab_echo client tcp "$LAB_INET4"
lab_leak_reset
for proto in tcp udp; do
	expect "app: $proto still arrives from the VPN exit" "^$(re4 "$exit4")$" \
		lab_echo app "$proto" "$LAB_INET4"
done
expect_equal "the app's traffic did not leak" "leaked packets: 0" "$(leaks)"
for family in 4 6; do
	n_client ip "-$family" rule add not fwmark "$mark" table "$table"
done

echo "== the tunnel disappears: a leak without a kill switch, none with one"
for family in 4 6; do
	n_client ip "-$family" route add unreachable default metric 4294967295 table "$table"
done
lab_stop "client-wg-$device" KILL
expect "the tunnel device is gone" "does not exist" n_client ip link show dev "$device"
lab_leak_reset
for proto in tcp udp; do
	expect_status "kill switch: $proto over IPv4 gets no answer" 1 \
		lab_echo client "$proto" "$LAB_INET4"
	expect_status "kill switch: $proto over IPv6 gets no answer" 1 \
		lab_echo client "$proto" "$LAB_INET6"
done
expect_equal "kill switch: the leak meter stays at 0" "leaked packets: 0" "$(leaks)"
for family in 4 6; do
	n_client ip "-$family" route del unreachable default metric 4294967295 table "$table"
done
expect "no kill switch: the client falls back to wan" "^$(re4 "$LAB_WAN_PUBLIC4")$" \
	lab_echo client tcp "$LAB_INET4"
expect "no kill switch: the leak meter counts it" "^leaked packets: [1-9][0-9]*$" leaks

assert_done
