# shellcheck shell=bash
# The vpnsteer lab: network namespaces running the real daemons, shared by the
# integration tests and the demo.
#
#   [inet]    "internet": echo service (reports the source address it
#      │      sees), public DNS
#   [wan]     uplink router: NAT, the "ISP resolver" (DNS-leak meter)
#      │      veth, counted (the packet-leak meter)
#   [client]  the host under test: systemd-networkd, dbus-daemon,
#      │      systemd-resolved, vpnsteerd, wireguard-go
#      │ br-NAME
#   [app]     a namespace on the VPN's bridge
#
#   [vpn]     the VPN providers: the other wireguard-go ends, exiting to
#             [inet] with their own addresses
#
# lab_topology builds all of it (addresses and meters: see "the topology of
# DESIGN.md" below); a test may also build only the namespaces it needs.
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
# or, for the whole lab with vpnsteer in the client:
#
#   lab_init e2e; lab_topology
#   lab_vpn_provider a 1           # provider "a": exit 198.51.100.1
#   lab_steer_spec a:1             # the spec: VPN a, id 1
#   lab_steer_start GENERATOR VPNSTEERD
#   lab_steer_call Up s a
#   lab_echo client tcp "$LAB_INET4"   # prints 198.51.100.1
#   lab_leak_count                     # prints 0
#
# Functions (each is documented where it is defined):
#   setup      lab_init, lab_add_netns (+ n_ROLE), lab_ns, lab_exec, lab_veth
#   daemons    lab_spawn, lab_stop, lab_alive, lab_pid, lab_log, lab_dump_logs
#   waiting    wait_for, lab_wait_daemon, lab_bus_has_name
#   networkd   lab_networkd_install, lab_start_networkd, lab_networkd_reload
#   others     lab_start_wireguard_go, lab_start_dbus, lab_extract_resolved,
#              lab_start_resolved, lab_extract_nss_resolve, lab_extract_timesyncd
#   users      lab_add_group
#   topology   lab_topology, lab_vpn_provider, lab_vpn_move, lab_client_tunnel,
#              lab_client_wg_set, lab_handshake_age, lab_app_attach,
#              lab_fastd_provider, lab_fastd_status, lab_fastd_method
#   gateways   lab_vpn_gateway, lab_gateway_kill, lab_gateway_revive (one VPN of
#              several peers: each gateway in a namespace of its own)
#   meters     lab_leak_count, lab_leak_reset, lab_leak_report,
#              lab_tunnel_packets, lab_dns_queries, lab_dns_reset, lab_dns_set
#   traffic    lab_echo, lab_traffic_start, lab_traffic_stop,
#              lab_traffic_answers, lab_traffic_lines
#   vpnsteer   lab_steer_spec, lab_steer_spec_gateways, lab_steer_start, lab_steer_start_tunnel,
#              lab_steer_start_daemon, lab_steer_call, lab_steer_system_wide,
#              lab_steer_mark
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
	_lab_extract_deb "${1:?usage: lab_extract_resolved BUILD_DIR}" systemd-resolved \
		lib/systemd/systemd-resolved
}

# lab_extract_nss_resolve BUILD_DIR: print the folder holding glibc's
# libnss_resolve.so.2 from Debian's libnss-resolve, unpacked (never installed)
# like systemd-resolved. A program finds it with LD_LIBRARY_PATH=that folder and
# "resolve" on the hosts line of an nsswitch.conf bind-mounted in its namespace.
lab_extract_nss_resolve() {
	local dir library
	dir=$(_lab_extract_deb "${1:?usage: lab_extract_nss_resolve BUILD_DIR}" libnss-resolve \
		.complete) || return 1
	library=$(find "$dir" -name libnss_resolve.so.2 -print -quit) && [[ -n "$library" ]] ||
		return 1
	dirname "$library"
}

# lab_extract_timesyncd BUILD_DIR: print the folder holding Debian's
# systemd-timesyncd of the installed systemd's version, unpacked (never
# installed: its maintainer scripts would enable it on the machine) like
# systemd-resolved; the daemon is lib/systemd/systemd-timesyncd in it.
lab_extract_timesyncd() {
	_lab_extract_deb "${1:?usage: lab_extract_timesyncd BUILD_DIR}" systemd-timesyncd \
		lib/systemd/systemd-timesyncd
}

