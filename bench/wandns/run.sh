#!/usr/bin/env bash
# bench/wandns: the WAN DNS forwarder against dnsmasq --cache-size=0 (how the original
# uplink design forwards), in the same run, both forwarding to the same upstream.
#
#   [bench]  dnsperf ─► 127.0.0.1:54    vpnsteer-wandns-run --mark 10000 ─┐
#            dnsperf ─► 127.0.0.1:5300  dnsmasq --cache-size=0 ───────────┤ b0 192.0.2.1
#                                                                         │ a0 192.0.2.2
#   [auth]   dnsmasq on 198.51.100.53: answers every *.bench.lab itself ◄─┘
#
# Phase 1, throughput: dnsperf keeps 100 queries outstanding; queries per second, CPU time
#   per query, and the resident memory (VmRSS) of each forwarder right after.
# Phase 2, latency: both at the same fixed rate (half the slower one's phase-1 figure);
#   p50 and p99 from dnsperf's per-query latencies (a lost query counts as dnsperf's 2 s
#   timeout).
# Each phase gives each side SECONDS in all, in rounds of 2 s that alternate between the
# sides, so that load from other programs on the machine falls on both alike.
#
# Every name is different (10000 of them), so dnsmasq cannot merge queries in flight.
# Targets (issue 6): qps >= 1.5x dnsmasq's; p99 no worse; RSS <= dnsmasq's + 2 MiB.
#
# Usage: run.sh VPNSTEER_WANDNS_RUN [SECONDS]   (root: it makes network namespaces)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tests=$here/../../tests
source "$tests/lib/skip.sh"
runner=$(realpath "${1:?usage: run.sh VPNSTEER_WANDNS_RUN [SECONDS]}")
seconds=${2:-10}

require_root
require_command ip nsenter unshare dnsmasq dnsperf dig
source "$tests/lib/lab.sh"

lab_init bench-wandns $((8 * seconds + 120))
lab_add_netns bench
lab_add_netns auth
lab_veth bench b0 auth a0
n_bench ip addr add 192.0.2.1/24 dev b0
n_auth ip addr add 192.0.2.2/24 dev a0
n_auth ip addr add 198.51.100.53/32 dev lo
n_bench ip route add 198.51.100.0/24 via 192.0.2.2
# The design's bypass rule: WAN-marked packets look up main (DESIGN.md, priority 80).
n_bench ip rule add fwmark 10000 lookup main priority 80

lab_spawn auth upstream dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file= \
	--user=root --bind-interfaces --listen-address=198.51.100.53 --address=/bench.lab/203.0.113.7
lab_spawn bench peer dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file= \
	--bind-interfaces --listen-address=127.0.0.1 --port=5300 --cache-size=0 \
	--server=198.51.100.53
lab_spawn bench ours "$runner" --mark 10000 --listen 127.0.0.1:54 --server 198.51.100.53
lab_wait_daemon upstream n_auth dig +short +time=1 +tries=1 @198.51.100.53 ready.bench.lab
lab_wait_daemon peer n_bench dig +short +time=1 +tries=1 -p 5300 @127.0.0.1 ready.bench.lab
lab_wait_daemon ours n_bench dig +short +time=1 +tries=1 -p 54 @127.0.0.1 ready.bench.lab

queries=$LAB_DIR/queries
for i in $(seq 1 10000); do echo "q$i.bench.lab A"; done >"$queries"

declare -A port=([ours]=54 [peer]=5300)
declare -A qps rss cpu p50 p99 lost completed runtime ticks
rounds=$(((seconds + 1) / 2))
round_seconds=$(awk -v s="$seconds" -v r="$rounds" 'BEGIN { printf "%.2f", s / r }')

# cpu_ticks NAME: user + system clock ticks the daemon has used.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$(lab_pid "$1")/stat")
	stat=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$stat"
}

# throughput SIDE: one round of phase 1, added to SIDE's totals.
throughput() {
	local side=$1 out before after
	before=$(cpu_ticks "$side")
	out=$(n_bench dnsperf -s 127.0.0.1 -p "${port[$side]}" -d "$queries" -l "$round_seconds" \
		-q 100 -c 1 -T 1 -t 2 2>&1)
	after=$(cpu_ticks "$side")
	completed[$side]=$((${completed[$side]:-0} + $(awk '/Queries completed:/ { print $3 }' <<<"$out")))
	lost[$side]=$((${lost[$side]:-0} + $(awk '/Queries lost:/ { print $3 }' <<<"$out")))
	runtime[$side]=$(awk -v a="${runtime[$side]:-0}" '/Run time/ { printf "%.6f", a + $4 }' <<<"$out")
	ticks[$side]=$((${ticks[$side]:-0} + after - before))
}

