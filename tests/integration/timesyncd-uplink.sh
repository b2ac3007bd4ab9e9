#!/usr/bin/env bash
# systemd-timesyncd under the drop-in vpnsteer-generator writes for it
# (systemd-timesyncd.service.d/50-vpnsteer.conf, docs/gateways.md "The clock"): its NTP
# requests and its lookups of NTP server names take the uplink while a VPN is system-wide,
# and while that VPN's tunnel is dead.
#
#   [inet] echo, public DNS, NTP server ── [wan] ISP resolver (counts queries), NAT ── [client]
#      └── [vpn] provider A                                  resolved, networkd, dbus, vpnsteerd
#
# The spec has wan.mark 20000 (not the default), and VPN A. The generator's drop-in is
# parsed like the lab parses the wireguard-go template's ExecStart=: the real
# /lib/systemd/systemd-timesyncd runs in the client as the user systemd-timesync with exactly
# its Environment= (libpacketmark.so and its mark), AmbientCapabilities=,
# CapabilityBoundingSet= and SupplementaryGroups=, and with its InaccessiblePaths= out of
# reach (as tests/lib/unit-supervisor.sh does it). Its NTP= (timesyncd.conf, bound over
# /etc/systemd in a mount namespace of its own, with its state folder) points at
# tests/lib/ntp.py in inet, which logs the source address of every request.
#
# The clock of this machine is not namespaced, so timesyncd must never be able to set it:
# it runs without CAP_SYS_TIME, which Debian's unit would give it. setpriv takes it out of
# every set, bounding set included, with no_new_privs, before timesyncd is executed, and a
# check in that same process refuses to exec timesyncd if any set still holds it. The test
# then reads the running daemon's capabilities, expects timesyncd's own log to say that
# clock_adjtime() was refused, and compares the kernel's clock discipline (adjtimex, read
# only) before and after.
#
# With A system-wide:
# - the drop-in's settings: the request reaches inet from wan's address;
# - the same timesyncd without them: from A's exit (so the check above can fail);
# - the server given as a host name at the public DNS: with the drop-in's settings the lookup
#   goes through the WAN DNS forwarder (its Queries counter) and the ISP resolver, and A's DNS
#   gets none; without them A's DNS gets it through A's tunnel and the ISP resolver none;
# - A's provider gone (kill switch): with the drop-in's settings NTP still gets through.
#
# Usage: timesyncd-uplink.sh VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR LIBPACKETMARK
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/e2e-lab.sh
source "$here/e2e-lab.sh"

usage="usage: $0 VPNSTEERD VPNSTEER_GENERATOR BUILD_DIR LIBPACKETMARK"
e2e_require "${1:?$usage}" "${2:?$usage}"
BUILD_DIR=${3:?$usage}
LIBPACKETMARK=$(realpath "${4:?$usage}")
require_command setpriv getent
resolved=$(lab_extract_resolved "$BUILD_DIR") ||
	skip_test "cannot unpack systemd-resolved into $BUILD_DIR (apt-get download)"
RESOLVECTL=$resolved/usr/bin/resolvectl
nss_dir=$(lab_extract_nss_resolve "$BUILD_DIR") || nss_dir=""
TIMESYNCD=/lib/systemd/systemd-timesyncd
if [[ ! -x $TIMESYNCD ]]; then
	timesyncd_dir=$(lab_extract_timesyncd "$BUILD_DIR") ||
		skip_test "no systemd-timesyncd, and it cannot be unpacked into $BUILD_DIR (apt-get download)"
	TIMESYNCD=$timesyncd_dir/lib/systemd/systemd-timesyncd
fi
USER_NAME=systemd-timesync
WAN_MARK=20000
NTP_NAME=ntp.$LAB_DOMAIN

lab_init timesyncd-uplink 240
lab_topology || e2e_abort "the lab topology did not come up"
lab_project_groups client || e2e_abort "could not give the client the project's groups"
# Debian's package creates the user; an unpacked timesyncd gets it in the client's mount
# namespace only (the host's /etc/passwd and /etc/group are never touched).
if ! getent passwd "$USER_NAME" >/dev/null; then
	uid=4400
	while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid + 1)); done
	{ cat /etc/passwd && echo "$USER_NAME:x:$uid:$uid::/:/usr/sbin/nologin"; } >"$LAB_DIR/passwd"
	chmod 0644 "$LAB_DIR/passwd"
	echo "$USER_NAME:x:$uid:" >>"$LAB_DIR/client-group"
	n_client mount --bind "$LAB_DIR/passwd" /etc/passwd || e2e_abort "could not add $USER_NAME"
