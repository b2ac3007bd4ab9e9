#!/usr/bin/env bash
# The uplink-only components (issue 6) while a VPN is system-wide and its server is down: the
# WAN DNS forwarder vpnsteerd hosts, `vpnsteer wan` (libpacketmark.so), the WAN-mark rules, and
# the DNS redirect of the group vpnsteer-wan, with nss-resolve too.
#
#   [inet] echo, public DNS ── [wan] ISP resolver (counts queries), NAT ── [client] resolved,
#      └── [vpn] provider A (stopped half-way)                      networkd, dbus, vpnsteerd
#
# The uplink's DNS (networkd's DNS=, so resolved's per-link DNS of up0) is the ISP resolver;
# A's DNS is inet's public DNS, through A's tunnel. With A system-wide and its provider gone,
# nothing the client sends unmarked gets out, and resolved has only A's DNS to ask.
#
# - The forwarder serves 127.0.0.1:54 and [::1]:54 and asks the uplink's resolver, as resolved
#   knows it, following it as it changes; `dig -p 54 @127.0.0.1` answers through the uplink (ISP resolver's count and the
#   forwarder's D-Bus counters go up).
# - `vpnsteer wan -- CMD` reaches inet from wan's address; the same CMD without it gets nothing.
# - A process of the group vpnsteer-wan asking 127.0.0.53, 127.0.0.1 or ::1, UDP and TCP, gets its
#   answer from the forwarder; root's query to 127.0.0.53 does not get out.
# - With nss-resolve: getent in the group, with resolved's varlink socket out of reach (what
#   units/vpnsteer-wan-dns.conf does), resolves through the forwarder; with the socket in
#   reach it does not.
# - A static upstream that never answers (Reload with wan.dns.servers) gives SERVFAIL before
#   dig's own timeout; without resolved and static servers, vpnsteerd says so and serves on.
#
# Usage: wan-uplink.sh VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR VPNSTEER LIBPACKETMARK
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$here/../lib/skip.sh"
require_root
require_command setpriv getent
VPNSTEER=$(realpath "${4:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR VPNSTEER LIBPACKETMARK}")
LIBPACKETMARK=$(realpath "${5:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR VPNSTEER LIBPACKETMARK}")
# shellcheck source=tests/integration/bridges-dns-lab.sh
source "$here/bridges-dns-lab.sh"
# The groups of the project's own sysusers.d file, with ids no entry of the host's /etc/group
# uses, in an /etc/group of the client's mount namespace only: the host's is never touched.
wan_groups() {
	local gid=4300 name
	cp /etc/group "$LAB_DIR/group"
	while read -r name; do
		while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
		echo "$name:x:$gid:" >>"$LAB_DIR/group"
		gid=$((gid + 1))
	done < <(awk '$1 == "g" { print $2 }' "$here/../../units/sysusers-vpnsteer.conf")
	chmod 0644 "$LAB_DIR/group"
	n_client mount --bind "$LAB_DIR/group" /etc/group
}
bridges_dns_init wan-uplink 240 "$1" "$2" "$3"
BUILD_DIR=$3
NAME=echo.$LAB_DOMAIN
ANSWER=$(re_escape "$LAB_INET4")

wandns() {
	n_client busctl --system get-property org.vpnsteer1 /org/vpnsteer1/wandns \
		org.vpnsteer1.WanDns "$1"
}
# counter NAME: the forwarder's counter as a bare number.
counter() {
	local value
	value=$(wandns "$1") || return 1
	echo "${value#t }"
}
isp_queries() {
	echo "ISP resolver queries: $(lab_dns_queries)"
}
# queries_grew BEFORE: the forwarder's Queries counter is above BEFORE.
queries_grew() {
	echo "forwarder queries: $(counter Queries) (before: $1)"
	(($(counter Queries) > $1))
}
# as_wan_group CMD...: CMD in the client with vpnsteer-wan as its only group.
as_wan_group() {
	n_client setpriv --regid vpnsteer-wan --clear-groups "$@"
}
wan_mark() {
	n_client env VPNSTEER_PACKETMARK_LIBRARY="$LIBPACKETMARK" "$VPNSTEER" wan --spec "$LAB_SPEC" -- "$@"
}

