# shellcheck shell=bash
# The end-to-end tests' common start (sourced by e2e-*.sh): the lab of DESIGN.md
# (tests/lib/lab.sh lab_topology) with two VPN providers and the whole product in the
# client.
#
#   [inet] echo ── [wan] NAT, leak meter ── [client] networkd, dbus, vpnsteerd ── [app]
#      └── [vpn] provider A (exit 198.51.100.1), provider B (exit 198.51.100.2)
#
#   VPN A: id 1, tunnel device A (wireguard-go), bridge br-A (10.20.1.1/24)
#   VPN B: id 2, tunnel device B (wireguard-go), bridge br-B (10.20.2.1/24)
#
# A and B are names unique to the run. Everything in the client is the product's:
# vpnsteer-generator's files, systemd-networkd, wireguard-go as the generated unit starts
# it, vpnsteerd (which gives each device its key, peer and firewall mark through the UAPI
# socket) and its D-Bus API via busctl.
#
# Usage: source e2e-lab.sh; e2e_init NAME DEADLINE "$@"   (args: VPNSTEERD GENERATOR)

e2e_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/skip.sh
source "$e2e_here/../lib/skip.sh"

# e2e_init NAME DEADLINE VPNSTEERD GENERATOR: skip without root or tools; otherwise the lab,
# both providers, the spec and the client, with no VPN up. Sets A, B, ID_A, ID_B, EXIT4_A,
# EXIT6_A, EXIT4_B, EXIT6_B, VPNSTEERD.
e2e_init() {
	e2e_require "$3" "$4"
	e2e_start "$1" "$2"
}

# e2e_start NAME DEADLINE [RESOLVED_DIR]: e2e_init after e2e_require; with RESOLVED_DIR
# (lab_extract_resolved), systemd-resolved runs in the client too.
e2e_start() {
	local name=$1 deadline=$2 resolved=${3:-}
	lab_init "$name" "$deadline"
	lab_topology || e2e_abort "the lab topology did not come up"
	A=a$LAB_ID
	B=b$LAB_ID
	ID_A=1
	ID_B=2
	lab_vpn_provider "$A" 1 || e2e_abort "provider A did not come up"
	lab_vpn_provider "$B" 2 || e2e_abort "provider B did not come up"
	# shellcheck disable=SC2034 # for the tests that source this file
	EXIT4_A=${LAB_VPN_EXIT4[$A]} EXIT6_A=${LAB_VPN_EXIT6[$A]}
	# shellcheck disable=SC2034
	EXIT4_B=${LAB_VPN_EXIT4[$B]} EXIT6_B=${LAB_VPN_EXIT6[$B]}
	lab_steer_spec "$A:$ID_A" "$B:$ID_B" || e2e_abort "could not write the spec"
	lab_steer_start "$GENERATOR" "$VPNSTEERD" "$resolved" || e2e_abort "the client did not come up"
	echo "lab $LAB_ID up: VPN A = $A (exit $EXIT4_A), VPN B = $B (exit $EXIT4_B)"
}

# e2e_require VPNSTEERD GENERATOR: skip without root or the lab's tools; otherwise load
# the lab and the assertions, and set VPNSTEERD and GENERATOR (absolute paths).
e2e_require() {
	VPNSTEERD=$(realpath "${1:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR}")
	GENERATOR=$(realpath "${2:?usage: $0 VPNSTEERD VPNSTEER_GENERATOR}")
	require_root
	require_command ip nsenter unshare wireguard-go wg iptables-legacy ip6tables-legacy \
		dnsmasq dig python3 dbus-daemon busctl networkctl /lib/systemd/systemd-networkd
	# shellcheck source=tests/lib/lab.sh
	source "$e2e_here/../lib/lab.sh"
	# shellcheck source=tests/lib/assert.sh
	source "$e2e_here/../lib/assert.sh"
}

# e2e_abort WHY: the setup failed; nothing after it can be meaningful.
e2e_abort() {
	echo "FAIL: $*" >&2
	exit 1
}

# re WORD: WORD as a whole-line regular expression.
re() {
	echo "^$(re_escape "$1")\$"
}

