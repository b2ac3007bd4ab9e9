#!/usr/bin/env bash
# Rules that stay: vpnsteerd puts back what vanishes behind its back (also when networkd,
# restarted without vpnsteer's drop-in, removes "foreign" rules), and a restart of vpnsteerd
# (SIGTERM or SIGKILL) leaves a system-wide VPN system-wide, without a gap and without
# duplicates.
#
#   [client]  dbus-daemon, systemd-networkd, wireguard-go A (id 3) and B (id 7), vpnsteerd
#             (tests/service/service-lab.sh)
set -euo pipefail
# shellcheck source=tests/service/service-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/service-lab.sh"
require_command wireguard-go /lib/systemd/systemd-networkd

svc_init rules-stay
lab_start_dbus client
svc_start_vpnsteerd
# A is made system-wide before networkd's first start, as at boot.
svc_manager Up s "$A"
up4="$(svc_baseline_rules 4; svc_system_wide_rules 3 "$MARK_A")"
up6="$(svc_baseline_rules 6; svc_system_wide_rules 3 "$MARK_A")"

# count_in_log NAME REGEX: how many lines of daemon NAME's log match.
count_in_log() {
	grep -cE "$2" "$(lab_log "$1")" || true
}

# watch_rules NAME: `ip monitor rule` for both families into the logs NAME-4 and NAME-6.
watch_rules() {
	lab_spawn client "$1-4" ip -4 monitor rule
	lab_spawn client "$1-6" ip -6 monitor rule
	wait_for lab_alive "$1-6"
}

