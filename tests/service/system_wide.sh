#!/usr/bin/env bash
# Up, Down and Switch over D-Bus (busctl), checked against the kernel: the exact `ip rule`
# sets, the routing decisions, the kill switch, and PropertiesChanged.
#
#   [client]  dbus-daemon, vpnsteerd, systemd-networkd, wireguard-go A (id 3) and B (id 7),
#             uplink up0 (tests/service/service-lab.sh)
#
# vpnsteerd starts before networkd here, as it may at boot: it puts in the bypass rules and
# kill-switch routes itself, and gives way to networkd's equal rules once they come.
set -euo pipefail
# shellcheck source=tests/service/service-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/service-lab.sh"
require_command wireguard-go /lib/systemd/systemd-networkd

svc_init system-wide
lab_start_dbus client
svc_start_vpnsteerd
# Every message to and from vpnsteerd, to check the signals it sends.
lab_spawn client bus-monitor busctl --system monitor org.vpnsteer1
svc_start_network
svc_wait_steady
original4=$(svc_rules 4)
original6=$(svc_rules 6)
expect "exactly one IPv4 kill-switch route in table $ID_A" \
	"^unreachable default .*metric 4294967295" n_client ip -4 route show table "$ID_A" type unreachable
expect "exactly one IPv6 kill-switch route in table $ID_A" \
	"^unreachable default .*metric 4294967295" n_client ip -6 route show table "$ID_A" type unreachable
expect_equal "one kill-switch route per family and table" "4" \
	"$(n_client sh -c 'ip -4 route show table all type unreachable; ip -6 route show table all type unreachable' | grep -c 'metric 4294967295')"
expect "src_valid_mark is set" "^1$" n_client cat /proc/sys/net/ipv4/conf/all/src_valid_mark
expect "no VPN is system-wide" '^s ""$' svc_manager_property SystemWide
expect "lookups use the uplink" "via 192\.0\.2\.1 dev up0" svc_route_get 203.0.113.7

echo "--- Up $A"
svc_manager Up s "$A"
expect_rule_set "Up adds its IPv4 rules" 4 "$(svc_baseline_rules 4; svc_system_wide_rules 3 "$MARK_A")"
expect_rule_set "Up adds its IPv6 rules" 6 "$(svc_baseline_rules 6; svc_system_wide_rules 3 "$MARK_A")"
expect "IPv4 lookups use table $ID_A" "dev $A table $ID_A " svc_route_get 203.0.113.7
expect "IPv6 lookups use table $ID_A" "dev $A table $ID_A " svc_route_get 2001:db8:beef::7
expect "the LAN stays on the uplink" "^192\.0\.2\.77 dev up0 " svc_route_get 192.0.2.77
expect "the tunnel's own packets use the uplink" "via 192\.0\.2\.1 dev up0" \
	svc_route_get 203.0.113.7 mark 10003
expect "WAN-marked packets use the uplink" "via 192\.0\.2\.1 dev up0" \
	svc_route_get 203.0.113.7 mark 10000
expect "Manager.SystemWide names $A" "^s \"$A\"$" svc_manager_property SystemWide
expect "Vpn.SystemWide of $A is true" "^b true$" svc_vpn_property "$A" SystemWide
expect "ListVpns shows $A system-wide" "\"$A\" $ID_A \"/org/vpnsteer1/vpn/$A\" true \"$B\" $ID_B \"/org/vpnsteer1/vpn/$B\" false" \
	svc_manager ListVpns
up4=$(svc_rules 4)
expect_status "Up again succeeds" 0 svc_manager Up s "$A"
expect_equal "Up is idempotent" "$up4" "$(svc_rules 4)"

echo "--- Down $A"
svc_manager Down s "$A"
expect_equal "Down restores the IPv4 rules byte for byte" "$original4" "$(svc_rules 4)"
expect_equal "Down restores the IPv6 rules byte for byte" "$original6" "$(svc_rules 6)"
expect_status "Down again succeeds" 0 svc_manager Down s "$A"
expect_equal "Down is idempotent" "$original4" "$(svc_rules 4)"
expect "lookups use the uplink again" "via 192\.0\.2\.1 dev up0" svc_route_get 203.0.113.7
expect "no VPN is system-wide" '^s ""$' svc_manager_property SystemWide

echo "--- the tunnel of $A disappears while it is up"
svc_manager Up s "$A"
expect "IPv4 lookups use table $ID_A" "dev $A table $ID_A " svc_route_get 203.0.113.7
n_client ip link del "$A"
expect "IPv4 lookups end unreachable, not on the uplink" "No route to host" svc_route_get 203.0.113.7
expect "IPv6 lookups end unreachable, not on the uplink" "No route to host" svc_route_get 2001:db8:beef::7
expect_no "nothing goes out the uplink" "up0" svc_route_get 203.0.113.7
lab_stop "client-wg-$A"
lab_start_wireguard_go client "$A"
expect "the tunnel's route is back in table $ID_A" "^default dev $A" n_client ip -4 route show table "$ID_A"
# networkd took the tunnel's bypass rule away with the device and put it back after the
# rules of the other tunnel: the kernel's order changed, by networkd's doing.
expect_rule_set "the IPv4 rules are whole again" 4 "$(svc_baseline_rules 4; svc_system_wide_rules 3 "$MARK_A")"
svc_manager Down s "$A"
expect_rule_set "the IPv4 rules are the baseline" 4 "$(svc_baseline_rules 4)"
original4=$(svc_rules 4)
original6=$(svc_rules 6)