echo "== vpnsteerd hosts the forwarder and keeps the uplink's rules"
expect "the forwarder listens on 127.0.0.1:54 and [::1]:54" \
	'^as 2 "127\.0\.0\.1:54" "\[::1\]:54"$' wandns Listen
expect "its upstream is the uplink's resolver, from resolved" \
	"^as 1 \"$(re_escape "$LAB_ISP_DNS4"):53\"$" wandns Upstreams
expect "UpstreamSource names resolved" '^s "systemd-resolved"$' wandns UpstreamSource
expect "its upstream sockets carry the WAN mark" '^u 10000$' wandns FirewallMark
expect "IPv4: WAN-marked packets use main at 80" "^80:.*fwmark 0x2710 lookup main proto 118" \
	n_client ip -4 rule show
expect "IPv6: WAN-marked packets use main at 80" "^80:.*fwmark 0x2710 lookup main proto 118" \
	n_client ip -6 rule show
n_client ip -6 rule del priority 80 fwmark 10000 lookup main
expect "a deleted WAN rule is put back" "^80:.*fwmark 0x2710 lookup main proto 118" \
	n_client ip -6 rule show
expect_equal "OUTPUT jumps to the redirect chain once, first" "-A OUTPUT -j VPNSTEER-WANDNS" \
	"$(n_client iptables-legacy -t nat -S OUTPUT | grep -- '^-A' | head -n 1)"
if getent group vpnsteer-wan >/dev/null; then
	echo "the machine has the group vpnsteer-wan: its own serves"
else
	expect "without the group, vpnsteerd says the redirect is off" \
		"the group vpnsteer-wan does not exist .*everything else works" cat "$(lab_log vpnsteerd)"
	expect_equal "and the redirect chain is empty" "-N VPNSTEER-WANDNS" \
		"$(n_client iptables-legacy -t nat -S VPNSTEER-WANDNS)"
	wan_groups
	expect_status "Reload once the group exists succeeds" 0 lab_steer_call Reload
fi
gid=$(n_client getent group vpnsteer-wan | cut -d: -f3)
expect "sysusers.d/vpnsteer.conf has the group vpnsteer-wan" "^[0-9]+$" echo "$gid"
redirect_rules() {
	local server proto
	echo "-N VPNSTEER-WANDNS"
	for server in 127.0.0.1 127.0.0.53; do
		for proto in udp tcp; do
			echo "-A VPNSTEER-WANDNS -d $server/32 -p $proto -m owner --gid-owner $gid" \
				"--suppl-groups -m $proto --dport 53 -j DNAT --to-destination 127.0.0.1:54"
		done
	done
}
redirect_rules6() {
	local proto
	echo "-N VPNSTEER-WANDNS"
	for proto in udp tcp; do
		echo "-A VPNSTEER-WANDNS -d ::1/128 -p $proto -m owner --gid-owner $gid" \
			"--suppl-groups -m $proto --dport 53 -j DNAT --to-destination [::1]:54"
	done
}
expect_equal "the IPv4 redirect chain: 127.0.0.1 and 127.0.0.53, UDP and TCP, to the forwarder" \
	"$(redirect_rules)" "$(n_client iptables-legacy -t nat -S VPNSTEER-WANDNS)"
expect_equal "the IPv6 redirect chain: ::1, UDP and TCP, to the forwarder" \
	"$(redirect_rules6)" "$(n_client ip6tables-legacy -t nat -S VPNSTEER-WANDNS)"
expect_equal "IPv6: OUTPUT jumps to the redirect chain once, first" "-A OUTPUT -j VPNSTEER-WANDNS" \
	"$(n_client ip6tables-legacy -t nat -S OUTPUT | grep -- '^-A')"
lab_steer_call Reload
lab_steer_call Reload
expect_equal "Reload changes nothing there" \
	"$(redirect_rules; redirect_rules6)" \
	"$(n_client iptables-legacy -t nat -S VPNSTEER-WANDNS; n_client ip6tables-legacy -t nat -S VPNSTEER-WANDNS)"

