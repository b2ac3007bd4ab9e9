# shellcheck shell=bash
# The lab of vpnsteerd's integration tests. Sourcing it skips the test unless it runs as
# root with the programs every one of them needs, and sources tests/lib/lab.sh and assert.sh;
# a test then requires what else it runs (require_command).
#
#   [client]  the host under test, in one network and mount namespace:
#             up0       the uplink, 192.0.2.2/24 via 192.0.2.1, 2001:db8:ff::2/64 via ::1
#                       (a veth whose peer stays in the namespace: this kernel has no dummy)
#             A, B      wireguard-go tunnels of two VPNs, ids 3 and 7 (no peer needed:
#                       the tests look at routing decisions, never send a packet)
#             br-A, br-B their bridges
#             systemd-networkd  with vpnsteer-generator's files and the uplink's
#             dbus-daemon       private system bus
#             vpnsteerd         the daemon under test
#
# `ip route get` asks the kernel for a routing decision without sending anything, so
# nothing here leaves the namespace.
#
# Environment (set by tests/service/CMakeLists.txt): VPNSTEERD, VPNSTEER_GENERATOR and
# VPNSTEER_UNITS_DIR (the source folder units/).

SVC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$SVC_LIB_DIR/skip.sh"
require_root
require_command ip nsenter unshare busctl dbus-daemon wg
# shellcheck source=tests/lib/lab.sh
source "$SVC_LIB_DIR/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$SVC_LIB_DIR/assert.sh"

SVC_VPNSTEERD=$(realpath "${VPNSTEERD:?VPNSTEERD must name the vpnsteerd binary}")
SVC_GENERATOR=$(realpath "${VPNSTEER_GENERATOR:?VPNSTEER_GENERATOR must name vpnsteer-generator}")
SVC_UNITS=$(realpath "${VPNSTEER_UNITS_DIR:?VPNSTEER_UNITS_DIR must name the units folder}")

# svc_init NAME [DEADLINE]: the lab, names unique to this run, the spec and the generated
# files. Sets A, B (VPN and tunnel names), ID_A=3, ID_B=7, MARK_A, MARK_B (hex, as `ip rule`
# shows them), SPEC.
svc_init() {
	lab_init "$1" "${2:-200}"
	lab_add_netns client
	A=va$LAB_ID
	B=vb$LAB_ID
	ID_A=3
	ID_B=7
	MARK_A=0x2713
	MARK_B=0x2717
	SPEC=$LAB_DIR/vpns.json
	peer_key=$(wg genkey | wg pubkey)
	(umask 077 && wg genkey >"$LAB_DIR/private.key")
	cat >"$SPEC" <<-JSON
		{
		  "version": 1,
		  "vpns": {
		    "$A": { "id": $ID_A, "implementation": "userspace",
		            "endpoint": "192.0.2.1:51820", "publicKey": "$peer_key",
		            "addrV4": "198.51.100.3", "addrV6": "2001:db8:3::2",
		            "dns": ["198.51.100.53"], "privateKeyFile": "$LAB_DIR/private.key" },
		    "$B": { "id": $ID_B, "implementation": "userspace",
		            "endpoint": "192.0.2.1:51827", "publicKey": "$peer_key",
		            "addrV4": "198.51.100.7", "addrV6": "2001:db8:7::2",
		            "dns": ["198.51.100.53"], "privateKeyFile": "$LAB_DIR/private.key" }
		  }
		}
	JSON
	mkdir -p "$LAB_DIR/network" "$LAB_DIR/normal"
	"$SVC_GENERATOR" --spec "$SPEC" --network-dir "$LAB_DIR/network" "$LAB_DIR/normal"
	cat >"$LAB_DIR/network/10-uplink.network" <<-EOF
		[Match]
		Name=up0
		[Network]
		Address=192.0.2.2/24
		Gateway=192.0.2.1
		Address=2001:db8:ff::2/64
		Gateway=2001:db8:ff::1
		IPv6AcceptRA=no
		LinkLocalAddressing=no
	EOF
	n_client ip link add up0 type veth peer name up0p
	n_client ip link set up0p up
}

# svc_networkd_dropin on|off: the networkd.conf drop-in of units/, installed where networkd
# reads drop-ins at runtime (/run/systemd/networkd.conf.d, private to the namespace).
svc_networkd_dropin() {
	if [[ "$1" == on ]]; then
		n_client mkdir -p /run/systemd/networkd.conf.d
		n_client install -m 0644 "$SVC_UNITS/networkd-vpnsteer.conf" \
			/run/systemd/networkd.conf.d/50-vpnsteer.conf
	else
		n_client rm -f /run/systemd/networkd.conf.d/50-vpnsteer.conf
	fi
}

