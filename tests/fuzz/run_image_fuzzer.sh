#!/usr/bin/env bash
# Builds the image fuzzer (clang, libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer) over
# the decoders and the resizer in cpp/src/data/image (linked against the system libjpeg-turbo,
# libpng and giflib, which are not instrumented) and runs it, one job, from the seed corpus
# tests/fuzz/corpus/image; new interesting inputs are merged (minimised, -merge=1) back into
# that corpus. Regenerate the seeds with tests/fuzz/make_image_corpus.py.
#   tests/fuzz/run_image_fuzzer.sh [seconds=60] [more libFuzzer flags]
# Build folder: $FF_FUZZ_BUILD (default /tmp/ff_img_fuzz).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FF_FUZZ_BUILD:-/tmp/ff_img_fuzz}
seconds=${1:-60}
[ $# -gt 0 ] && shift
mkdir -p "$out/new"
src="$root/cpp/src/data/image"
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/cpp/src" -I"$root/tests/fuzz" "$root/tests/fuzz/image_fuzzer.cpp" \
  "$src/decode.cpp" "$src/color.cpp" "$src/jpeg.cpp" "$src/png.cpp" "$src/gif.cpp" \
  "$src/bmp.cpp" "$src/resize.cpp" \
  -o "$out/image_fuzzer" -ljpeg -lpng -lgif -lpthread
corpus="$root/tests/fuzz/corpus/image"
# New inputs go to $out/new (the first corpus directory); the seeds are read from $corpus.
"$out/image_fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  "$out/new" "$corpus" "$@"
"$out/image_fuzzer" -merge=1 "$corpus" "$out/new"
echo "corpus: $(ls "$corpus" | wc -l) files"
