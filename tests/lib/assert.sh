# shellcheck shell=bash
# Assertions for the shell tests: each waits on state for a bounded
# time and, on failure, prints what it expected and what it saw.
#
#   expect "bridge has its address" '10\.20\.7\.1/24' ip -n "$ns" -br addr show br-x
#   expect_no "no route left" 'default' ip -n "$ns" route show table 7
#   expect_status "generator succeeds" 0 "$gen" --spec "$spec" "$out"
#   assert_done   # last line of a test: exit 1 if any expectation failed
#
# A test that makes its checks itself (plain `[[ ]]` on a program's output) and
# needs no lab counts them with fail, in a folder of its own:
#
#   make_work_folder   # $work, removed when the test exits
#   [[ $status -eq 1 ]] || fail "missing file: exit $status, want 1"
#   assert_done "check behaves"
#
# Failures do not stop the test (every expect returns 0, also under set -e),
# so one run reports all of them. After the
# first failure the state has had its chance to settle, so later expectations
# get EXPECT_TIMEOUT_AFTER_FAILURE (default 2 s) instead of EXPECT_TIMEOUT:
# a broken setup fails in bounded time instead of waiting out every check.

EXPECT_TIMEOUT=${EXPECT_TIMEOUT:-20}
EXPECT_TIMEOUT_AFTER_FAILURE=${EXPECT_TIMEOUT_AFTER_FAILURE:-2}
ASSERT_FAILURES=0
ASSERT_PASSES=0

# re_escape STRING: STRING as a literal in an extended regular expression.
re_escape() {
	# shellcheck disable=SC2016
	sed 's#[][\.|$(){}?+*^]#\\&#g' <<<"$1"
}

_expect_timeout() {
	if ((ASSERT_FAILURES > 0)); then
		echo "$EXPECT_TIMEOUT_AFTER_FAILURE"
	else
		echo "$EXPECT_TIMEOUT"
	fi
}

_expect_pass() {
	ASSERT_PASSES=$((ASSERT_PASSES + 1))
	echo "ok: $1"
}

_expect_fail() {
	local what=$1 expected=$2 output=$3
	shift 3
	ASSERT_FAILURES=$((ASSERT_FAILURES + 1))
	{
		echo "FAIL: $what"
		echo "  expected: $expected"
		echo "  command:  $*"
		echo "  saw:"
		if [[ -n "$output" ]]; then
			sed 's/^/    | /' <<<"$output"
		else
			echo "    (no output)"
		fi
	} >&2
}

# _poll MODE REGEX CMD...: sets _output; true once the condition holds.
_poll() {
	local mode=$1 regex=$2
	shift 2
	local timeout now deadline
	timeout=$(_expect_timeout)
	now=${EPOCHREALTIME/./}
	deadline=$((now + timeout * 1000000))
	while true; do
		_output=$("$@" 2>&1)
		if [[ "$mode" == match ]]; then
			grep -Eq -- "$regex" <<<"$_output" && return 0
		else
			grep -Eq -- "$regex" <<<"$_output" || return 0
		fi
		now=${EPOCHREALTIME/./}
		((now < deadline)) || return 1
		sleep 0.1
	done
}

# expect WHAT REGEX CMD...: wait until a line of CMD's output (stdout and
# stderr) matches the extended REGEX.
expect() {
	local what=$1 regex=$2
	shift 2
	local _output
	if _poll match "$regex" "$@"; then
		_expect_pass "$what"
	else
		_expect_fail "$what" "a line matching /$regex/" "$_output" "$@"
	fi
}

# expect_no WHAT REGEX CMD...: wait until no line of CMD's output matches REGEX.
expect_no() {
	local what=$1 regex=$2
	shift 2
	local _output
	if _poll nomatch "$regex" "$@"; then
		_expect_pass "$what"
	else
		_expect_fail "$what" "no line matching /$regex/" "$_output" "$@"
	fi
}

# expect_status WHAT STATUS CMD...: CMD exits with STATUS (no waiting).
expect_status() {
	local what=$1 want=$2
	shift 2
	local output status=0
	output=$("$@" 2>&1) || status=$?
	if [[ "$status" == "$want" ]]; then
		_expect_pass "$what"
	else
		_expect_fail "$what" "exit status $want" "$output
(exit status $status)" "$@"
	fi
}

# expect_equal WHAT EXPECTED ACTUAL: two strings are the same (no waiting).
expect_equal() {
	local what=$1 want=$2 got=$3
	if [[ "$want" == "$got" ]]; then
		_expect_pass "$what"
	else
		ASSERT_FAILURES=$((ASSERT_FAILURES + 1))
		{
			echo "FAIL: $what"
			echo "  expected:"
			sed 's/^/    | /' <<<"$want"
			echo "  saw:"
			sed 's/^/    | /' <<<"$got"
		} >&2
	fi
}

# fail WHAT: count a failure the test found by its own check (no waiting).
fail() {
	ASSERT_FAILURES=$((ASSERT_FAILURES + 1))
	echo "FAIL: $*" >&2
}

# make_work_folder: sets work to a new folder that is removed when the test
# exits. Not for lab tests: lab_init's trap cleans up LAB_DIR, and this trap
# would replace it.
make_work_folder() {
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
}

# assert_done [SUMMARY]: exit 1 if any expectation failed; else print SUMMARY,
# which a test that checks with fail gives (its passes are not counted).
# shellcheck disable=SC2120 # most tests give no SUMMARY
assert_done() {
	if ((ASSERT_FAILURES > 0)); then
		echo "$ASSERT_PASSES passed, $ASSERT_FAILURES failed"
		exit 1
	fi
	echo "${1:-$ASSERT_PASSES passed, 0 failed}"
}
