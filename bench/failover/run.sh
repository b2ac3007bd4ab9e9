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
gateways_init bench-failover $((120 + 60 * kills)) "$@"

target=30
wgpeerselector=150
lab_traffic_start client traffic "$LAB_INET4" || e2e_abort "no traffic"
times=()
for ((i = 1; i <= kills; i++)); do
	gateways_failover || e2e_abort "kill $i: no failover within 90 s"
	times+=("$FAILOVER_SECONDS")
	printf 'kill %2d: %-5s dead, traffic through %-5s after %7s s\n' "$i" "$FAILOVER_VICTIM" \
		"$(gateways_active)" "$FAILOVER_SECONDS"
	lab_gateway_revive "$FAILOVER_VICTIM" || e2e_abort "$FAILOVER_VICTIM did not come back"
done
lab_traffic_stop traffic

printf '%s\n' "${times[@]}" | sort -n | awk -v target="$target" -v peer="$wgpeerselector" \
	-v leaks="$(lab_leak_count)" '
	{ t[NR] = $1 }
	END {
		median = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		max = t[NR]
		printf "\nfailover time over %d kills (vpnsteerd, default failover settings):\n", NR
		printf "  median %6.1f s   max %6.1f s   target <= %d s: %s\n", median, max, target,
			max <= target ? "MET" : "MISSED"
		printf "wgpeerselector (documented worst case, not measured here): %d s\n", peer
		printf "ratio wgpeerselector worst / vpnsteerd max: %.1fx\n", peer / max
		printf "packets outside the tunnels meanwhile: %d\n", leaks
	}'
