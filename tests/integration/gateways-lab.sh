# shellcheck shell=bash
# The lab for several gateways per VPN (issue 7), sourced by gateways-failover.sh and by
# bench/failover/run.sh: one VPN whose three peers are three gateways in namespaces of
# their own (tests/lib/lab.sh lab_vpn_gateway), all accepting the client's one key.
#
#   [inet] echo, public DNS ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd
#      ├── [gw11] wireguard-go, exit 198.51.100.11
#      ├── [gw12] wireguard-go, exit 198.51.100.12
#      └── [gw13] wireguard-go, exit 198.51.100.13
#
# Usage: source gateways-lab.sh; gateways_init NAME DEADLINE VPNSTEERD GENERATOR [--names]
# Sets G (the VPN's name, unique to the run) and GATEWAYS (gw11 gw12 gw13); G is up
# system-wide and answering through one of them when it returns. With --names the spec
# gives the gateways by host name (vpnsteerd resolves each through the uplink).

# shellcheck source=tests/integration/e2e-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e-lab.sh"

gateways_init() {
	local name=$1 deadline=$2 k
	e2e_require "$3" "$4"
	lab_init "$name" "$deadline"
	lab_topology || e2e_abort "the lab topology did not come up"
	G=g$LAB_ID
	GATEWAYS=(gw11 gw12 gw13)
	for k in 11 12 13; do
		lab_vpn_gateway "$G" "gw$k" "$k" || e2e_abort "gateway gw$k did not come up"
	done
	lab_steer_spec_gateways ${5:-} "$G" 1 || e2e_abort "could not write the spec"
	lab_steer_start "$GENERATOR" "$VPNSTEERD" || e2e_abort "the client did not come up"
	lab_steer_call Up s "$G" >/dev/null || e2e_abort "Up($G) failed"
	wait_for -t 40 gateways_answering || e2e_abort "no answer through any gateway"
	echo "lab $LAB_ID up: VPN $G through $(gateways_active)"
}

# gateways_property NAME: org.vpnsteer1.Vpn.NAME of G, as busctl prints it.
gateways_property() {
	lab_exec client busctl --system get-property org.vpnsteer1 "/org/vpnsteer1/vpn/$G" \
		org.vpnsteer1.Vpn "$1"
}

# gateways_active: the name of the active peer (ActivePeer).
gateways_active() {
	local value
	value=$(gateways_property ActivePeer) || return 1
	value=${value#s \"}
	echo "${value%\"}"
}

# gateways_answering: inet sees the client's question come from the active gateway's exit.
gateways_answering() {
	local active
	active=$(gateways_active) && [[ -n "$active" ]] &&
		[[ "$(lab_echo client udp "$LAB_INET4")" == "${LAB_VPN_EXIT4[$active]}" ]]
}

# gateways_answered_after LINE EXIT [EXIT2]: the traffic log has, from LINE on, an answer
# from an exit address other than EXIT and EXIT2.
gateways_answered_after() {
	tail -n "+$1" "$(lab_log traffic)" | awk -v dead="$2" -v dead2="${3:-}" \
		'$4 != "-" && $4 != dead && $4 != dead2 { found = 1 } END { exit !found }'
}

# gateways_failover [ALSO]: kill the active gateway under traffic (lab_traffic_start
# traffic runs), and gateway ALSO at the same moment if given (a dead candidate the
# selection may meet on its way); wait until the traffic is answered through a gateway
# still alive (at most 90 s). Sets FAILOVER_VICTIM and FAILOVER_SECONDS (with millisecond
# digits). Fails on a timeout. Not in a subshell: the lab must remember what it killed.
gateways_failover() {
	local also=${1:-} victim from start end also_exit=""
	victim=$(gateways_active) || return 1
	[[ -z "$also" ]] || also_exit=${LAB_VPN_EXIT4[$also]}
	from=$(($(lab_traffic_lines traffic) + 1))
	start=${EPOCHREALTIME/./}
	lab_gateway_kill "$victim"
	[[ -z "$also" ]] || lab_gateway_kill "$also"
	wait_for -t 90 gateways_answered_after "$from" "${LAB_VPN_EXIT4[$victim]}" "$also_exit" ||
		return 1
	end=${EPOCHREALTIME/./}
	FAILOVER_VICTIM=$victim
	FAILOVER_SECONDS=$(printf '%d.%03d' $(((end - start) / 1000000)) $(((end - start) / 1000 % 1000)))
}
