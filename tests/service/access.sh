#!/usr/bin/env bash
# Who may do what (units/org.vpnsteer1.conf on a bus configured like Debian's system bus),
# and bad calls: each gets a named error, and vpnsteerd keeps serving.
#
#   [client]  dbus-daemon with /usr/share/dbus-1/system.conf plus the project's policy,
#             vpnsteerd; a private /etc/group (bind-mounted in the namespace only) that has
#             the group "vpnsteer"; callers: root, nobody, and nobody in "vpnsteer".
#
# Error names are read from `busctl monitor`: busctl prints only an error's message.
set -euo pipefail
# shellcheck source=tests/service/service-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/service-lab.sh"
require_command setpriv
[[ -f /usr/share/dbus-1/system.conf ]] || skip_test "no /usr/share/dbus-1/system.conf (package dbus)"
getent passwd messagebus >/dev/null || skip_test "no messagebus user (package dbus)"

svc_init access

# A group id no entry of the host's /etc/group uses.
gid=4242
while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
{ cat /etc/group; echo "vpnsteer:x:$gid:"; } >"$LAB_DIR/group"
chmod 0644 "$LAB_DIR/group"
n_client mount --bind "$LAB_DIR/group" /etc/group

cat >"$LAB_DIR/policy-bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/system.conf</include>
  <include>$SVC_UNITS/org.vpnsteer1.conf</include>
</busconfig>
CONF
lab_start_dbus client "$LAB_DIR/policy-bus.conf"
svc_start_vpnsteerd
# Everything on the bus: the bus's own AccessDenied replies come from org.freedesktop.DBus.
lab_spawn client bus-monitor busctl --system monitor
wait_for grep -q "Monitoring bus message stream" "$(lab_log bus-monitor)"

# as_nobody CMD...: CMD as uid/gid 65534 with no other group.
as_nobody() {
	n_client setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
# as_member CMD...: CMD as uid 65534, in the group "vpnsteer".
as_member() {
	n_client setpriv --reuid=65534 --regid=65534 --groups="$gid" "$@"
}
call() {
	busctl --system call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager "$@"
}
count_errors() {
	grep -c "ErrorName=$1 " "$(lab_log bus-monitor)" || true
}
# expect_error WHAT ERROR_NAME CMD...: CMD fails, and one more reply named ERROR_NAME went
# over the bus.
expect_error() {
	local what=$1 name=$2
	shift 2
	local before
	before=$(count_errors "$name")
	expect_status "$what fails" 1 "$@"
	_one_more() { [[ $(count_errors "$2") -gt $1 ]]; }
	expect_status "$what gets $name" 0 wait_for -t 5 _one_more "$before" "$name"
}

echo "--- anyone may read"
expect "nobody reads Manager.SystemWide" '^s ""$' as_nobody busctl --system get-property \
	org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager SystemWide
expect "nobody lists the VPNs" "^a\(suob\) 2 \"$A\" $ID_A" as_nobody busctl --system call \
	org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager ListVpns
expect "nobody introspects" "^\.Switch +method" as_nobody busctl --system introspect \
	org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager
expect "nobody reads a VPN's properties" "FirewallMark +property +u +10003" as_nobody busctl \
	--system introspect org.vpnsteer1 "/org/vpnsteer1/vpn/$A" org.vpnsteer1.Vpn

echo "--- nobody may change nothing"
for member in Up Down Switch; do
	expect_error "$member as nobody" org.freedesktop.DBus.Error.AccessDenied \
		as_nobody busctl --system call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager \
		"$member" s "$A"
done
expect_error "Vpn.Up as nobody" org.freedesktop.DBus.Error.AccessDenied \
	as_nobody busctl --system call org.vpnsteer1 "/org/vpnsteer1/vpn/$A" org.vpnsteer1.Vpn Up
expect_error "Reload as nobody" org.freedesktop.DBus.Error.AccessDenied \
	as_nobody busctl --system call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager Reload
expect "the bus's error says which call it refused" \
	'ErrorName=org.freedesktop.DBus.Error.AccessDenied +ErrorMessage="Rejected send message.*interface="org.vpnsteer1.Manager" member="Up"' \
	cat "$(lab_log bus-monitor)"
expect_equal "no rule was added" "" "$(svc_rules 4 | grep -E '^(103|303):' || true)"

echo "--- members of vpnsteer may switch VPNs, but not reload"
expect_status "Up as a member of vpnsteer" 0 as_member busctl --system call org.vpnsteer1 \
	/org/vpnsteer1 org.vpnsteer1.Manager Up s "$A"
expect "the member's Up made $A system-wide" \
	"^303:	not from all fwmark $MARK_A lookup $ID_A proto 118" svc_rules 4
expect_status "Switch as a member" 0 as_member busctl --system call org.vpnsteer1 \
	/org/vpnsteer1 org.vpnsteer1.Manager Switch s "$B"
expect "the member's Switch made $B system-wide" "^s \"$B\"$" svc_manager_property SystemWide
expect_status "Vpn.Down as a member" 0 as_member busctl --system call org.vpnsteer1 \
	"/org/vpnsteer1/vpn/$B" org.vpnsteer1.Vpn Down
expect_status "Down as a member" 0 as_member busctl --system call org.vpnsteer1 \
	/org/vpnsteer1 org.vpnsteer1.Manager Down s "$A"
expect "no VPN is system-wide" '^s ""$' svc_manager_property SystemWide
expect_error "Reload as a member" org.freedesktop.DBus.Error.AccessDenied \
	as_member busctl --system call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager Reload
expect_status "Reload as root" 0 svc_manager Reload

echo "--- bad calls"
expect_error "Up of an unknown VPN" org.vpnsteer1.Error.UnknownVpn svc_manager Up s nosuchvpn
expect "the message names the VPN and the known ones" \
	"no VPN named 'nosuchvpn' in .*vpns\.json \(it has: $A, $B\)" svc_manager Up s nosuchvpn
expect_error "Up with an empty name" org.vpnsteer1.Error.InvalidArgument svc_manager Up s ""
expect "the message says the name is empty" "the VPN name is empty" svc_manager Up s ""
expect_error "Switch with an empty name" org.vpnsteer1.Error.InvalidArgument svc_manager Switch s ""
expect_error "Down of a name that cannot be an interface" org.vpnsteer1.Error.InvalidArgument \
	svc_manager Down s "a/b"
expect_error "Down of an unknown VPN" org.vpnsteer1.Error.UnknownVpn svc_manager Down s nosuchvpn
expect_error "Up without its argument" org.freedesktop.DBus.Error.InvalidArgs svc_manager Up
expect_error "a method that does not exist" org.freedesktop.DBus.Error.UnknownMethod \
	svc_manager Explode

echo "--- vpnsteerd keeps serving"
expect_status "vpnsteerd is still running" 0 lab_alive vpnsteerd
expect_status "Up still works" 0 svc_manager Up s "$A"
expect "and still changes the kernel" "^303:" svc_rules 4
expect_status "Down still works" 0 svc_manager Down s "$A"
assert_done
