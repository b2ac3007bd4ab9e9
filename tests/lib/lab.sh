# shellcheck shell=bash
# The vpnsteer lab: network namespaces running the real daemons, shared by the
# integration tests and the demo.
#
#   [inet]    "internet": echo service, public DNS                    (issue 4)
#      │
#   [wan]     uplink router: NAT, the "ISP resolver" (DNS-leak meter)  (issue 4)
#      │      veth, counted (the packet-leak meter)
#   [client]  the host under test: systemd-networkd, dbus-daemon,
#      │      systemd-resolved, vpnsteerd, wireguard-go
#      │ br-NAME
#   [app]     a namespace on the VPN's bridge                          (issue 4)
#
#   [vpn]     the VPN provider: the other wireguard-go end             (issue 4)
#
# Use (the trap that tears everything down is installed by lab_init):
#
#   source tests/lib/skip.sh; require_root
#   source tests/lib/lab.sh
#   lab_init networkd              # LAB_ID, LAB_DIR, cleanup trap, deadline
#   lab_add_netns client           # namespace + n_client helper
#   n_client ip -br addr           # any command inside client
#   lab_start_networkd client      # real systemd-networkd inside client
#   lab_start_wireguard_go client wg0
#   wait_for -t 20 n_client ip link show br-x
#
# Functions (each is documented where it is defined):
#   setup      lab_init, lab_add_netns (+ n_ROLE), lab_ns, lab_exec, lab_veth
#   daemons    lab_spawn, lab_stop, lab_alive, lab_pid, lab_log, lab_dump_logs
#   waiting    wait_for, lab_wait_daemon, lab_bus_has_name
#   networkd   lab_networkd_install, lab_start_networkd, lab_networkd_reload
#   others     lab_start_wireguard_go, lab_start_dbus, lab_extract_resolved,
#              lab_start_resolved
#   teardown   lab_on_cleanup (lab_cleanup runs by itself)
# tests/lib/assert.sh has the expectations (expect, expect_no, ...), and
# tests/lib/skip.sh skip_test and require_root.
#
# How a command gets into a lab namespace, and why
#
#   Each namespace is a named network namespace (`ip netns add`, so `ip -n NS`
#   works from outside) plus a *holder*: one `sleep infinity` that lives in
#   that network namespace and in a private mount namespace made with
#   `nsenter --net=/run/netns/NS unshare --mount --propagation private`, where
#   it first mounted a tmpfs on /run and a read-only sysfs on /sys. Every
#   command and daemon of that namespace then enters both namespaces of the
#   holder with `nsenter -t HOLDER -m -n`, so they all share one private /run.
#
#   - A private /run keeps networkd's units (/run/systemd/network), the lab's
#     D-Bus socket (/run/dbus) and wireguard-go's UAPI sockets
#     (/var/run/wireguard, which is not per network namespace) apart from the
#     host's and from the other namespaces', and hides the host's system bus
#     so networkd cannot join it.
#   - A read-only /sys makes networkd assume there is no udev (its container
#     check); with a writable one it waits forever for each link to be
#     "initialized". The sysfs must be mounted from inside the network
#     namespace: sysfs shows the devices of the namespace that mounted it.
#   - Not `ip netns exec NS unshare -m ...`: each `ip netns exec` makes a mount
#     namespace of its own, so two commands would not see the same /run; and
#     it has already mounted this namespace's sysfs on /sys, so mounting a
#     read-only one there fails with EBUSY.
#   - nsenter and unshare exec (they do not fork for mount and network
#     namespaces), so `$!` of a backgrounded `nsenter ... daemon` is the
#     daemon's own pid, which lab_spawn records and cleanup kills.
#
# Mounts exist only in the holders' mount namespaces: they vanish with the
# last process inside, so nothing is ever mounted in the host's namespace.
#
# Every helper returns non-zero on failure without relying on set -e (which
# bash ignores inside a function called from `||` or `if`).
#
# Cleanup (always: EXIT, INT and TERM) stops the daemons by their recorded pid
# in reverse start order (TERM, then KILL after 5 s), runs the lab_on_cleanup
# commands, kills whatever is still inside a lab namespace (`ip netns pids`),
# and deletes every namespace. A test that defines its own EXIT trap replaces
# this one: use lab_on_cleanup instead.
#
# Environment: LAB_KEEP=1 keeps LAB_DIR (logs, generated files) after the run;
# LAB_DEBUG=1 runs networkd and resolved with debug logging; LAB_VERBOSE=1 makes
# cleanup say what it removed.