# svc_start_network: networkd (with the drop-in) and both tunnels.
svc_start_network() {
	svc_networkd_dropin on
	lab_networkd_install client "$LAB_DIR"/network/*
	lab_start_networkd client
	lab_start_wireguard_go client "$A"
	lab_start_wireguard_go client "$B"
}

# svc_start_vpnsteerd [NAME]: start vpnsteerd (daemon name NAME, default vpnsteerd) and
# wait until it serves org.vpnsteer1.
svc_start_vpnsteerd() {
	local name=${1:-vpnsteerd}
	lab_spawn client "$name" "$SVC_VPNSTEERD" --spec "$SPEC"
	lab_wait_daemon "$name" svc_manager_property SystemWide
}

# svc_manager METHOD [SIGNATURE ARGS...]: call org.vpnsteer1.Manager with busctl.
svc_manager() {
	n_client busctl --system call org.vpnsteer1 /org/vpnsteer1 org.vpnsteer1.Manager "$@"
}

# svc_manager_property NAME: busctl's text for a Manager property, e.g. `s "va1b2c3"`.
svc_manager_property() {
	n_client busctl --system get-property org.vpnsteer1 /org/vpnsteer1 \
		org.vpnsteer1.Manager "$1"
}

# svc_vpn_property VPN NAME: a property of /org/vpnsteer1/vpn/VPN (plain names only).
svc_vpn_property() {
	n_client busctl --system get-property org.vpnsteer1 "/org/vpnsteer1/vpn/$1" \
		org.vpnsteer1.Vpn "$2"
}

# svc_rules 4|6: `ip -4 rule` or `ip -6 rule` of the client, as printed.
svc_rules() {
	n_client ip "-$1" rule
}

# svc_rules_sorted 4|6: the same, sorted, for comparing sets (the kernel orders rules of
# one priority by when they were added, which the tests do not control).
svc_rules_sorted() {
	svc_rules "$1" | LC_ALL=C sort
}

# expect_rule_set WHAT 4|6 EXPECTED: wait until the client's rules of that family are
# EXPECTED (lines in any order), and report the difference if they never are.
expect_rule_set() {
	local what=$1 family=$2 expected
	expected=$(LC_ALL=C sort <<<"$3")
	_svc_rules_are() { [[ "$(svc_rules_sorted "$1")" == "$2" ]]; }
	wait_for -t "$(_expect_timeout)" _svc_rules_are "$family" "$expected" || true
	expect_equal "$what" "$expected" "$(svc_rules_sorted "$family")"
}

# The rule sets of DESIGN.md, as `ip rule` prints them in the client. networkd adds the
# bypass rules at 90 (from the tunnels' .network files) and the bridge rules; vpnsteerd
# adds the WAN bypass rule at 80 and, for a system-wide VPN, its id+100 and id+300 rules.
svc_baseline_rules() {
	local family=$1
	echo "0:	from all lookup local"
	echo "80:	from all fwmark 0x2710 lookup main proto 118"
	echo "90:	from all fwmark $MARK_A lookup main proto static"
	echo "90:	from all fwmark $MARK_B lookup main proto static"
	if [[ "$family" == 4 ]]; then
		echo "203:	from 10.20.3.0/24 lookup 3 proto static"
		echo "207:	from 10.20.7.0/24 lookup 7 proto static"
	fi
	echo "32766:	from all lookup main"
	[[ "$family" == 6 ]] || echo "32767:	from all lookup default"
}

# svc_system_wide_rules ID MARK: the two rules Up adds for one VPN.
svc_system_wide_rules() {
	echo "$((100 + $1)):	from all lookup main suppress_prefixlength 0 proto 118"
	echo "$((300 + $1)):	not from all fwmark $2 lookup $1 proto 118"
}

# svc_wait_steady: networkd has configured both tunnels and bridges, and vpnsteerd has
# given way to networkd's bypass rules: the baseline rule sets.
svc_wait_steady() {
	local family
	for family in 4 6; do
		expect_rule_set "IPv$family rules settle to the baseline" "$family" \
			"$(svc_baseline_rules "$family")"
	done
	expect "tunnel $A has its route in table $ID_A" "^default dev $A" \
		n_client ip -4 route show table "$ID_A"
	expect "tunnel $B has its route in table $ID_B" "^default dev $B" \
		n_client ip -4 route show table "$ID_B"
}

# svc_route_get ADDRESS [ARGS...]: the kernel's routing decision, or its error.
svc_route_get() {
	n_client ip route get "$@" 2>&1
}
