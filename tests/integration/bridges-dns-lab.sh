# shellcheck shell=bash
# The common start of the bridges-and-DNS tests (sourced by bridges-dns-*.sh): the e2e lab
# (e2e-lab.sh: providers A and B, the product in the client), optionally with the real
# systemd-resolved in the client, and `resolvectl` and resolved's link properties as helpers.
#
# Usage: source bridges-dns-lab.sh
#        bridges_dns_init NAME DEADLINE VPNSTEERD GENERATOR [RESOLVED_BUILD_DIR]
# With RESOLVED_BUILD_DIR, systemd-resolved is unpacked there (lab_extract_resolved) and runs
# in the client before networkd; RESOLVECTL is its client.

bridges_dns_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/e2e-lab.sh
source "$bridges_dns_here/e2e-lab.sh"

# bridges_dns_init NAME DEADLINE VPNSTEERD GENERATOR [RESOLVED_BUILD_DIR]: e2e_init's lab,
# with resolved when asked. Sets what e2e_init sets, and RESOLVECTL.
bridges_dns_init() {
	local name=$1 deadline=$2 resolved_build=${5:-}
	VPNSTEERD=$(realpath "${3:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR [BUILD_DIR]}")
	local generator resolved=""
	generator=$(realpath "${4:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR [BUILD_DIR]}")
	require_root
	require_command ip nsenter unshare wireguard-go wg iptables-legacy ip6tables-legacy \
		dnsmasq dig python3 dbus-daemon busctl networkctl /lib/systemd/systemd-networkd
	# shellcheck source=tests/lib/lab.sh
	source "$bridges_dns_here/../lib/lab.sh"
	# shellcheck source=tests/lib/assert.sh
	source "$bridges_dns_here/../lib/assert.sh"
	if [[ -n "$resolved_build" ]]; then
		resolved=$(lab_extract_resolved "$resolved_build") ||
			skip_test "cannot unpack systemd-resolved into $resolved_build (apt-get download)"
		RESOLVECTL=$resolved/usr/bin/resolvectl
	fi

	lab_init "$name" "$deadline"
	lab_topology || e2e_abort "the lab topology did not come up"
	A=a$LAB_ID
	B=b$LAB_ID
	ID_A=1
	ID_B=2
	lab_vpn_provider "$A" 1 || e2e_abort "provider A did not come up"
	lab_vpn_provider "$B" 2 || e2e_abort "provider B did not come up"
	# shellcheck disable=SC2034 # for the tests that source this file
	EXIT4_A=${LAB_VPN_EXIT4[$A]} EXIT6_A=${LAB_VPN_EXIT6[$A]}
	# shellcheck disable=SC2034
	EXIT4_B=${LAB_VPN_EXIT4[$B]} EXIT6_B=${LAB_VPN_EXIT6[$B]}
	lab_steer_spec "$A:$ID_A" "$B:$ID_B" || e2e_abort "could not write the spec"
	lab_steer_start "$generator" "$VPNSTEERD" "$resolved" || e2e_abort "the client did not come up"
	echo "lab $LAB_ID up: VPN A = $A (exit $EXIT4_A), VPN B = $B (exit $EXIT4_B)"
}

# resolved_link LINK PROPERTY: org.freedesktop.resolve1.Link.PROPERTY of the client's LINK as
# busctl prints it ("b true", "a(sb) 1 \".\" true", "a(iay) 1 2 4 203 0 113 53").
resolved_link() {
	local ifindex path
	ifindex=$(n_client cat "/sys/class/net/$1/ifindex") || return 1
	path=$(n_client busctl --system call org.freedesktop.resolve1 /org/freedesktop/resolve1 \
		org.freedesktop.resolve1.Manager GetLink i "$ifindex") || return 1
	path=${path#o \"}
	n_client busctl --system get-property org.freedesktop.resolve1 "${path%\"}" \
		org.freedesktop.resolve1.Link "$2"
}

# resolve NAME: what the client's resolved answers for NAME (A records), bypassing its cache.
resolve() {
	n_client "$RESOLVECTL" query --cache=no --legend=no -4 "$1"
}
