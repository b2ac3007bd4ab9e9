#!/usr/bin/env bash
# Builds the spec parser's (and renderer's) libFuzzer target with clang and runs it briefly over a seed
# corpus of every spec in the repository (golden inputs, the invalid corpus, examples).
#   run.sh SOURCE_DIR BUILD_DIR [SECONDS]
set -euo pipefail
source_dir=$1 build_dir=$2 seconds=${3:-30}
source "$source_dir/tests/lib/skip.sh"

command -v clang++ >/dev/null || skip_test "clang++ is not installed: cannot build the libFuzzer target"
mkdir -p "$build_dir"
fuzzer=$build_dir/spec-fuzzer
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$source_dir" "$source_dir/tests/fuzz/spec_fuzzer.cpp" "$source_dir/core/spec.cpp" \
    "$source_dir/generator/render.cpp" \
    -o "$fuzzer"

corpus=$build_dir/spec-corpus
rm -rf "$corpus"
mkdir -p "$corpus"
find "$source_dir/tests" "$source_dir/examples" -name '*.json' -exec cp --backup=numbered -t "$corpus" {} + 2>/dev/null || true
echo "seed corpus: $(find "$corpus" -type f | wc -l) files"

cd "$build_dir"
# libFuzzer exits 77 on a crash by default, which ctest would count as a skip.
"$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 -error_exitcode=1 \
    "$corpus" 2>&1 | tail -n 20
