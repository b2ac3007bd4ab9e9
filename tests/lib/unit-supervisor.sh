#!/usr/bin/env bash
# unit-supervisor.sh UNIT_FILE PID_DIR: the part of systemd that a generated tunnel unit
# (vpn-NAME-fastd.service) needs, for the lab, which has no PID 1 of its own. It runs the
# unit's ExecStart= with its Environment= and EnvironmentFile=- settings (a later setting
# wins, and "${VAR}" inside a word is replaced, as systemd.exec(5) and systemd.service(5) say),
# in its SupplementaryGroups= (names of the supervisor's /etc/group) and with its
# InaccessiblePaths= out of reach (a "-" path that does not exist is ignored; an existing one
# gets /dev/null mounted over it in a mount namespace of the command's own, which refuses
# connect() and open() for writing as systemd's inaccessible nodes do), keeps the main pid in PID_DIR/UNIT.pid, and starts the command again whenever it ends: a
# restart is SIGTERM to that pid (what vpnsteerd --restart-by-pid-file does). TERM to the
# supervisor stops both.
set -u
unit=$1 pid_dir=$2
name=$(basename "$unit")
child=""
trap '[[ -n $child ]] && kill -TERM "$child" 2>/dev/null; wait; rm -f "$pid_dir/$name.pid"; exit 0' TERM INT

# The settings are read again on every start, as systemd reads EnvironmentFile= then.
start() {
	local -A environment=()
	local key value file line groups="" hidden=()
	while IFS= read -r line; do
		case $line in
		SupplementaryGroups=*) groups=${line#SupplementaryGroups=} groups=${groups// /,} ;;
		InaccessiblePaths=*)
			for file in ${line#InaccessiblePaths=}; do
				[[ $file == -* && ! -e ${file#-} ]] || hidden+=("${file#-}")
			done
			;;
		Environment=*) line=${line#Environment=} && environment[${line%%=*}]=${line#*=} ;;
		EnvironmentFile=*)
			file=${line#EnvironmentFile=} file=${file#-}
			[[ -r $file ]] || continue
			while IFS='=' read -r key value; do
				[[ -n $key && $key != \#* ]] && environment[$key]=$value
			done <"$file"
			;;
		esac
	done <"$unit"
	local command
	command=$(sed -n 's/^ExecStart=//p' "$unit")
	for key in "${!environment[@]}"; do
		command=${command//\$\{$key\}/${environment[$key]}}
	done
	local words
	read -ra words <<<"$command"
	[[ -z $groups ]] || words=(setpriv --groups "$groups" -- "${words[@]}")
	if ((${#hidden[@]} > 0)); then
		# unshare and sh exec the command: the main pid stays the one started here.
		# shellcheck disable=SC2016
		words=(unshare --mount --propagation private sh -c \
			'while [ "$1" != -- ]; do mount --bind /dev/null "$1" || exit 1; shift; done
			shift; exec "$@"' sh "${hidden[@]}" -- "${words[@]}")
	fi
	echo "unit-supervisor: starting ${words[*]}"
	"${words[@]}" &
	child=$!
	echo "$child" >"$pid_dir/$name.pid.new" && mv "$pid_dir/$name.pid.new" "$pid_dir/$name.pid"
}

while :; do
	start
	wait "$child"
	echo "unit-supervisor: main process exited with status $?; starting it again"
	sleep 0.2
done