fi
A=a$LAB_ID
lab_vpn_provider "$A" 1 || e2e_abort "provider A did not come up"
EXIT4_A=${LAB_VPN_EXIT4[$A]}
lab_steer_spec "$A:1" || e2e_abort "could not write the spec"
"$LAB_PYTHON" - "$LAB_SPEC" "$WAN_MARK" <<-'EOF_PY' || e2e_abort "could not set wan.mark"
	import json, sys
	spec = json.load(open(sys.argv[1]))
	spec["wan"] = {"mark": int(sys.argv[2])}
	json.dump(spec, open(sys.argv[1], "w"), indent=2)
EOF_PY
LAB_GENERATOR_ARGS="--packetmark $LIBPACKETMARK" lab_steer_start "$GENERATOR" "$VPNSTEERD" \
	"$resolved" || e2e_abort "the client did not come up"
lab_spawn inet inet-ntp "$LAB_PYTHON" -u "$LAB_LIB_DIR/ntp.py" serve "$LAB_INET4" ||
	e2e_abort "could not start the NTP server"
lab_wait_daemon inet-ntp grep -q listening "$(lab_log inet-ntp)" ||
	e2e_abort "the NTP server did not come up"
lab_dns_set "$NTP_NAME" "$LAB_INET4" || e2e_abort "could not register $NTP_NAME"
if [[ -n "$nss_dir" ]]; then
	printf 'hosts: files resolve [!UNAVAIL=return] dns\n' >"$LAB_DIR/nsswitch.conf"
	n_client mount --bind "$LAB_DIR/nsswitch.conf" /etc/nsswitch.conf
else
	echo "SKIP: libnss-resolve could not be unpacked (apt-get download); glibc's dns module only"
fi
echo "lab $LAB_ID up: VPN A = $A (exit $EXIT4_A), WAN mark $WAN_MARK, NTP server $LAB_INET4"

echo "== The generated drop-in"
DROPIN=$LAB_DIR/normal/systemd-timesyncd.service.d/50-vpnsteer.conf
setting() {
	sed -n "s/^$1=//p" "$DROPIN"
}
expect_equal "it preloads libpacketmark with the spec's WAN mark" \
	"LD_PRELOAD=$LIBPACKETMARK LIBPACKETMARK_MARK=$WAN_MARK" "$(setting Environment)"
expect "vpnsteerd sends that mark to main at 80" "^80:.*fwmark $(printf '0x%x' "$WAN_MARK") lookup main" \
	n_client ip -4 rule show
read -ra DROPIN_ENVIRONMENT <<<"$(setting Environment)"
DROPIN_GROUPS=$(setting SupplementaryGroups)
read -ra DROPIN_HIDDEN <<<"$(setting InaccessiblePaths)"
# setpriv_caps SETTING: a capability setting of the drop-in ("CAP_NET_ADMIN ...") as setpriv
# takes it, nothing else ("-all,+net_admin").
setpriv_caps() {
	local capability list=-all
	for capability in $(setting "$1"); do
		capability=${capability#CAP_}
		list+=",+${capability,,}"
	done
	echo "$list"
}
DROPIN_AMBIENT=$(setpriv_caps AmbientCapabilities)
DROPIN_BOUNDING=$(setpriv_caps CapabilityBoundingSet)
expect_equal "its capabilities: CAP_NET_ADMIN, ambient and bounding" \
	"-all,+net_admin -all,+net_admin" "$DROPIN_AMBIENT $DROPIN_BOUNDING"
expect_equal "its group and hidden path" \
	"vpnsteer-wan -/run/systemd/resolve/io.systemd.Resolve" \
	"$DROPIN_GROUPS ${DROPIN_HIDDEN[*]}"

# The kernel's clock discipline (adjtimex(2) with modes 0 only reads it): what timesyncd
# would change by slewing (offset, frequency, status) or by stepping the time constant.
clock_discipline() {
	"$LAB_PYTHON" -c 'import ctypes, struct
buffer = ctypes.create_string_buffer(512)
state = ctypes.CDLL(None, use_errno=True).adjtimex(buffer)
offset, freq = struct.unpack_from("qq", buffer, 8)
status, = struct.unpack_from("i", buffer, 40)
constant, = struct.unpack_from("q", buffer, 48)
tick, = struct.unpack_from("q", buffer, 88)
print(f"state {state} offset {offset} freq {freq} status {status:#x} constant {constant} tick {tick}")'
}
CLOCK_BEFORE=$(clock_discipline)
echo "clock discipline before: $CLOCK_BEFORE"
# Another time daemon on this machine may change it meanwhile: then only timesyncd's own
# log and its capabilities can tell.
other_time_daemons=$(pgrep -a -f '(^|/)(chronyd|ntpd|openntpd|systemd-timesyncd)( |$)' || true)

# The process check that runs right before timesyncd is executed, in the process that becomes
# timesyncd: it refuses if any capability set holds CAP_SYS_TIME (bit 25).
# shellcheck disable=SC2016
NO_CLOCK_GUARD='while read -r key value; do
	case $key in CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:)
		if [ $((0x$value >> 25 & 1)) -ne 0 ]; then
			echo "timesyncd-uplink: refusing to start timesyncd: $key $value holds CAP_SYS_TIME" >&2
			exit 99
		fi ;;
	esac
