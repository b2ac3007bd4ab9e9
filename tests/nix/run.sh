#!/usr/bin/env bash
# The Nix checks of issue 9, with a bare nix-instantiate (Debian's nix 2.8) and no nixpkgs.
#
# Usage: run.sh CHECK VPNSTEER SOURCE_DIR [NAME]
#   parse            every .nix file of the source parses (nix-instantiate --parse)
#   flake            flake.nix has the outputs it promises (tests/nix/flake-outputs.nix)
#   defaults         nix/defaults.nix has the defaults docs/spec.md gives
#   coverage         every golden case with a valid input has a mirror in tests/nix/cases
#   case NAME        tests/nix/cases/NAME.nix through nix/spec.nix:
#                      - as written, it is the same JSON document as the golden input it
#                        mirrors, and `vpnsteer check` accepts it;
#                      - with the module's defaults filled in, `vpnsteer check` accepts it
#                        and prints what it prints for the golden input; the module's
#                        read-only numbers match those lines; nix/checks.nix finds nothing;
#                        and, when VPNSTEER_GENERATOR is set, the generator writes the same
#                        files for it as for the golden input.
#   invalid NAME     tests/nix/invalid/NAME.nix: nix/checks.nix reports exactly the lines
#                    of NAME.expected, and `vpnsteer check` rejects the spec too.
#   module NAME      (needs VPNSTEER_NIXPKGS_LIB, a nixpkgs lib/ folder) evaluates
#                    nix/module.nix with the real module system; see module-eval.nix.
#   package          (needs VPNSTEER_NIXPKGS_LIB) evaluates nix/package.nix with stand-ins
#                    for stdenv and the dependencies; see package-eval.nix.
#
# A case NAME mirrors tests/golden/NAME/input.json, or examples/REST.json when NAME is
# example-REST.
#
# Nix runs against a dummy store with its state, configuration and cache in a temporary
# folder: nothing is written to /nix, ~/.cache or the machine's nix.conf, and no daemon or
# network is used.
set -euo pipefail

check=$1
vpnsteer=$2
source_dir=$(cd "$3" && pwd)
name=${4:-}
here=$source_dir/tests/nix

source "$source_dir/tests/lib/skip.sh"
require_command nix-instantiate

work=$(mktemp -d "${TMPDIR:-/tmp}/vpnsteer-nix.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/conf" "$work/home"
# No build users (nothing is built) and no sandbox: evaluation only.
printf 'build-users-group =\nsandbox = false\nexperimental-features =\n' >"$work/conf/nix.conf"
export NIX_CONF_DIR=$work/conf NIX_USER_CONF_FILES=$work/conf/nix.conf
export NIX_STATE_DIR=$work/state NIX_STORE_DIR=$work/store NIX_LOG_DIR=$work/log
export HOME=$work/home XDG_CACHE_HOME=$work/cache XDG_CONFIG_HOME=$work/config
export NIX_PATH=
unset NIX_REMOTE

nix_eval() {
	nix-instantiate --store dummy:// --eval --strict --json "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# vpnsteer_check FILE OUT: `vpnsteer check FILE` must succeed; its output goes to OUT.
vpnsteer_check() {
	if ! "$vpnsteer" check "$1" >"$2" 2>"$work/check.err"; then
		cat "$work/check.err" >&2
		fail "vpnsteer check rejects $3 ($1)"
	fi
}

# golden_input NAME: the JSON spec a case mirrors.
golden_input() {
	if [[ $1 == example-* ]]; then
		echo "$source_dir/examples/${1#example-}.json"
	else
		echo "$source_dir/tests/golden/$1/input.json"
	fi
}

# generate SPEC OUT: runs the generator on SPEC as if it were /etc/vpnsteer/vpns.json and
# leaves what it wrote (networkd files, units, messages, exit status) below OUT.
generate() {
	local root=$work/root status=0
	rm -rf "$root"
	mkdir -p "$root/etc/vpnsteer" "$root/network" "$root/normal" "$root/early" "$root/late" "$2"
	cp "$1" "$root/etc/vpnsteer/vpns.json"
	env -u SYSTEMD_SCOPE "$VPNSTEER_GENERATOR" \
		--spec "$root/etc/vpnsteer/vpns.json" --network-dir "$root/network" \
		--cli /usr/bin/vpnsteer --kernel-wireguard=yes \
		"$root/normal" "$root/early" "$root/late" 2>"$2/stderr" || status=$?
	echo "$status" >"$2/exit-status"
	cp -a "$root/network" "$root/normal" "$2/"
}

case $check in
parse)
	count=0
	while IFS= read -r -d '' file; do
		nix-instantiate --store dummy:// --parse "$file" >/dev/null || fail "$file does not parse"
		count=$((count + 1))
	done < <(find "$source_dir" \( -name '.git' -o -name 'build*' -o -name result \) -prune \
		-o -name '*.nix' -type f -print0)
	((count > 0)) || fail "no .nix file found below $source_dir"
	echo "ok: $count .nix files parse"
	;;

flake)
	[[ $(nix_eval "$here/flake-outputs.nix" --argstr src "$source_dir") == true ]] ||
		fail "flake-outputs.nix did not evaluate to true"
	echo "ok: flake.nix provides packages.<system>.default, overlays.default, nixosModules.default"
	;;

