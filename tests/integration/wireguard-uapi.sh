#!/usr/bin/env bash
# vpnsteerd's UAPI WireGuard device (service/wireguard/uapi_device.hpp) against the real
# wireguard-go, through wireguard-probe:
#
#   [left]  wireguard-go wl-ID 10.20.250.1 ── veth 192.0.2.1 / 192.0.2.2 ── [right] wireguard-go wr-ID 10.20.250.2
#                        (configured by the probe)                            (configured by `wg`)
#
# - configure: `wg show` reads back the key, mark, port, peer, endpoint, PSK, keepalive and
#   the allowed IPs 0.0.0.0/0 and ::/0;
# - the tunnel carries a ping, after which the probe's status shows the handshake and
#   the byte counters, and the public key `wg pubkey` derives;
# - endpoint: the peer moves to the second address and keeps its session.
#
# Usage: wireguard-uapi.sh WIREGUARD_PROBE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
probe=$(realpath "${1:?usage: $0 WIREGUARD_PROBE}")
# shellcheck source=tests/lib/skip.sh
source "$here/../lib/skip.sh"
require_root
require_command ip nsenter unshare wireguard-go wg ping iptables-legacy
# shellcheck source=tests/lib/lab.sh
source "$here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$here/../lib/assert.sh"

lab_init wireguard-uapi 60
lab_add_netns left
lab_add_netns right
lab_veth left eth0 right eth0
n_left ip addr add 192.0.2.1/24 dev eth0
n_right ip addr add 192.0.2.2/24 dev eth0
n_right ip addr add 192.0.2.3/24 dev eth0
left=wl$LAB_ID right=wr$LAB_ID
lab_start_wireguard_go left "$left"
lab_start_wireguard_go right "$right"

umask 077
wg genkey >"$LAB_DIR/left.key"
wg genkey >"$LAB_DIR/right.key"
wg genpsk >"$LAB_DIR/psk"
left_public=$(wg pubkey <"$LAB_DIR/left.key")
right_public=$(wg pubkey <"$LAB_DIR/right.key")
n_right wg set "$right" listen-port 51821 private-key "$LAB_DIR/right.key" \
	peer "$left_public" preshared-key "$LAB_DIR/psk" allowed-ips 10.20.250.1/32
n_left ip addr add 10.20.250.1/24 dev "$left"
n_right ip addr add 10.20.250.2/24 dev "$right"
n_left ip link set "$left" up
n_right ip link set "$right" up

echo "== configure"
expect_status "the probe configures $left" 0 n_left "$probe" "$left" configure \
	"$LAB_DIR/left.key" 10042 40000 "$right_public" 192.0.2.2:51821 "$LAB_DIR/psk" 25
expect "the private key is set" "^$(re_escape "$(cat "$LAB_DIR/left.key")")\$" \
	n_left wg show "$left" private-key
expect "the firewall mark is 10042" '^0x273a$' n_left wg show "$left" fwmark
expect "the listen port is 40000" '^40000$' n_left wg show "$left" listen-port
expect "the one peer has its endpoint" "^$(re_escape "$right_public")	192\.0\.2\.2:51821\$" \
	n_left wg show "$left" endpoints
expect "its allowed IPs are 0.0.0.0/0 and ::/0" "	0\.0\.0\.0/0 ::/0\$" \
	n_left wg show "$left" allowed-ips
expect "its preshared key is set" "	$(re_escape "$(cat "$LAB_DIR/psk")")\$" \
	n_left wg show "$left" preshared-keys
expect "its keepalive is 25 s" "	25\$" n_left wg show "$left" persistent-keepalive

echo "== traffic and status"
expect_status "a ping crosses the tunnel" 0 wait_for -t 10 n_left ping -c 1 -W 1 10.20.250.2
expect "the status shows the derived public key" "^public_key=$(re_escape "$left_public")\$" \
	n_left "$probe" "$left" status
expect "the status shows a handshake and bytes both ways" \
	"^peer=$(re_escape "$right_public") endpoint=192\.0\.2\.2:51821 handshake=[1-9][0-9]+ rx=[1-9][0-9]* tx=[1-9][0-9]*\$" \
	n_left "$probe" "$left" status

echo "== endpoint update"
handshake_before=$(n_left wg show "$left" latest-handshakes | cut -f2)
expect_status "the probe moves the peer to 192.0.2.3" 0 \
	n_left "$probe" "$left" endpoint "$right_public" 192.0.2.3:51821
expect "the endpoint is 192.0.2.3:51821" "	192\.0\.2\.3:51821\$" n_left wg show "$left" endpoints
expect "the allowed IPs stay" "	0\.0\.0\.0/0 ::/0\$" n_left wg show "$left" allowed-ips
# The old address stops answering (its tunnel packets are dropped).
n_right iptables-legacy -A INPUT -d 192.0.2.2 -p udp --dport 51821 -j DROP
expect_status "a ping crosses the tunnel at the new endpoint" 0 \
	wait_for -t 10 n_left ping -c 1 -W 1 10.20.250.2
expect "the endpoint stays 192.0.2.3:51821" "	192\.0\.2\.3:51821\$" n_left wg show "$left" endpoints
expect_equal "the session survived the move (same handshake)" "$handshake_before" \
	"$(n_left wg show "$left" latest-handshakes | cut -f2)"

echo "== errors name the socket"
expect "a missing device fails with the socket's path" \
	"connecting to /var/run/wireguard/nope$LAB_ID\.sock: No such file" \
	n_left "$probe" "nope$LAB_ID" status
assert_done
