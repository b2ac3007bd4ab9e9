#!/usr/bin/env bash
# vpnsteer genkey/pubkey against the real `wg`: same keys, same refusals, same messages.
#
# Usage: keys.sh VPNSTEER
set -euo pipefail
vpnsteer=${1:?usage: keys.sh VPNSTEER}
# shellcheck source-path=SCRIPTDIR source=../lib/skip.sh
source "$(dirname "$0")/../lib/skip.sh"
require_command wg base64 od
# shellcheck source-path=SCRIPTDIR source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"

# Private keys are written below; only section 6 loosens this on purpose.
umask 077
make_work_folder

# 1. wg agrees with our pubkey of our genkey.
for _ in $(seq 20); do
	key=$("$vpnsteer" genkey)
	ours=$(printf '%s\n' "$key" | "$vpnsteer" pubkey)
	theirs=$(printf '%s\n' "$key" | wg pubkey)
	[[ "$ours" == "$theirs" ]] || fail "pubkey of our key $key: vpnsteer $ours, wg $theirs"
done

# 2. Our pubkey agrees with wg on wg's keys, and on unclamped random bytes (wg genpsk),
# which both must clamp on the way.
for generate in genkey genpsk; do
	for _ in $(seq 20); do
		key=$(wg "$generate")
		ours=$(printf '%s\n' "$key" | "$vpnsteer" pubkey)
		theirs=$(printf '%s\n' "$key" | wg pubkey)
		[[ "$ours" == "$theirs" ]] || fail "pubkey of wg $generate $key: vpnsteer $ours, wg $theirs"
	done
done

# 3. genkey's keys are clamped (RFC 7748 section 5) and shaped like wg's: 44 characters
# and a newline.
for _ in $(seq 20); do
	"$vpnsteer" genkey >"$work/key"
	[[ $(wc -c <"$work/key") -eq 45 ]] || fail "genkey printed $(wc -c <"$work/key") bytes, not 45"
	read -r -a bytes <<<"$(base64 -d <"$work/key" | od -An -v -tu1 | tr -s ' \n' '  ')"
	[[ ${#bytes[@]} -eq 32 ]] || fail "genkey key is ${#bytes[@]} bytes"
	((bytes[0] % 8 == 0)) || fail "genkey key's first byte ${bytes[0]} is not clamped"
	((bytes[31] & 128)) && fail "genkey key's last byte ${bytes[31]} has the top bit set"
	((bytes[31] & 64)) || fail "genkey key's last byte ${bytes[31]} lacks bit 6"
done
[[ $("$vpnsteer" genkey) != $("$vpnsteer" genkey) ]] || fail "two genkey runs gave the same key"

# 4. Bad input: both refuse it with exit 1 and the same message (but for the program's name).
good=$(wg genkey)
bad_inputs=(
	''
	'\n'
	"${good:0:43}"
	"${good:0:42}*="
	"${good:0:42}p="
	"${good:0:43}A"
	"${good:0:40}AA=="
	" $good"
	"${good}x"
	"${good}\n${good}\n"
)
for input in "${bad_inputs[@]}"; do
	ours_status=0 theirs_status=0
	printf '%b' "$input" | "$vpnsteer" pubkey >"$work/ours.out" 2>"$work/ours.err" || ours_status=$?
	printf '%b' "$input" | wg pubkey >"$work/theirs.out" 2>"$work/theirs.err" || theirs_status=$?
	[[ $ours_status -eq 1 && $theirs_status -eq 1 ]] ||
		fail "input '$input': vpnsteer exit $ours_status, wg exit $theirs_status (want 1, 1)"
	[[ ! -s "$work/ours.out" ]] || fail "input '$input': vpnsteer printed $(cat "$work/ours.out")"
	sed 's/^wg: /vpnsteer: /' "$work/theirs.err" >"$work/theirs.renamed"
	diff -u "$work/theirs.renamed" "$work/ours.err" >&2 || fail "input '$input': messages differ"
done

# 5. Whitespace and NUL after the key are accepted by both.
for tail in '\n' '\r\n' ' \t\n\n' '\0\n'; do
	ours=$(printf '%b' "$good$tail" | "$vpnsteer" pubkey) || fail "vpnsteer refused key + '$tail'"
	theirs=$(printf '%b' "$good$tail" | wg pubkey)
	[[ "$ours" == "$theirs" ]] || fail "key + '$tail': vpnsteer $ours, wg $theirs"
done

# 6. Both warn when the private key lands in a world-readable file.
(umask 022 && "$vpnsteer" genkey >"$work/ours.key" 2>"$work/ours.err")
(umask 022 && wg genkey >"$work/theirs.key" 2>"$work/theirs.err")
[[ -s "$work/theirs.err" ]] || fail "wg did not warn about a world-readable key file"
diff -u "$work/theirs.err" "$work/ours.err" >&2 || fail "world-readable warning differs"
(umask 077 && "$vpnsteer" genkey >"$work/private.key" 2>"$work/ours.err")
[[ ! -s "$work/ours.err" ]] || fail "genkey warned about a private file: $(cat "$work/ours.err")"

# 7. Usage errors, like wg's.
for subcommand in genkey pubkey; do
	status=0
	"$vpnsteer" "$subcommand" extra </dev/null >"$work/out" 2>"$work/err" || status=$?
	[[ $status -eq 1 ]] || fail "$subcommand extra: exit $status, want 1"
	[[ "$(cat "$work/err")" == "Usage: vpnsteer $subcommand" ]] ||
		fail "$subcommand extra: stderr '$(cat "$work/err")'"
done

assert_done "genkey/pubkey agree with wg"