LAB_NETWORKD=${LAB_NETWORKD:-/lib/systemd/systemd-networkd}
LAB_WAIT_TIMEOUT=${LAB_WAIT_TIMEOUT:-20}

LAB_ID=""
LAB_DIR=""
declare -gA LAB_NETNS=()   # role -> namespace name
declare -gA LAB_HOLDER=()  # role -> pid of the holder
declare -ga LAB_ROLES=()   # roles in creation order
declare -gA LAB_PID=()     # daemon name -> pid
declare -gA LAB_PID_START=() # daemon name -> its start time (/proc/PID/stat field 22)
declare -ga LAB_DAEMONS=() # daemon names in start order
declare -ga LAB_CLEANUP=() # extra cleanup commands (eval'ed, last first)
LAB_WATCHDOG=""

# lab_init [NAME] [DEADLINE_SECONDS]: create LAB_ID (6 random hex digits, for
# names unique to this run), LAB_DIR (logs and files of this run) and the
# cleanup trap. After DEADLINE (default 300 s) a watchdog sends TERM so a hung
# run fails and still tears down instead of hanging.
lab_init() {
	local name=${1:-lab} deadline=${2:-300}
	LAB_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	LAB_DIR=$(mktemp -d "/tmp/vpnsteer-$name.$LAB_ID.XXXX")
	chmod 0755 "$LAB_DIR"
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# The watchdog reaps its own sleep when cleanup stops it, so no orphan is
	# left for init. If TERM cannot be handled because a foreground command
	# hangs, the test's children get TERM 10 s later.
	bash -c 'trap "kill \$s 2>/dev/null; wait \$s; exit 0" TERM
		sleep "$1" & s=$!; wait $s
		echo "lab: deadline of $1 s reached, tearing down" >&2
		kill -TERM "$2" 2>/dev/null
		sleep 10 & s=$!; wait $s
		exec pkill -TERM -P "$2"' lab-watchdog "$deadline" "$$" &
	LAB_WATCHDOG=$!
}

# lab_on_cleanup CMD...: run CMD (as one string, eval'ed) at teardown, before
# the namespaces are deleted. Commands run last-registered first.
lab_on_cleanup() {
	LAB_CLEANUP+=("$*")
}

# lab_add_netns ROLE: create namespace vs-LAB_ID-ROLE with its holder (private
# /run, read-only /sys, see the top of this file), bring up lo, and define the
# helper n_ROLE CMD... that runs CMD inside it.
lab_add_netns() {
	local role=$1
	[[ "$role" =~ ^[a-z][a-z0-9_]*$ ]] || {
		echo "lab: bad role name '$role'" >&2
		return 1
	}
	[[ -z "${LAB_NETNS[$role]:-}" ]] || {
		echo "lab: namespace '$role' exists already" >&2
		return 1
	}
	local ns="vs-$LAB_ID-$role"
	ip netns add "$ns" || return 1
	LAB_NETNS[$role]=$ns
	LAB_ROLES+=("$role")
	nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private -- \
		sh -c 'mount -t tmpfs -o mode=0755 lab-run /run &&
			mount -t sysfs -o ro sysfs /sys &&
			touch /run/.lab-holder-ready &&
			exec sleep infinity' </dev/null >"$LAB_DIR/$role-holder.log" 2>&1 &
	LAB_HOLDER[$role]=$!
	disown "$!"
	if ! wait_for -t 10 lab_exec "$role" test -e /run/.lab-holder-ready; then
		echo "lab: holder of namespace '$role' did not come up:" >&2
		cat "$LAB_DIR/$role-holder.log" >&2
		return 1
	fi
	eval "n_$role() { lab_exec $role \"\$@\"; }"
	lab_exec "$role" ip link set lo up
}

