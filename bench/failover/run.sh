#!/usr/bin/env bash
# bench/failover (issue 7 item 6): how long traffic stops when a VPN's active gateway dies.
#
#   [inet] echo ── [wan] NAT ── [client] networkd, dbus, vpnsteerd
#      ├── [gw11]  ├── [gw12]  └── [gw13]   three gateways of one VPN (tests/integration/
#                                           gateways-lab.sh), each its own wireguard-go
#
# KILLS times (default 10), under continuous traffic from the client to inet (a question
# every 20 ms): kill the active gateway's wireguard-go, measure until inet answers through
# another gateway, then bring the killed one back (so three gateways stay for the next
# kill). The figure is that time: median and maximum, against the issue's 30 s target.
#
# Then KILLS/2 double kills: the active gateway and one other at the same moment, so that
# the random order meets the dead candidate first half of the time (it costs
# handshakeTimeout more). Printed apart: the target is for a live gateway being there, and
# these show what one more dead gateway on the way costs.
#
# The peer is Freifunk's wgpeerselector (gluon), which moves on once the active peer's
# latest handshake is older than 150 s (plus its check interval). It is a Lua daemon of
# the gluon firmware and does not run here, so its figure is that documented worst case,
# not a measurement: the ratio compares our measured maximum with it.
#
# Usage: run.sh [--kills N] VPNSTEERD VPNSTEER_GENERATOR
# Root only; bounded by a deadline of 60 s per kill plus setup. Exit status 0 whether the
# target is met or not (a benchmark reports, it does not judge); 1 when it could not
# measure.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kills=10
if [[ "${1:-}" == --kills ]]; then
	kills=$2
	shift 2
fi
# shellcheck source=tests/integration/gateways-lab.sh
source "$repo/tests/integration/gateways-lab.sh"
gateways_init bench-failover $((120 + 90 * kills)) "$@"

target=30
wgpeerselector=150
lab_traffic_start client traffic "$LAB_INET4" || e2e_abort "no traffic"
# summarize TITLE SECONDS...: median and maximum against the target and the peer.
summarize() {
	local title=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v title="$title" -v target="$target" \
		-v peer="$wgpeerselector" '
		{ t[NR] = $1 }
		END {
			median = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			max = t[NR]
			printf "\n%s, %d kills (default failover settings):\n", title, NR
			printf "  vpnsteerd: median %6.1f s   max %6.1f s   target <= %d s: %s\n", median,
				max, target, max <= target ? "MET" : "MISSED"
			printf "  wgpeerselector (documented worst case, not measured here): %d s\n", peer
			printf "  ratio wgpeerselector worst / vpnsteerd max: %.1fx\n", peer / max
		}'
}

# other NAME: a gateway other than NAME, at random.
other() {
	local candidates=() name
	for name in "${GATEWAYS[@]}"; do
		[[ "$name" == "$1" ]] || candidates+=("$name")
	done
	echo "${candidates[RANDOM % ${#candidates[@]}]}"
}

single=() double=()
for ((i = 1; i <= kills; i++)); do
	gateways_failover || e2e_abort "kill $i: no failover within 90 s"
	single+=("$FAILOVER_SECONDS")
	printf 'kill %2d: %-5s dead, traffic through %-5s after %7s s\n' "$i" "$FAILOVER_VICTIM" \
		"$(gateways_active)" "$FAILOVER_SECONDS"
	lab_gateway_revive "$FAILOVER_VICTIM" || e2e_abort "$FAILOVER_VICTIM did not come back"
done
for ((i = 1; i <= kills / 2; i++)); do
	also=$(other "$(gateways_active)")
	gateways_failover "$also" || e2e_abort "double kill $i: no failover within 90 s"
	double+=("$FAILOVER_SECONDS")
	printf 'double kill %2d: %-5s and %-5s dead, traffic through %-5s after %7s s\n' "$i" \
		"$FAILOVER_VICTIM" "$also" "$(gateways_active)" "$FAILOVER_SECONDS"
	lab_gateway_revive "$FAILOVER_VICTIM" || e2e_abort "$FAILOVER_VICTIM did not come back"
	lab_gateway_revive "$also" || e2e_abort "$also did not come back"
done
lab_traffic_stop traffic

summarize "failover time, the active gateway killed" "${single[@]}"
((${#double[@]} == 0)) ||
	summarize "failover time, the active gateway and one candidate killed" "${double[@]}"
printf '\npackets outside the tunnels meanwhile: %d\n' "$(lab_leak_count)"
