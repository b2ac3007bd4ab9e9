#!/usr/bin/env bash
# The reference documentation against what it documents: the man pages in docs/man/ and the
# D-Bus reference docs/dbus.md must keep up with the programs' --help and service/*.xml.
#
#   check.sh lint VERSION PAGE...         groff -man -ww finds nothing to warn about, and .TH
#                                         names the page as its file does and the version
#                                         as CMakeLists.txt's project() does
#   check.sh subcommands VPNSTEER PAGE    every subcommand `vpnsteer --help` lists has a .SS
#                                         entry in PAGE, and each option of its usage line a
#                                         .TP entry in that .SS
#   check.sh options PROGRAM PAGE         every option in `PROGRAM --help` has a .TP entry
#                                         in PAGE's OPTIONS section
#   check.sh spec SPEC_MD PAGE            every field of docs/spec.md's tables has a .TP entry
#                                         in vpns.json(5)
#   check.sh dbus DBUS_MD NAMES_HPP XML...  every method (with its arguments), property (with
#                                         its type and change signal) and error name of the
#                                         interfaces is in docs/dbus.md, and nothing else is
#
# Prints one "ok:" or "FAIL:" line per check; exits 1 if any failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/skip.sh
source "$here/../lib/skip.sh"

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass() {
	echo "ok: $*"
}

# roff_plain: roff source on stdin as the words a reader sees: no font escapes, no
# hyphenation marks, '\-' as '-', no double quotes that only group macro arguments.
roff_plain() {
	sed -E -e 's/\\f(\(..|\[[^]]*\]|.)//g' -e 's/\\%//g' -e 's/\\&//g' -e 's/\\c$//' \
		-e 's/\\-/-/g' -e 's/\\\(dq/"/g' -e 's/\\e/\\/g' -e 's/"//g'
}

# section PAGE MACRO NAME: the lines of PAGE's .SH or .SS entry (MACRO) whose first word is
# NAME, up to the next entry of the same level or above.
section() {
	local page=$1 macro=$2 name=$3 line inside=0 first
	while IFS= read -r line; do
		if [[ $line == .SH\ * || ($macro == SS && $line == .SS\ *) ]]; then
			inside=0
			if [[ $line == ".$macro "* ]]; then
				first=$(sed -E 's/^\.S[HS] //' <<<"$line" | roff_plain | awk '{ print $1 }')
				[[ $first == "$name" ]] && inside=1
			fi
			continue
		fi
		((inside)) && printf '%s\n' "$line"
	done <"$page"
	return 0
}

# tp_heads: the head (the line after .TP) of each entry in the roff text on stdin, as plain
# words without the macro.
tp_heads() {
	awk 'head { print; head = 0; next } $0 == ".TP" { head = 1 }' |
		sed -E 's/^\.[A-Z]+ ?//' | roff_plain
}

# has_token TEXT OPTION: OPTION occurs in TEXT whole, not as the prefix of a longer one.
has_token() {
	grep -qE -- "(^|[^a-z-])$2([^a-z-]|\$)" <<<"$1"
}

# help_options PROGRAM: the options PROGRAM --help shows, one per line.
help_options() {
	"$1" --help | grep -oE -- '(^|[][ ,|])--?[a-z][a-z-]*' | sed -E 's/^[][ ,|]//' | sort -u
}

lint() {
	require_command groff
	local version=$1 page name section source base device warnings
	shift
	for page in "$@"; do
		base=$(basename "$page")
		for device in ps utf8; do
			warnings=$(groff -man -ww -z -T"$device" "$page" 2>&1) || true
			if [[ -n $warnings ]]; then
				fail "$base: groff -man -ww -T$device warns: $warnings"
			else
				pass "$base: groff -man -ww -T$device has no warnings"
			fi
		done
		# .TH NAME SECTION DATE "vpnsteer VERSION": the name upper-cased, as the page's file
		# name says, and the version of the release the page describes.
		read -r name section < <(awk '$1 == ".TH" { print $2, $3; exit }' "$page" | roff_plain)
		if [[ "${name:-}" == "$(tr '[:lower:]' '[:upper:]' <<<"${base%.*}")" && "${section:-}" == "${base##*.}" ]]; then
			pass "$base: .TH names it $name($section)"
		else
			fail "$base: .TH says '${name:-}(${section:-})', the file name says ${base%.*}(${base##*.})"
		fi
		source=$(awk '$1 == ".TH"' "$page")
		if grep -qF -- "\"vpnsteer $version\"" <<<"$source"; then
			pass "$base: .TH gives the version $version"
		else
			fail "$base: .TH '$source' does not give the version \"vpnsteer $version\" of CMakeLists.txt"
		fi
	done
}
subcommands() {
	local vpnsteer=$1 page=$2 listed name entry usage option
	listed=$("$vpnsteer" --help | sed -nE 's/^  ([a-z][a-z0-9-]*): .*/\1/p')
	[[ -n $listed ]] || fail "vpnsteer --help lists no subcommands"
	for name in $listed; do
		entry=$(section "$page" SS "$name")
		if [[ -z $entry ]]; then
			fail "$(basename "$page") has no .SS entry for the subcommand '$name'"
			continue
		fi
		pass "$(basename "$page") has a .SS entry for '$name'"
		usage=$("$vpnsteer" "$name" --help)
		for option in $(grep -oE -- '(^|[][ ,|])--?[a-z][a-z-]*' <<<"$usage" | sed -E 's/^[][ ,|]//'); do
			if has_token "$(tp_heads <<<"$entry")" "$option"; then
				pass "$(basename "$page") documents '$name $option'"
			else
				fail "$(basename "$page"): the entry of '$name' has no .TP entry for '$option' ($usage)"
			fi
		done
	done
}

