#!/usr/bin/env bash
# Builds dave-bench (RelWithDebInfo, in BUILD_DIR, default build-bench) and
# runs every benchmark: `dave-bench all` prints each benchmark's lines, one
# JSON line per figure ({"figure":...}), then a table of every figure next to
# its target and limit. The output is also kept in BUILD_DIR/bench/last-run.txt.
# The machine's load is printed with every figure: on a shared machine, quote
# the figures run at a low load (DAVE_BENCH_QUIET_LOAD=2.5 waits, up to a
# minute per benchmark, for the load average to fall below 2.5).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build-bench}"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target dave-bench
"$build/bench/dave-bench" all | tee "$build/bench/last-run.txt"
