#!/bin/sh
# Grows one fuzz target's corpus by a real libFuzzer run, then merges what the run found
# into tests/fuzz/corpus/<target>/ (only inputs that add coverage are kept, each at most
# 256 bytes so the repository stays small). Build the targets first (tests/CMakeLists.txt):
#   tests/fuzz/grow_corpus.sh build-fuzz sbi_line 120
set -eu
build=$1 target=$2 seconds=${3:-120}
corpus=$(dirname "$0")/corpus/$target
found=$(mktemp -d)
trap 'rm -rf "$found"' EXIT
"$build/tests/fuzz_$target" -max_total_time="$seconds" -max_len=256 "$found" "$corpus"
"$build/tests/fuzz_$target" -merge=1 -max_len=256 "$corpus" "$found"
echo "$target: $(ls "$corpus" | wc -l) inputs"
