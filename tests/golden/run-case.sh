#!/usr/bin/env bash
# Golden test of vpnsteer-generator: runs it on one case folder and compares everything it
# produced with CASE/expected, byte for byte (diff -ru).
#
# Usage: run-case.sh GENERATOR CASE_DIR
#        UPDATE_GOLDEN=1 run-case.sh GENERATOR CASE_DIR   rewrites CASE_DIR/expected
#
# A case folder holds:
#   input.json         the spec; without it, the spec file does not exist
#   before/network/    files in the network folder before the run (optional)
#   args               extra generator arguments, one per line (optional; by default
#                      --kernel-wireguard=yes, so the output does not depend on this kernel)
#   expected/network/  the network folder after the run
#   expected/fastd/    the fastd folder (/run/vpnsteer/fastd) after the run; its files must
#                      have mode 0600
#   expected/normal/   the generator's normal folder after the run
#   expected/stderr    what the generator printed
#   expected/exit-status
# A folder that ends up empty is left out of expected/ (git keeps no empty folders).
#
# The run happens below a temporary root: the spec is ROOT/etc/vpnsteer/vpns.json and the
# network folder ROOT/run/systemd/network. That root is cut from every output file, so the
# expected files read exactly like those of an installed system. The generator runs with
# SYSTEMD_SCOPE unset, so its messages go to stderr, not the kernel log.
#
# The case is then run a second time on its own output: it must change no file (same
# bytes, same inode, same mtime) and report the same messages and exit status.
set -euo pipefail

generator=$1
case_dir=$(cd "$2" && pwd)
case_name=$(basename "$case_dir")

work=$(mktemp -d "${TMPDIR:-/tmp}/vpnsteer-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
network=$root/run/systemd/network
fastd=$root/run/vpnsteer/fastd
mkdir -p "$root/etc/vpnsteer" "$network" "$root/normal" "$root/early" "$root/late"

if [[ -f $case_dir/input.json ]]; then
	cp "$case_dir/input.json" "$root/etc/vpnsteer/vpns.json"
fi
if [[ -d $case_dir/before/network ]]; then
	cp -a "$case_dir/before/network/." "$network/"
fi
args=(--kernel-wireguard=yes)
if [[ -f $case_dir/args ]]; then
	mapfile -t args <"$case_dir/args"
fi

# run OUTPUT_STEM: runs the generator, leaving OUTPUT_STEM.stderr and OUTPUT_STEM.status
run() {
	local status=0
	env -u SYSTEMD_SCOPE "$generator" \
		--spec "$root/etc/vpnsteer/vpns.json" \
		--network-dir "$network" \
		--cli /usr/bin/vpnsteer \
		--fastd /usr/bin/fastd \
		--fastd-dir "$fastd" \
		--state-dir /var/lib/vpnsteer \
		--packetmark /usr/lib/vpnsteer/libpacketmark.so \
		"${args[@]}" \
		"$root/normal" "$root/early" "$root/late" 2>"$1.stderr" || status=$?
	echo "$status" >"$1.status"
}

# snapshot: every file below the root with its inode, mtime and size
snapshot() {
	find "$root" -type f -printf '%i %T@ %s %P\n' | sort -k4
}

run "$work/first"

actual=$work/actual
mkdir -p "$actual"
# fastd's configs name secrets and peers: only their owner may read them.
if [[ -d $fastd ]] && find "$fastd" -type f ! -perm 0600 | grep -q .; then
	echo "FAIL $case_name: fastd files readable by others:" >&2
	find "$fastd" -type f ! -perm 0600 -printf '%m %P\n' >&2
	exit 1
fi
for dir in network:"$network" fastd:"$fastd" normal:"$root/normal" early:"$root/early" late:"$root/late"; do
	name=${dir%%:*} path=${dir#*:}
	if [[ -n $(ls -A "$path") ]]; then
		cp -a "$path" "$actual/$name"
	fi
done
cp "$work/first.stderr" "$actual/stderr"
cp "$work/first.status" "$actual/exit-status"
# Cut the temporary root out of every file (its name is unique, made by mktemp).
find "$actual" -type f -exec sed -i "s|$root||g" {} +

if [[ ${UPDATE_GOLDEN:-} == 1 ]]; then
	rm -rf "$case_dir/expected"
	cp -a "$actual" "$case_dir/expected"
	echo "updated $case_dir/expected"
	exit 0
fi

if [[ ! -d $case_dir/expected ]]; then
	echo "FAIL $case_name: no expected/ folder; create it with UPDATE_GOLDEN=1 and review it" >&2
	exit 1
fi
if ! diff -ru "$case_dir/expected" "$actual"; then
	echo "FAIL $case_name: the output differs from expected/ (diff above: - expected, + actual)" >&2
	exit 1
fi

before=$(snapshot)
run "$work/second"
after=$(snapshot)
if [[ $before != "$after" ]]; then
	echo "FAIL $case_name: a second run on the same spec changed files:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	exit 1
fi
if ! cmp -s "$work/first.stderr" "$work/second.stderr" ||
	! cmp -s "$work/first.status" "$work/second.status"; then
	echo "FAIL $case_name: a second run reported differently" >&2
	diff "$work/first.stderr" "$work/second.stderr" >&2 || true
	diff "$work/first.status" "$work/second.status" >&2 || true
	exit 1
fi
echo "ok $case_name"