defaults)
	# The default cell of every row of docs/spec.md's field tables (an escaped \| inside
	# a cell is not a column border).
	awk -F'|' '/^\| `/ {
		gsub(/\\\|/, "\x01")
		field = $2; cell = $4
		gsub(/^ +| +$/, "", field); gsub(/^ +| +$/, "", cell); gsub(/`/, "", field)
		print field "\t" cell
	}' "$source_dir/docs/spec.md" >"$work/table"
	[[ $(nix_eval "$here/doc-defaults.nix" --argstr table "$work/table") == true ]] ||
		fail "doc-defaults.nix did not evaluate to true"
	echo "ok: nix/defaults.nix has the defaults of docs/spec.md"
	;;

coverage)
	missing=()
	for input in "$source_dir"/tests/golden/*/input.json; do
		case_name=$(basename "$(dirname "$input")")
		# Inputs that are meant to be broken (partial-invalid, syntax-error) have no
		# option set that could produce them.
		"$vpnsteer" check "$input" >/dev/null 2>&1 || continue
		[[ -f $here/cases/$case_name.nix ]] || missing+=("$case_name")
	done
	if ((${#missing[@]})); then
		fail "golden cases without a mirror in tests/nix/cases: ${missing[*]}" \
			"(write tests/nix/cases/NAME.nix with the same VPNs as services.vpnsteer options)"
	fi
	echo "ok: every valid golden case has a Nix mirror"
	;;

case)
	case_file=$here/cases/$name.nix
	golden=$(golden_input "$name")
	[[ -f $case_file ]] || fail "no case $case_file"
	[[ -f $golden ]] || fail "case $name mirrors $golden, which does not exist"

	# As written: the same document as the golden spec, and valid.
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" -A asWritten >"$work/as-written.json"
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" \
		--argstr actualPath "$work/as-written.json" --argstr expectedPath "$golden" \
		-A sameDocument >/dev/null
	vpnsteer_check "$work/as-written.json" "$work/as-written.check" "the spec rendered from $name.nix"

	# With the module's defaults: the same VPNs to vpnsteer.
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" -A withModuleDefaults >"$work/module.json"
	vpnsteer_check "$work/module.json" "$work/module.check" \
		"the spec rendered from $name.nix with the module's defaults"
	vpnsteer_check "$golden" "$work/golden.check" "the golden spec"
	if ! diff -u "$work/golden.check" "$work/module.check"; then
		fail "with the module's defaults, $name.nix means other VPNs than $golden (diff above)"
	fi
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" \
		--argstr checkOutput "$(cat "$work/golden.check")" -A summaryMatches >/dev/null
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" -A problemsMatch >/dev/null

	if [[ -n ${VPNSTEER_GENERATOR:-} ]]; then
		generate "$golden" "$work/from-golden"
		generate "$work/module.json" "$work/from-module"
		# Equal output proves nothing if the generator refused both runs alike.
		[[ -n $(ls "$work/from-golden/normal") ]] ||
			fail "the generator wrote no unit for $golden: $(cat "$work/from-golden/stderr")"
		if ! diff -ru "$work/from-golden" "$work/from-module"; then
			fail "the generator writes other files for $name.nix with the module's defaults than for $golden"
		fi
	fi
	echo "ok: $name"
	;;

invalid)
	case_file=$here/invalid/$name.nix
	expected=$here/invalid/$name.expected
	[[ -f $case_file && -f $expected ]] || fail "need $case_file and $expected"
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" --argstr expectedPath "$expected" \
		-A problemsMatch >/dev/null
	# What the module refuses, vpnsteer must refuse as well.
	nix_eval "$here/eval.nix" --argstr casePath "$case_file" -A withModuleDefaults >"$work/module.json"
	if "$vpnsteer" check "$work/module.json" >/dev/null 2>&1; then
		fail "vpnsteer check accepts the spec of $name.nix, which nix/checks.nix refuses"
	fi
	echo "ok: $name"
	;;

module)
	[[ -n ${VPNSTEER_NIXPKGS_LIB:-} ]] || fail "set VPNSTEER_NIXPKGS_LIB to a nixpkgs lib/ folder"
	case_file=$here/cases/$name.nix
	golden=$(golden_input "$name")
	nix_eval "$here/module-eval.nix" --argstr lib "$VPNSTEER_NIXPKGS_LIB" \
		--argstr casePath "$case_file" -A spec >"$work/module.json"
	vpnsteer_check "$work/module.json" "$work/module.check" "the spec nix/module.nix renders for $name.nix"
	vpnsteer_check "$golden" "$work/golden.check" "the golden spec"
	diff -u "$work/golden.check" "$work/module.check" ||
		fail "nix/module.nix renders other VPNs for $name.nix than $golden (diff above)"
	[[ $(nix_eval "$here/module-eval.nix" --argstr lib "$VPNSTEER_NIXPKGS_LIB" \
		--argstr casePath "$case_file" --argstr checkOutput "$(cat "$work/golden.check")" \
		-A verdict) == true ]] || fail "module-eval.nix did not evaluate to true"
	echo "ok: nix/module.nix on $name"
	;;

package)
	[[ -n ${VPNSTEER_NIXPKGS_LIB:-} ]] || fail "set VPNSTEER_NIXPKGS_LIB to a nixpkgs lib/ folder"
	[[ $(nix_eval "$here/package-eval.nix" --argstr lib "$VPNSTEER_NIXPKGS_LIB") == true ]] ||
		fail "package-eval.nix did not evaluate to true"
	echo "ok: nix/package.nix"
	;;

*)
	echo "usage: run.sh parse|flake|defaults|coverage|case|invalid|module|package VPNSTEER SOURCE_DIR [NAME]" >&2
	exit 2
	;;
esac