done </proc/self/status
exec "$@"'
# The mounts of the daemon's own mount namespace: its timesyncd.conf over /etc/systemd, its
# state folder over /var/lib/systemd (the machine's stay untouched), and /dev/null over each
# path to hide ("-PATH": unless it does not exist), as systemd's InaccessiblePaths= does.
# shellcheck disable=SC2016
MOUNTS='mount --bind "$1" /etc/systemd && mount --bind "$2" /var/lib/systemd || exit 1
shift 2
while [ "$1" != -- ]; do
	path=${1#-}
	if [ -e "$path" ] || [ "$path" = "$1" ]; then mount --bind /dev/null "$path" || exit 1; fi
	shift
done
shift
exec "$@"'

# start_timesyncd LABEL SERVER dropin|plain: timesyncd anew (daemon timesyncd-LABEL) with
# NTP=SERVER, with the drop-in's settings or with none, resolved's cache flushed. Sets
# REQUESTS_BEFORE (lines of the NTP server's log) and the *_BEFORE DNS counts.
running=""
start_timesyncd() {
	local label=$1 server=$2 settings=$3 dir=$LAB_DIR/timesyncd-$1
	[[ -z "$running" ]] || lab_stop "$running"
	mkdir -p "$dir/etc" "$dir/state/timesync"
	# The same as fallback: timesyncd never looks up Debian's pool names.
	printf '[Time]\nNTP=%s\nFallbackNTP=%s\n' "$server" "$server" >"$dir/etc/timesyncd.conf"
	n_client chown "$USER_NAME:" "$dir/state/timesync"
	chmod 0755 "$dir" "$dir/etc" "$dir/state"
	# systemd makes the unit's RuntimeDirectory= for it.
	n_client install -d -o "$USER_NAME" -g "$USER_NAME" /run/systemd/timesync
	n_client "$RESOLVECTL" flush-caches
	REQUESTS_BEFORE=$(wc -l <"$(lab_log inet-ntp)")
	ISP_BEFORE=$(isp_lookups) INTO_A_BEFORE=$(lookups_into_a)
	FORWARDER_BEFORE=$(e2e_forwarder_queries)
	local hidden=() environment=() privileges
	if [[ $settings == dropin ]]; then
		hidden=("${DROPIN_HIDDEN[@]}")
		environment=("${DROPIN_ENVIRONMENT[@]}")
		privileges=(--groups "${DROPIN_GROUPS// /,}" --inh-caps="$DROPIN_AMBIENT"
			--ambient-caps="$DROPIN_AMBIENT" --bounding-set="$DROPIN_BOUNDING")
	else
		privileges=(--clear-groups --inh-caps=-all --ambient-caps=-all --bounding-set=-all)
	fi
	running=timesyncd-$label
	lab_spawn client "$running" unshare --mount --propagation private \
		sh -c "$MOUNTS" sh "$dir/etc" "$dir/state" "${hidden[@]}" -- \
		setpriv --reuid "$USER_NAME" --regid "$USER_NAME" "${privileges[@]}" --no-new-privs -- \
		sh -c "$NO_CLOCK_GUARD" sh \
		env "${environment[@]}" ${nss_dir:+LD_LIBRARY_PATH="$nss_dir"} \
		SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=debug "$TIMESYNCD" ||
		e2e_abort "could not start timesyncd"
}

# requests: the NTP server's log since start_timesyncd.
requests() {
	tail -n "+$((REQUESTS_BEFORE + 1))" "$(lab_log inet-ntp)"
}
# expect_requests_from WHAT ADDRESS: timesyncd's requests reach inet, and all from ADDRESS.
expect_requests_from() {
	expect "$1: its request reaches inet from $2" "^request from $(re_escape "$2")$" requests
	expect_equal "and none from elsewhere" "" \
		"$(requests | grep '^request from' | grep -vxF "request from $2" || true)"
}
# The queries for the NTP server's name the ISP resolver logged.
isp_lookups() { e2e_lookups isp-dns "$NTP_NAME"; }
# A's DNS is the public DNS through A's tunnel: it sees the query from A's exit address.
lookups_into_a() { e2e_lookups public-dns "$NTP_NAME" "$EXIT4_A"; }
# expect_no_clock_time: the running timesyncd is the user's, in the drop-in's group, holds
# CAP_NET_ADMIN (bit 12) as the drop-in says, and CAP_SYS_TIME (bit 25) in no set.
expect_no_clock_time() {
	local status key value uid gid
	status=$(cat "/proc/$(lab_pid "$running")/status")
	uid=$(n_client id -u "$USER_NAME")
	gid=$(n_client getent group "$DROPIN_GROUPS" | cut -d: -f3)
	expect_equal "timesyncd runs as $USER_NAME ($uid)" "$uid" \
		"$(awk '$1 == "Uid:" { print $2 }' <<<"$status")"
	expect "in the group $DROPIN_GROUPS ($gid)" "^Groups:.*\\b$gid\\b" echo "$status"
	while read -r key value; do
		case $key in
		CapInh: | CapPrm: | CapEff: | CapBnd: | CapAmb:)
			expect_equal "$key $value: no CAP_SYS_TIME" 0 $((16#$value >> 25 & 1))
			;;
		esac
		[[ $key != CapEff: ]] ||
			expect_equal "$key $value: CAP_NET_ADMIN, to set the mark" 1 $((16#$value >> 12 & 1))
	done <<<"$status"
}

echo "== A system-wide"
expect_status "Up($A) succeeds" 0 lab_steer_call Up s "$A"
expect_exit "A carries the host" client "$EXIT4_A" ""

echo "== The drop-in's settings: NTP through the uplink"
start_timesyncd dropin "$LAB_INET4" dropin
expect_requests_from "timesyncd" "$LAB_WAN_PUBLIC4"
expect_no_clock_time
expect "it took the answer and the kernel refused to adjust the clock" \
	"Failed to call clock_adjtime\(\): Operation not permitted" cat "$(lab_log "$running")"

echo "== The same timesyncd without them: NTP goes into A"
start_timesyncd plain "$LAB_INET4" plain
expect_requests_from "timesyncd without the drop-in" "$EXIT4_A"

echo "== The server by name, with the drop-in's settings: the lookup takes the WAN DNS forwarder"
start_timesyncd dropin-name "$NTP_NAME" dropin
expect_requests_from "timesyncd asking $NTP_NAME" "$LAB_WAN_PUBLIC4"
expect "the lookup went through the WAN DNS forwarder" "^e2e_forwarder_queries" \
	e2e_grew e2e_forwarder_queries "$FORWARDER_BEFORE"
expect "and reached the ISP resolver" "^isp_lookups" e2e_grew isp_lookups "$ISP_BEFORE"
expect_equal "A's DNS got no lookup of $NTP_NAME" "$INTO_A_BEFORE" "$(lookups_into_a)"

echo "== The server by name without them: the lookup goes into A"
start_timesyncd plain-name "$NTP_NAME" plain
expect_requests_from "timesyncd without the drop-in asking $NTP_NAME" "$EXIT4_A"
expect "the lookup went to A's DNS, through A" "^lookups_into_a" e2e_grew lookups_into_a "$INTO_A_BEFORE"
expect_equal "the ISP resolver got no lookup of $NTP_NAME" "$ISP_BEFORE" "$(isp_lookups)"

echo "== A's tunnel is dead (kill switch): NTP with the drop-in's settings still gets through"
lab_stop "vpn-wg-${LAB_VPN_DEVICE[$A]}"
expect_status "nothing unmarked gets out any more" 1 lab_echo client udp "$LAB_INET4"
start_timesyncd dropin-dead "$NTP_NAME" dropin
expect_requests_from "timesyncd asking $NTP_NAME" "$LAB_WAN_PUBLIC4"
expect "the lookup went through the WAN DNS forwarder" "^e2e_forwarder_queries" \
	e2e_grew e2e_forwarder_queries "$FORWARDER_BEFORE"
expect_no_clock_time
lab_stop "$running"

echo "== The machine's clock"
CLOCK_AFTER=$(clock_discipline)
echo "clock discipline after: $CLOCK_AFTER"
if [[ -z "$other_time_daemons" ]]; then
	expect_equal "nothing changed the kernel's clock discipline" "$CLOCK_BEFORE" "$CLOCK_AFTER"
else
	echo "another time daemon runs here, the discipline may change without timesyncd:"
	echo "$other_time_daemons"
fi
expect_system_wide "A is still system-wide" "$A"
expect_status "vpnsteerd still runs" 0 lab_alive vpnsteerd
assert_done
