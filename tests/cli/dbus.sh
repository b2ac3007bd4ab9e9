#!/usr/bin/env bash
# vpnsteer list, status, up, down and switch against the real vpnsteerd on a real bus: what
# they print, what they do to the kernel's rules, and what they say when something is wrong.
#
#   [client]  one network and mount namespace (tests/lib/lab.sh):
#             up0        the uplink: 192.0.2.2/24, default via 192.0.2.1 (a veth whose peer
#                        stays in the namespace; nothing is ever sent)
#             dbus-daemon  private system bus: Debian's system.conf plus the project's
#                        policy (units/org.vpnsteer1.conf)
#             vpnsteerd  serving a spec with "us" (id 1) and "de" (id 7); no tunnels are
#                        needed, Up and Down only change rules
#             callers    root; nobody; nobody in the group "vpnsteer" (a private /etc/group
#                        bind-mounted in the namespace only)
#
# Usage: dbus.sh VPNSTEER VPNSTEERD POLICY_FILE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$here/../lib/skip.sh"
vpnsteer=$(realpath "${1:?usage: dbus.sh VPNSTEER VPNSTEERD POLICY_FILE}")
vpnsteerd=$(realpath "${2:?usage: dbus.sh VPNSTEER VPNSTEERD POLICY_FILE}")
policy=$(realpath "${3:?usage: dbus.sh VPNSTEER VPNSTEERD POLICY_FILE}")

require_root
require_command ip nsenter unshare dbus-daemon busctl setpriv jq
[[ -f /usr/share/dbus-1/system.conf ]] || skip_test "no /usr/share/dbus-1/system.conf (package dbus)"
getent passwd messagebus >/dev/null || skip_test "no messagebus user (package dbus)"
# shellcheck source=tests/lib/lab.sh
source "$here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$here/../lib/assert.sh"

lab_init cli-dbus 150
lab_add_netns client
n_client ip link add up0 type veth peer name up0p
n_client ip link set up0 up
n_client ip link set up0p up
n_client ip addr add 192.0.2.2/24 dev up0
n_client ip route add default via 192.0.2.1 dev up0

spec=$LAB_DIR/vpns.json
(umask 077 && head -c 32 /dev/urandom | base64 >"$LAB_DIR/private.key")
cat >"$spec" <<'JSON'
{
  "version": 1,
  "vpns": {
    "us": { "id": 1, "endpoint": "192.0.2.10:51820",
            "publicKey": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
            "addrV4": "198.51.100.2", "dns": ["198.51.100.53"],
            "privateKeyFile": "/etc/vpnsteer/us.key" },
    "de": { "id": 7, "endpoint": "[2001:db8::7]:51820",
            "publicKey": "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=",
            "addrV4": "198.51.100.7", "addrV6": "2001:db8:7::2",
            "privateKeyFile": "/etc/vpnsteer/de.key", "bridgeDevice": "br-germany" }
  }
}
JSON

gid=$(lab_add_group client vpnsteer)

cat >"$LAB_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/system.conf</include>
  <include>$policy</include>
</busconfig>
CONF
lab_start_dbus client "$LAB_DIR/bus.conf"

start_vpnsteerd() {
	lab_spawn client vpnsteerd "$vpnsteerd" --spec "$spec"
	lab_wait_daemon vpnsteerd lab_bus_has_name client org.vpnsteer1
}
start_vpnsteerd

