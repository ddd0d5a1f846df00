#!/usr/bin/env bash
# Builds Dave with a sanitizer and runs the unit, actor and integration tests
# (ctest) under it:
#
#   scripts/sanitize.sh asan    ASan + UBSan, in build-asan/
#   scripts/sanitize.sh tsan    TSan, in build-tsan/ (against a CAF built
#                               for TSan: see scripts/build-caf-tsan.sh)
#
# Built at -O1 without the benchmarks and examples, which no test runs. Any
# sanitizer report fails the test that triggered it (halt_on_error; the
# node processes the integration tests start inherit the options).
# Suppressions, for third-party code only, are in tests/sanitizers/.
# Extra arguments go to ctest (e.g. -R soak).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kind=${1:?usage: sanitize.sh asan|tsan [ctest arguments]}
shift
case $kind in
  asan) sanitize=address,undefined dir=build-asan ;;
  tsan) sanitize=thread dir=build-tsan ;;
  *) echo "usage: sanitize.sh asan|tsan [ctest arguments]" >&2; exit 2 ;;
esac

start=$SECONDS
options=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1"
  -DDAVE_SANITIZE=$sanitize -DDAVE_BUILD_BENCH=OFF -DDAVE_BUILD_EXAMPLES=OFF)
if [[ $kind == tsan ]]; then
  caf=$(bash scripts/build-caf-tsan.sh | tail -1)
  options+=(-DDAVE_CAF_ROOT="$caf")
fi
cmake -S . -B "$dir" "${options[@]}" >/dev/null
cmake --build "$dir"
echo "== $kind: built in $((SECONDS - start)) s"

# Tests that cannot work under a sanitizer, with the reason.
excluded=(packaging_install)
echo "== $kind: skipping packaging_install: it installs the build and compiles an outside" \
  "project against it, which would need the sanitizer runtime (and, for TSan, the" \
  "instrumented CAF) in that project too; it tests packaging, not memory or thread safety," \
  "and runs in the normal build"
pattern=$(IFS='|'; echo "^(${excluded[*]})\$")

supp=$root/tests/sanitizers
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$supp/tsan.supp"
# The soak test runs shorter here: the sanitized node is several times slower.
export DAVE_SOAK_SECONDS=${DAVE_SOAK_SECONDS:-40}
test_start=$SECONDS
ctest --test-dir "$dir" --output-on-failure -j2 -E "$pattern" "$@"
echo "== $kind: tests ran in $((SECONDS - test_start)) s; $kind total $((SECONDS - start)) s"