# lab_ns ROLE: the namespace's name, for `ip -n` and `ip netns pids`.
lab_ns() {
	echo "${LAB_NETNS[$1]:?lab: no namespace $1}"
}

# lab_exec ROLE CMD...: run CMD inside ROLE's network and mount namespace
# (n_ROLE is the short form). The system bus address is pinned to the
# namespace's own socket so that a DBUS_SYSTEM_BUS_ADDRESS inherited from the
# caller never reaches the host's bus.
lab_exec() {
	local role=$1
	shift
	DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket \
		nsenter -t "${LAB_HOLDER[$role]:?lab: no namespace $role}" -m -n -- "$@"
}

# lab_spawn ROLE NAME CMD...: start CMD in the background inside ROLE, its
# output going to $LAB_DIR/NAME.log; record its pid under NAME for lab_stop
# and cleanup. CMD must stay in the foreground (no daemonizing).
lab_spawn() {
	local role=$1 name=$2
	shift 2
	[[ -z "${LAB_PID[$name]:-}" ]] || {
		echo "lab: a daemon named '$name' runs already" >&2
		return 1
	}
	DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket \
		nsenter -t "${LAB_HOLDER[$role]:?lab: no namespace $role}" -m -n -- "$@" \
		</dev/null >>"$LAB_DIR/$name.log" 2>&1 &
	LAB_PID[$name]=$!
	LAB_PID_START[$name]=$(lab_pid_start_time "$!")
	# Disowned: bash still reaps it, but does not print "Killed" when a test
	# kills it on purpose. Its death shows in /proc (lab_alive).
	disown "$!"
	LAB_DAEMONS+=("$name")
}

# lab_pid NAME: the recorded pid of daemon NAME.
lab_pid() {
	echo "${LAB_PID[$1]:?lab: no daemon $1}"
}

# lab_log NAME: the path of daemon NAME's log.
lab_log() {
	echo "$LAB_DIR/$1.log"
}

# lab_alive NAME: true while daemon NAME runs (a zombie counts as dead). A
# process with the same pid but another start time is not the daemon: the pid
# was reused after it died.
lab_alive() {
	local pid=${LAB_PID[$1]:-}
	[[ -n "$pid" ]] && lab_pid_alive "$pid" &&
		[[ "$(lab_pid_start_time "$pid")" == "${LAB_PID_START[$1]:-}" ]]
}

# The fields of /proc/PID/stat after the name (field 2, which may contain
# spaces and parentheses): state first.
_lab_stat_tail() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	echo "${stat##*) }"
}

lab_pid_alive() {
	local tail
	tail=$(_lab_stat_tail "$1") || return 1
	[[ "${tail%% *}" != Z ]]
}

# lab_pid_start_time PID: field 22 (start time since boot, in clock ticks).
lab_pid_start_time() {
	local fields
	read -ra fields <<<"$(_lab_stat_tail "$1")" || return 1
	echo "${fields[19]:-}"
}

# lab_stop NAME [SIGNAL]: send SIGNAL (default TERM) to daemon NAME and wait
# until it is gone (KILL after 5 s), then forget it. With SIGNAL=KILL this is
# the "daemon crashed" case.
lab_stop() {
	local name=$1 signal=${2:-TERM}
	local pid=${LAB_PID[$name]:-}
	[[ -n "$pid" ]] || return 0
	# Each step may fail (the daemon is gone already, or is not our child):
	# none of that may end a caller running under set -e.
	if lab_alive "$name"; then
		kill "-$signal" "$pid" 2>/dev/null || true
		wait_for -t 5 lab_pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
		wait_for -t 5 lab_pid_gone "$pid" || echo "lab: $name (pid $pid) does not die" >&2
	fi
	wait "$pid" 2>/dev/null || true
	unset "LAB_PID[$name]" "LAB_PID_START[$name]"
	local kept=() n
	for n in "${LAB_DAEMONS[@]}"; do
		[[ "$n" == "$name" ]] || kept+=("$n")
	done
	LAB_DAEMONS=("${kept[@]}")
	return 0
}