# summarize_throughput SIDE: qps, CPU microseconds per answered query, and VmRSS.
summarize_throughput() {
	local side=$1
	qps[$side]=$(awk -v n="${completed[$side]}" -v t="${runtime[$side]}" \
		'BEGIN { printf "%d", t ? n / t : 0 }')
	cpu[$side]=$(awk -v t="${ticks[$side]}" -v hz="$(getconf CLK_TCK)" -v n="${completed[$side]}" \
		'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
	rss[$side]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(lab_pid "$side")/status")
}

# latency SIDE RATE: one round of phase 2; per-query latencies appended to SIDE's file.
latency() {
	local side=$1 rate=$2
	n_bench dnsperf -s 127.0.0.1 -p "${port[$side]}" -d "$queries" -l "$round_seconds" \
		-Q "$rate" -q 1000 -c 1 -T 1 -t 2 -v 2>&1 |
		awk '/^> / { print ($2 == "T" ? 2 : $NF) }' >>"$LAB_DIR/latency-$side"
}

summarize_latency() {
	local side=$1 count
	sort -g -o "$LAB_DIR/latency-$side" "$LAB_DIR/latency-$side"
	count=$(wc -l <"$LAB_DIR/latency-$side")
	p50[$side]=$(awk -v n="$count" 'NR == int(n * 0.50 + 0.5) { printf "%.3f", $1 * 1000 }' \
		"$LAB_DIR/latency-$side")
	p99[$side]=$(awk -v n="$count" 'NR == int(n * 0.99 + 0.5) { printf "%.3f", $1 * 1000 }' \
		"$LAB_DIR/latency-$side")
}

echo "bench-wandns: ${seconds} s per side and phase, in $rounds alternating rounds;" \
	"dnsperf: one client, one thread"
echo "phase 1: throughput (100 queries outstanding)"
for ((round = 0; round < rounds; round++)); do
	throughput peer
	throughput ours
done
summarize_throughput peer
summarize_throughput ours
rate=$(((qps[ours] < qps[peer] ? qps[ours] : qps[peer]) / 2))
echo "phase 2: latency at $rate queries per second"
for ((round = 0; round < rounds; round++)); do
	latency peer "$rate"
	latency ours "$rate"
done
summarize_latency peer
summarize_latency ours

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }

qps_ratio=$(ratio "${qps[ours]}" "${qps[peer]}")
p99_ratio=$(ratio "${p99[ours]}" "${p99[peer]}")
rss_delta=$((rss[ours] - rss[peer]))
echo
printf '%-28s %16s %24s %9s  %-14s %s\n' "" "vpnsteer-wandns" "dnsmasq --cache-size=0" \
	"ratio" "target" "result"
printf '%-28s %16s %24s %9s  %-14s %s\n' "queries per second" "${qps[ours]}" "${qps[peer]}" \
	"${qps_ratio}x" ">= 1.5x" "$(verdict "$qps_ratio >= 1.5")"
printf '%-28s %16s %24s %9s  %-14s %s\n' "p50 latency (ms) @ $rate/s" "${p50[ours]}" \
	"${p50[peer]}" "$(ratio "${p50[ours]}" "${p50[peer]}")x" "" ""
printf '%-28s %16s %24s %9s  %-14s %s\n' "p99 latency (ms) @ $rate/s" "${p99[ours]}" \
	"${p99[peer]}" "${p99_ratio}x" "<= 1.0x" "$(verdict "${p99[ours]} <= ${p99[peer]}")"
printf '%-28s %16s %24s %9s  %-14s %s\n' "resident memory (KiB)" "${rss[ours]}" "${rss[peer]}" \
	"$(printf '%+d' "$rss_delta")" "<= +2048 KiB" "$(verdict "$rss_delta <= 2048")"
printf '%-28s %16s %24s %9s\n' "CPU per query (us)" "${cpu[ours]}" "${cpu[peer]}" \
	"$(ratio "${cpu[ours]}" "${cpu[peer]}")x"
printf '%-28s %16s %24s\n' "queries lost (phase 1)" "${lost[ours]}" "${lost[peer]}"
