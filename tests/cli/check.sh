#!/usr/bin/env bash
# vpnsteer check as a script sees it: summary lines on stdout and exit 0 for a valid spec;
# `<JSON path>: <message>` lines on stderr only and exit 1 for an invalid one; a clear
# message for a file that cannot be read.
#
# Usage: check.sh VPNSTEER
set -euo pipefail
vpnsteer=${1:?usage: check.sh VPNSTEER}
# shellcheck source-path=SCRIPTDIR source=../lib/assert.sh
source "$(dirname "$0")/../lib/assert.sh"
make_work_folder

cat >"$work/valid.json" <<'JSON'
{
  "version": 1,
  "vpns": {
    "us": { "id": 1, "endpoint": "vpn-us.example.net:51820",
            "publicKey": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
            "addrV4": "198.51.100.2", "privateKeyFile": "/etc/vpnsteer/us.key" },
    "de": { "id": 7, "endpoint": "[2001:db8::7]:51820",
            "publicKey": "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=",
            "addrV4": "198.51.100.7", "privateKeyFile": "/etc/vpnsteer/de.key",
            "bridgeDevice": "br-germany" }
  }
}
JSON
cat >"$work/want.out" <<'TEXT'
us: id 1, table 1, fwmark 10001, bridge br-us 10.20.1.1/24, protocol wireguard
de: id 7, table 7, fwmark 10007, bridge br-germany 10.20.7.1/24, protocol wireguard
TEXT

for source in file stdin; do
	status=0
	if [[ $source == file ]]; then
		"$vpnsteer" check "$work/valid.json" >"$work/out" 2>"$work/err" || status=$?
	else
		"$vpnsteer" check - <"$work/valid.json" >"$work/out" 2>"$work/err" || status=$?
	fi
	[[ $status -eq 0 ]] || fail "valid spec from $source: exit $status"
	diff -u "$work/want.out" "$work/out" >&2 || fail "valid spec from $source: summary differs"
	[[ ! -s "$work/err" ]] || fail "valid spec from $source: stderr '$(cat "$work/err")'"
done

# Three problems in two VPNs: every one is reported, each line is "<path>: <message>".
sed -e 's/"id": 7/"id": 300/' -e 's|/etc/vpnsteer/us.key|us.key|' \
	-e 's/"publicKey": "hSDw[^"]*"/"publicKey": "not-a-key"/' "$work/valid.json" >"$work/invalid.json"
status=0
"$vpnsteer" check "$work/invalid.json" >"$work/out" 2>"$work/err" || status=$?
[[ $status -eq 1 ]] || fail "invalid spec: exit $status, want 1"
[[ ! -s "$work/out" ]] || fail "invalid spec: stdout '$(cat "$work/out")'"
for path in vpns.de.id vpns.us.privateKeyFile vpns.us.publicKey; do
	grep -q "^$path: " "$work/err" || fail "invalid spec: no '$path: ' line in '$(cat "$work/err")'"
done
if grep -Ev '^[][A-Za-z0-9_.-]+: .+$' "$work/err" >&2; then
	fail "invalid spec: the stderr lines above are not '<path>: <message>'"
fi

status=0
"$vpnsteer" check "$work/missing.json" >"$work/out" 2>"$work/err" || status=$?
[[ $status -eq 1 ]] || fail "missing file: exit $status, want 1"
[[ "$(cat "$work/err")" == "vpnsteer: cannot read $work/missing.json: No such file or directory" ]] ||
	fail "missing file: stderr '$(cat "$work/err")'"

assert_done "check behaves"