lab_pid_gone() {
	! lab_pid_alive "$1"
}

# wait_for [-t SECONDS] CMD...: run CMD every 0.1 s until it succeeds (output
# discarded); return 1 once SECONDS (default LAB_WAIT_TIMEOUT) have passed.
wait_for() {
	local timeout=$LAB_WAIT_TIMEOUT
	if [[ "${1:-}" == "-t" ]]; then
		timeout=$2
		shift 2
	fi
	local now deadline
	now=${EPOCHREALTIME/./}
	deadline=$((now + ${timeout%.*} * 1000000))
	while true; do
		"$@" >/dev/null 2>&1 && return 0
		now=${EPOCHREALTIME/./}
		((now < deadline)) || return 1
		sleep 0.1
	done
}

# lab_wait_daemon NAME [-t SECONDS] CMD...: like wait_for, but give up at once
# (and show the log) when daemon NAME has died, instead of waiting it out.
lab_wait_daemon() {
	local name=$1
	shift
	local timeout=$LAB_WAIT_TIMEOUT
	if [[ "${1:-}" == "-t" ]]; then
		timeout=$2
		shift 2
	fi
	local now deadline
	now=${EPOCHREALTIME/./}
	deadline=$((now + ${timeout%.*} * 1000000))
	while true; do
		"$@" >/dev/null 2>&1 && return 0
		if ! lab_alive "$name"; then
			echo "lab: $name exited; its log:" >&2
			tail -n 30 "$(lab_log "$name")" >&2
			return 1
		fi
		now=${EPOCHREALTIME/./}
		((now < deadline)) || {
			echo "lab: $name not ready after ${timeout} s" >&2
			return 1
		}
		sleep 0.1
	done
}

# lab_veth ROLE_A IF_A ROLE_B IF_B: a veth pair between two lab namespaces.
# Both ends are created directly in their namespaces, so the names never meet
# the host's.
lab_veth() {
	ip link add name "$2" netns "$(lab_ns "$1")" type veth \
		peer name "$4" netns "$(lab_ns "$3")" || return 1
	ip -n "$(lab_ns "$1")" link set "$2" up || return 1
	ip -n "$(lab_ns "$3")" link set "$4" up
}

# --- systemd-networkd -------------------------------------------------------

# lab_networkd_install ROLE FILE...: copy .netdev/.network files into ROLE's
# /run/systemd/network (they must not live under the host's /run, which the
# namespace does not see).
lab_networkd_install() {
	local role=$1
	shift
	lab_exec "$role" mkdir -p /run/systemd/network || return 1
	lab_exec "$role" install -m 0644 -t /run/systemd/network "$@"
}

# lab_start_networkd ROLE: start the real systemd-networkd in ROLE (daemon name
# ROLE-networkd) and wait until it has enumerated the links. Units must be in
# ROLE's /run/systemd/network before, or reloaded with lab_networkd_reload.
lab_start_networkd() {
	local role=$1
	lab_exec "$role" mkdir -p /run/systemd/network || return 1
	local env=()
	[[ "${LAB_DEBUG:-}" != 1 ]] || env=(env SYSTEMD_LOG_LEVEL=debug)
	lab_spawn "$role" "$role-networkd" "${env[@]}" "$LAB_NETWORKD" || return 1
	# networkd writes its state file once startup and enumeration are done.
	lab_wait_daemon "$role-networkd" lab_exec "$role" test -s /run/systemd/netif/state ||
		return 1
	if lab_exec "$role" test -S /run/dbus/system_bus_socket; then
		lab_wait_daemon "$role-networkd" lab_bus_has_name "$role" org.freedesktop.network1
	fi
}

# lab_networkd_reload ROLE: make networkd re-read its units. Over D-Bus when
# the namespace has a bus (networkctl reload), otherwise by a restart: without
# a bus networkd has no other way to reload.
lab_networkd_reload() {
	local role=$1
	if lab_exec "$role" test -S /run/dbus/system_bus_socket; then
		# networkd joins a bus that appeared after it asynchronously.
		lab_wait_daemon "$role-networkd" lab_bus_has_name "$role" org.freedesktop.network1 ||
			return 1
		lab_exec "$role" networkctl reload
	else
		lab_stop "$role-networkd"
		lab_start_networkd "$role"
	fi
}