# _lab_extract_deb BUILD_DIR PACKAGE FILE: print BUILD_DIR/PACKAGE, the package
# of the installed systemd's version unpacked there (downloaded the first time;
# FILE in it says it is; every unpacking ends with a file .complete).
_lab_extract_deb() {
	local build=$1 package=$2 file=$3
	local dir
	dir="$(cd "$build" && pwd)/$package"
	if [[ -e "$dir/$file" ]]; then
		echo "$dir"
		return 0
	fi
	local version tmp
	version=$(dpkg-query -W -f='${Version}' systemd) || return 1
	tmp=$(mktemp -d "$dir.tmp.XXXX") || return 1
	if ! (cd "$tmp" && apt-get download -qq "$package=$version" >&2 &&
		dpkg -x "$package"_*.deb root && touch root/.complete); then
		echo "lab: could not download $package $version" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv -T "$tmp/root" "$dir" 2>/dev/null || true # another run may have won
	rm -rf "$tmp"
	[[ -e "$dir/$file" ]] || return 1
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

# --- the topology of DESIGN.md ------------------------------------------------
#
#   [inet]    wan0 203.0.113.1/24 2001:db8:203::1/64   echo service (LAB_ECHO_PORT, TCP
#      │           203.0.113.53  2001:db8:203::53       and UDP); public DNS (dnsmasq)
#      │      vpn0 198.51.100.254/24 2001:db8:198::fe/64
#      │ (wan0)                                  (vpn0)
#   [wan]     up0 203.0.113.2 2001:db8:203::2  <- NAT (MASQUERADE) of everything
#      │      cl0 192.0.2.1 2001:db8:2::1         the ISP resolver (dnsmasq, queries
#      │          FORWARD cl0 -> up0: LAB-LEAK    logged: the DNS-leak meter)
#      │      veth, counted (the packet-leak meter)
#   [client]  up0 192.0.2.2/24 2001:db8:2::2/64, default via 192.0.2.1 / 2001:db8:2::1
#      │      app0: a port for br-NAME (lab_app_attach)
#      │ br-NAME
#   [app]     eth0 10.20.ID.2/24 via 10.20.ID.1 (lab_app_attach)
#
#   [vpn]     up0 198.51.100.K/24 2001:db8:198::K/64 per provider K (lab_vpn_provider),
#             one wireguard-go per provider, listening on 51820+K, SNAT of the
#             tunnel's inner network 10.20.(200+K).0/24 / 2001:db8:(200+K)::/64
#             to 198.51.100.K / 2001:db8:198::K: its exit address.
#
# The VPN provider sits on the internet, beside inet: its tunnel packets from the
# client cross wan like any other packet (NATed), and what it forwards reaches inet
# from its own address. Every namespace forwards; only wan and vpn translate.
#
# The packet-leak meter: in wan, every packet forwarded from the client (cl0)
# towards inet (up0) passes the chain LAB-LEAK (iptables-legacy and
# ip6tables-legacy). Its first rules RETURN the tunnels' own packets (UDP to a
# provider's endpoint address and port, one rule per provider, each counting
# the tunnel packets); the last rule, commented "leak", counts everything else:
# that is a leak whenever a VPN should carry the client's traffic. x_tables
# rather than nft because Debian's iptables packages give both commands and the
# counters are per rule, read with `-L -v -x`; the nft tables of the machine
# stay untouched.
#
# The DNS-leak meter: every query the ISP resolver gets is a line "query[...]"
# in its log; lab_dns_queries counts those since lab_dns_reset.

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter rather than whatever python3 comes first in PATH: the
# echo client runs often, and a version-manager shim costs tens of ms per run.
LAB_PYTHON=${LAB_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
LAB_ECHO_PORT=7777
LAB_INET4=203.0.113.1
LAB_INET6=2001:db8:203::1
LAB_PUBLIC_DNS4=203.0.113.53
LAB_PUBLIC_DNS6=2001:db8:203::53
LAB_WAN_PUBLIC4=203.0.113.2
LAB_WAN_PUBLIC6=2001:db8:203::2
LAB_ISP_DNS4=192.0.2.1
LAB_ISP_DNS6=2001:db8:2::1
LAB_CLIENT4=192.0.2.2
LAB_CLIENT6=2001:db8:2::2
LAB_UPLINK=up0
LAB_DOMAIN=lab.example

declare -gA LAB_VPN_DEVICE=()   # provider name -> wireguard-go device in vpn
declare -gA LAB_VPN_PUBKEY=()   # provider's public key (the client's peer)
declare -gA LAB_VPN_CLIENT_KEY=() # file with the client's private key
declare -gA LAB_VPN_ENDPOINT=() # address:port the client sends its tunnel packets to
declare -gA LAB_VPN_HOSTNAME=() # NAME.vpn.lab.example at the public DNS
declare -gA LAB_VPN_ADDR4=()    # the client's address inside the tunnel
declare -gA LAB_VPN_ADDR6=()
declare -gA LAB_VPN_EXIT4=()    # what inet sees of the tunnel's traffic
declare -gA LAB_VPN_EXIT6=()
declare -gA LAB_GATEWAYS=()     # group -> its gateways' names (lab_vpn_gateway)
declare -gA LAB_GATEWAY_GROUP=() # gateway name -> its group
declare -gA LAB_VPN_PROTOCOL=() # "fastd" for lab_fastd_provider's; wireguard otherwise
declare -gA LAB_STEER_EXTRA=()  # VPN name -> more JSON fields for lab_steer_spec ("k": v, ...)
LAB_DNS_BASELINE=0

# _lab_addr ROLE DEV ADDRESS...: add addresses (IPv6 without duplicate address
# detection, which would hold them "tentative" for a second or more).
_lab_addr() {
	local role=$1 dev=$2 address
	shift 2
	for address in "$@"; do
		if [[ "$address" == *:* ]]; then
			lab_exec "$role" ip -6 addr add "$address" dev "$dev" nodad || return 1
		else
			lab_exec "$role" ip addr add "$address" dev "$dev" || return 1
		fi
	done
}

# lab_topology: the five namespaces inet, wan, client, app and vpn of DESIGN.md,
# wired and addressed as drawn above, with the echo service, the public DNS, the
# ISP resolver and both leak meters running, and the client reaching inet
# through wan (checked before returning). Call after lab_init; add tunnels with
# lab_vpn_provider and lab_client_tunnel.
lab_topology() {
	local role
	for role in inet wan client app vpn; do
		lab_add_netns "$role" || return 1
	done
	lab_veth client up0 wan cl0 || return 1
	lab_veth wan up0 inet wan0 || return 1
	lab_veth vpn up0 inet vpn0 || return 1
	lab_veth client app0 app eth0 || return 1
	for role in inet wan client vpn; do
		lab_exec "$role" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
			return 1
	done

	_lab_addr inet wan0 203.0.113.1/24 2001:db8:203::1/64 \
		"$LAB_PUBLIC_DNS4/24" "$LAB_PUBLIC_DNS6/64" || return 1
	_lab_addr inet vpn0 198.51.100.254/24 2001:db8:198::fe/64 || return 1
	_lab_addr wan up0 "$LAB_WAN_PUBLIC4/24" "$LAB_WAN_PUBLIC6/64" || return 1
	_lab_addr wan cl0 "$LAB_ISP_DNS4/24" "$LAB_ISP_DNS6/64" || return 1
	lab_exec wan ip route add default via 203.0.113.1 || return 1
	lab_exec wan ip -6 route add default via 2001:db8:203::1 || return 1
	_lab_addr client up0 "$LAB_CLIENT4/24" "$LAB_CLIENT6/64" || return 1
	lab_exec client ip route add default via 192.0.2.1 || return 1
	lab_exec client ip -6 route add default via 2001:db8:2::1 || return 1
	# The provider's own addresses come with each provider (lab_vpn_provider).
	lab_exec vpn ip route add default via 198.51.100.254 dev up0 onlink || return 1
	lab_exec vpn ip -6 route add default via 2001:db8:198::fe dev up0 onlink || return 1

	local tables
	for tables in iptables-legacy ip6tables-legacy; do
		lab_exec wan "$tables" -t nat -A POSTROUTING -o up0 -j MASQUERADE || return 1
		lab_exec wan "$tables" -N LAB-LEAK || return 1
		lab_exec wan "$tables" -A FORWARD -i cl0 -o up0 -j LAB-LEAK || return 1
		lab_exec wan "$tables" -A LAB-LEAK -m comment --comment leak -j RETURN || return 1
	done

	lab_spawn inet inet-echo "$LAB_PYTHON" "$LAB_LIB_DIR/echo.py" serve "$LAB_ECHO_PORT" ||
		return 1
	lab_wait_daemon inet-echo lab_echo inet udp 127.0.0.1 || return 1
	lab_wait_daemon inet-echo lab_echo inet tcp ::1 || return 1

	printf '%s %s\n' "$LAB_INET4" "echo.$LAB_DOMAIN" "$LAB_INET6" "echo.$LAB_DOMAIN" \
		>"$LAB_DIR/public-dns.hosts"
	# The authority for lab.example: a name it knows but of another type (AAAA of a
	# provider with an IPv4 address only) gets NODATA, as from a real authoritative
	# server; without --local, dnsmasq has nowhere to forward and says REFUSED, which
	# resolved and nss-resolve take for a failed lookup.
	_lab_start_dnsmasq inet public-dns "$LAB_PUBLIC_DNS4" "$LAB_PUBLIC_DNS6" \
		--addn-hosts="$LAB_DIR/public-dns.hosts" --local="/$LAB_DOMAIN/" || return 1
	_lab_start_dnsmasq wan isp-dns "$LAB_ISP_DNS4" "$LAB_ISP_DNS6" \
		--server="$LAB_PUBLIC_DNS4" --cache-size=0 || return 1

	# Hosts in the lab resolve through the lab's DNS, never the machine's.
	lab_resolv_conf client "nameserver $LAB_ISP_DNS4" || return 1
	lab_resolv_conf app "nameserver $LAB_PUBLIC_DNS4" || return 1

	# The path client -> wan (NAT) -> inet works, in both families.
	local address
	for address in "$LAB_INET4" "$LAB_INET6"; do
		wait_for -t 10 _lab_echo_is client tcp "$address" "$LAB_WAN_PUBLIC4|$LAB_WAN_PUBLIC6" || {
			echo "lab: the client does not reach inet's $address through wan" >&2
			return 1
		}
	done
	lab_leak_reset && lab_dns_reset
}

# lab_resolv_conf ROLE LINE...: ROLE's /etc/resolv.conf holds LINEs from now on.
# A file of LAB_DIR is bind-mounted over it in ROLE's private mount namespace
# only (the machine's own file is never touched): otherwise the lab's programs
# (and systemd-resolved, which reads it for its global servers) would see the
# machine's resolvers, whose addresses are none of the lab's.
lab_resolv_conf() {
	local role=$1 file=$LAB_DIR/$1-resolv.conf
	shift
	local mounted=yes
	[[ -e "$file" ]] || mounted=no
	printf '%s\n' "# the vpnsteer lab's resolv.conf for $role" "$@" >"$file" || return 1
	[[ "$mounted" == yes ]] || lab_exec "$role" mount --bind "$file" /etc/resolv.conf
}

# lab_add_group ROLE GROUP: from now on ROLE sees the machine's groups plus GROUP, with a gid
# that no entry of the machine's /etc/group uses; prints that gid. A private /etc/group is
# bind-mounted in ROLE's mount namespace only (the machine's file is never touched). A GROUP
# the machine has already (a package's sysusers.d made it) is replaced, so that the name means
# the test's gid. GROUP has no members listed: put a process in it with `setpriv --groups=GID`.
lab_add_group() {
	local role=$1 group=$2 gid=4242 file=$LAB_DIR/$1-group
	while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
	{
		awk -F: -v group="$group" '$1 != group' /etc/group
		echo "$group:x:$gid:"
	} >"$file" || return 1
	chmod 0644 "$file" || return 1
	lab_exec "$role" mount --bind "$file" /etc/group || return 1
	echo "$gid"
}

# _lab_start_dnsmasq ROLE NAME ADDRESS4 ADDRESS6 OPTION...: dnsmasq in the
# foreground on the two addresses only, logging every query to NAME.log; wait
# until it answers.
_lab_start_dnsmasq() {
	local role=$1 name=$2 address4=$3 address6=$4
	shift 4
	lab_spawn "$role" "$name" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --pid-file= --user=root --group=root \
		--bind-interfaces --listen-address="$address4" --listen-address="$address6" \
		--log-queries --log-facility=- "$@" || return 1
	lab_wait_daemon "$name" lab_exec "$role" dig +time=1 +tries=1 +short \
		"@$address4" "echo.$LAB_DOMAIN" A
}

# lab_dns_set NAME ADDRESS...: the public DNS answers NAME with ADDRESS (and
# only those) from now on.
lab_dns_set() {
	local name=$1 address
	shift
	{
		awk -v name="$name" '$2 != name' "$LAB_DIR/public-dns.hosts"
		for address in "$@"; do
			echo "$address $name"
		done
	} >"$LAB_DIR/public-dns.hosts.new" &&
		mv "$LAB_DIR/public-dns.hosts.new" "$LAB_DIR/public-dns.hosts" &&
		kill -HUP "$(lab_pid public-dns)"
}

# lab_dns_reset / lab_dns_queries: the number of queries the ISP resolver got
# since the last reset (the DNS-leak meter).
lab_dns_reset() {
	LAB_DNS_BASELINE=$(_lab_dns_total)
}

lab_dns_queries() {
	echo $(($(_lab_dns_total) - LAB_DNS_BASELINE))
}

_lab_dns_total() {
	grep -c ' query\[' "$(lab_log isp-dns)" || true
}

# lab_leak_reset: zero the packet-leak meter (and the tunnel counters).
lab_leak_reset() {
	lab_exec wan iptables-legacy -Z LAB-LEAK && lab_exec wan ip6tables-legacy -Z LAB-LEAK
}

# lab_leak_count: packets from the client that crossed wan towards inet outside
# every tunnel since lab_leak_reset, IPv4 and IPv6 together.
lab_leak_count() {
	local v4 v6
	v4=$(_lab_counter iptables-legacy leak) || return 1
	v6=$(_lab_counter ip6tables-legacy leak) || return 1
	echo $((v4 + v6))
}

# lab_tunnel_packets NAME: the tunnel packets of provider NAME that crossed wan
# since lab_leak_reset (proof that the tunnel carried something).
lab_tunnel_packets() {
	_lab_counter iptables-legacy "tunnel $1"
}

# lab_leak_report: the meter's rules with their counters, for a failure message.
lab_leak_report() {
	lab_exec wan iptables-legacy -L LAB-LEAK -n -v -x
	lab_exec wan ip6tables-legacy -L LAB-LEAK -n -v -x
}

# _lab_counter COMMAND COMMENT: the packet count of the LAB-LEAK rule with that
# comment.
_lab_counter() {
	lab_exec wan "$1" -L LAB-LEAK -n -v -x |
		awk -v c="/* $2 */" 'index($0, c) { print $1; found = 1 } END { exit !found }'
}

# lab_echo ROLE tcp|udp ADDRESS: the source address inet's echo service saw for
# a question from ROLE (exit status 1 after 1 s without an answer).
lab_echo() {
	lab_exec "$1" "$LAB_PYTHON" "$LAB_LIB_DIR/echo.py" ask "$2" "$3" "$LAB_ECHO_PORT"
}

# _lab_echo_is ROLE PROTO ADDRESS REGEX: the echo's answer matches REGEX whole.
_lab_echo_is() {
	local answer
	answer=$(lab_echo "$1" "$2" "$3") && [[ "$answer" =~ ^($4)$ ]]
}

# lab_traffic_start ROLE NAME ADDRESS...: continuous traffic from ROLE to the
# echo service (a question every 20 ms, TCP and UDP to each ADDRESS in turn),
# as daemon NAME; each answer is a line of $(lab_log NAME) (see echo.py stream).
lab_traffic_start() {
	local role=$1 name=$2
	shift 2
	lab_spawn "$role" "$name" "$LAB_PYTHON" -u "$LAB_LIB_DIR/echo.py" stream \
		"$LAB_ECHO_PORT" "$@" || return 1
	wait_for -t 5 test -s "$(lab_log "$name")"
}

# lab_traffic_stop NAME: stop it; its log stays for lab_traffic_answers.
lab_traffic_stop() {
	lab_stop "$1"
}

# lab_traffic_answers NAME [FROM_LINE]: how often each answer came, per protocol
# and address asked ("COUNT PROTO ADDRESS ANSWER", "-" for no answer), from
# line FROM_LINE (default 1) of the log on, sorted bytewise.
lab_traffic_answers() {
	tail -n "+${2:-1}" "$(lab_log "$1")" | awk '{ print $2, $3, $4 }' | LC_ALL=C sort | uniq -c
}

# lab_traffic_lines NAME: the number of questions so far (for FROM_LINE above).
lab_traffic_lines() {
	wc -l <"$(lab_log "$1")"
}

# lab_vpn_provider NAME K: the VPN provider NAME in the vpn namespace: its exit
# addresses 198.51.100.K and 2001:db8:198::K (K = 1..99), wireguard-go listening
# on 51820+K with a new key pair and the client as its only peer (a second new
# key pair, whose private half is in ${LAB_VPN_CLIENT_KEY[NAME]}), and SNAT of
# the tunnel's inner network to the exit addresses. Sets the LAB_VPN_*[NAME]
# values (see above), registers NAME.vpn.lab.example at the public DNS, and
# teaches the leak meter that UDP to the endpoint is the tunnel.
lab_vpn_provider() {
	local name=$1 k=$2
	[[ "$k" =~ ^[1-9][0-9]?$ ]] || {
		echo "lab: provider index must be 1..99, got '$k'" >&2
		return 1
	}
	local device="p${name:0:14}" port=$((51820 + k))
	local inner4=10.20.$((200 + k)) inner6=2001:db8:$((200 + k))
	local exit4=198.51.100.$k exit6=2001:db8:198::$k
	local provider_key=$LAB_DIR/vpn-$name-provider.key client_key=$LAB_DIR/vpn-$name-client.key
	(umask 077 && wg genkey >"$provider_key" && wg genkey >"$client_key") || return 1

	_lab_addr vpn up0 "$exit4/24" "$exit6/64" || return 1
	lab_start_wireguard_go vpn "$device" || return 1
	lab_exec vpn wg set "$device" listen-port "$port" private-key "$provider_key" \
		peer "$(wg pubkey <"$client_key")" allowed-ips "$inner4.2/32,$inner6::2/128" || return 1
	_lab_provider_exit "$name" "$k" "$device" "$port" || return 1
	LAB_VPN_PUBKEY[$name]=$(wg pubkey <"$provider_key") || return 1
	LAB_VPN_CLIENT_KEY[$name]=$client_key
}

# _lab_provider_exit NAME K DEVICE PORT: what every provider has once its tunnel
# DEVICE exists in vpn: the inner addresses, SNAT to the exit addresses, the
# leak meter's rule for tunnel packets to 198.51.100.K:PORT, its host name at
# the public DNS, and the LAB_VPN_* values but the keys.
_lab_provider_exit() {
	local name=$1 k=$2 device=$3 port=$4
	local inner4=10.20.$((200 + k)) inner6=2001:db8:$((200 + k))
	# 2001:db8:203::/64 is inet's (LAB_INET6): provider 3's inner network would shadow it.
	[[ "$LAB_INET6" != "$inner6::"* ]] || {
		echo "lab: provider index $k would put $inner6::/64 in vpn, which is inet's" >&2
		return 1
	}
	local exit4=198.51.100.$k exit6=2001:db8:198::$k
	_lab_addr vpn "$device" "$inner4.1/24" "$inner6::1/64" || return 1
	lab_exec vpn ip link set "$device" up || return 1
	lab_exec vpn iptables-legacy -t nat -A POSTROUTING -s "$inner4.0/24" -o up0 \
		-j SNAT --to-source "$exit4" || return 1
	lab_exec vpn ip6tables-legacy -t nat -A POSTROUTING -s "$inner6::/64" -o up0 \
		-j SNAT --to-source "$exit6" || return 1
	lab_exec wan iptables-legacy -I LAB-LEAK 1 -p udp -d "$exit4" --dport "$port" \
		-m comment --comment "tunnel $name" -j RETURN || return 1

	# shellcheck disable=SC2034 # the fixture's API: read by the tests
	LAB_VPN_DEVICE[$name]=$device
	LAB_VPN_ENDPOINT[$name]=$exit4:$port
	LAB_VPN_HOSTNAME[$name]=$name.vpn.$LAB_DOMAIN
	LAB_VPN_ADDR4[$name]=$inner4.2
	LAB_VPN_ADDR6[$name]=$inner6::2
	# shellcheck disable=SC2034
	LAB_VPN_EXIT4[$name]=$exit4
	# shellcheck disable=SC2034
	LAB_VPN_EXIT6[$name]=$exit6
	lab_dns_set "${LAB_VPN_HOSTNAME[$name]}" "$exit4"
}

# lab_vpn_move NAME ADDRESS: provider NAME moves to ADDRESS (in 198.51.100.0/24):
# it gets the address, its host name resolves to it from now on, the old
# endpoint address stops answering tunnel packets, and the leak meter counts
# tunnel packets to the new address as the tunnel's ("tunnel NAME moved").
# The exit address (SNAT) stays.
lab_vpn_move() {
	local name=$1 address=$2
	local port=${LAB_VPN_ENDPOINT[$name]##*:} old=${LAB_VPN_ENDPOINT[$name]%:*}
	_lab_addr vpn up0 "$address/24" || return 1
	lab_exec wan iptables-legacy -I LAB-LEAK 1 -p udp -d "$address" --dport "$port" \
		-m comment --comment "tunnel $name moved" -j RETURN || return 1
	lab_exec vpn iptables-legacy -A INPUT -p udp -d "$old" --dport "$port" -j DROP || return 1
	LAB_VPN_ENDPOINT[$name]=$address:$port
	lab_dns_set "${LAB_VPN_HOSTNAME[$name]}" "$address"
}

# lab_vpn_gateway GROUP NAME K: gateway NAME of the provider GROUP (a VPN of
# several peers, issue 7), in a namespace of its own (role NAME) wired to inet:
# exit address 198.51.100.K/32 (K = 1..99, distinct from the lab_vpn_provider
# ones), wireguard-go "wg0" listening on 51820+K with a key pair of its own.
# All gateways of a GROUP accept the same client key and client address (made
# by the first: ${LAB_VPN_CLIENT_KEY[GROUP]}, ${LAB_VPN_ADDR4[GROUP]}), so the
# client can move between them. Sets the LAB_VPN_*[NAME] values, appends NAME to
# LAB_GATEWAYS[GROUP] and its key to LAB_VPN_PUBKEY[GROUP] (a list), registers
# NAME.vpn.lab.example, and teaches the leak meter its tunnel ("tunnel NAME").
# The tunnel carries both families, but only IPv4 has an exit: IPv6 ends at the
# gateway. lab_gateway_kill and lab_gateway_revive stop and restart it.
lab_vpn_gateway() {
	local group=$1 name=$2 k=$3
	[[ "$k" =~ ^[1-9][0-9]?$ ]] || {
		echo "lab: gateway index must be 1..99, got '$k'" >&2
		return 1
	}
	local port=$((51820 + k)) exit4=198.51.100.$k
	if [[ -z "${LAB_VPN_CLIENT_KEY[$group]:-}" ]]; then
		LAB_VPN_CLIENT_KEY[$group]=$LAB_DIR/vpn-$group-client.key
		(umask 077 && wg genkey >"${LAB_VPN_CLIENT_KEY[$group]}") || return 1
		LAB_VPN_ADDR4[$group]=10.20.$((200 + k)).2
		LAB_VPN_ADDR6[$group]=2001:db8:$((200 + k))::2
	fi
	local provider_key=$LAB_DIR/vpn-$name-provider.key
	(umask 077 && wg genkey >"$provider_key") || return 1
	lab_add_netns "$name" || return 1
	# inet holds 198.51.100.254 (on vpn0) and answers ARP for it on any link; the
	# /32 route beats vpn0's /24 for this one exit address.
	lab_veth inet "g$k" "$name" up0 || return 1
	lab_exec inet ip route add "$exit4/32" dev "g$k" || return 1
	_lab_addr "$name" up0 "$exit4/32" || return 1
	lab_exec "$name" ip route add default via 198.51.100.254 dev up0 onlink || return 1
	lab_exec "$name" sysctl -qw net.ipv4.ip_forward=1 || return 1
	lab_exec "$name" iptables-legacy -t nat -A POSTROUTING -s "${LAB_VPN_ADDR4[$group]%.*}.0/24" \
		-o up0 -j SNAT --to-source "$exit4" || return 1
	lab_exec wan iptables-legacy -I LAB-LEAK 1 -p udp -d "$exit4" --dport "$port" \
		-m comment --comment "tunnel $name" -j RETURN || return 1

	LAB_GATEWAY_GROUP[$name]=$group
	LAB_GATEWAYS[$group]="${LAB_GATEWAYS[$group]:-}${LAB_GATEWAYS[$group]:+ }$name"
	LAB_VPN_DEVICE[$name]=wg0
	LAB_VPN_PUBKEY[$name]=$(wg pubkey <"$provider_key") || return 1
	LAB_VPN_PUBKEY[$group]="${LAB_VPN_PUBKEY[$group]:-}${LAB_VPN_PUBKEY[$group]:+ }${LAB_VPN_PUBKEY[$name]}"
	LAB_VPN_ENDPOINT[$name]=$exit4:$port
	LAB_VPN_HOSTNAME[$name]=$name.vpn.$LAB_DOMAIN
	LAB_VPN_EXIT4[$name]=$exit4
	lab_dns_set "${LAB_VPN_HOSTNAME[$name]}" "$exit4"
	lab_gateway_revive "$name"
}

# lab_gateway_kill NAME: gateway NAME's wireguard-go dies (SIGKILL): its tunnel
# packets get no answer from now on.
lab_gateway_kill() {
	lab_stop "$1-wg-wg0" KILL
}

# lab_gateway_revive NAME: (re)start gateway NAME's wireguard-go with its key, its
# port and the group's client as its peer.
lab_gateway_revive() {
	local name=$1 group=${LAB_GATEWAY_GROUP[$1]:?lab: no gateway $1}
	local inner=${LAB_VPN_ADDR4[$group]%.*} inner6=${LAB_VPN_ADDR6[$group]%::2}
	local port=${LAB_VPN_ENDPOINT[$name]##*:}
	lab_start_wireguard_go "$name" wg0 || return 1
	lab_exec "$name" wg set wg0 listen-port "$port" private-key "$LAB_DIR/vpn-$name-provider.key" \
		peer "$(wg pubkey <"${LAB_VPN_CLIENT_KEY[$group]}")" \
		allowed-ips "$inner.2/32,$inner6::2/128" || return 1
	_lab_addr "$name" wg0 "$inner.1/24" "$inner6::1/64" || return 1
	lab_exec "$name" ip link set wg0 up
}

# lab_fastd_provider NAME K METHOD...: provider NAME as lab_vpn_provider makes it,
# but with fastd 22 in TUN mode listening on 198.51.100.K:(10000+K) and offering
# the METHODs in that order (the responder's order decides the method: fastd
# picks the first of its own methods that the client offers too). Its status
# socket is /run/fastd-pNAME.sock in vpn. The client's key pair is new: its
# secret is the file ${LAB_VPN_CLIENT_KEY[NAME]} (a `secret "...";` line, the
# spec's secretFile), the provider's public key ${LAB_VPN_PUBKEY[NAME]}.
lab_fastd_provider() {
	local name=$1 k=$2
	shift 2
	[[ "$k" =~ ^[1-9][0-9]?$ ]] || {
		echo "lab: provider index must be 1..99, got '$k'" >&2
		return 1
	}
	local device="p${name:0:14}" port=$((10000 + k))
	local exit4=198.51.100.$k exit6=2001:db8:198::$k
	local provider_secret=$LAB_DIR/vpn-$name-provider.secret
	local client_secret=$LAB_DIR/vpn-$name-client.secret
	local role secret
	for role in provider client; do
		secret=$(fastd --generate-key --machine-readable 2>/dev/null) || return 1
		(umask 077 && echo "secret \"$secret\";" >"$LAB_DIR/vpn-$name-$role.secret") || return 1
	done
	local method methods=""
	for method in "$@"; do
		methods+="method \"$method\"; "
	done
	cat >"$LAB_DIR/vpn-$name-provider.conf" <<-EOF_FASTD
		mode tun; interface "$device"; mtu 1406;
		bind $exit4:$port;
		status socket "/run/fastd-$device.sock";
		include "$provider_secret";
		$methods
		peer "client" { key "$(fastd --config "$client_secret" --show-key --machine-readable)"; }
	EOF_FASTD
	_lab_addr vpn up0 "$exit4/24" "$exit6/64" || return 1
	lab_spawn vpn "fastd-$device" fastd --config "$LAB_DIR/vpn-$name-provider.conf" || return 1
	lab_wait_daemon "fastd-$device" lab_exec vpn test -S "/run/fastd-$device.sock" || return 1
	LAB_VPN_PROTOCOL[$name]=fastd
	_lab_provider_exit "$name" "$k" "$device" "$port" || return 1
	LAB_VPN_PUBKEY[$name]=$(fastd --config "$provider_secret" --show-key --machine-readable) ||
		return 1
	LAB_VPN_CLIENT_KEY[$name]=$client_secret
}

# lab_project_groups ROLE: the groups of units/sysusers-vpnsteer.conf (as the
# package creates them: vpnsteer, vpnsteer-wan) in an /etc/group of ROLE's
# mount namespace only, with ids the host's /etc/group does not use, unless
# the host has them already. The host's file is never touched.
lab_project_groups() {
	local role=$1 file=$LAB_DIR/$1-group gid=4300 name
	cp /etc/group "$file" || return 1
	while read -r name; do
		getent group "$name" >/dev/null && continue
		while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
		echo "$name:x:$gid:" >>"$file"
		gid=$((gid + 1))
	done < <(awk '$1 == "g" { print $2 }' "$LAB_UNITS_DIR/sysusers-vpnsteer.conf")
	chmod 0644 "$file" && lab_exec "$role" mount --bind "$file" /etc/group
}

# lab_fastd_status ROLE SOCKET: the JSON fastd writes on its status SOCKET in ROLE.
lab_fastd_status() {
	lab_exec "$1" "$LAB_PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
print(s.makefile().read())' "$2"
}

# lab_fastd_method ROLE SOCKET: the method of the connection fastd reports on
# SOCKET (the first established one); fails while there is none.
lab_fastd_method() {
	lab_fastd_status "$1" "$2" | "$LAB_PYTHON" -c 'import json, sys
for peer in json.load(sys.stdin)["peers"].values():
    if peer.get("connection"):
        print(peer["connection"]["method"])
        sys.exit(0)
sys.exit(1)'
}

# lab_client_wg_set NAME DEVICE MARK: give the client's wireguard-go DEVICE the
# key, the peer (provider NAME, all addresses) and the firewall mark MARK, as
# `wg set` does. (What vpnsteerd does through the UAPI socket, issue 4 item 2.)
lab_client_wg_set() {
	local name=$1 device=$2 mark=$3
	lab_exec client wg set "$device" private-key "${LAB_VPN_CLIENT_KEY[$name]:?lab: no provider $name}" \
		fwmark "$mark" peer "${LAB_VPN_PUBKEY[$name]}" endpoint "${LAB_VPN_ENDPOINT[$name]}" \
		allowed-ips 0.0.0.0/0,::/0
}

# lab_client_tunnel NAME DEVICE MARK: the client's end of provider NAME's tunnel
# by hand: wireguard-go DEVICE, lab_client_wg_set, the inner addresses, link up.
# Routes and rules are the caller's.
lab_client_tunnel() {
	local name=$1 device=$2 mark=$3
	lab_start_wireguard_go client "$device" || return 1
	lab_client_wg_set "$name" "$device" "$mark" || return 1
	_lab_addr client "$device" "${LAB_VPN_ADDR4[$name]}/32" "${LAB_VPN_ADDR6[$name]}/128" ||
		return 1
	lab_exec client ip link set "$device" up
}

# lab_handshake_age DEVICE: seconds since the client's DEVICE last completed a
# handshake; fails when it never did.
lab_handshake_age() {
	local line
	line=$(lab_exec client wg show "$1" latest-handshakes) || return 1
	local latest=${line##*[[:space:]]}
	[[ "$latest" =~ ^[0-9]+$ ]] && ((latest > 0)) || return 1
	echo $(($(date +%s) - latest))
}

# lab_app_attach BRIDGE ID: plug the app namespace into the client's BRIDGE
# (once it exists) as 10.20.ID.2/24, default route via 10.20.ID.1.
lab_app_attach() {
	local bridge=$1 id=$2
	wait_for -t 10 lab_exec client ip link show dev "$bridge" || {
		echo "lab: no bridge $bridge in the client" >&2
		return 1
	}
	lab_exec client ip link set app0 master "$bridge" up || return 1
	lab_exec app ip addr add "10.20.$id.2/24" dev eth0 || return 1
	lab_exec app ip route add default via "10.20.$id.1"
}

# --- vpnsteer in the client ---------------------------------------------------
#
# The product as a host runs it, on top of lab_topology: vpnsteer-generator's
# files in the client's /run/systemd/network, the real systemd-networkd (with
# units/networkd-vpnsteer.conf as a drop-in) managing the uplink, the tunnels
# and the bridges, wireguard-go started as its unit's ExecStart= says, a
# private dbus-daemon, and vpnsteerd; busctl is the client.
#
#   lab_topology
#   lab_vpn_provider a 1; lab_vpn_provider b 2
#   lab_steer_spec a:1 b:2             # the spec, from the providers
#   lab_steer_start "$generator" "$vpnsteerd"
#   lab_steer_call Up s a              # busctl call ... org.vpnsteer1.Manager Up s a
#
# Each VPN's name is its provider's, and so its tunnel device's: use names
# unique to the run (they meet wireguard-go's socket names).

LAB_UNITS_DIR=$(cd "$LAB_LIB_DIR/../../units" 2>/dev/null && pwd)
LAB_SPEC=""
declare -gA LAB_STEER_ID=() # VPN name -> id
declare -ga LAB_STEER_VPNS=() # VPN names in spec order

# lab_steer_mark NAME: the tunnel's firewall mark (id + 10000), in decimal.
lab_steer_mark() {
	echo $((10000 + ${LAB_STEER_ID[$1]:?lab: no VPN $1 in the spec}))
}

# lab_steer_spec NAME:ID[:name]...: write the spec $LAB_SPEC with one userspace
# WireGuard VPN per provider NAME (lab_vpn_provider), with that id; its DNS is
# the public DNS (reached through the tunnel). With ":name", the endpoint is the
# provider's host name at the public DNS instead of its address.
lab_steer_spec() {
	LAB_SPEC=$LAB_DIR/vpns.json
	local pair name id separator=""
	{
		printf '{\n  "version": 1,\n  "vpns": {'
		for pair in "$@"; do
			name=${pair%%:*} id=${pair#*:}
			local endpoint=${LAB_VPN_ENDPOINT[$name]:-}
			if [[ "$id" == *:name ]]; then
				id=${id%:name}
				endpoint=${LAB_VPN_HOSTNAME[$name]}:${endpoint##*:}
			fi
			[[ -n "${LAB_VPN_PUBKEY[$name]:-}" ]] || {
				echo "lab: no provider $name" >&2
				return 1
			}
			LAB_STEER_ID[$name]=$id
			LAB_STEER_VPNS+=("$name")
			printf '%s\n    "%s": { "id": %d,' "$separator" "$name" "$id"
			if [[ "${LAB_VPN_PROTOCOL[$name]:-}" == fastd ]]; then
				printf '\n      "protocol": "fastd", "secretFile": "%s",' "${LAB_VPN_CLIENT_KEY[$name]}"
				printf '\n      "peers": [{ "name": "gw", "key": "%s", "remotes": ["%s"] }],' \
					"${LAB_VPN_PUBKEY[$name]}" "$endpoint"
			else
				printf ' "implementation": "userspace",'
				printf '\n      "endpoint": "%s", "publicKey": "%s",' \
					"$endpoint" "${LAB_VPN_PUBKEY[$name]}"
				printf '\n      "privateKeyFile": "%s",' "${LAB_VPN_CLIENT_KEY[$name]}"
			fi
			[[ -z "${LAB_STEER_EXTRA[$name]:-}" ]] || printf '\n      %s,' "${LAB_STEER_EXTRA[$name]}"
			printf '\n      "addrV4": "%s", "addrV6": "%s", "dns": ["%s"] }' \
				"${LAB_VPN_ADDR4[$name]}" "${LAB_VPN_ADDR6[$name]}" "$LAB_PUBLIC_DNS4"
			separator=,
		done
		printf '\n  }\n}\n'
	} >"$LAB_SPEC"
}

# lab_steer_spec_gateways [--names] GROUP ID [FAILOVER]: write the spec $LAB_SPEC
# with one userspace WireGuard VPN named GROUP, with that id, whose peers are the
# group's gateways (lab_vpn_gateway) in the order they were made; FAILOVER is the
# JSON of its "failover" object, if any. Its DNS is the public DNS, through the
# tunnel. With --names, each endpoint is the gateway's host name at the public DNS.
lab_steer_spec_gateways() {
	local names=no
	if [[ "${1:-}" == --names ]]; then
		names=yes
		shift
	fi
	local group=$1 id=$2 failover=${3:-} name endpoint separator=""
	[[ -n "${LAB_GATEWAYS[$group]:-}" ]] || {
		echo "lab: no gateways of $group" >&2
		return 1
	}
	LAB_SPEC=$LAB_DIR/vpns.json
	LAB_STEER_ID[$group]=$id
	LAB_STEER_VPNS+=("$group")
	{
		printf '{\n  "version": 1,\n  "vpns": {\n    "%s": { "id": %d, "implementation": "userspace",' \
			"$group" "$id"
		printf '\n      "addrV4": "%s", "addrV6": "%s", "dns": ["%s"],' "${LAB_VPN_ADDR4[$group]}" \
			"${LAB_VPN_ADDR6[$group]}" "$LAB_PUBLIC_DNS4"
		[[ -z "$failover" ]] || printf '\n      "failover": %s,' "$failover"
		printf '\n      "privateKeyFile": "%s",\n      "peers": [' "${LAB_VPN_CLIENT_KEY[$group]}"
		for name in ${LAB_GATEWAYS[$group]}; do
			endpoint=${LAB_VPN_ENDPOINT[$name]}
			[[ "$names" == no ]] || endpoint=${LAB_VPN_HOSTNAME[$name]}:${endpoint##*:}
			printf '%s\n        { "name": "%s", "publicKey": "%s", "endpoint": "%s" }' \
				"$separator" "$name" "${LAB_VPN_PUBKEY[$name]}" "$endpoint"
			separator=,
		done
		printf '\n      ] }\n  }\n}\n'
	} >"$LAB_SPEC"
}

# lab_steer_start GENERATOR VPNSTEERD [RESOLVED_DIR]: everything of the client
# named above, in boot order; returns once every tunnel has its address and
# table route and vpnsteerd serves org.vpnsteer1. No VPN is up yet. With
# RESOLVED_DIR (lab_extract_resolved), systemd-resolved runs too, before
# networkd, which hands it each link's DNS servers.
#
# vpnsteerd gives each wireguard-go device its key, peer and firewall mark
# through the UAPI socket (issue 4 item 2); nothing in the lab does it for it.
lab_steer_start() {
	local generator=$1 vpnsteerd=$2 resolved=${3:-}
	[[ -n "$LAB_SPEC" ]] || {
		echo "lab: lab_steer_spec first" >&2
		return 1
	}
	mkdir -p "$LAB_DIR/normal" "$LAB_DIR/early" "$LAB_DIR/late" || return 1
	mkdir -p "$LAB_DIR/state" "$LAB_DIR/units" || return 1
	# LAB_GENERATOR_ARGS: more options for the generator, split on spaces.
	# shellcheck disable=SC2086
	lab_exec client "$generator" --spec "$LAB_SPEC" --network-dir /run/systemd/network \
		--fastd-dir /run/vpnsteer/fastd --state-dir "$LAB_DIR/state" ${LAB_GENERATOR_ARGS:-} \
		"$LAB_DIR/normal" "$LAB_DIR/early" "$LAB_DIR/late" >"$LAB_DIR/generator.log" 2>&1 || {
		echo "lab: vpnsteer-generator failed:" >&2
		cat "$LAB_DIR/generator.log" >&2
		return 1
	}
	# The uplink as the lab configured it, now managed by networkd like a host's.
	cat >"$LAB_DIR/10-lab-uplink.network" <<-EOF_NETWORK
		[Match]
		Name=$LAB_UPLINK
		[Network]
		Address=$LAB_CLIENT4/24
		Gateway=$LAB_ISP_DNS4
		Gateway=$LAB_ISP_DNS6
		DNS=$LAB_ISP_DNS4
		IPv6AcceptRA=no
		LinkLocalAddressing=no
		[Address]
		Address=$LAB_CLIENT6/64
		DuplicateAddressDetection=none
	EOF_NETWORK
	lab_networkd_install client "$LAB_DIR/10-lab-uplink.network" || return 1
	lab_exec client mkdir -p /run/systemd/networkd.conf.d || return 1
	lab_exec client install -m 0644 "$LAB_UNITS_DIR/networkd-vpnsteer.conf" \
		/run/systemd/networkd.conf.d/50-vpnsteer.conf || return 1

	# networkd 252 adopting the addresses `ip` gave the uplink re-requests the
	# IPv4 one in a loop until its counter overflows ("Failed to configure
	# address: Numerical result out of range"), and the flood of netlink
	# messages overruns wireguard-go's socket (ENOBUFS), which then exits. A
	# host's uplink has no address before networkd either: start from none.
	lab_exec client ip addr flush dev "$LAB_UPLINK" || return 1

	lab_start_dbus client || return 1
	if [[ -n "$resolved" ]]; then
		# A host with resolved points its resolv.conf at the stub; the ISP's
		# resolver is the uplink's DNS= (as DHCP would give it).
		lab_resolv_conf client "nameserver 127.0.0.53" || return 1
		lab_start_resolved client "$resolved" || return 1
	fi
	lab_start_networkd client || return 1
	lab_wait_daemon client-networkd _lab_uplink_configured || return 1
	local name
	for name in "${LAB_STEER_VPNS[@]}"; do
		lab_steer_start_tunnel "$name" || return 1
	done
	lab_steer_start_daemon "$vpnsteerd"
}

# lab_steer_start_tunnel NAME: start NAME's tunnel daemon; for fastd see
# _lab_steer_start_fastd. WireGuard: start NAME's wireguard-go as systemd would: the
# generated vpn-NAME.service wants vpnsteer-wireguard-go@NAME.service, whose
# ExecStart= comes from the static template (units/, with this machine's
# wireguard-go and %i = NAME; daemon name wireguard-go-NAME). Waits until
# networkd has put its address and table route on it, and, when vpnsteerd
# runs, until vpnsteerd has given the device its key and peer.
lab_steer_start_tunnel() {
	local name=$1 instance="vpnsteer-wireguard-go@$1.service" line command
	if [[ "${LAB_VPN_PROTOCOL[$name]:-}" == fastd ]]; then
		_lab_steer_start_fastd "$name"
		return
	fi
	grep -qx "Wants=.* $instance" "$LAB_DIR/normal/vpn-$name.service" || {
		echo "lab: vpn-$name.service does not want $instance" >&2
		return 1
	}
	line=$(sed -n 's/^ExecStart=//p' "$LAB_UNITS_DIR/vpnsteer-wireguard-go@.service.in")
	line=${line//@VPNSTEER_WIREGUARD_GO_PATH@/$(command -v wireguard-go)}
	read -ra command <<<"${line//%i/$name}" || return 1
	((${#command[@]} > 0)) || {
		echo "lab: no ExecStart= in the wireguard-go template" >&2
		return 1
	}
	lab_spawn client "wireguard-go-$name" "${command[@]}" || return 1
	lab_wait_daemon "wireguard-go-$name" lab_exec client test -S "/run/wireguard/$name.sock" ||
		return 1
	lab_wait_daemon client-networkd _lab_route_in_table "$name" "${LAB_STEER_ID[$name]}" ||
		return 1
	if lab_alive vpnsteerd; then
		lab_wait_daemon vpnsteerd lab_steer_configured "$name"
	fi
}

# _lab_steer_start_fastd NAME: run the generated vpn-NAME-fastd.service under
# unit-supervisor.sh (the lab's stand-in for systemd: daemon fastd-NAME, main pid
# in $LAB_DIR/units, where vpnsteerd --restart-by-pid-file finds it), and wait
# for fastd's status socket and networkd's route on its interface.
_lab_steer_start_fastd() {
	local name=$1
	lab_spawn client "fastd-$name" "$LAB_LIB_DIR/unit-supervisor.sh" \
		"$LAB_DIR/normal/vpn-$name-fastd.service" "$LAB_DIR/units" || return 1
	lab_wait_daemon "fastd-$name" lab_exec client test -S "/run/vpnsteer/fastd/$name.sock" ||
		return 1
	lab_wait_daemon client-networkd _lab_route_in_table "$name" "${LAB_STEER_ID[$name]}"
}

# lab_steer_configured NAME: the client's device NAME holds the key, the firewall
# mark and the peer of the spec (what vpnsteerd gives it); for a group of gateways
# (lab_vpn_gateway), exactly one of them.
lab_steer_configured() {
	local name=$1 mark peers
	mark=$(printf '0x%x' "$(lab_steer_mark "$name")")
	peers=$(lab_exec client wg show "$name" peers) || return 1
	[[ "$(lab_exec client wg show "$name" private-key)" == "$(cat "${LAB_VPN_CLIENT_KEY[$name]}")" ]] &&
		[[ "$(lab_exec client wg show "$name" fwmark)" == "$mark" ]] &&
		[[ -n "$peers" && "$peers" != *$'\n'* && " ${LAB_VPN_PUBKEY[$name]} " == *" $peers "* ]]
}

_lab_uplink_configured() {
	[[ "$(lab_exec client ip -4 route show default)" == *"via $LAB_ISP_DNS4 dev $LAB_UPLINK"* ]] &&
		[[ "$(lab_exec client ip -6 route show default)" == *"via $LAB_ISP_DNS6 dev $LAB_UPLINK"* ]]
}

_lab_route_in_table() {
	[[ "$(lab_exec client ip -4 route show table "$2")" == *"default dev $1 "* ]] &&
		[[ "$(lab_exec client ip -6 route show table "$2")" == *"default dev $1 "* ]]
}

# lab_steer_start_daemon VPNSTEERD [NAME]: start vpnsteerd on $LAB_SPEC (daemon
# name NAME, default vpnsteerd) and wait until it serves org.vpnsteer1.
lab_steer_start_daemon() {
	local vpnsteerd=$1 name=${2:-vpnsteerd}
	# LAB_STEER_ARGS: more options for vpnsteerd, split on spaces.
	# shellcheck disable=SC2086
	# Transport modes are kept in the lab's folder, and fastd units restart through
	# unit-supervisor.sh's pid files: the lab has no systemd.
	lab_spawn client "$name" "$vpnsteerd" --spec "$LAB_SPEC" --state-dir "$LAB_DIR/state" \
		--restart-by-pid-file "$LAB_DIR/units" ${LAB_STEER_ARGS:-} || return 1
	lab_wait_daemon "$name" lab_steer_system_wide || return 1
	local vpn
	for vpn in "${LAB_STEER_VPNS[@]}"; do
		if lab_exec client test -S "/run/wireguard/$vpn.sock"; then
			lab_wait_daemon "$name" lab_steer_configured "$vpn" || return 1
		fi
	done
}

# lab_steer_call METHOD [SIGNATURE ARGUMENT...]: org.vpnsteer1.Manager.METHOD.
lab_steer_call() {
	lab_exec client busctl --system call org.vpnsteer1 /org/vpnsteer1 \
		org.vpnsteer1.Manager "$@"
}

# lab_steer_system_wide: the Manager's SystemWide property (the VPN's name, or
# nothing).
lab_steer_system_wide() {
	local value
	value=$(lab_exec client busctl --system get-property org.vpnsteer1 /org/vpnsteer1 \
		org.vpnsteer1.Manager SystemWide) || return 1
	value=${value#s \"}
	echo "${value%\"}"
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
