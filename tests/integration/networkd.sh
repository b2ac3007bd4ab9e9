#!/usr/bin/env bash
# The generated files as the real systemd-networkd realizes them, checked
# against the kernel.
#
#   [client]  vpnsteer-generator -> /run/systemd/network (private to client)
#             systemd-networkd
#             wireguard-go A   (tunnel A: IPv4 and IPv6, single-peer form)
#             wireguard-go B   (tunnel B: IPv4 only, peers list, own bridge name)
#             br-A, BRIDGE_B   (bridges: address, rule id+200, kill switch)
#
# Both VPNs use "implementation": "userspace": this kernel has no WireGuard,
# so wireguard-go makes each device and no .netdev is written for it. The
# tunnels start after networkd, as they would on a booting host, so the rules
# of a tunnel's .network must appear when its device does.
#
# Usage: networkd.sh VPNSTEER_GENERATOR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$here/../lib/skip.sh"
generator=$(realpath "${1:?usage: networkd.sh VPNSTEER_GENERATOR}")

require_root
require_command ip nsenter unshare wireguard-go wg /lib/systemd/systemd-networkd
# shellcheck source=tests/lib/lab.sh
source "$here/../lib/lab.sh"
# shellcheck source=tests/lib/assert.sh
source "$here/../lib/assert.sh"

lab_init networkd 150
lab_add_netns client
ns=$(lab_ns client)

# Names unique to this run: wireguard-go's sockets and the interfaces never
# meet another run's, even outside the private /run.
a=vs$LAB_ID
b=vt$LAB_ID
bridge_a=br-$a
bridge_b=brt$LAB_ID
id_a=42
id_b=43
mark_a=$(printf '0x%x' $((10000 + id_a)))
mark_b=$(printf '0x%x' $((10000 + id_b)))

(umask 077 && wg genkey >"$LAB_DIR/private.key")
peer_key=$(wg genkey | wg pubkey)
cat >"$LAB_DIR/vpns.json" <<EOF
{
  "version": 1,
  "vpns": {
    "$a": {
      "id": $id_a, "implementation": "userspace",
      "endpoint": "192.0.2.1:51820", "publicKey": "$peer_key",
      "addrV4": "198.51.100.42", "addrV6": "2001:db8:42::2",
      "dns": ["198.51.100.53"],
      "privateKeyFile": "$LAB_DIR/private.key"
    },
    "$b": {
      "id": $id_b, "implementation": "userspace",
      "addrV4": "203.0.113.43/32", "bridgeDevice": "$bridge_b",
      "privateKeyFile": "$LAB_DIR/private.key",
      "peers": [ { "name": "gw1", "publicKey": "$peer_key", "endpoint": "[2001:db8::1]:51820",
                   "persistentKeepalive": 25 } ]
    }
  }
}
EOF

echo "== generator (inside client, so it writes the client's /run/systemd/network)"
mkdir -p "$LAB_DIR/normal" "$LAB_DIR/early" "$LAB_DIR/late"
expect_status "the generator succeeds" 0 \
	n_client timeout 30 "$generator" --spec "$LAB_DIR/vpns.json" \
	--network-dir /run/systemd/network "$LAB_DIR/normal" "$LAB_DIR/early" "$LAB_DIR/late"
expect_equal "the generator writes bridge and tunnel files, and no .netdev for userspace tunnels" \
	"$(printf '%s\n' "60-vpnsteer-$a.network" "60-vpnsteer-$b.network" \
		"61-vpnsteer-$a-bridge.netdev" "61-vpnsteer-$a-bridge.network" \
		"61-vpnsteer-$b-bridge.netdev" "61-vpnsteer-$b-bridge.network" | sort)" \
	"$(n_client ls /run/systemd/network | sort)"
expect "vpn-$a.service is in the normal folder" "^vpn-$a\.service$" ls "$LAB_DIR/normal"

echo "== systemd-networkd, before the tunnels exist"
lab_start_networkd client || {
	echo "FAIL: systemd-networkd did not start in the client namespace" >&2
	exit 1
}
expect "$bridge_a exists with 10.20.$id_a.1/24" \
	"^$bridge_a +[A-Z]+ +10\.20\.$id_a\.1/24" ip -n "$ns" -br addr show dev "$bridge_a"
expect "$bridge_b exists with 10.20.$id_b.1/24" \
	"^$bridge_b +[A-Z]+ +10\.20\.$id_b\.1/24" ip -n "$ns" -br addr show dev "$bridge_b"
for id in $id_a $id_b; do
	expect "rule $((id + 200)): from 10.20.$id.0/24 lookup $id" \
		"^$((id + 200)):[[:space:]]+from 10\.20\.$id\.0/24 lookup $id( |$)" ip -n "$ns" -4 rule
	expect "table $id: IPv4 kill switch" \
		"^unreachable default .*metric 4294967295( |$)" ip -n "$ns" -4 route show table "$id"
	expect "table $id: IPv6 kill switch (also for a VPN without IPv6)" \
		"^unreachable default .*metric 4294967295( |$)" ip -n "$ns" -6 route show table "$id"
done
expect_no "no bypass rule at 90 while no tunnel exists" "^90:" ip -n "$ns" -4 rule

echo "== the tunnels appear (wireguard-go)"
for vpn in "$a" "$b"; do
	lab_start_wireguard_go client "$vpn" || {
		echo "FAIL: wireguard-go did not create $vpn" >&2
		exit 1
	}
done
expect "$a has its IPv4 and IPv6 addresses" \
	"^$a +[A-Z]+ +198\.51\.100\.42/32 2001:db8:42::2/128" ip -n "$ns" -br addr show dev "$a"
expect "$b has its IPv4 address" \
	"^$b +[A-Z]+ +203\.0\.113\.43/32" ip -n "$ns" -br addr show dev "$b"
expect "table $id_a: IPv4 default via $a from 198.51.100.42" \
	"^default dev $a .*src 198\.51\.100\.42( |$)" ip -n "$ns" -4 route show table $id_a
expect "table $id_a: IPv6 default via $a from 2001:db8:42::2" \
	"^default dev $a .*src 2001:db8:42::2( |$)" ip -n "$ns" -6 route show table $id_a
expect "table $id_b: IPv4 default via $b from 203.0.113.43" \
	"^default dev $b .*src 203\.0\.113\.43( |$)" ip -n "$ns" -4 route show table $id_b
expect_no "table $id_b: no IPv6 default route (the VPN has no IPv6)" \
	"^default dev" ip -n "$ns" -6 route show table $id_b
expect "table $id_b: the IPv6 kill switch stays" \
	"^unreachable default .*metric 4294967295( |$)" ip -n "$ns" -6 route show table $id_b
for family in 4 6; do
	expect "IPv$family: bypass rule 90: fwmark $mark_a lookup main" \
		"^90:[[:space:]]+from all fwmark $mark_a lookup main( |$)" ip -n "$ns" -$family rule
	expect "IPv$family: bypass rule 90: fwmark $mark_b lookup main" \
		"^90:[[:space:]]+from all fwmark $mark_b lookup main( |$)" ip -n "$ns" -$family rule
done
expect_status "systemd-networkd still runs" 0 lab_alive client-networkd

assert_done