# --- wireguard-go -----------------------------------------------------------

# lab_start_wireguard_go ROLE IFNAME: start wireguard-go for IFNAME in ROLE
# (daemon name ROLE-wg-IFNAME) and wait for the TUN device and its UAPI
# socket; configure it afterwards with `n_ROLE wg set IFNAME ...`.
lab_start_wireguard_go() {
	local role=$1 ifname=$2
	lab_spawn "$role" "$role-wg-$ifname" env WG_PROCESS_FOREGROUND=1 \
		wireguard-go --foreground "$ifname" || return 1
	lab_wait_daemon "$role-wg-$ifname" \
		lab_exec "$role" test -S "/run/wireguard/$ifname.sock" || return 1
	lab_wait_daemon "$role-wg-$ifname" \
		ip -n "$(lab_ns "$role")" link show dev "$ifname"
}

# --- D-Bus --------------------------------------------------------------------

# lab_start_dbus ROLE [CONFIG]: a private system bus in ROLE on
# /run/dbus/system_bus_socket (daemon name ROLE-dbus). Without CONFIG the
# policy allows everything; it must say so explicitly (allow own, send_type
# and receive_type), or replies are dropped (ENVIRONMENT.md). To test the
# project's policy, pass a config that <include>s it.
lab_start_dbus() {
	local role=$1 config=${2:-}
	if [[ -z "$config" ]]; then
		config="$LAB_DIR/$role-dbus.conf"
		cat >"$config" <<-'EOF'
			<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
			 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
			<busconfig>
			  <type>system</type>
			  <listen>unix:path=/run/dbus/system_bus_socket</listen>
			  <auth>EXTERNAL</auth>
			  <policy context="default">
			    <allow user="*"/>
			    <allow own="*"/>
			    <allow send_type="*"/>
			    <allow receive_type="*"/>
			  </policy>
			</busconfig>
		EOF
	fi
	lab_exec "$role" mkdir -p /run/dbus || return 1
	lab_spawn "$role" "$role-dbus" dbus-daemon --config-file="$config" --nofork --nopidfile ||
		return 1
	lab_wait_daemon "$role-dbus" lab_exec "$role" busctl --system list --no-pager
}

# lab_bus_has_name ROLE NAME: true when NAME has an owner on ROLE's bus.
# (Not `busctl status NAME`: it also asks for the owner's credentials, which
# this private bus does not give: "No medium found".)
lab_bus_has_name() {
	[[ "$(lab_exec "$1" busctl --system call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus NameHasOwner s "$2" 2>/dev/null)" == "b true" ]]
}

# --- systemd-resolved ---------------------------------------------------------

# lab_extract_resolved BUILD_DIR: print the folder holding systemd-resolved
# unpacked from its Debian package, downloading it the first time. The
# package is never installed: its postinst points /etc/resolv.conf at a stub
# that is not running and breaks the machine's DNS (ENVIRONMENT.md). The
# version is pinned to the installed systemd, whose libsystemd-shared the
# binary links against. Safe to run concurrently: it unpacks beside the
# target and renames into place.
lab_extract_resolved() {
	local build=${1:?usage: lab_extract_resolved BUILD_DIR}
	local dir
	dir="$(cd "$build" && pwd)/systemd-resolved"
	if [[ -x "$dir/lib/systemd/systemd-resolved" ]]; then
		echo "$dir"
		return 0
	fi
	local version tmp
	version=$(dpkg-query -W -f='${Version}' systemd) || return 1
	tmp=$(mktemp -d "$dir.tmp.XXXX") || return 1
	if ! (cd "$tmp" && apt-get download -qq "systemd-resolved=$version" >&2 &&
		dpkg -x systemd-resolved_*.deb root); then
		echo "lab: could not download systemd-resolved $version" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv -T "$tmp/root" "$dir" 2>/dev/null || true # another run may have won
	rm -rf "$tmp"
	[[ -x "$dir/lib/systemd/systemd-resolved" ]] || return 1
	echo "$dir"
}

