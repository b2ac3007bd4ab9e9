#!/usr/bin/env bash
# DNS that follows the VPN (issue 5 items 3 and 5), with the real systemd-resolved in the
# client and vpnsteerd driving it over D-Bus.
#
#   [inet] public DNS ── [wan] ISP resolver (counts queries) ── [client] resolved, networkd,
#      └── [vpn] providers A and B                                 dbus, vpnsteerd
#
# The uplink's DNS is the ISP resolver (networkd's DNS=); each VPN's DNS is inet's public
# DNS, reached through its tunnel.
#
# - No VPN system-wide: names resolve through the ISP resolver.
# - Up A: A's link has its DNS server, `~.` and DefaultRoute; the uplink has no default route;
#   names resolve and the ISP resolver gets 0 queries, also after a restart of vpnsteerd.
# - Switch to B, then Down: every link is back to what it had, and names resolve through the
#   ISP resolver again.
# - resolved not running: Up still makes A system-wide, and vpnsteerd says why DNS does not
#   follow.
#
# Usage: bridges-dns-resolved.sh VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR
set -euo pipefail
# shellcheck source=tests/integration/bridges-dns-lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/bridges-dns-lab.sh"
bridges_dns_init bridges-dns-resolved 150 "$@"

NAME=echo.$LAB_DOMAIN

# The three properties of every link that matters, one line each: the state to compare.
dns_state() {
	local link
	for link in "$LAB_UPLINK" "$A" "$B" "br-$A" "br-$B"; do
		echo "$link: $(resolved_link "$link" DNS) | $(resolved_link "$link" Domains) |" \
			"$(resolved_link "$link" DefaultRoute)"
	done
}

# dns_state_compared: "as before" when dns_state is what it was before Up, else the state.
dns_state_compared() {
	local now
	now=$(dns_state)
	if [[ "$now" == "$before" ]]; then
		echo "as before"
	else
		echo "$now"
	fi
}

isp_queries() {
	echo "ISP resolver queries: $(lab_dns_queries)"
}

echo "== no VPN system-wide: the uplink's resolver answers"
wait_for -t 20 resolve "$NAME" || true
expect "the uplink has a default route for DNS" "^b true$" resolved_link "$LAB_UPLINK" DefaultRoute
before=$(dns_state)
echo "$before"
lab_dns_reset
expect "$NAME resolves" "$(re_escape "$LAB_INET4")" resolve "$NAME"
expect "through the ISP resolver" "^ISP resolver queries: [1-9][0-9]*$" isp_queries

echo "== Up A: A's DNS takes every query"
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect "A's link routes every domain" '^a\(sb\) 1 "\." true$' resolved_link "$A" Domains
expect "A's link is the DNS default route" "^b true$" resolved_link "$A" DefaultRoute
expect "A's link has A's DNS server" "^a\(iay\) 1 2 4 203 0 113 53$" resolved_link "$A" DNS
expect "the uplink is not a DNS default route" "^b false$" resolved_link "$LAB_UPLINK" DefaultRoute
expect "B's link is not a DNS default route" "^b false$" resolved_link "$B" DefaultRoute
expect_status "vpnsteerd saved what the links had" 0 n_client test -s /run/vpnsteer/resolved.json
lab_dns_reset
expect "$NAME resolves through A" "$(re_escape "$LAB_INET4")" resolve "$NAME"
expect "${LAB_VPN_HOSTNAME[$B]} resolves through A" "$(re_escape "$EXIT4_B")" \
	resolve "${LAB_VPN_HOSTNAME[$B]}"
expect "the ISP resolver got no query" "^ISP resolver queries: 0$" isp_queries

echo "== vpnsteerd restarts while A is system-wide"
lab_stop vpnsteerd
lab_steer_start_daemon "$VPNSTEERD" || e2e_abort "vpnsteerd did not start again"
expect_system_wide "A is still system-wide" "$A"
expect "the uplink still has no DNS default route" "^b false$" \
	resolved_link "$LAB_UPLINK" DefaultRoute
expect "$NAME still resolves through A" "$(re_escape "$LAB_INET4")" resolve "$NAME"
expect "the ISP resolver still got no query" "^ISP resolver queries: 0$" isp_queries

echo "== Switch to B, then Down"
expect_status "Switch($B) succeeds" 0 lab_steer_call Switch s "$B"
expect "B's link routes every domain" '^a\(sb\) 1 "\." true$' resolved_link "$B" Domains
expect "A's link lost ~." '^a\(sb\) 0$' resolved_link "$A" Domains
expect "A's link is no DNS default route" "^b false$" resolved_link "$A" DefaultRoute
expect "$NAME resolves through B" "$(re_escape "$LAB_INET4")" resolve "$NAME"
expect "the ISP resolver got no query" "^ISP resolver queries: 0$" isp_queries
expect_status "Down($B) succeeds" 0 lab_steer_call Down s "$B"
expect "resolved's links are exactly as before Up" "^as before$" dns_state_compared
expect_status "vpnsteerd's saved DNS state is gone" 1 n_client test -e /run/vpnsteer/resolved.json
lab_dns_reset
expect "$NAME resolves through the uplink again" "$(re_escape "$LAB_INET4")" resolve "$NAME"
expect "the ISP resolver answered" "^ISP resolver queries: [1-9][0-9]*$" isp_queries

echo "== resolved not running"
lab_stop client-resolved
expect_status "Up($A) succeeds without resolved" 0 lab_steer_call Up s "$A"
expect_exit "A is system-wide without resolved" client "$EXIT4_A" "$EXIT6_A"
expect "vpnsteerd says why DNS does not follow" \
	"DNS: systemd-resolved is not running .*the rules are in force" cat "$(lab_log vpnsteerd)"
expect_status "Down($A) succeeds without resolved" 0 lab_steer_call Down s "$A"

expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
