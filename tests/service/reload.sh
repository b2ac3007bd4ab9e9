#!/usr/bin/env bash
# Reload (and SIGHUP): a spec with errors leaves the one in force and the call lists the
# errors; a good one moves, removes and adds VPNs, rules and objects without a gap.
#
#   [client]  dbus-daemon and vpnsteerd only: without networkd, vpnsteerd itself holds every
#             bypass rule and kill-switch route, so all of them follow the spec.
set -euo pipefail
# shellcheck source=tests/service/service-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/service-lab.sh"

svc_init reload
lab_start_dbus client
svc_start_vpnsteerd
lab_spawn client bus-monitor busctl --system monitor org.vpnsteer1
wait_for grep -q "Monitoring bus message stream" "$(lab_log bus-monitor)"
C=vc$LAB_ID
key=$(wg genkey | wg pubkey)

# own_rules 4|6 MARK...: vpnsteerd's rule set when it holds the bypass rules itself.
own_rules() {
	local family=$1 mark
	shift
	echo "0:	from all lookup local"
	echo "80:	from all fwmark 0x2710 lookup main proto 118"
	for mark in "$@"; do
		echo "90:	from all fwmark $mark lookup main proto 118"
	done
	echo "32766:	from all lookup main"
	[[ "$family" == 6 ]] || echo "32767:	from all lookup default"
}
kill_switch_tables() {
	n_client sh -c 'ip -4 route show table all type unreachable; ip -6 route show table all type unreachable' |
		grep -o 'table [0-9]*' | sort | uniq -c | tr -s ' ' | sed 's/^ //'
}

svc_manager Up s "$A"
svc_manager Up s "$B"
both4="$(own_rules 4 "$MARK_A" "$MARK_B"; svc_system_wide_rules 3 "$MARK_A"; svc_system_wide_rules 7 "$MARK_B")"
both6="$(own_rules 6 "$MARK_A" "$MARK_B"; svc_system_wide_rules 3 "$MARK_A"; svc_system_wide_rules 7 "$MARK_B")"
expect_rule_set "both VPNs are up (IPv4)" 4 "$both4"
expect_rule_set "both VPNs are up (IPv6)" 6 "$both6"
expect_equal "kill-switch routes in tables 3 and 7, both families" \
	"$(printf '2 table 3\n2 table 7')" "$(kill_switch_tables)"

echo "--- a spec with errors"
cp "$SPEC" "$LAB_DIR/good.json"
sed -e "s/\"id\": $ID_A,/\"id\": 120,/" -e 's/"addrV4": "198.51.100.7"/"addrV4": "198.51.100.777"/' \
	"$LAB_DIR/good.json" >"$SPEC"
expect_status "Reload fails" 1 svc_manager Reload
expect "it answers InvalidSpec" "ErrorName=org.vpnsteer1.Error.InvalidSpec" cat "$(lab_log bus-monitor)"
expect "the error names the bad id" "vpns\.$A\.id: .*120" svc_manager Reload
expect "the error names the bad address" "vpns\.$B\.addrV4: .*198\.51\.100\.777" svc_manager Reload
expect "the error says the old spec stays" "has 2 error\(s\); the spec in force stays" svc_manager Reload
expect_rule_set "the rules stay (IPv4)" 4 "$both4"
expect "the VPNs stay" "\"$A\" $ID_A .* true \"$B\" $ID_B .* true" svc_manager ListVpns
hups=$(grep -c "reloading" "$(lab_log vpnsteerd)" || true)
kill -HUP "$(lab_pid vpnsteerd)"
expect "SIGHUP with the bad spec is reported" "reloading .*vpns\.json: .*has 2 error" cat "$(lab_log vpnsteerd)"
expect_status "vpnsteerd still serves" 0 svc_manager_property SystemWide
expect_rule_set "the rules stay after SIGHUP (IPv4)" 4 "$both4"
rm "$SPEC"
expect "an unreadable spec is an InvalidSpec too" "vpns\.json: cannot be read: No such file or directory" \
	svc_manager Reload

echo "--- a good spec: $A leaves, $B moves from id 7 to 9, $C (id 5) arrives"
cat >"$SPEC" <<JSON
{
  "version": 1,
  "vpns": {
    "$B": { "id": 9, "endpoint": "192.0.2.1:51827", "publicKey": "$key",
            "addrV4": "198.51.100.7", "privateKeyFile": "$LAB_DIR/private.key" },
    "$C": { "id": 5, "endpoint": "192.0.2.1:51825", "publicKey": "$key",
            "addrV4": "198.51.100.5", "privateKeyFile": "$LAB_DIR/private.key" }
  }
}
JSON
lab_spawn client rule-monitor ip -4 monitor rule
wait_for lab_alive rule-monitor
expect_status "Reload succeeds" 0 svc_manager Reload
expect_rule_set "$B's rules moved, $A's went, $C's bypass came (IPv4)" 4 \
	"$(own_rules 4 0x2715 0x2719; svc_system_wide_rules 9 0x2719)"
expect_rule_set "... and IPv6" 6 "$(own_rules 6 0x2715 0x2719; svc_system_wide_rules 9 0x2719)"
added=$(grep -n "^309:" "$(lab_log rule-monitor)" | head -n1 | cut -d: -f1)
deleted=$(grep -n "^Deleted 307:" "$(lab_log rule-monitor)" | head -n1 | cut -d: -f1)
expect_status "$B's new rule (line ${added:-none}) came before its old one went (line ${deleted:-none})" 0 \
	test "${added:-999}" -lt "${deleted:-0}"
expect_equal "kill-switch routes follow: tables 5 and 9" \
	"$(printf '2 table 5\n2 table 9')" "$(kill_switch_tables)"
expect "ListVpns: $C, then $B, system-wide" "^a\(suob\) 2 \"$C\" 5 \"/org/vpnsteer1/vpn/$C\" false \"$B\" 9 \"/org/vpnsteer1/vpn/$B\" true$" \
	svc_manager ListVpns
expect "Manager.SystemWide is $B" "^s \"$B\"$" svc_manager_property SystemWide
expect "$B's Id is 9" "^u 9$" svc_vpn_property "$B" Id
expect "$B's FirewallMark is 10009" "^u 10009$" svc_vpn_property "$B" FirewallMark
expect "$C has an object" "^u 5$" svc_vpn_property "$C" Id
expect_status "$A's object is gone" 1 svc_vpn_property "$A" Id
expect "PropertiesChanged announced $B's new Id" 'STRING "Id";' \
	sed -n "/Path=\/org\/vpnsteer1\/vpn\/$B .*Member=PropertiesChanged/,/^$/p" "$(lab_log bus-monitor)"
expect "PropertiesChanged announced the new carrier" "STRING \"$B\";" \
	sed -n '/Path=\/org\/vpnsteer1 .*Member=PropertiesChanged/,/^$/p' "$(lab_log bus-monitor)"
expect_status "Up of the VPN that left is UnknownVpn" 1 svc_manager Up s "$A"
expect "... named so on the bus" "ErrorName=org.vpnsteer1.Error.UnknownVpn" cat "$(lab_log bus-monitor)"
svc_manager Down s "$B"
expect_rule_set "Down of $B after the move removes its new rules" 4 "$(own_rules 4 0x2715 0x2719)"
assert_done