# e2e_leaks: the leak meter, as a line expect can match.
e2e_leaks() {
	echo "leaked packets: $(lab_leak_count)"
}

# expect_no_leak WHAT: the leak meter reads 0 (shows the meter's rules otherwise).
expect_no_leak() {
	local count
	count=$(lab_leak_count)
	if [[ "$count" == 0 ]]; then
		_expect_pass "$1"
	else
		_expect_fail "$1" "0 packets outside the tunnels" "$count packets
$(lab_leak_report)" lab_leak_count
	fi
}

# expect_exit WHAT ROLE EXIT4 EXIT6: TCP and UDP from ROLE, IPv4 and IPv6, reach inet
# from EXIT4 / EXIT6 (IPv6 skipped when EXIT6 is empty).
expect_exit() {
	local what=$1 role=$2 exit4=$3 exit6=$4 proto
	for proto in tcp udp; do
		expect "$what: $proto over IPv4 from $exit4" "$(re "$exit4")" \
			lab_echo "$role" "$proto" "$LAB_INET4"
		[[ -z "$exit6" ]] ||
			expect "$what: $proto over IPv6 from $exit6" "$(re "$exit6")" \
				lab_echo "$role" "$proto" "$LAB_INET6"
	done
}

# expect_system_wide WHAT VPN: the Manager's SystemWide property is VPN ("" for none).
expect_system_wide() {
	expect "$1" "^$(re_escape "$2")\$" lab_steer_system_wide
}

# expect_traffic WHAT NAME FROM_LINE MAX_FAILED ADDRESS...: the continuous traffic NAME
# (lab_traffic_start), from line FROM_LINE of its log on, got every answer from one of
# the ADDRESSes (never from wan's), and at most MAX_FAILED questions got none.
expect_traffic() {
	local what=$1 name=$2 from=$3 max_failed=$4
	shift 4
	local answers allowed=" $* " line count answer failed=0 foreign=0 total=0
	answers=$(lab_traffic_answers "$name" "$from")
	while read -r count _ _ answer; do
		[[ -n "$count" ]] || continue
		total=$((total + count))
		if [[ "$answer" == - ]]; then
			failed=$((failed + count))
		elif [[ "$allowed" != *" $answer "* ]]; then
			foreign=$((foreign + count))
		fi
	done <<<"$answers"
	line="$total questions, $failed unanswered, $foreign answered from elsewhere"
	if ((total > 0 && foreign == 0 && failed <= max_failed)); then
		_expect_pass "$what ($line)"
	else
		_expect_fail "$what" "answers only from $*, at most $max_failed unanswered" \
			"$line
(count, protocol, address asked, answer:)
$answers" lab_traffic_answers "$name" "$from"
	fi
}

# e2e_more_questions NAME COUNT: wait until traffic NAME has asked COUNT more questions
# (about 50 a second while answers come, 2 a second while none do).
e2e_more_questions() {
	local until=$(($(lab_traffic_lines "$1") + $2))
	wait_for -t $(($2 / 2 + 5)) _e2e_lines_at_least "$1" "$until"
}

_e2e_lines_at_least() {
	(($(lab_traffic_lines "$1") >= $2))
}

# e2e_forwarder_queries: the WAN DNS forwarder's Queries counter (vpnsteerd's
# org.vpnsteer1.WanDns) as a bare number.
e2e_forwarder_queries() {
	local value
	value=$(lab_exec client busctl --system get-property org.vpnsteer1 /org/vpnsteer1/wandns \
		org.vpnsteer1.WanDns Queries) || return 1
	echo "${value#t }"
}

# e2e_lookups DNS NAME [FROM]: how many queries for NAME (A, AAAA) the resolver DNS (isp-dns,
# public-dns) logged, from the address FROM only when given.
e2e_lookups() {
	grep -cE " query\[(A|AAAA)\] $(re_escape "$2") from $(re_escape "${3:-}")" \
		"$(lab_log "$1")" || true
}

# e2e_grew COUNT BEFORE: what the command COUNT prints is above BEFORE (and it says so, as
# "COUNT: NOW (before: BEFORE)").
e2e_grew() {
	local now
	now=$("$1")
	echo "$1: $now (before: $2)"
	((now > $2))
}