options() {
	local program=$1 page=$2 heads option count=0
	heads=$(section "$page" SH OPTIONS | tp_heads)
	for option in $(help_options "$program"); do
		count=$((count + 1))
		if has_token "$heads" "$option"; then
			pass "$(basename "$page") documents $option"
		else
			fail "$(basename "$page"): OPTIONS has no .TP entry for '$option', which $(basename "$program") --help shows"
		fi
	done
	((count > 0)) || fail "$(basename "$program") --help shows no options"
}

spec() {
	local spec_md=$1 page=$2 heads field count=0
	heads=$(tp_heads <"$page" | awk '{ print $1 }')
	for field in $(sed -nE 's/^\| `([A-Za-z][A-Za-z0-9.]*)` \|.*/\1/p' "$spec_md" | sort -u); do
		count=$((count + 1))
		if grep -qxF -- "$field" <<<"$heads"; then
			pass "vpns.json.5 lists the field $field"
		else
			fail "vpns.json.5 has no .TP entry for the field '$field' of docs/spec.md"
		fi
	done
	((count > 0)) || fail "docs/spec.md's tables name no fields"
}

# The members of the interfaces in the XML files, one per line:
#   M <TAB> INTERFACE <TAB> the heading docs/dbus.md gives the method
#   P <TAB> INTERFACE <TAB> NAME <TAB> TYPE <TAB> yes|no|const
xml_members() {
	# One element per line first, so that the awk below sees each tag alone.
	sed -E 's/>[[:space:]]*</>\n</g' "$@" | awk '
		function attr(name,   m) {
			if (match($0, name "=\"[^\"]*\"")) {
				m = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", m); sub(/"$/, "", m); return m
			}
			return ""
		}
		function end_method() {
			printf "M\t%s\t#### `%s(%s)%s`\n", iface, method, ins, outs ? " → " outs : ""
			method = ""
		}
		function end_property(   said) {
			said = emits == "true" ? "yes" : emits == "false" ? "no" : emits
			printf "P\t%s\t%s\t%s\t%s\n", iface, property, type, said
			property = ""
		}
		/<interface / { iface = attr("name") }
		/<method / { method = attr("name"); ins = ""; outs = ""; if (/\/>/) end_method(); next }
		/<arg / && method != "" {
			arg = attr("type") " " attr("name")
			if (attr("direction") == "out") outs = outs ? outs ", " arg : arg
			else ins = ins ? ins ", " arg : arg
		}
		/<\/method>/ && method != "" { end_method() }
		/<property / {
			property = attr("name"); type = attr("type"); emits = "true"
			if (/\/>/) end_property()
			next
		}
		/EmitsChangedSignal/ && property != "" { emits = attr("value") }
		/<\/property>/ && property != "" { end_property() }
	'
}

dbus() {
	local dbus_md=$1 names_hpp=$2
	shift 2
	local members iface section kind name type said heading error count=0
	members=$(xml_members "$@")
	for iface in $(cut -f2 <<<"$members" | sort -u); do
		section=$(awk -v heading="## \`$iface\`" '
			index($0, heading) == 1 { inside = 1; next }
			inside && /^## / { exit }
			inside { print }
		' "$dbus_md")
		if [[ -z $section ]]; then
			fail "docs/dbus.md has no section '## \`$iface\` …'"
			continue
		fi
		while IFS=$'\t' read -r kind _ name type said; do
			count=$((count + 1))
			if [[ $kind == M ]]; then
				if grep -qxF -- "$name" <<<"$section"; then
					pass "docs/dbus.md: $iface ${name#\#\#\#\# }"
				else
					fail "docs/dbus.md: $iface has no heading '$name' (as in the XML)"
				fi
			else
				if grep -qF -- "| \`$name\` | \`$type\` | $said |" <<<"$section"; then
					pass "docs/dbus.md: $iface property $name $type, PropertiesChanged $said"
				else
					fail "docs/dbus.md: $iface has no property row '| \`$name\` | \`$type\` | $said |' (as in the XML)"
				fi
			fi
		done < <(awk -F'\t' -v iface="$iface" '$2 == iface' <<<"$members")
		# And nothing the XML does not have: a removed member must leave the reference too.
		while read -r heading; do
			grep -qF -- "$(printf 'M\t%s\t%s' "$iface" "$heading")" <<<"$members" ||
				fail "docs/dbus.md: $iface documents '$heading', which the XML does not have"
		done < <(grep -E '^#### `' <<<"$section" || true)
		while read -r name; do
			awk -F'\t' -v iface="$iface" -v name="$name" '$1 == "P" && $2 == iface && $3 == name { found = 1 } END { exit !found }' <<<"$members" ||
				fail "docs/dbus.md: $iface documents the property '$name', which the XML does not have"
		done < <(sed -nE 's/^\| `([A-Za-z]+)` \| `.*/\1/p' <<<"$section")
	done
	((count > 0)) || fail "the XML files declare no members"
	for error in $(grep -oE 'org\.vpnsteer1\.Error\.[A-Za-z]+' "$names_hpp" | sort -u); do
		if grep -qF -- "| \`$error\` |" "$dbus_md"; then
			pass "docs/dbus.md lists the error $error"
		else
			fail "docs/dbus.md has no row for the error $error (service/dbus/names.hpp)"
		fi
	done
}

mode=${1:?usage: check.sh lint|subcommands|options|spec|dbus ARGS...}
shift
case $mode in
lint | subcommands | options | spec | dbus) "$mode" "$@" ;;
*)
	echo "check.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

if ((failures > 0)); then
	echo "$failures check(s) failed" >&2
	exit 1
fi
