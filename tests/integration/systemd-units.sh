#!/usr/bin/env bash
# vpnsteerd's fastd units restart through systemd's D-Bus API (service/fastd): the probe
# checks that call against a stand-in for systemd's Manager, on a private dbus-daemon whose
# socket lives in a temporary folder (no network, no namespace).
#
# Usage: systemd-units.sh SYSTEMD_UNITS_PROBE
set -euo pipefail
probe=$(realpath "${1:?usage: $0 SYSTEMD_UNITS_PROBE}")
# shellcheck source-path=SCRIPTDIR source=../lib/skip.sh
source "$(dirname "$0")/../lib/skip.sh"
require_command dbus-daemon

work=$(mktemp -d)
bus_pid=""
cleanup() {
	[[ -z "$bus_pid" ]] || kill -TERM "$bus_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <policy context="default">
    <allow own="*"/><allow send_type="*"/><allow receive_type="*"/>
  </policy>
</busconfig>
CONF
bus_pid=$(dbus-daemon --config-file="$work/bus.conf" --fork --print-pid)
timeout 20 "$probe" "unix:path=$work/bus"
