#!/usr/bin/env bash
# fastd resolves its remotes through the WAN DNS forwarder (issue 8 item 4), with the real
# systemd-resolved in the client and another VPN carrying the host.
#
#   [inet] echo, public DNS ── [wan] ISP resolver (counts queries), NAT ── [client] resolved,
#      └── [vpn] fastd provider B, WireGuard provider C       networkd, dbus, vpnsteerd, fastd
#
#   VPN B: fastd, its remote given by host name (B.vpn.lab.example at the public DNS, which the
#          ISP resolver forwards to)
#   VPN C: WireGuard, system-wide: resolved asks C's DNS (the public DNS, through C's tunnel)
#
# The generated vpn-B-fastd.service runs under tests/lib/unit-supervisor.sh, which applies its
# SupplementaryGroups= and InaccessiblePaths= as systemd would. When libnss-resolve can be
# unpacked, the client's hosts line is "files resolve [!UNAVAIL=return] dns" and fastd loads
# nss-resolve (a host with resolved, as Debian's libnss-resolve sets it up). Each time fastd
# is started anew, with resolved's cache flushed, and checked once its log says the lookup is
# over:
# - the generated unit: fastd's lookup reaches the ISP resolver, through the forwarder (its
#   D-Bus counter on /org/vpnsteer1/wandns grows), never C's DNS, and the tunnel comes up;
# - the same unit and config without the group vpnsteer-wan: the lookup goes to C's DNS, the
#   ISP resolver and the forwarder see none;
# - with nss-resolve, the group but resolved's varlink socket in reach: resolved sends the
#   lookup to C's DNS (what InaccessiblePaths= prevents).
# The lab's public DNS answers NODATA for a type a name lacks (--local): with the REFUSED
# dnsmasq gives otherwise, resolved fails the lookup and nss-resolve falls through to the dns
# module, which hides the difference a host would see.
#
# Usage: fastd-wan-dns.sh VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"

usage="usage: $0 VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR"
VPNSTEERD=$(realpath "${1:?$usage}")
generator=$(realpath "${2:?$usage}")
BUILD_DIR=${3:?$usage}
require_root
require_command ip nsenter unshare setpriv fastd wireguard-go wg iptables-legacy ip6tables-legacy \
	dnsmasq dig python3 dbus-daemon busctl /lib/systemd/systemd-networkd
[[ -c /dev/net/tun ]] || skip_test "fastd needs /dev/net/tun"
# shellcheck source=tests/lib/lab.sh
source "$e2e_here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$e2e_here/../lib/assert.sh"
resolved=$(lab_extract_resolved "$BUILD_DIR") ||
	skip_test "cannot unpack systemd-resolved into $BUILD_DIR (apt-get download)"
RESOLVECTL=$resolved/usr/bin/resolvectl
nss_dir=$(lab_extract_nss_resolve "$BUILD_DIR") || nss_dir=""

lab_init fastd-wan-dns 240
lab_topology || e2e_abort "the lab topology did not come up"
lab_project_groups client || e2e_abort "could not give the client the project's groups"
B=b$LAB_ID C=c$LAB_ID
lab_fastd_provider "$B" 2 salsa2012+umac || e2e_abort "provider B did not come up"
lab_vpn_provider "$C" 4 || e2e_abort "provider C did not come up"
LAB_STEER_EXTRA[$B]='"methods": ["salsa2012+umac"]'
lab_steer_spec "$B:2:name" "$C:4" || e2e_abort "could not write the spec"
lab_steer_start "$generator" "$VPNSTEERD" "$resolved" || e2e_abort "the client did not come up"
HOST=${LAB_VPN_HOSTNAME[$B]}
UNIT=$LAB_DIR/normal/vpn-$B-fastd.service
echo "lab $LAB_ID up: fastd VPN B = $B (remote $HOST), WireGuard VPN C = $C"

vpn_property() {
	n_client busctl --system get-property org.vpnsteer1 "/org/vpnsteer1/vpn/$1" \
		org.vpnsteer1.Vpn "$2"
}
# The queries for B's remote the ISP resolver logged.
isp_lookups() { e2e_lookups isp-dns "$HOST"; }
# C's DNS is the public DNS through C's tunnel: it sees the query from C's exit address.
lookups_through_c() { e2e_lookups public-dns "$HOST" "${LAB_VPN_EXIT4[$C]}"; }

# start_fastd LABEL UNIT: B's fastd anew, from UNIT (daemon fastd-LABEL), with resolved's
# cache flushed; nss-resolve is found through LD_LIBRARY_PATH. Sets the *_before counts.
running=fastd-$B
start_fastd() {
	lab_stop "$running"
	n_client "$RESOLVECTL" flush-caches
	isp_before=$(isp_lookups) through_c_before=$(lookups_through_c)
	forwarder_before=$(e2e_forwarder_queries)
	running=fastd-$1
	lab_spawn client "$running" env ${nss_dir:+LD_LIBRARY_PATH="$nss_dir"} \
		"$LAB_LIB_DIR/unit-supervisor.sh" "$2" "$LAB_DIR/units" ||
		e2e_abort "could not start $2"
	# fastd logs the end of each lookup: what follows is checked once it is over (fastd looks
	# its remote up again only when handshakes keep failing, some 20 s later).
	expect "fastd resolved its remote $HOST" "resolved host .$(re_escape "$HOST")' successfully" \
		cat "$(lab_log "$running")"
}
# expect_lookup_into_c: fastd's lookup went to C's DNS, through C's tunnel.
expect_lookup_into_c() {
	expect "the lookup went into C: C's DNS got it" "^lookups_through_c" \
		e2e_grew lookups_through_c "$through_c_before"
}