# vs ARGS...: vpnsteer ARGS as root in the client, on its bus.
vs() {
	n_client "$vpnsteer" "$@"
}
as_nobody() {
	n_client setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
as_member() {
	n_client setpriv --reuid=65534 --regid=65534 --groups="$gid" "$@"
}
# run_vs [as_nobody|as_member] ARGS...: sets status, out and err.
run_vs() {
	local caller=n_client
	if [[ "$1" == as_* ]]; then
		caller=$1
		shift
	fi
	status=0
	"$caller" "$vpnsteer" "$@" >"$LAB_DIR/out" 2>"$LAB_DIR/err" || status=$?
	out=$(cat "$LAB_DIR/out")
	err=$(cat "$LAB_DIR/err")
}
# expect_run WHAT STATUS STDOUT STDERR [as_nobody|as_member] ARGS...: exact streams.
expect_run() {
	local what=$1 want_status=$2 want_out=$3 want_err=$4
	shift 4
	run_vs "$@"
	expect_equal "$what: exit status" "$want_status" "$status"
	expect_equal "$what: stdout" "$want_out" "$out"
	expect_equal "$what: stderr" "$want_err" "$err"
}
rules() {
	n_client ip "-$1" rule
}
json() {
	vs status --json | jq -c "$@"
}

# The rules Up adds for a VPN, as `ip rule` shows them (vpnsteerd tags them with its own
# protocol number, which this test leaves to tests/service/).
suppress_rule() {
	echo "^$((100 + $1)):	from all lookup main suppress_prefixlength 0( |$)"
}
tunnel_rule() {
	echo "^$((300 + $1)):	not from all fwmark $(printf '0x%x' $((10000 + $1))) lookup $1( |$)"
}
expect_system_wide_rules() {
	local id=$1 family
	for family in 4 6; do
		expect "IPv$family: id $id's suppress rule is in force" "$(suppress_rule "$id")" rules "$family"
		expect "IPv$family: id $id's tunnel rule is in force" "$(tunnel_rule "$id")" rules "$family"
	done
}
expect_no_system_wide_rules() {
	local id=$1 family
	for family in 4 6; do
		expect_no "IPv$family: no rule of id $id" "^($((100 + id))|$((300 + id))):" rules "$family"
	done
}

not_running='vpnsteer: vpnsteerd is not running; start it with: systemctl start vpnsteerd'
denied='vpnsteer: permission denied: changing VPNs needs root or membership in the vpnsteer group'

echo "--- list and status while no VPN is up"
before4=$(rules 4)
before6=$(rules 6)
expect_run "list" 0 $'us  1\nde  7' '' list
expect_equal "status --json: nothing is system-wide" 'null' "$(json .systemWide)"
expect_equal "status --json: both VPNs in id order" '["us","de"]' "$(json '[.vpns[].name]')"
expect_equal "status --json: de's derived numbers and bridge" \
	'{"id":7,"table":7,"firewallMark":10007,"bridge":"br-germany","systemWide":false}' \
	"$(json '.vpns[1] | {id, table, firewallMark, bridge, systemWide}')"
expect_equal "status --json: us's spec values" \
	'{"protocol":"wireguard","interface":"us","endpoint":"192.0.2.10:51820","dns":["198.51.100.53"]}' \
	"$(json '.vpns[0] | {protocol, interface, endpoint, dns}')"
expect_equal "status --json us: only us" '["us"]' "$(vs status us --json | jq -c '[.vpns[].name]')"
expect "status: text with the carrier first" '^system-wide: none$' vs status
expect "status: a block per VPN" '^vpn: de$' vs status
expect "status de: de's bridge" '^  bridge: br-germany$' vs status de

echo "--- up, switch, down"
expect_run "up us" 0 '' '' up us
expect_system_wide_rules 1
expect_run "list shows us system-wide" 0 $'us  1  system-wide\nde  7' '' list
expect_equal "status --json: us carries the host" '"us"' "$(json .systemWide)"
expect "status: us is system-wide" '^  system-wide: yes$' vs status us
expect_run "up us again (idempotent)" 0 '' '' up us

expect_run "switch de" 0 '' '' switch de
expect_system_wide_rules 7
expect_no_system_wide_rules 1
expect_equal "status --json: de carries the host, us is down" '["de",false,true]' \
	"$(json '[.systemWide, .vpns[0].systemWide, .vpns[1].systemWide]')"

expect_run "down de" 0 '' '' down de
expect_no_system_wide_rules 7
expect_equal "down leaves the IPv4 rules as they were before up" "$before4" "$(rules 4)"
expect_equal "down leaves the IPv6 rules as they were before up" "$before6" "$(rules 6)"
expect_run "down de again (idempotent)" 0 '' '' down de
expect_equal "status --json: nothing is system-wide again" 'null' "$(json .systemWide)"

echo "--- an unknown VPN"
unknown="vpnsteer: no VPN named 'mars' in $spec; see: vpnsteer list"
for subcommand in up down switch status; do
	expect_run "$subcommand mars" 1 '' "$unknown" "$subcommand" mars
done
expect_run "status mars --json" 1 '' "$unknown" status mars --json
expect_equal "the rules did not change" "$before4" "$(rules 4)"

echo "--- who may"
expect_run "list as nobody" 0 $'us  1\nde  7' '' as_nobody list
expect_run "status as nobody" 0 "$(vs status --json)" '' as_nobody status --json
for subcommand in up down switch; do
	expect_run "$subcommand as nobody" 1 '' "$denied" as_nobody "$subcommand" us
done
expect_equal "nobody changed no rule" "$before4" "$(rules 4)"
expect_run "up as a member of vpnsteer" 0 '' '' as_member up us
expect_system_wide_rules 1
expect_run "down as a member of vpnsteer" 0 '' '' as_member down us
expect_no_system_wide_rules 1

echo "--- rp_filter"
rp_warning() {
	echo "vpnsteer: warning: net.ipv4.conf.$1.rp_filter is 1 (strict), so the kernel drops a system-wide VPN's replies on the uplink; make it loose with: sysctl -w net.ipv4.conf.$1.rp_filter=2"
}
set_rp_filter() {
	n_client sysctl -q -w "net.ipv4.conf.all.rp_filter=$1" "net.ipv4.conf.up0.rp_filter=$2"
}
set_rp_filter 1 0
run_vs status
expect_equal "status warns when all is strict" "$(rp_warning all)" "$err"
expect_equal "and still succeeds" 0 "$status"
run_vs status --json
expect_equal "status --json warns on stderr only" "$(rp_warning all)" "$err"
expect_equal "and its stdout stays JSON" '"object"' "$(jq -c type <<<"$out")"
set_rp_filter 0 1
run_vs status
expect_equal "status warns when the uplink is strict" "$(rp_warning up0)" "$err"
set_rp_filter 1 2
run_vs status
expect_equal "no warning when the uplink is loose" "" "$err"
set_rp_filter 0 0
run_vs status
expect_equal "no warning when it is off" "" "$err"

echo "--- a stopped daemon"
lab_stop vpnsteerd
for args in list status "status --json" "up us" "down us" "switch de"; do
	# shellcheck disable=SC2086 # the words of args are the arguments
	expect_run "$args without vpnsteerd" 1 '' "$not_running" $args
done
expect_run "check still works" 0 \
	$'us: id 1, table 1, fwmark 10001, bridge br-us 10.20.1.1/24, protocol wireguard\nde: id 7, table 7, fwmark 10007, bridge br-germany 10.20.7.1/24, protocol wireguard' \
	'' check "$spec"
lab_stop client-dbus
n_client rm -f /run/dbus/system_bus_socket
expect_run "list without a bus" 1 '' "$not_running" list
expect_run "up without a bus" 1 '' "$not_running" up us

assert_done
