#!/usr/bin/env bash
# Malformed, truncated, oversized and random packets, from clients and from upstreams,
# never crash or wedge the WAN DNS forwarder.
#
#   [client]  vpnsteer-wandns-run on 127.0.0.1:54 (--max-tcp 16, --tcp-idle 1000)
#             dnsmasq on 127.0.0.53         the upstream that behaves
#             chaos.py upstream, 127.0.0.2  the upstream that does not
#             chaos.py client               thousands of bad datagrams and TCP streams
#
# After the client's barrage the forwarder must still answer at once, have closed every
# idle connection, and hold nothing in flight. Against the hostile upstream every query
# must end, within the timeout, in the answer, SERVFAIL, or (when the TCP retry fails) the
# truncated answer. CHAOS_SEED replays a run.
#
# Usage: robustness.sh VPNSTEER_WANDNS_RUN
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../lib/skip.sh"
runner=$(realpath "${1:?usage: robustness.sh VPNSTEER_WANDNS_RUN}")

require_root
require_command ip nsenter unshare dnsmasq dig python3
source "$here/../lib/lab.sh"
source "$here/../lib/assert.sh"

lab_init wandns-chaos 300
lab_add_netns client

lab_spawn client dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file= \
	--user=root --bind-interfaces --listen-address=127.0.0.53 --port=53 \
	--host-record=uplink.lab,203.0.113.7
lab_spawn client hostile python3 "$here/chaos.py" upstream 127.0.0.2 53
servers=$LAB_DIR/servers
echo 127.0.0.53 >"$servers"
lab_spawn client forwarder "$runner" --mark 10000 --listen 127.0.0.1:54 --servers-file "$servers" \
	--attempt-timeout 500 --timeout 2000 --max-tcp 16 --tcp-idle 1000 --max-in-flight 256
lab_wait_daemon forwarder grep -q '^ready$' "$(lab_log forwarder)"
lab_wait_daemon hostile grep -q 'serving' "$(lab_log hostile)"
lab_wait_daemon dnsmasq n_client dig +short +time=1 +tries=1 @127.0.0.53 uplink.lab

# shellcheck source=tests/wandns/forwarder-lab.sh
source "$here/forwarder-lab.sh"

expect "the forwarder answers before the barrage" '^203\.0\.113\.7$' \
	n_client dig +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab

# --- hostile clients ---------------------------------------------------------------------
seed=${CHAOS_SEED:-$RANDOM$RANDOM}
expect_status "chaos client (seed $seed): every idle connection it held was closed" 0 \
	n_client env CHAOS_HOLD_SECONDS=3 python3 "$here/chaos.py" client 127.0.0.1 54 "$seed"
expect_status "the forwarder survived" 0 lab_alive forwarder
after=$(timed_dig +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "it answers over UDP right after" 'status: NOERROR' echo "$after"
expect_status "... at once" 0 elapsed_below 500 "$after"
expect "and over TCP" '^203\.0\.113\.7$' \
	n_client dig +tcp +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab
expect "malformed packets were dropped and counted" '^[1-9]' counter malformed_dropped
expect "bad queries were answered FORMERR/NOTIMP and counted" '^[1-9]' counter format_errors
expect "connections beyond --max-tcp were turned away" '^[1-9]' counter overloaded
expect "no TCP client is left once idle" '^0$' counter tcp_clients
expect "nothing is left in flight" '^0$' counter in_flight

# --- a hostile upstream ------------------------------------------------------------------
use_servers 127.0.0.2
check_upstream() { # check_upstream LABEL REGEX WHAT [DIG ARGS...]
	local label=$1 regex=$2 what=$3
	shift 3
	local out
	out=$(timed_dig +time=6 +tries=1 +bufsize=4096 +ignore "$@" -p 54 @127.0.0.1 "$label.lab")
	expect "$label upstream: $what" "$regex" echo "$out"
	expect_status "$label upstream: ... within the query timeout" 0 elapsed_below 3000 "$out"
}
for label in garbage wrongid badquestion otherquestion; do
	check_upstream "$label" 'status: SERVFAIL' "SERVFAIL"
done
check_upstream flood '^flood\.lab\..*203\.0\.113\.7$' "the answer behind 200 junk datagrams"
check_upstream slow '^slow\.lab\..*203\.0\.113\.7$' "a late answer to the first attempt counts"
check_upstream huge '^;; flags: qr tc' "a 65000-byte answer is truncated for a 4096-byte client"
check_upstream huge '^;; MSG SIZE  rcvd: 65000$' "... and relayed whole over TCP" +tcp
for label in tc-close tc-zero tc-stall tc-garbage tc-wrongid; do
	check_upstream "$label" '^;; flags: qr tc' "the TCP retry fails: the truncated answer is relayed"
done
check_upstream tc-ok '^tc-ok\.lab\..*203\.0\.113\.9$' "the TCP retry's answer"
expect "mismatched answers were counted" '^[1-9]' counter mismatched_answers

use_servers 127.0.0.53
expect "the forwarder is well afterwards" '^203\.0\.113\.7$' \
	n_client dig +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab
expect "nothing is left in flight at the end" '^0$' counter in_flight
expect_status "the forwarder is still running" 0 lab_alive forwarder

assert_done
