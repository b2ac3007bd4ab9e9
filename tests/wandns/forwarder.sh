#!/usr/bin/env bash
# The WAN DNS forwarder against a real dnsmasq, with the WAN mark doing the routing.
#
#   [client]  vpnsteer-wandns-run --mark 10000 on 127.0.0.1:54, [::1]:54, 192.0.2.1:54
#      │      ip rule fwmark 10000 lookup 100 (v4 and v6); table 100 routes the upstreams'
#      │      networks, main does not: only marked packets reach an upstream.
#      │      iptables-legacy mangle OUTPUT counts port-53 packets, marked and unmarked.
#      │ c0 192.0.2.1/24 2001:db8::1/64
#      │ s0 192.0.2.2/24 2001:db8::2/64
#   [server]  198.51.100.53, 2001:db8:100::53  dnsmasq (uplink.lab, a big TXT that it
#             │                                truncates over UDP: --edns-packet-max=512)
#             198.51.100.54                    silent (iptables-legacy DROP)
#             198.51.100.55                    nothing listening (ICMP port unreachable)
#   203.0.113.99 has no route at all.
#
# Usage: forwarder.sh VPNSTEER_WANDNS_RUN
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../lib/skip.sh"
runner=$(realpath "${1:?usage: forwarder.sh VPNSTEER_WANDNS_RUN}")

require_root
require_command ip nsenter unshare dnsmasq dig iptables-legacy
source "$here/../lib/lab.sh"
source "$here/../lib/assert.sh"

lab_init wandns 240
lab_add_netns client
lab_add_netns server
lab_veth client c0 server s0
n_client ip addr add 192.0.2.1/24 dev c0
n_client ip addr add 2001:db8::1/64 dev c0 nodad
n_server ip addr add 192.0.2.2/24 dev s0
n_server ip addr add 2001:db8::2/64 dev s0 nodad
for address in 198.51.100.53/32 198.51.100.54/32 198.51.100.55/32; do
	n_server ip addr add "$address" dev lo
done
n_server ip addr add 2001:db8:100::53/128 dev lo nodad
n_server iptables-legacy -A INPUT -d 198.51.100.54 -j DROP

n_client ip route add 198.51.100.0/24 via 192.0.2.2 table 100
n_client ip -6 route add 2001:db8:100::/64 via 2001:db8::2 table 100
n_client ip rule add fwmark 10000 lookup 100 priority 80
n_client ip -6 rule add fwmark 10000 lookup 100 priority 80
for proto in udp tcp; do
	n_client iptables-legacy -t mangle -A OUTPUT -p "$proto" --dport 53 -m mark --mark 10000 \
		-m comment --comment "marked-$proto"
	n_client iptables-legacy -t mangle -A OUTPUT -p "$proto" --dport 53 -m mark ! --mark 10000 \
		-m comment --comment "unmarked-$proto"
done

strings=()
for letter in a b c; do
	strings+=("$(printf "%0200d" 0 | tr 0 "$letter")")
done
big_txt=$(IFS=,; echo "${strings[*]}")
lab_spawn server dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file= \
	--user=root --bind-interfaces --listen-address=198.51.100.53,2001:db8:100::53 \
	--host-record=uplink.lab,203.0.113.7,2001:db8::7 --txt-record="big.lab,$big_txt" \
	--edns-packet-max=512 --log-queries --log-facility=-
lab_wait_daemon dnsmasq n_server dig +short +time=1 +tries=1 @198.51.100.53 uplink.lab

servers=$LAB_DIR/servers
echo 198.51.100.53 >"$servers"
lab_spawn client forwarder "$runner" --mark 10000 --listen 127.0.0.1:54 --listen '[::1]:54' \
	--listen 192.0.2.1:54 --servers-file "$servers" --attempt-timeout 500 --timeout 2000
lab_wait_daemon forwarder grep -q '^ready$' "$(lab_log forwarder)"

# shellcheck source=tests/wandns/forwarder-lab.sh
source "$here/forwarder-lab.sh"

# packets NAME: what the mangle OUTPUT rule commented NAME has counted.
packets() {
	n_client iptables-legacy -t mangle -L OUTPUT -v -n -x | awk -v name="/* $1 */" \
		'index($0, name) { print $1 }'
}
elapsed_at_least() {
	local ms
	ms=$(sed -n 's/^elapsed_ms=//p' <<<"$2")
	((ms >= $1))
}

# --- answers through the uplink ----------------------------------------------------------
expect "UDP on 127.0.0.1:54 answers" '^203\.0\.113\.7$' \
	n_client dig +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab
expect "TCP on 127.0.0.1:54 answers" '^203\.0\.113\.7$' \
	n_client dig +tcp +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab
expect "UDP on [::1]:54 answers" '^2001:db8::7$' \
	n_client dig +short +time=2 +tries=1 -p 54 @::1 uplink.lab AAAA