echo "== the uplink's DNS servers change: the forwarder follows"
uplink_dns() {
	n_client busctl --system call org.freedesktop.network1 /org/freedesktop/network1 \
		org.freedesktop.network1.Manager SetLinkDNS 'ia(iay)' \
		"$(n_client cat "/sys/class/net/$LAB_UPLINK/ifindex")" "$@"
}
# 192.0.2.1, then 2001:db8:2::1 (AF_INET6 = 10): both the ISP resolver's.
uplink_dns 2 2 4 192 0 2 1 10 16 32 1 13 184 0 2 0 0 0 0 0 0 0 0 0 1
start=${EPOCHREALTIME/./}
expect "Upstreams follows resolved's servers of the uplink" \
	'^as 2 "192\.0\.2\.1:53" "\[2001:db8:2::1\]:53"$' wandns Upstreams
echo "(after $(((${EPOCHREALTIME/./} - start) / 1000)) ms)"
uplink_dns 1 2 4 192 0 2 1
expect "and back" "^as 1 \"$(re_escape "$LAB_ISP_DNS4"):53\"$" wandns Upstreams

echo "== A system-wide, then A's server goes away"
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A carries the host" client "$EXIT4_A" ""
lab_stop "vpn-wg-${LAB_VPN_DEVICE[$A]}"
expect_status "nothing unmarked gets out any more" 1 lab_echo client udp "$LAB_INET4"
lab_dns_reset

echo "== the forwarder answers through the uplink"
before=$(counter Queries)
expect "dig -p 54 @127.0.0.1 answers" "$ANSWER" \
	n_client dig +short +time=3 +tries=1 -p 54 @127.0.0.1 "$NAME" A
expect "dig -p 54 @::1 over TCP answers" "$ANSWER" \
	n_client dig +short +tcp +time=3 +tries=1 -p 54 @::1 "$NAME" A
expect "the ISP resolver got the queries" "^ISP resolver queries: [1-9][0-9]*$" isp_queries
expect "the forwarder's D-Bus counter counted them" "^forwarder" queries_grew "$before"
expect "and its answers" "^t [1-9][0-9]*$" wandns Answers

echo "== vpnsteer wan reaches inet from the uplink's address"
expect "TCP over IPv4 from wan's address" "$(re "$LAB_WAN_PUBLIC4")" \
	wan_mark "$LAB_PYTHON" "$LAB_LIB_DIR/echo.py" ask tcp "$LAB_INET4" "$LAB_ECHO_PORT"
expect "UDP over IPv6 from wan's address" "$(re "$LAB_WAN_PUBLIC6")" \
	wan_mark "$LAB_PYTHON" "$LAB_LIB_DIR/echo.py" ask udp "$LAB_INET6" "$LAB_ECHO_PORT"
expect_status "the same without vpnsteer wan gets no answer" 1 lab_echo client tcp "$LAB_INET4"
expect "vpnsteer wan refuses a mark it cannot set" "cannot set the WAN mark 10000" \
	n_client setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
	env VPNSTEER_PACKETMARK_LIBRARY="$LIBPACKETMARK" "$VPNSTEER" wan --spec "$LAB_SPEC" -- true

echo "== the group vpnsteer-wan resolves through the forwarder"
for server in 127.0.0.53 127.0.0.1 ::1; do
	for transport in +notcp +tcp; do
		lab_dns_reset
		before=$(counter Queries)
		expect "group vpnsteer-wan asking $server ($transport) gets an answer" "$ANSWER" \
			as_wan_group dig +short "$transport" +time=3 +tries=1 "@$server" "$NAME" A
		expect "from the forwarder" "^forwarder" queries_grew "$before"
		expect "through the ISP resolver" "^ISP resolver queries: [1-9][0-9]*$" isp_queries
	done
done
expect_no "root asking 127.0.0.53 gets no answer (resolved asks A's DNS, A is down)" \
	"$ANSWER" n_client dig +short +time=3 +tries=1 @127.0.0.53 "$NAME" A

