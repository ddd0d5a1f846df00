#!/usr/bin/env bash
# Builds dave-bench (RelWithDebInfo, in BUILD_DIR, default build-bench) and
# runs every benchmark: `dave-bench all` prints each benchmark's lines, one
# JSON line per figure ({"figure":...}), then one table of every figure next
# to its target and its limit from the same run (issue 15's figures first).
# The output is kept in BUILD_DIR/bench/last-run.txt, the table alone in
# BUILD_DIR/bench/table.txt.
#
#   bench/run.sh [--godave PATH]
#
# --godave PATH: also start that godave binary (v0.0.51; never built or
# shipped by this project) on loopback, run the same clients against it, and
# add its figures and our ratio to them to the table. DAVE_BENCH_GODAVE_ARGS
# replaces the arguments it is started with (see bench/godave_bench.cpp).
#
# The machine's load is printed with every figure: on a shared machine, quote
# the figures run at a low load (DAVE_BENCH_QUIET_LOAD=2.5 waits, up to a
# minute per benchmark, for the load average to fall below 2.5).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$here/build-bench}"
options=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --godave)
      if [[ $# -lt 2 || -z "$2" ]]; then
        echo "bench/run.sh: --godave needs the path of a godave binary" >&2
        exit 2
      fi
      if [[ ! -f "$2" || ! -x "$2" ]]; then
        echo "bench/run.sh: --godave $2: no such executable file" >&2
        exit 2
      fi
      options+=(--godave "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")")
      shift 2
      ;;
    -h | --help)
      sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "bench/run.sh: unknown option '$1' (expected --godave PATH)" >&2
      exit 2
      ;;
  esac
done
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" --target dave-bench
"$build/bench/dave-bench" all ${options[@]+"${options[@]}"} --table "$build/bench/table.txt" |
  tee "$build/bench/last-run.txt"