# lab_start_resolved ROLE DIR: run systemd-resolved from DIR (see
# lab_extract_resolved) in ROLE, after lab_start_dbus (daemon name
# ROLE-resolved); wait until it owns org.freedesktop.resolve1. Use
# "$DIR/usr/bin/resolvectl" as its client.
lab_start_resolved() {
	local role=$1 dir=$2
	if ! getent passwd systemd-resolve >/dev/null; then
		systemd-sysusers "$dir/usr/lib/sysusers.d/systemd-resolve.conf" >&2 || return 1
	fi
	local env=()
	[[ "${LAB_DEBUG:-}" != 1 ]] || env=(env SYSTEMD_LOG_LEVEL=debug)
	# It creates /run/systemd/resolve itself and fails if that exists already.
	lab_spawn "$role" "$role-resolved" "${env[@]}" "$dir/lib/systemd/systemd-resolved" ||
		return 1
	lab_wait_daemon "$role-resolved" lab_bus_has_name "$role" org.freedesktop.resolve1
}

# --- teardown -----------------------------------------------------------------

# lab_dump_logs: the end of every daemon log, for a failing run.
lab_dump_logs() {
	local f
	for f in "$LAB_DIR"/*.log; do
		[[ -s "$f" ]] || continue
		echo "----- ${f##*/} (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
}

lab_cleanup() {
	local status=$?
	set +e
	trap '' INT TERM
	if [[ -n "$LAB_WATCHDOG" ]]; then
		kill -TERM "$LAB_WATCHDOG" 2>/dev/null
		wait "$LAB_WATCHDOG" 2>/dev/null
		LAB_WATCHDOG=""
	fi
	if ((status != 0 && status != 77)) && [[ -n "$LAB_DIR" ]]; then
		lab_dump_logs
	fi
	local i name pid daemons=${#LAB_DAEMONS[@]} removed=()
	for ((i = ${#LAB_DAEMONS[@]} - 1; i >= 0; i--)); do
		lab_stop "${LAB_DAEMONS[i]}"
	done
	for ((i = ${#LAB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${LAB_CLEANUP[i]}"
	done
	LAB_CLEANUP=()
	for ((i = ${#LAB_ROLES[@]} - 1; i >= 0; i--)); do
		name=${LAB_NETNS[${LAB_ROLES[i]}]}
		pid=${LAB_HOLDER[${LAB_ROLES[i]}]:-}
		if [[ -n "$pid" && "/proc/$pid/ns/net" -ef "/run/netns/$name" ]]; then
			kill -TERM "$pid" 2>/dev/null
		fi
		# Whatever else still runs in the namespace (a daemon that forked
		# away from its recorded pid) was started by this lab.
		for pid in $(ip netns pids "$name" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		for pid in ${LAB_HOLDER[${LAB_ROLES[i]}]:-}; do
			wait_for -t 5 lab_pid_gone "$pid"
			wait "$pid" 2>/dev/null
		done
		ip netns del "$name" 2>/dev/null
		if [[ -e "/run/netns/$name" ]]; then
			echo "lab: could not delete namespace $name" >&2
			((status != 0)) || status=1
		fi
		removed+=("$name")
		unset "LAB_NETNS[${LAB_ROLES[i]}]" "LAB_HOLDER[${LAB_ROLES[i]}]"
	done
	LAB_ROLES=()
	if [[ "${LAB_VERBOSE:-}" == 1 ]]; then
		echo "lab: stopped $daemons daemons, deleted ${removed[*]:-no namespace}"
	fi
	if [[ -n "$LAB_DIR" && "${LAB_KEEP:-}" != 1 ]]; then
		rm -rf "$LAB_DIR"
	elif [[ -n "$LAB_DIR" ]]; then
		echo "lab: kept $LAB_DIR" >&2
	fi
	LAB_DIR=""
	exit "$status"
}
