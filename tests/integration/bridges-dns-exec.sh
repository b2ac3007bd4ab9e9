#!/usr/bin/env bash
# vpnsteer exec (issue 5 items 2 and 5): a command in a namespace of its own on a VPN's bridge,
# its DNS through the VPN's servers, as the calling user, and who may do it.
#
#   [inet] echo, public DNS ── [wan] ISP resolver (counts queries) ── [client] resolved,
#      └── [vpn] providers A and B                 networkd, dbus, vpnsteerd, sudo (policy of
#                                                  the test: units/sudoers-vpnsteer.in)
#                                                    │ br-A
#                                                  [vpnsteer exec A -- CMD] 10.20.1.128+
#
# The client runs the real systemd-resolved, so its own /etc/resolv.conf names the stub
# 127.0.0.53 and /run/systemd/resolve holds resolved's varlink socket; A's DNS is the public
# DNS in inet, reached through A's tunnel. The callers: root; nobody in the group vpnsteer
# (through sudo, as docs/exec.md says); nobody without it; nobody without sudo. The group and
# sudo's policy exist only in the client's mount namespace (bind-mounted /etc/group and
# /etc/sudoers); the machine's /etc is never changed.
#
# - CMD reaches inet from A's exit (TCP and UDP), with no packet outside the tunnels.
# - Names resolve through A's DNS server (it logs the query from A's exit) and the ISP
#   resolver counts 0 queries; CMD sees its own resolv.conf and no resolved socket, the
#   client keeps its own.
# - CMD runs as the caller (ids, groups, HOME); the exit status of CMD is vpnsteer's.
# - Two execs at once get two addresses; the veth goes when CMD ends, when vpnsteer gets
#   SIGTERM, and when vpnsteer is killed with SIGKILL.
# - Without sudo, or without the group, exec is refused with a clear message.
#
# Usage: bridges-dns-exec.sh VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR VPNSTEER SUDOERS_TEMPLATE
set -euo pipefail
# shellcheck source=tests/integration/bridges-dns-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/bridges-dns-lab.sh"
usage="usage: $0 VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR VPNSTEER SUDOERS_TEMPLATE"
vpnsteer_built=$(realpath "${4:?$usage}")
sudoers_template=$(realpath "${5:?$usage}")
require_command sudo setpriv
bridges_dns_init bridges-dns-exec 200 "$1" "$2" "$3"

NAME=echo.$LAB_DOMAIN
NOBODY=65534

# The CLI where nobody can run it, and sudo's rule for exactly that path.
mkdir -m 0755 "$LAB_DIR/bin"
install -m 0755 "$vpnsteer_built" "$LAB_DIR/bin/vpnsteer"
VS=$LAB_DIR/bin/vpnsteer
sed "s|@VPNSTEER_PATH@|$VS|" "$sudoers_template" >"$LAB_DIR/sudoers-vpnsteer"
printf '%s\n' "Defaults env_reset" "Defaults !syslog" "Defaults !lecture" \
	"root ALL=(ALL:ALL) ALL" "@include $LAB_DIR/sudoers-vpnsteer" >"$LAB_DIR/sudoers"
chmod 0440 "$LAB_DIR/sudoers" "$LAB_DIR/sudoers-vpnsteer"
n_client mount --bind "$LAB_DIR/sudoers" /etc/sudoers
gid=$(lab_add_group client vpnsteer)

as_root() {
	n_client "$VS" "$@"
}
as_member() {
	n_client setpriv --reuid=$NOBODY --regid=$NOBODY --groups="$gid" sudo -n "$VS" "$@"
}
as_stranger() {
	n_client setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sudo -n "$VS" "$@"
}
as_nobody() {
	n_client setpriv --reuid=$NOBODY --regid=$NOBODY --groups="$gid" "$VS" "$@"
}
# echo_via CALLER PROTO: the source address inet's echo service saw from `exec A`.
echo_via() {
	"$1" exec "$A" -- "$LAB_PYTHON" "$LAB_LIB_DIR/echo.py" ask "$2" "$LAB_INET4" "$LAB_ECHO_PORT"
}
exec_links() {
	n_client ip -br link show type veth | awk '$1 ~ /^vx/ { print $1 }'
}
isp_queries() {
	echo "ISP resolver queries: $(lab_dns_queries)"
}

echo "== exec A as root: from A's exit, with no VPN system-wide"
lab_leak_reset
for proto in tcp udp; do
	expect "root: $proto from A's exit" "$(re "$EXIT4_A")" echo_via as_root "$proto"
done
expect_no_leak "root: no leak"
expect "root: CMD runs as root" "^uid=0\(root\) gid=0\(root\)" as_root exec "$A" -- id
expect "CMD's address is the first of exec's range" "^eth0(@[a-z0-9]+)? +UP +10\.20\.$ID_A\.128/24" \
	as_root exec "$A" -- ip -4 -br addr show eth0

echo "== DNS inside exec goes to A's DNS server only"
expect_status "the client has resolved's varlink socket" 0 \
	n_client test -S /run/systemd/resolve/io.systemd.Resolve
expect "the client's own resolv.conf names the stub" "^nameserver 127\.0\.0\.53$" \
	n_client cat /etc/resolv.conf
