#!/usr/bin/env bash
# Builds the WAN DNS forwarder's message-handling libFuzzer target with clang and runs it
# briefly over a seed corpus of queries and answers written here (EDNS, truncation,
# compression, a name of 255 bytes).
#   run-wandns.sh SOURCE_DIR BUILD_DIR [SECONDS]
set -euo pipefail # a crash must fail the test, not vanish into `| tail`
source_dir=$1 build_dir=$2 seconds=${3:-30}
source "$source_dir/tests/lib/skip.sh"

command -v clang++ >/dev/null || skip_test "clang++ is not installed: cannot build the libFuzzer target"
mkdir -p "$build_dir"
fuzzer=$build_dir/wandns-fuzzer
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$source_dir" "$source_dir/tests/fuzz/wandns_fuzzer.cpp" \
    "$source_dir/service/wandns/dns_message.cpp" -o "$fuzzer"

corpus=$build_dir/wandns-corpus
rm -rf "$corpus"
mkdir -p "$corpus"
seed() { printf "$2" >"$corpus/$1"; }
header_query='\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00'
name='\x03www\x07example\x00'
seed query-a "$header_query"'\x00\x00'"$name"'\x00\x01\x00\x01'
seed query-edns "$header_query"'\x00\x01'"$name"'\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x08\xfd\xe9\x00\x04\xde\xad\xbe\xef'
seed answer-a '\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00'"$name"'\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xcb\x00\x71\x07'
seed answer-tc '\x12\x34\x83\x80\x00\x01\x00\x00\x00\x00\x00\x00'"$name"'\x00\x01\x00\x01'
seed answer-edns '\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x01'"$name"'\x00\x01\x00\x01\x00\x00\x29\x02\x00\x00\x00\x00\x00\x00\x00'
seed query-pointer "$header_query"'\x00\x00\xc0\x0c\x00\x01\x00\x01'
long=''
for _ in 1 2 3; do long+='\x3f'"$(printf 'a%.0s' {1..63})"; done
seed query-long "$header_query"'\x00\x00'"$long"'\x3d'"$(printf 'b%.0s' {1..61})"'\x00\x00\x01\x00\x01'
seed header-only "$header_query"'\x00\x00'
echo "seed corpus: $(find "$corpus" -type f | wc -l) files"

cd "$build_dir"
# libFuzzer exits 77 on a crash by default, which ctest would count as a skip.
"$fuzzer" -error_exitcode=1 -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65535 \
    -print_final_stats=1 "$corpus" 2>&1 | tail -n 20
