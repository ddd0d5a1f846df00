#!/usr/bin/env bash
# Installs dependencies, builds, runs every test, fuzzes the decoder for a
# bounded time, then builds twice more with sanitizers and runs the unit,
# actor and integration tests under each (scripts/sanitize.sh): ASan+UBSan
# in build-asan/, TSan in build-tsan/. Exit code is non-zero on any failure,
# fuzzer finding or sanitizer report.
#
# DAVE_FUZZ_SECONDS (default 60) bounds the fuzzing; DAVE_SANITIZERS=0 skips
# the two sanitizer builds. They run by default, as in CI, and add about 35
# minutes on a 2-core machine, most of it compiling (each phase prints its
# wall and CPU time, see scripts/sanitize.sh; README.md lists the tests each
# leaves out and why). With ccache installed (setup.sh installs it), every
# build compiles only what changed since the last run
# (scripts/compiler_cache.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
phase() { echo "== test.sh: $1 ($((SECONDS - start)) s so far)"; }

# build-test/ has the test-only hooks compiled in (the trust test's lying
# node); build/ stays the release-like build the README runs.
DAVE_BUILD_DIR=build-test DAVE_TEST_HOOKS=ON bash scripts/setup.sh
phase "built"
ctest --test-dir build-test --output-on-failure -j2
phase "tests passed"
bash scripts/fuzz.sh "${DAVE_FUZZ_SECONDS:-60}"
phase "fuzzing done"
if [[ "${DAVE_SANITIZERS:-1}" != 0 ]]; then
  bash scripts/sanitize.sh asan
  phase "ASan+UBSan build and tests passed"
  bash scripts/sanitize.sh tsan
  phase "TSan build and tests passed"
fi
echo "== test.sh: all passed in $((SECONDS - start)) s"