expect "CMD's resolv.conf names A's DNS server" "^nameserver $(re_escape "$LAB_PUBLIC_DNS4")$" \
	as_root exec "$A" -- cat /etc/resolv.conf
expect_status "CMD does not see resolved's varlink socket" 1 \
	as_root exec "$A" -- test -e /run/systemd/resolve/io.systemd.Resolve
lab_dns_reset
expect "glibc in CMD resolves $NAME" "^$(re_escape "$LAB_INET4") +STREAM $(re_escape "$NAME")$" \
	as_root exec "$A" -- getent ahostsv4 "$NAME"
expect "dig in CMD resolves $NAME" "$(re "$LAB_INET4")" as_root exec "$A" -- dig +short "$NAME" A
expect "A's DNS server got the queries from A's exit" \
	"query\[A\] $(re_escape "$NAME") from $(re_escape "$EXIT4_A")$" cat "$(lab_log public-dns)"
expect "the ISP resolver got no query" "^ISP resolver queries: 0$" isp_queries
expect "the client's resolv.conf is unchanged" "^nameserver 127\.0\.0\.53$" \
	n_client cat /etc/resolv.conf

echo "== with B system-wide, exec A still leaves through A"
expect_status "Up($B) succeeds" 0 lab_steer_call Up s "$B"
lab_leak_reset
expect "B system-wide: exec A from A's exit" "$(re "$EXIT4_A")" echo_via as_root tcp
expect_no_leak "B system-wide: no leak"
expect_status "Down($B) succeeds" 0 lab_steer_call Down s "$B"

echo "== a member of vpnsteer, through sudo"
expect "member: CMD runs as nobody" "^uid=$NOBODY\(nobody\) gid=$NOBODY\(nogroup\) groups=$NOBODY\(nogroup\)$" \
	as_member exec "$A" -- id
expect "member: CMD's HOME is nobody's" "^HOME=/nonexistent$" as_member exec "$A" -- env
expect "member: CMD cannot regain root" "Operation not permitted" \
	as_member exec "$A" -- setpriv --reuid=0 true
lab_leak_reset
expect "member: tcp from A's exit" "$(re "$EXIT4_A")" echo_via as_member tcp
expect_no_leak "member: no leak"
lab_dns_reset
expect "member: $NAME resolves" "^$(re_escape "$LAB_INET4") " as_member exec "$A" -- getent ahostsv4 "$NAME"
expect "member: the ISP resolver got no query" "^ISP resolver queries: 0$" isp_queries

echo "== exit status"
expect_status "CMD's exit status is vpnsteer's" 7 as_member exec "$A" -- sh -c 'exit 7'
expect_status "a signal that ends CMD is 128+N" 143 as_root exec "$A" -- sh -c 'kill -TERM $$'
expect_status "a missing command is 127" 127 as_root exec "$A" -- /nonexistent/cmd
expect "and says why" "^vpnsteer: cannot run '/nonexistent/cmd': No such file or directory$" \
	as_root exec "$A" -- /nonexistent/cmd

echo "== who may not"
expect_status "nobody without sudo is refused" 1 as_nobody exec "$A" -- id
expect "with a message that says how" \
	"^vpnsteer: exec needs root to make a network namespace on the bridge; members of the vpnsteer group run it as: sudo vpnsteer exec NAME -- CMD \(see docs/exec\.md\)$" \
	as_nobody exec "$A" -- id
expect_status "nobody outside the group is refused by sudo" 1 as_stranger exec "$A" -- id
# sudo -n: no rule lets this user run it without a password.
expect "sudo says so" "not allowed to execute|is not in the sudoers file|a password is required" \
	as_stranger exec "$A" -- id
expect_status "an unknown VPN is refused" 1 as_member exec "mars$LAB_ID" -- id
expect "with vpnsteer's message" "^vpnsteer: no VPN named 'mars$LAB_ID' in " \
	as_member exec "mars$LAB_ID" -- id
expect_equal "no veth is left after all that" "" "$(exec_links)"

echo "== two at once, and cleanup when vpnsteer is stopped or killed"
# A duration of this run's own, to find exactly its sleep afterwards.
sleep_for=$((16#$LAB_ID + 100000))
lab_spawn client exec-first "$VS" exec "$A" -- sleep "$sleep_for"
expect "the first exec's veth is on br-$A" "^[0-9]+: vx$ID_A-128@.* master br-$A " \
	n_client ip -o link show master "br-$A"
expect "a second exec gets the next address" "^eth0(@[a-z0-9]+)? +UP +10\.20\.$ID_A\.129/24" \
	as_member exec "$A" -- ip -4 -br addr show eth0
lab_stop exec-first TERM
expect_equal "SIGTERM: the veth is gone" "" "$(exec_links)"
lab_spawn client exec-killed "$VS" exec "$A" -- sleep "$sleep_for"
expect "the next exec takes the freed address" "^[0-9]+: vx$ID_A-128@" n_client ip -o link show master "br-$A"
lab_stop exec-killed KILL
expect_no "SIGKILL: CMD dies with vpnsteer and the veth goes with its namespace" "^vx" exec_links
expect_no "no exec's command is left" "." pgrep -f "^sleep $sleep_for$"

expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
