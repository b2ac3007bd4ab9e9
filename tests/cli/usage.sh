#!/usr/bin/env bash
# The vpnsteer dispatcher: help, version, unknown subcommands, per-subcommand --help, and
# which stream each goes to, with wg's exit codes (usage errors exit 1).
#
# Usage: usage.sh VPNSTEER
set -euo pipefail
vpnsteer=${1:?usage: usage.sh VPNSTEER}
# shellcheck source-path=SCRIPTDIR source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"

# genkey would warn about its output file in $work being world-readable.
umask 077
make_work_folder

# expect_vpnsteer STATUS STDOUT STDERR ARGS...: runs vpnsteer ARGS </dev/null and compares each
# stream with the text given (without its final newline). A text starting with `~` is
# instead an extended regular expression over the whole stream, newlines included.
expect_vpnsteer() {
	local want_status=$1 want_out=$2 want_err=$3 status=0
	shift 3
	"$vpnsteer" "$@" </dev/null >"$work/out" 2>"$work/err" || status=$?
	[[ $status -eq $want_status ]] || fail "vpnsteer $*: exit $status, want $want_status"
	matches "$work/out" "$want_out" || fail "vpnsteer $*: stdout '$(cat "$work/out")'"
	matches "$work/err" "$want_err" || fail "vpnsteer $*: stderr '$(cat "$work/err")'"
}
matches() {
	if [[ $2 == '~'* ]]; then
		grep -Eqz -- "${2#\~}" "$1"
	else
		[[ "$(cat "$1")" == "$2" ]]
	fi
}

usage='~^Usage: vpnsteer <cmd> \[<args>\]..Available subcommands:.  list: .*  status: .*  up: .*  down: .*  switch: .*  check: .*  genkey: .*  pubkey: .*to view usage\..$'
for help in help --help -h; do
	expect_vpnsteer 0 "$usage" '' "$help"
done
expect_vpnsteer 0 '~^vpnsteer [0-9]+\.[0-9]+\.[0-9]+.$' '' --version
expect_vpnsteer 1 '' "$usage" # no subcommand
expect_vpnsteer 1 '' "~^Invalid subcommand: \`frobnicate'.${usage#\~^}" frobnicate
expect_vpnsteer 1 '' "~^Invalid subcommand: \`--check'.Usage: " --check

expect_vpnsteer 0 'Usage: vpnsteer list' '' list --help
expect_vpnsteer 0 'Usage: vpnsteer status [NAME] [--json]' '' status --help
expect_vpnsteer 0 'Usage: vpnsteer up NAME' '' up --help
expect_vpnsteer 0 'Usage: vpnsteer down NAME' '' down -h
expect_vpnsteer 0 'Usage: vpnsteer switch NAME' '' switch --help
expect_vpnsteer 0 'Usage: vpnsteer check FILE' '' check --help
expect_vpnsteer 0 'Usage: vpnsteer genkey' '' genkey -h
expect_vpnsteer 0 'Usage: vpnsteer pubkey' '' pubkey --help
expect_vpnsteer 1 '' 'Usage: vpnsteer check FILE' check
expect_vpnsteer 1 '' 'Usage: vpnsteer check FILE' check a b
expect_vpnsteer 1 '' 'Usage: vpnsteer genkey' genkey --help extra
expect_vpnsteer 1 '' 'Usage: vpnsteer list' list extra
expect_vpnsteer 1 '' 'Usage: vpnsteer status [NAME] [--json]' status a b
expect_vpnsteer 1 '' 'Usage: vpnsteer status [NAME] [--json]' status --yaml
for subcommand in up down switch; do
	expect_vpnsteer 1 '' "Usage: vpnsteer $subcommand NAME" "$subcommand"
	expect_vpnsteer 1 '' "Usage: vpnsteer $subcommand NAME" "$subcommand" a b
done

# Without a system bus (DBUS_SYSTEM_BUS_ADDRESS is what sd-bus connects to), the D-Bus
# subcommands say the daemon is not running, and the offline ones do not notice.
not_running='vpnsteer: vpnsteerd is not running; start it with: systemctl start vpnsteerd'
for bus in "unix:path=$work/no-such-socket" "unix:path=$work/stale-socket"; do
	export DBUS_SYSTEM_BUS_ADDRESS=$bus
	: >"$work/stale-socket" # a file nobody listens on: ECONNREFUSED rather than ENOENT
	expect_vpnsteer 1 '' "$not_running" list
	expect_vpnsteer 1 '' "$not_running" status
	expect_vpnsteer 1 '' "$not_running" status us --json
	for subcommand in up down switch; do
		expect_vpnsteer 1 '' "$not_running" "$subcommand" us
	done
	expect_vpnsteer 0 '~^[A-Za-z0-9+/]{43}=.$' '' genkey
done
unset DBUS_SYSTEM_BUS_ADDRESS

# A key that cannot be written must not pass for success.
if [[ -w /dev/full ]]; then
	status=0
	"$vpnsteer" genkey >/dev/full 2>"$work/err" || status=$?
	[[ $status -eq 1 ]] || fail "genkey >/dev/full: exit $status, want 1"
	[[ "$(cat "$work/err")" == 'vpnsteer: cannot write to standard output' ]] ||
		fail "genkey >/dev/full: stderr '$(cat "$work/err")'"
fi

assert_done "dispatch behaves"