echo "== the group with nss-resolve"
if nss_dir=$(lab_extract_nss_resolve "$BUILD_DIR"); then
	printf 'hosts: files resolve [!UNAVAIL=return] dns\n' >"$LAB_DIR/nsswitch.conf"
	n_client mount --bind "$LAB_DIR/nsswitch.conf" /etc/nsswitch.conf
	expect "nss-resolve answers (resolved's synthesized _gateway)" \
		"^$(re_escape "$LAB_ISP_DNS4") " \
		n_client env LD_LIBRARY_PATH="$nss_dir" getent ahostsv4 _gateway
	# What InaccessiblePaths= of units/vpnsteer-wan-dns.conf does, in a mount namespace of
	# the command's own.
	socket=/run/systemd/resolve/io.systemd.Resolve
	lab_dns_reset
	before=$(counter Queries)
	expect "with resolved's socket out of reach, getent in the group resolves" "^$ANSWER " \
		n_client unshare -m sh -c 'mount --bind /dev/null "$1" && shift &&
			exec setpriv --regid vpnsteer-wan --clear-groups "$@"' sh "$socket" \
		env LD_LIBRARY_PATH="$nss_dir" getent ahostsv4 "$NAME"
	expect "through the forwarder" "^forwarder" queries_grew "$before"
	expect_no "with the socket in reach, nss-resolve asks resolved, which has only A" \
		"$ANSWER" as_wan_group env LD_LIBRARY_PATH="$nss_dir" timeout 10 getent ahostsv4 "$NAME"
	n_client umount /etc/nsswitch.conf
else
	echo "SKIP: libnss-resolve could not be unpacked (apt-get download); nss-resolve not tested"
fi

echo "== an upstream that never answers: SERVFAIL within the forwarder's timeout"
cp "$LAB_SPEC" "$LAB_DIR/vpns.json.orig"
"$LAB_PYTHON" - "$LAB_SPEC" <<-'EOF_PY'
	import json, sys
	spec = json.load(open(sys.argv[1]))
	spec["wan"] = {"dns": {"servers": ["192.0.2.99"]}}
	json.dump(spec, open(sys.argv[1], "w"), indent=2)
EOF_PY
expect_status "Reload with wan.dns.servers succeeds" 0 lab_steer_call Reload
expect "UpstreamSource is the spec" '^s "spec"$' wandns UpstreamSource
expect "the upstream is the spec's" '^as 1 "192\.0\.2\.99:53"$' wandns Upstreams
start=${EPOCHREALTIME/./}
status=$(n_client dig +time=8 +tries=1 -p 54 @127.0.0.1 "$NAME" A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
elapsed=$(((${EPOCHREALTIME/./} - start) / 1000))
expect_equal "the client gets SERVFAIL" SERVFAIL "$status"
if ((elapsed < 6000)); then
	_expect_pass "within the forwarder's 4 s timeout, before dig's 8 s ($elapsed ms)"
else
	_expect_fail "SERVFAIL within 6 s" "under 6000 ms" "$elapsed ms" dig
fi
cp "$LAB_DIR/vpns.json.orig" "$LAB_SPEC"
expect_status "Reload without static servers succeeds" 0 lab_steer_call Reload
expect "UpstreamSource is resolved again" '^s "systemd-resolved"$' wandns UpstreamSource

echo "== resolved stops: vpnsteerd says so and serves on"
lab_stop client-resolved
expect "UpstreamSource becomes none" '^s "none"$' wandns UpstreamSource
expect "vpnsteerd says why the forwarder has no upstream" \
	"WAN DNS forwarder: systemd-resolved is not running .*SERVFAIL until there is one, everything else works" \
	cat "$(lab_log vpnsteerd)"
expect "the forwarder answers SERVFAIL at once" "status: SERVFAIL" \
	n_client dig +time=3 +tries=1 -p 54 @127.0.0.1 "$NAME" A
expect_system_wide "A is still system-wide" "$A"
expect_status "Down($A) succeeds" 0 lab_steer_call Down s "$A"

expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
# For the record (bench/wandns measures vpnsteerd itself against dnsmasq).
echo "vpnsteerd, forwarder included: $(grep VmRSS "/proc/$(lab_pid vpnsteerd)/status")"
assert_done