expect "TCP on [::1]:54 answers" '^2001:db8::7$' \
	n_client dig +tcp +short +time=2 +tries=1 -p 54 @::1 uplink.lab AAAA
expect "EDNS passes through: an OPT record in, dnsmasq's OPT record out" 'EDNS: version: 0' \
	n_client dig +bufsize=1232 +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab
expect_no "without EDNS in the query there is none in the answer" 'EDNS:' \
	n_client dig +noedns +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab

# --- the WAN mark ------------------------------------------------------------------------
expect "upstream queries carry the WAN mark" '^[1-9][0-9]*$' packets marked-udp
expect_equal "no unmarked packet went to port 53" "0" "$(packets unmarked-udp)"
expect_no "the same query without the mark has no route" '^203\.0\.113\.7$' \
	n_client dig +short +time=1 +tries=1 @198.51.100.53 uplink.lab

# --- truncation: dnsmasq sends at most 512 bytes over UDP ----------------------------------
big=$(n_client dig +bufsize=4096 +ignore +time=3 +tries=1 -p 54 @127.0.0.1 big.lab TXT)
expect "a truncated upstream answer is fetched over TCP and relayed whole" \
	'^;; MSG SIZE  rcvd: (6[0-9][0-9])$' echo "$big"
expect_no "the client sees no TC flag" '^;; flags:.* tc' echo "$big"
expect "all three strings arrived" "\"$(printf "%0200d" 0 | tr 0 c)\"" echo "$big"
expect "the retry is counted" '^[1-9]' counter truncated_retries
expect "the TCP retry carries the WAN mark too" '^[1-9][0-9]*$' packets marked-tcp
expect_equal "no unmarked TCP to port 53" "0" "$(packets unmarked-tcp)"
expect "a client without EDNS gets TC from the forwarder, and all of it over TCP" \
	'^;; MSG SIZE  rcvd: (6[0-9][0-9])$' \
	n_client dig +noedns +time=3 +tries=1 -p 54 @127.0.0.1 big.lab TXT

# --- upstream lists, retries and failures -------------------------------------------------
use_servers 2001:db8:100::53
expect "an IPv6 upstream answers" '^203\.0\.113\.7$' \
	n_client dig +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab

use_servers 198.51.100.54 198.51.100.53
first=$(timed_dig +time=5 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "a silent first server: the second answers" 'status: NOERROR' echo "$first"
expect_status "... after the attempt timeout (500 ms)" 0 elapsed_at_least 450 "$first"
second=$(timed_dig +time=5 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "the next query goes to the server that answered" 'status: NOERROR' echo "$second"
expect_status "... at once" 0 elapsed_below 400 "$second"

use_servers 198.51.100.54
silent=$(timed_dig +time=5 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "an unreachable upstream yields SERVFAIL" 'status: SERVFAIL' echo "$silent"
expect_status "... within the 2 s query timeout" 0 elapsed_below 2600 "$silent"
expect_status "... not before it" 0 elapsed_at_least 1900 "$silent"

use_servers 198.51.100.55
refused=$(timed_dig +time=5 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "a port that refuses yields SERVFAIL" 'status: SERVFAIL' echo "$refused"
expect_status "... at once (ICMP port unreachable)" 0 elapsed_below 500 "$refused"

use_servers 203.0.113.99
unroutable=$(timed_dig +time=5 +tries=1 -p 54 @127.0.0.1 uplink.lab)
expect "an upstream without a route yields SERVFAIL" 'status: SERVFAIL' echo "$unroutable"
expect_status "... at once" 0 elapsed_below 500 "$unroutable"

use_servers 198.51.100.53

# --- loopback clients only ---------------------------------------------------------------
refused_before=$(counter refused)
expect_no "a client on the LAN gets no UDP answer" '^203\.0\.113\.7$' \
	n_server dig +short +time=1 +tries=1 -p 54 @192.0.2.1 uplink.lab
expect_no "nor a TCP one" '^203\.0\.113\.7$' \
	n_server dig +tcp +short +time=1 +tries=1 -p 54 @192.0.2.1 uplink.lab
refused_after=$(counter refused)
expect_status "both were counted as refused" 0 test "$refused_after" -ge $((refused_before + 2))
expect "a loopback client on the same listener address family still gets answers" \
	'^203\.0\.113\.7$' n_client dig +short +time=2 +tries=1 -p 54 @127.0.0.1 uplink.lab

# --- counters ----------------------------------------------------------------------------
expect "queries are counted" '^[1-9]' counter queries
expect "answers are counted" '^[1-9]' counter answers
expect "SERVFAILs are counted" '^[3-9]|^[1-9][0-9]' counter servfails
expect "timeouts are counted" '^[1-9]' counter timeouts
expect "nothing is left in flight" '^0$' counter in_flight
expect_status "the forwarder is still running" 0 lab_alive forwarder

assert_done
