# shellcheck shell=bash
# Skipping for integration tests and the lab.
#
# ctest counts exit status 77 as "skipped" (SKIP_RETURN_CODE 77 on each
# integration test). On CI a skip would hide a test that never ran, so with
# CI=true a skip is a failure instead.
#
# Usage: source tests/lib/skip.sh; require_root; skip_test "no wireguard-go"

# skip_test REASON: exit 77 (skipped), or exit 1 when CI=true.
skip_test() {
	local reason="${1:-no reason given}"
	if [[ "${CI:-}" == "true" ]]; then
		echo "FAIL: test would be skipped on CI: $reason" >&2
		exit 1
	fi
	echo "SKIP: $reason" >&2
	exit 77
}

# require_root: network namespaces, mounts and real daemons need root.
require_root() {
	if [[ "$(id -u)" -ne 0 ]]; then
		skip_test "needs root (network namespaces, mounts, real daemons)"
	fi
}

# require_command CMD...: skip when a program the test runs is missing.
require_command() {
	local cmd
	for cmd in "$@"; do
		if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "$cmd" ]]; then
			skip_test "'$cmd' is not installed (scripts/install-deps installs it)"
		fi
	done
}
