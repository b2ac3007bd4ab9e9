#!/usr/bin/env bash
# The invalid-spec corpus: every cases/NAME.json must make `vpnsteer check` exit 1, print
# nothing on stdout, and print exactly cases/NAME.expected on stderr.
#   run.sh VPNSTEER [CASE...]       UPDATE=1 rewrites the .expected files instead.
set -u
vpnsteer=$(realpath "$1")
shift
cd "$(dirname "$0")/cases" || exit 1
cases=("$@")
((${#cases[@]})) || cases=(*.json)

failed=0
for spec in "${cases[@]}"; do
    name=${spec%.json}
    stdout=$(mktemp) stderr=$(mktemp)
    "$vpnsteer" check "$name.json" >"$stdout" 2>"$stderr"
    status=$?
    if [[ ${UPDATE:-} == 1 ]]; then
        cp "$stderr" "$name.expected"
    fi
    if ((status != 1)); then
        echo "FAIL $name: exit status $status, expected 1"
        failed=$((failed + 1))
    elif [[ -s $stdout ]]; then
        echo "FAIL $name: unexpected output on stdout:"
        cat "$stdout"
        failed=$((failed + 1))
    elif ! diff -u --label "$name.expected" --label "vpnsteer check $name.json" \
        "$name.expected" "$stderr"; then
        echo "FAIL $name: error text differs"
        failed=$((failed + 1))
    fi
    rm -f "$stdout" "$stderr"
done
echo "$((${#cases[@]} - failed)) passed, $failed failed"
((failed == 0))
