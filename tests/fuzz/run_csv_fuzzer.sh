#!/usr/bin/env bash
# Builds the CSV fuzzer (clang, libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs it, one job, from the seed corpus tests/fuzz/corpus/csv; new interesting inputs found are
# merged (minimised, -merge=1) back into that corpus.
#   tests/fuzz/run_csv_fuzzer.sh [seconds=60] [more libFuzzer flags]
# Build folder: $FF_FUZZ_BUILD (default /tmp/ff_csv_fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FF_FUZZ_BUILD:-/tmp/ff_csv_fuzz}
seconds=${1:-60}
[ $# -gt 0 ] && shift
mkdir -p "$out/new"
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/cpp/src" "$root/tests/fuzz/csv_fuzzer.cpp" \
  "$root"/cpp/src/data/csv/csv_tokenizer.cpp "$root"/cpp/src/data/csv/csv_values.cpp \
  "$root"/cpp/src/data/csv/csv_reader.cpp "$root"/cpp/src/data/csv/csv_row_parsers.cpp \
  -o "$out/csv_fuzzer" -lpthread
corpus="$root/tests/fuzz/corpus/csv"
# New inputs go to $out/new (the first corpus directory); the seeds are read from $corpus.
"$out/csv_fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 "$out/new" "$corpus" "$@"
"$out/csv_fuzzer" -merge=1 "$corpus" "$out/new"
echo "corpus: $(ls "$corpus" | wc -l) files"
