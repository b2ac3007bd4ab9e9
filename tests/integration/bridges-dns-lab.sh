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
	local resolved_build=${5:-} resolved=""
	e2e_require "$3" "$4"
	if [[ -n "$resolved_build" ]]; then
		resolved=$(lab_extract_resolved "$resolved_build") ||
			skip_test "cannot unpack systemd-resolved into $resolved_build (apt-get download)"
		RESOLVECTL=$resolved/usr/bin/resolvectl
	fi
	e2e_start "$1" "$2" "$resolved"
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
