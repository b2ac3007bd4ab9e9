#!/usr/bin/env bash
# vpnsteer fastd-genkey/fastd-pubkey against the real fastd: a secretFile fastd itself reads,
# the public key fastd itself shows, and refusals that name the problem.
#
# Usage: fastd-keys.sh VPNSTEER
set -euo pipefail
vpnsteer=${1:?usage: fastd-keys.sh VPNSTEER}
# shellcheck source-path=SCRIPTDIR source=../lib/skip.sh
source "$(dirname "$0")/../lib/skip.sh"
require_command fastd
# shellcheck source-path=SCRIPTDIR source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"

umask 077
make_work_folder

# 1. fastd-genkey writes a secretFile line that fastd reads, and fastd-pubkey of it (from the
# file and from stdin, as the line or as the bare secret) is what fastd --show-key says.
for _ in $(seq 5); do
	"$vpnsteer" fastd-genkey >"$work/secret"
	grep -qE '^secret "[0-9a-f]{64}";$' "$work/secret" || fail "genkey wrote: $(cat "$work/secret")"
	theirs=$(fastd --config "$work/secret" --show-key --machine-readable) ||
		fail "fastd does not read the secretFile: $(cat "$work/secret")"
	[[ "$("$vpnsteer" fastd-pubkey "$work/secret")" == "$theirs" ]] || fail "pubkey of the file"
	[[ "$("$vpnsteer" fastd-pubkey <"$work/secret")" == "$theirs" ]] || fail "pubkey of stdin"
	[[ "$(grep -oE '[0-9a-f]{64}' "$work/secret" | "$vpnsteer" fastd-pubkey -)" == "$theirs" ]] ||
		fail "pubkey of the bare secret"
done
[[ "$("$vpnsteer" fastd-genkey)" != "$("$vpnsteer" fastd-genkey)" ]] || fail "two equal secrets"

# 2. Refusals: exit 1, nothing on stdout, the reason on stderr.
refuses() {
	local what=$1 expected=$2
	shift 2
	local out err status=0
	out=$("$@" 2>"$work/err") || status=$?
	err=$(cat "$work/err")
	((status == 1)) || fail "$what: exit status $status, expected 1"
	[[ -z "$out" ]] || fail "$what: printed $out"
	[[ "$err" == *"$expected"* ]] || fail "$what: said '$err', expected '$expected'"
}
refuses "not a secret" 'expected a fastd secret' sh -c "echo 'secret \"zz\";' | $vpnsteer fastd-pubkey"
refuses "a secret with another setting" 'expected a fastd secret' \
	sh -c "{ cat '$work/secret'; echo 'on up \"touch $work/pwned\";'; } | $vpnsteer fastd-pubkey"
[[ ! -e "$work/pwned" ]] || fail "fastd-pubkey passed a setting other than secret to fastd"
refuses "a missing file" "cannot read $work/none" "$vpnsteer" fastd-pubkey "$work/none"
refuses "no fastd" 'fastd --generate-key failed' env VPNSTEER_FASTD="$work/none" \
	"$vpnsteer" fastd-genkey
refuses "extra arguments" 'Usage: vpnsteer fastd-genkey' "$vpnsteer" fastd-genkey extra

# 3. A secret written where others could read it gets genkey's warning.
(umask 022 && "$vpnsteer" fastd-genkey >"$work/open" 2>"$work/err")
grep -q 'world accessible' "$work/err" || fail "no warning for a world-readable secret"

assert_done "fastd keys: all checks passed"
