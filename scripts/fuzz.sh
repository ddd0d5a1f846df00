#!/usr/bin/env bash
# Fuzzes the wire decoder for SECONDS (default 60) with libFuzzer, ASan and
# UBSan. Exit code is libFuzzer's: non-zero on any crash, sanitizer finding or
# decode/encode disagreement; the failing input is saved in build-fuzz/artifacts/.
#
# The fuzz build is its own small CMake project (tests/fuzz) that compiles only
# the codec, so it needs clang but none of the node's other dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
build_dir=build-fuzz
# Kept between runs (and ignored by git): what one run learns seeds the next.
corpus_dir=fuzz-corpus/decode_message

source scripts/compiler_cache.sh
CC=clang CXX=clang++ cmake -S tests/fuzz -B "$build_dir" -G Ninja \
  -DDAVE_FUZZ=ON -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compiler_cache[@]}" >/dev/null
cmake --build "$build_dir" --target decode_message_fuzz

python3 tests/fuzz/make_seed_corpus.py tests/data "$corpus_dir"
mkdir -p "$build_dir/artifacts"
exec "$build_dir/decode_message_fuzz" -max_total_time="$seconds" -max_len=1500 \
  -artifact_prefix="$build_dir/artifacts/" "$corpus_dir"