echo "== The generated fastd unit"
expect_equal "vpn-$B-fastd.service puts fastd in the group vpnsteer-wan" \
	"SupplementaryGroups=vpnsteer-wan" "$(grep '^SupplementaryGroups=' "$UNIT")"
expect_equal "and hides resolved's varlink socket" \
	"InaccessiblePaths=-/run/systemd/resolve/io.systemd.Resolve" \
	"$(grep '^InaccessiblePaths=' "$UNIT")"
expect "B: connected to peer gw" '^s "gw"$' vpn_property "$B" ConnectedPeer
if [[ -n "$nss_dir" ]]; then
	printf 'hosts: files resolve [!UNAVAIL=return] dns\n' >"$LAB_DIR/nsswitch.conf"
	n_client mount --bind "$LAB_DIR/nsswitch.conf" /etc/nsswitch.conf
	expect "nss-resolve answers in the client (resolved's synthesized _gateway)" \
		"^$(re_escape "$LAB_ISP_DNS4") " \
		n_client env LD_LIBRARY_PATH="$nss_dir" getent ahostsv4 _gateway
else
	echo "SKIP: libnss-resolve could not be unpacked (apt-get download); glibc's dns module only"
fi

echo "== C system-wide: resolved asks C's DNS only"
expect_status "Up($C) succeeds" 0 lab_steer_call Up s "$C"
expect_system_wide "SystemWide is $C" "$C"
expect_exit "C carries the host" client "${LAB_VPN_EXIT4[$C]}" ""

echo "== Without the group: fastd's lookup goes where the host's go, into C"
mkdir -p "$LAB_DIR/nogroup"
n_client sed '/^group /d' "/run/vpnsteer/fastd/$B.conf" >"$LAB_DIR/nogroup/$B.conf"
sed -e '/^SupplementaryGroups=/d' -e "s|/run/vpnsteer/fastd/$B.conf|$LAB_DIR/nogroup/$B.conf|" \
	"$UNIT" >"$LAB_DIR/nogroup/vpn-$B-fastd.service"
start_fastd nogroup "$LAB_DIR/nogroup/vpn-$B-fastd.service"
expect_lookup_into_c
expect_equal "the ISP resolver got no lookup of $HOST" "$isp_before" "$(isp_lookups)"
expect_equal "the forwarder got no query" "$forwarder_before" "$(e2e_forwarder_queries)"

if [[ -n "$nss_dir" ]]; then
	echo "== The group, but resolved's varlink socket in reach: nss-resolve asks resolved"
	mkdir -p "$LAB_DIR/socket"
	sed '/^InaccessiblePaths=/d' "$UNIT" >"$LAB_DIR/socket/vpn-$B-fastd.service"
	start_fastd socket "$LAB_DIR/socket/vpn-$B-fastd.service"
	expect_lookup_into_c
	# Whether nss-resolve then also falls through to the dns module (and the forwarder) depends
	# on how fast resolved answers: not checked.
fi

echo "== The generated unit: fastd's lookup goes through the forwarder and the uplink"
start_fastd generated "$UNIT"
expect "fastd's lookup of $HOST reached the ISP resolver" "^isp_lookups" \
	e2e_grew isp_lookups "$isp_before"
expect "through the WAN DNS forwarder (its Queries counter on D-Bus)" "^e2e_forwarder_queries" \
	e2e_grew e2e_forwarder_queries "$forwarder_before"
expect_equal "and not through resolved: C's DNS got no lookup" "$through_c_before" \
	"$(lookups_through_c)"
wan_gid=$(n_client getent group vpnsteer-wan | cut -d: -f3)
expect "fastd runs in the group vpnsteer-wan ($wan_gid)" "^Groups:.*\\b$wan_gid\\b" \
	grep '^Groups:' "/proc/$(cat "$LAB_DIR/units/vpn-$B-fastd.service.pid")/status"
# The provider answers a new handshake only some 15 s after the previous one, and the client
# tries again about every 20 s: allow for both.
EXPECT_TIMEOUT=60 expect "and B's tunnel came up" "connection with <gw> established" \
	cat "$(lab_log "$running")"
expect "vpnsteerd shows B connected to gw" '^s "gw"$' vpn_property "$B" ConnectedPeer
expect_system_wide "C is still system-wide" "$C"
expect_status "Down($C) succeeds" 0 lab_steer_call Down s "$C"
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