echo "--- Up $B and $A: the lower id carries"
svc_manager Up s "$B"
svc_manager Up s "$A"
expect_rule_set "both VPNs' IPv4 rules" 4 \
	"$(svc_baseline_rules 4; svc_system_wide_rules 3 "$MARK_A"; svc_system_wide_rules 7 "$MARK_B")"
expect_rule_set "both VPNs' IPv6 rules" 6 \
	"$(svc_baseline_rules 6; svc_system_wide_rules 3 "$MARK_A"; svc_system_wide_rules 7 "$MARK_B")"
expect "the lower id ($A) carries the host" "dev $A table $ID_A " svc_route_get 203.0.113.7
expect "$A's tunnel packets go to main, not into $B" "via 192\.0\.2\.1 dev up0" \
	svc_route_get 203.0.113.7 mark 10003
expect "$B's tunnel packets go to main, not into $A" "via 192\.0\.2\.1 dev up0" \
	svc_route_get 203.0.113.7 mark 10007
expect "IPv6: $B's tunnel packets go to main" "via 2001:db8:ff::1 dev up0" \
	svc_route_get 2001:db8:beef::7 mark 10007
expect "Manager.SystemWide names the lower id" "^s \"$A\"$" svc_manager_property SystemWide

echo "--- Down $A: $B carries"
svc_manager Down s "$A"
expect_rule_set "only $B's IPv4 rules remain" 4 "$(svc_baseline_rules 4; svc_system_wide_rules 7 "$MARK_B")"
expect "lookups use table $ID_B" "dev $B table $ID_B " svc_route_get 203.0.113.7
expect "Manager.SystemWide names $B" "^s \"$B\"$" svc_manager_property SystemWide

echo "--- Switch to $A"
lab_spawn client rule-monitor ip -4 monitor rule
wait_for lab_alive rule-monitor
svc_manager Switch s "$A"
expect_rule_set "Switch leaves only $A's IPv4 rules" 4 "$(svc_baseline_rules 4; svc_system_wide_rules 3 "$MARK_A")"
expect_rule_set "Switch leaves only $A's IPv6 rules" 6 "$(svc_baseline_rules 6; svc_system_wide_rules 3 "$MARK_A")"
expect "lookups use table $ID_A" "dev $A table $ID_A " svc_route_get 203.0.113.7
expect "the monitor saw $B's rule go" "^Deleted 307:" cat "$(lab_log rule-monitor)"
# Up the new, then down the old: the kernel never lacked a system-wide rule.
added=$(grep -n "^303:" "$(lab_log rule-monitor)" | head -n1 | cut -d: -f1)
deleted=$(grep -n "^Deleted 307:" "$(lab_log rule-monitor)" | head -n1 | cut -d: -f1)
expect_status "Switch added $A's rule (line ${added:-none}) before it deleted $B's (line ${deleted:-none})" 0 \
	test "${added:-999}" -lt "${deleted:-0}"
lab_stop rule-monitor

echo "--- Down $A: back to where we started"
svc_manager Down s "$A"
expect_equal "after two VPNs and a switch, Down restores the IPv4 rules byte for byte" \
	"$original4" "$(svc_rules 4)"
expect_equal "... and the IPv6 rules" "$original6" "$(svc_rules 6)"
expect "lookups use the uplink again" "via 192\.0\.2\.1 dev up0" svc_route_get 203.0.113.7

echo "--- the Vpn object's own Up and Down"
n_client busctl --system call org.vpnsteer1 "/org/vpnsteer1/vpn/$B" org.vpnsteer1.Vpn Up
expect "Vpn.Up makes $B system-wide" "^s \"$B\"$" svc_manager_property SystemWide
n_client busctl --system call org.vpnsteer1 "/org/vpnsteer1/vpn/$B" org.vpnsteer1.Vpn Down
expect_equal "Vpn.Down restores the IPv4 rules" "$original4" "$(svc_rules 4)"

echo "--- signals"
monitor_log=$(lab_log bus-monitor)
expect "PropertiesChanged of Manager.SystemWide" \
	'Path=/org/vpnsteer1 +Interface=org\.freedesktop\.DBus\.Properties +Member=PropertiesChanged' \
	cat "$monitor_log"
expect "PropertiesChanged of $A's Vpn.SystemWide" "Path=/org/vpnsteer1/vpn/$A +Interface=org\.freedesktop\.DBus\.Properties +Member=PropertiesChanged" \
	cat "$monitor_log"
# A, none; A, none (tunnel test); B, A (two up), B (Down A), A (Switch), none; B, none.
expect_equal "one Manager.SystemWide change per change of the carrier" 11 \
	"$(grep -cE 'Path=/org/vpnsteer1 +Interface=org\.freedesktop\.DBus\.Properties +Member=PropertiesChanged' "$monitor_log")"
expect "vpnsteerd still runs" "^b false$" svc_vpn_property "$A" SystemWide
assert_done
