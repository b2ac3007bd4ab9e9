#!/usr/bin/env bash
# `systemd-analyze verify` on every service unit vpnsteer-generator writes for the golden
# inputs (tests/golden/*/input.json).
#
# Usage: verify-units.sh GENERATOR GOLDEN_DIR
#
# verify refuses an ExecStart= whose program does not exist, so the generator runs with
# --cli pointing at a stub program in a temporary folder; everything else in the units is
# what an installed generator writes. That folder's name holds a space, a specifier and a
# variable ("stubs %n $HOME"): verify finds the stub only if the generator escaped all
# three. --kernel-wireguard=no makes every "auto" VPN userspace, so its unit wants an
# instance of the static template units/vpnsteer-wireguard-go@.service.in, which lies next
# to the generated units (its wireguard-go a stub too): verify loads each wanted instance
# from it, and checks the template itself once.
#
# vpnsteerd.service is not part of the tree yet, and verify fails on a Requires= it cannot
# load: a minimal stand-in is written next to the generated units for this check only.
# --man=no: the vpnsteer(8) man page named in Documentation= is not installed here.
#
# verify reports problems it "ignores" (unknown keys, bad values) with exit status 0, so
# any output at all counts as a failure.
#
# The drop-in systemd-timesyncd.service.d/50-vpnsteer.conf is checked merged with the
# distribution's systemd-timesyncd.service (Debian's: User=systemd-timesync, CAP_SYS_TIME,
# its sandboxing), copied next to it: verify loads drop-ins from the folder of the unit it
# is given. `systemd-analyze security --offline` then shows the merged unit: it must keep
# the unit's user and CAP_SYS_TIME and gain CAP_NET_ADMIN and the group. Without the
# distribution's unit, a stand-in with the same user and capabilities takes its place.
set -euo pipefail

generator=$1
golden_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/skip.sh
source "$here/../lib/skip.sh"
require_command systemd-analyze

work=$(mktemp -d "${TMPDIR:-/tmp}/vpnsteer-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin="$work/stubs %n \$HOME"
mkdir -p "$bin"
for program in vpnsteer wireguard-go fastd; do
	printf '#!/bin/sh\nexit 0\n' >"$bin/$program"
	chmod +x "$bin/$program"
done
# The template takes its path from CMake, which refuses one that would need quoting.
template=vpnsteer-wireguard-go@.service
mkdir -p "$work/plain"
cp "$bin/wireguard-go" "$work/plain/wireguard-go"
template_text=$(sed "s|@VPNSTEER_WIREGUARD_GO_PATH@|$work/plain/wireguard-go|" \
	"$here/../../units/$template.in")

timesyncd_unit=/lib/systemd/system/systemd-timesyncd.service
if [[ ! -f $timesyncd_unit ]]; then
	timesyncd_unit=$work/systemd-timesyncd.service
	printf '%s\n' '[Unit]' 'Description=stand-in for systemd-timesyncd (verify-units.sh)' \
		'[Service]' "ExecStart=$(command -v true)" User=systemd-timesync \
		AmbientCapabilities=CAP_SYS_TIME CapabilityBoundingSet=CAP_SYS_TIME >"$timesyncd_unit"
fi
# expect_merged UNIT: the security report of the merged timesyncd unit has every line it must.
expect_merged() {
	local report line missing=0
	report=$(systemd-analyze security --offline=yes --man=no "$1" 2>&1) || true
	for line in '✓ User=/DynamicUser= .*static non-root user' \
		'✗ CapabilityBoundingSet=~CAP_SYS_TIME ' '✗ CapabilityBoundingSet=~CAP_NET_ADMIN ' \
		'✗ AmbientCapabilities= ' '✗ SupplementaryGroups= '; do
		if ! grep -q -- "$line" <<<"$report"; then
			echo "FAIL: the merged systemd-timesyncd.service lacks \"$line\"" >&2
			missing=1
		fi
	done
	if ((missing)); then
		echo "$report" >&2
		return 1
	fi
}

failed=0
checked=0
merged=0
for input in "$golden_dir"/*/input.json; do
	case_name=$(basename "$(dirname "$input")")
	units=$work/$case_name/normal
	mkdir -p "$units"
	env -u SYSTEMD_SCOPE "$generator" --spec "$input" --network-dir "$work/$case_name/network" \
		--cli "$bin/vpnsteer" --fastd "$bin/fastd" \
		--fastd-dir "$work/$case_name/fastd" --state-dir "$work/state" \
		--kernel-wireguard=no "$units" 2>/dev/null || true
	generated=("$units"/*.service)
	[[ -e ${generated[0]} ]] || continue

	printf '[Unit]\nDescription=stand-in for vpnsteerd (verify-units.sh)\n\n[Service]\nExecStart=%s\n' \
		"$(command -v true)" >"$units/vpnsteerd.service"
	printf '%s\n' "$template_text" >"$units/$template"
	[[ $checked -gt 0 ]] || generated+=("$units/$template")
	if [[ -e $units/systemd-timesyncd.service.d/50-vpnsteer.conf ]]; then
		cp "$timesyncd_unit" "$units/systemd-timesyncd.service"
		generated+=("$units/systemd-timesyncd.service")
		if ((merged == 0)); then
			expect_merged "$units/systemd-timesyncd.service" || failed=1
			merged=1
		fi
	fi
	for unit in "${generated[@]}"; do
		checked=$((checked + 1))
		status=0
		output=$(systemd-analyze verify --man=no "$unit" 2>&1) || status=$?
		if [[ $status -ne 0 || -n $output ]]; then
			echo "FAIL $case_name/$(basename "$unit") (exit status $status):" >&2
			echo "$output" >&2
			failed=1
		fi
	done
done

if [[ $checked -eq 0 ]]; then
	echo "FAIL: no unit was generated, so nothing was verified" >&2
	exit 1
fi
if ((merged == 0)); then
	echo "FAIL: no systemd-timesyncd drop-in was generated, so none was verified" >&2
	exit 1
fi
if [[ $failed -ne 0 ]]; then
	exit 1
fi
echo "ok: systemd-analyze verify accepts all $checked generated units (timesyncd's merged with its drop-in)"