echo "--- networkd starts without vpnsteer's drop-in"
# systemd-networkd removes "foreign" rules when it configures a link (at its first start,
# and on `networkctl reconfigure`), unless ManageForeignRoutingPolicyRules=no.
watch_rules without-dropin
svc_networkd_dropin off
lab_networkd_install client "$LAB_DIR"/network/*
lab_start_networkd client
lab_start_wireguard_go client "$A"
lab_start_wireguard_go client "$B"
expect "networkd removed vpnsteerd's IPv4 rule 303" "^Deleted 303:" cat "$(lab_log without-dropin-4)"
expect "networkd removed vpnsteerd's IPv6 rule 103" "^Deleted 103:" cat "$(lab_log without-dropin-6)"
expect_rule_set "the IPv4 rules are back" 4 "$up4"
expect_rule_set "the IPv6 rules are back" 6 "$up6"
expect "vpnsteerd says it put back rule 303" \
	"put back IPv4 rule 303 \(not fwmark 10003 lookup 3\), which had vanished" cat "$(lab_log vpnsteerd)"
expect "lookups end in table $ID_A" "dev $A table $ID_A " svc_route_get 203.0.113.7
deleted_before=$(count_in_log without-dropin-4 "^Deleted 303:")
n_client networkctl reconfigure up0
deleted_again() { [[ $(count_in_log without-dropin-4 "^Deleted 303:") -gt $deleted_before ]]; }
expect_status "networkctl reconfigure removed rule 303 again" 0 wait_for deleted_again
expect_rule_set "and it is back again" 4 "$up4"
lab_stop without-dropin-4
lab_stop without-dropin-6

echo "--- with the drop-in, networkd leaves them alone"
svc_networkd_dropin on
lab_stop client-networkd
lab_start_networkd client
watch_rules with-dropin
n_client networkctl reconfigure up0
n_client networkctl reconfigure "$A"
expect "networkd reconfigured $A" "^default dev $A" n_client ip -4 route show table "$ID_A"
expect_rule_set "the IPv4 rules are whole" 4 "$up4"
expect_rule_set "the IPv6 rules are whole" 6 "$up6"
# (vpnsteerd's stand-in for the tunnel's bypass rule comes and goes while networkd
# reconfigures the tunnel: that is vpnsteerd's own doing.)
expect_no "no system-wide rule of vpnsteerd's was removed" "^Deleted [13]0[37]:" \
	cat "$(lab_log with-dropin-4)" "$(lab_log with-dropin-6)"
lab_stop with-dropin-4
lab_stop with-dropin-6

echo "--- rules and routes deleted behind vpnsteerd's back"
watch_rules by-hand
n_client ip -4 rule del pref 303
n_client ip -6 rule del pref 103
n_client ip -4 rule del pref 80
expect_rule_set "the IPv4 rules come back" 4 "$up4"
expect_rule_set "the IPv6 rules come back" 6 "$up6"
expect "the monitor saw 303 go" "^Deleted 303:" cat "$(lab_log by-hand-4)"
# networkd's own bypass rule and kill-switch route: vpnsteerd fills in with its own.
n_client ip -4 rule del pref 90 fwmark "$MARK_A" table main
expect "an IPv4 bypass rule for $A's mark is back" "^90:	from all fwmark $MARK_A lookup main proto 118$" \
	svc_rules 4
n_client ip -6 route del unreachable default table "$ID_A" metric 4294967295
expect "the IPv6 kill-switch route of table $ID_A is back" \
	"^unreachable default dev lo proto 118 metric 4294967295" n_client ip -6 route show table "$ID_A"
expect "lookups still end in table $ID_A" "dev $A table $ID_A " svc_route_get 203.0.113.7
lab_stop by-hand-4
lab_stop by-hand-6
# From here on, the bypass rule for A's mark is vpnsteerd's.
up4=${up4/"fwmark $MARK_A lookup main proto static"/"fwmark $MARK_A lookup main proto 118"}

# restart_vpnsteerd SIGNAL NAME: stop vpnsteerd with SIGNAL, start it again as NAME, and
# check that no system-wide rule went away meanwhile and none was added twice.
restart_vpnsteerd() {
	local signal=$1 old=$2 new=$3
	watch_rules "monitor-$new"
	lab_stop "$old" "$signal"
	if [[ "$signal" == TERM ]]; then
		expect "vpnsteerd stopped on SIGTERM by itself, leaving the rules" \
			"stopping on Terminated; the rules stay in the kernel" cat "$(lab_log "$old")"
	fi
	expect_equal "with vpnsteerd gone ($signal), $A's IPv4 rules stay" \
		"$(LC_ALL=C sort <<<"$up4")" "$(svc_rules_sorted 4)"
	svc_start_vpnsteerd "$new"
	expect_rule_set "after the restart ($signal), no rule is missing or doubled (IPv4)" 4 "$up4"
	expect_rule_set "after the restart ($signal), no rule is missing or doubled (IPv6)" 6 "$up6"
	expect "the new vpnsteerd reports $A system-wide" "^s \"$A\"$" svc_manager_property SystemWide
	expect "ListVpns shows $A system-wide" "\"$A\" $ID_A \"/org/vpnsteer1/vpn/$A\" true" svc_manager ListVpns
	expect "it says so when it starts" "serving 2 VPN\(s\); $A is system-wide" cat "$(lab_log "$new")"
	expect_no "no rule was deleted: no gap" "^Deleted" \
		cat "$(lab_log "monitor-$new-4")" "$(lab_log "monitor-$new-6")"
	expect_no "no rule was added: adopted, not duplicated" "^[0-9]+:" \
		cat "$(lab_log "monitor-$new-4")" "$(lab_log "monitor-$new-6")"
	lab_stop "monitor-$new-4"
	lab_stop "monitor-$new-6"
}

echo "--- vpnsteerd is stopped (SIGTERM) and started again"
restart_vpnsteerd TERM vpnsteerd vpnsteerd-2
echo "--- vpnsteerd is killed (SIGKILL) and started again"
restart_vpnsteerd KILL vpnsteerd-2 vpnsteerd-3

echo "--- a rule vanishes while vpnsteerd is not running"
lab_stop vpnsteerd-3 KILL
n_client ip -6 rule del pref 303
svc_start_vpnsteerd vpnsteerd-4
expect_rule_set "the new vpnsteerd completes $A's IPv6 rules" 6 "$up6"
expect "and adopts $A as system-wide" "^s \"$A\"$" svc_manager_property SystemWide
svc_manager Down s "$A"
expect_rule_set "Down after the restarts removes all of $A's rules (IPv4)" 4 \
	"$(svc_baseline_rules 4 | sed "s/fwmark $MARK_A lookup main proto static/fwmark $MARK_A lookup main proto 118/")"
expect_rule_set "Down after the restarts removes all of $A's rules (IPv6)" 6 "$(svc_baseline_rules 6)"
assert_done
