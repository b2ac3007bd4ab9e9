# shellcheck shell=bash
# Helpers for the tests of the standalone WAN DNS forwarder (vpnsteer-wandns-run), which the
# test runs as lab daemon "forwarder" in namespace client with its upstreams in the file
# $servers (sourced by forwarder.sh and robustness.sh, after tests/lib/lab.sh).

# counter NAME: the forwarder's counter NAME now (SIGUSR1 makes it print them all).
counter() {
	local log before
	log=$(lab_log forwarder)
	before=$(grep -c '^counters' "$log" || true)
	kill -USR1 "$(lab_pid forwarder)"
	wait_for -t 5 bash -c "(( \$(grep -c '^counters' '$log') > $before ))"
	grep '^counters' "$log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}


# use_servers ADDR...: give the forwarder these upstreams, as vpnsteerd's setUpstreams does.
use_servers() {
	local log before
	log=$(lab_log forwarder)
	before=$(grep -c '^upstreams' "$log" || true)
	printf '%s\n' "$@" >"$servers"
	kill -HUP "$(lab_pid forwarder)"
	wait_for -t 5 bash -c "(( \$(grep -c '^upstreams' '$log') > $before ))"
}

# timed_dig ARGS...: dig's output, then "elapsed_ms=N".
timed_dig() {
	local start=${EPOCHREALTIME/./}
	n_client dig "$@" || true
	echo "elapsed_ms=$(((${EPOCHREALTIME/./} - start) / 1000))"
}
elapsed_below() { # elapsed_below MS OUTPUT
	local ms
	ms=$(sed -n 's/^elapsed_ms=//p' <<<"$2")
	((ms < $1))
}
