#!/usr/bin/env bash
# libpacketmark.so, as a program sees it and as the network sees it.
#
#   1. packetmark-probe opens sockets under LD_PRELOAD and reads SO_MARK back: the mark
#      of LIBPACKETMARK_MARK (decimal or 0x hex) on every socket; none without the variable
#      or with a bad value; errno untouched; failing socket() calls fail as before; an
#      unprivileged program (no CAP_NET_ADMIN) gets unmarked sockets and no error.
#   2. In a namespace where only marked packets have a route, dig reaches the server under
#      the library and fails without it:
#
#      [client]  ip rule fwmark 10000 lookup 100; table 100: 198.51.100.0/24 via 192.0.2.2
#         │      (main has no route there)
#      [server]  dnsmasq on 198.51.100.53
#
# Usage: packetmark.sh LIBPACKETMARK PROBE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../lib/skip.sh"
library=$(realpath "${1:?usage: packetmark.sh LIBPACKETMARK PROBE}")
probe=$(realpath "${2:?usage: packetmark.sh LIBPACKETMARK PROBE}")

require_root
require_command ip nsenter unshare dnsmasq dig setpriv
source "$here/../lib/lab.sh"
source "$here/../lib/assert.sh"

probe_with() { # probe_with MARK|-: the probe's output with the library (- : no variable)
	if [[ "$1" == - ]]; then
		env -u LIBPACKETMARK_MARK LD_PRELOAD="$library" "$probe"
	else
		env LIBPACKETMARK_MARK="$1" LD_PRELOAD="$library" "$probe"
	fi
}

marks_of() { grep -E '^(inet|inet6|unix)' <<<"$1"; }
all_marked() { # all_marked OUTPUT MARK: every socket line says mark=MARK
	local lines
	lines=$(marks_of "$1")
	[[ $(grep -c . <<<"$lines") -eq 4 && $(grep -c "mark=$2\$" <<<"$lines") -eq 4 ]]
}

lab_init packetmark 120

# --- 1. the probe ---------------------------------------------------------------------
plain=$("$probe")
expect_status "without the library no socket is marked" 0 all_marked "$plain" 0

for value in 10000 0x2710 0X2710 00010000; do
	expect_status "LIBPACKETMARK_MARK=$value marks every socket 10000" 0 \
		all_marked "$(probe_with "$value")" 10000
done
expect_status "the largest mark" 0 all_marked "$(probe_with 0xffffffff)" 4294967295

for value in - "" abc 10x 0x -1 +5 " 1" 4294967296 0x100000000 1e4; do
	expect_status "LIBPACKETMARK_MARK='$value' changes nothing" 0 all_marked "$(probe_with "$value")" 0
done

marked=$(probe_with 10000)
expect "a successful socket() leaves errno as it was" '^success fd-ok=1 errno=1234$' echo "$marked"
expect_equal "failing socket() calls fail as they do without the library" \
	"$(grep -E '^bad-' <<<"$plain")" "$(grep -E '^bad-' <<<"$marked")"
expect "a bad family still fails with its own errno" '^bad-family rc=-1 errno=Address family' \
	echo "$marked"

# setsockopt(SO_MARK) fails with EPERM here; the program must not notice.
unprivileged=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	env LIBPACKETMARK_MARK=10000 LD_PRELOAD="$library" "$probe")
expect_status "without CAP_NET_ADMIN sockets stay unmarked" 0 all_marked "$unprivileged" 0
expect "without CAP_NET_ADMIN socket() still succeeds and keeps errno" \
	'^success fd-ok=1 errno=1234$' echo "$unprivileged"

# --- 2. on the wire -------------------------------------------------------------------
lab_add_netns client
lab_add_netns server
lab_veth client c0 server s0
n_client ip addr add 192.0.2.1/24 dev c0
n_server ip addr add 192.0.2.2/24 dev s0
n_server ip addr add 198.51.100.53/32 dev lo
n_client ip route add 198.51.100.0/24 via 192.0.2.2 table 100
n_client ip rule add fwmark 10000 lookup 100 priority 80
lab_spawn server dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --pid-file= \
	--user=root --listen-address=198.51.100.53 --bind-interfaces \
	--host-record=uplink.lab,203.0.113.7
wait_for n_server dig +short +time=1 +tries=1 @198.51.100.53 uplink.lab

expect "under the library dig reaches the server through the marked route" '^203\.0\.113\.7$' \
	n_client env LIBPACKETMARK_MARK=10000 LD_PRELOAD="$library" \
	dig +short +time=1 +tries=1 @198.51.100.53 uplink.lab
expect "over TCP too" '^203\.0\.113\.7$' \
	n_client env LIBPACKETMARK_MARK=0x2710 LD_PRELOAD="$library" \
	dig +tcp +short +time=1 +tries=1 @198.51.100.53 uplink.lab
expect_no "without the mark there is no route" '^203\.0\.113\.7$' \
	n_client dig +short +time=1 +tries=1 @198.51.100.53 uplink.lab

assert_done
