#!/usr/bin/env bash
# Runs bench/toggle in a network namespace of its own, with a private bus and vpnsteerd,
# and prints its figures. Nothing touches the host's rules.
#
# Usage (as root): bench/toggle/run.sh BUILD_DIR [PAIRS] [CLI]
#   BUILD_DIR  the CMake build folder (vpnsteerd, vpnsteer-bench-toggle)
#   PAIRS      Up+Down pairs per way (default 1000)
#   CLI        a vpnsteer binary with up/down, for the CLI path (default: BUILD_DIR's
#              cli/vpnsteer if it has `up`; otherwise that path is left out)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(realpath "${1:?usage: run.sh BUILD_DIR [PAIRS] [CLI]}")
pairs=${2:-1000}
cli=${3:-}
[[ "$(id -u)" == 0 ]] || { echo "run.sh: needs root (network namespaces)" >&2; exit 1; }
vpnsteerd=$(find "$build" -name vpnsteerd -type f -perm -u+x | head -n1)
bench=$(find "$build" -name vpnsteer-bench-toggle -type f -perm -u+x | head -n1)
[[ -n "$vpnsteerd" && -n "$bench" ]] || { echo "run.sh: build vpnsteerd and vpnsteer-bench-toggle first" >&2; exit 1; }
if [[ -z "$cli" ]]; then
	candidate=$(find "$build" -path '*cli/vpnsteer' -type f -perm -u+x | head -n1)
	# The CLI path is measured once the CLI has `up` (issue 3, item 6).
	if [[ -n "$candidate" ]] && "$candidate" --help 2>&1 | grep -qw up; then
		cli=$candidate
	fi
fi

# shellcheck source=tests/lib/lab.sh
source "$here/../../tests/lib/lab.sh"
lab_init bench-toggle 900
lab_add_netns client
lab_start_dbus client
peer=$(wg genkey | wg pubkey)
vpn=bt$LAB_ID
cat >"$LAB_DIR/vpns.json" <<JSON
{ "version": 1,
  "vpns": { "$vpn": { "id": 1, "endpoint": "192.0.2.1:51820", "publicKey": "$peer",
                      "addrV4": "198.51.100.2", "privateKeyFile": "$LAB_DIR/key" } } }
JSON
lab_spawn client vpnsteerd "$vpnsteerd" --spec "$LAB_DIR/vpns.json"
lab_wait_daemon vpnsteerd lab_exec client busctl --system get-property org.vpnsteer1 \
	/org/vpnsteer1 org.vpnsteer1.Manager SystemWide
args=(--vpn "$vpn" --vpn-id 1 --ip-id 2 --pairs "$pairs")
[[ -z "$cli" ]] || args+=(--cli "$cli")
n_client "$bench" "${args[@]}"
