#!/usr/bin/env bash
# Builds Dave with a sanitizer and runs the unit, actor and integration tests
# (ctest) under it:
#
#   scripts/sanitize.sh asan    ASan + UBSan, in build-asan/
#   scripts/sanitize.sh tsan    TSan, in build-tsan/ (against a CAF built
#                               for TSan: see scripts/build-caf-tsan.sh)
#
# Configured like build-test/ (with the test-only hooks, so the trust test's
# lying node exists), at -O1 -g1: -g1 keeps the line tables the reports need
# for file:line and costs little (-g0 saved 6% of a compile, but reports
# would name functions only). Only what the selected tests run is built:
# their executables and the `dave` binary, not the benchmarks, examples or the
# simulator tool. (Precompiling caf/all.hpp was measured and left out: a
# sanitized compile is mostly code generation, so it saved 0-1.4 s of the
# 12-45 s a file takes, about what building the header costs per target.)
# Each phase prints its wall time and the CPU time it used; on a loaded
# machine CPU time / 2 is about the wall time on an idle 2-core one.
# Any sanitizer report fails the test that triggered it
# (halt_on_error; the node processes the integration tests start inherit the
# options). Suppressions, for third-party code only, are in tests/sanitizers/.
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

# CPU seconds (user + system) used by this script and the commands it has
# run and waited for (from /proc: `times` would report a subshell's own).
cpu_used() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15 + $16 + $17) / hz }' "/proc/$$/stat"
}
start=$SECONDS
phase_start=$SECONDS
phase_cpu=0
phase() {
  local cpu
  cpu=$(cpu_used)
  echo "== $kind: $1 in $((SECONDS - phase_start)) s wall, $((cpu - phase_cpu)) s CPU" \
    "($((SECONDS - start)) s so far)"
  phase_start=$SECONDS
  phase_cpu=$cpu
}

# Tests that cannot work, or cannot finish in CI's budget, under this
# sanitizer, each with the reason. They run in the normal build (test.sh).
excluded=(packaging_install)
echo "== $kind: skipping packaging_install: it installs the build and compiles an outside" \
  "project against it, which would need the sanitizer runtime (and, for TSan, the" \
  "instrumented CAF) in that project too; it tests packaging, not memory or thread safety," \
  "and runs in the normal build"
excluded+=(packaging_service)
echo "== $kind: skipping packaging_service: its rehearsal runs the installed node as an" \
  "unprivileged user in a private mount namespace, where the sanitizer's runtime and" \
  "options (and, for TSan, the instrumented CAF under root's 0700 home) do not reach it;" \
  "it tests the unit's sandbox, not memory or thread safety, and runs in the normal build"
excluded+=(integration_sim_targets)
echo "== $kind: skipping integration_sim_targets: it checks the routing targets of two" \
  "400-node simulations, which the sanitizer slows past several minutes each; the" \
  "simulator's parts run under ASan+UBSan in the sim_* unit tests and" \
  "integration_sim_network, and the targets are checked in the normal build"
excluded+=(integration_sim)
if [[ $kind == asan ]]; then
  echo "== $kind: skipping integration_sim: it runs hundreds of in-process nodes for" \
    "simulated minutes (3 minutes under ASan+UBSan); the node code it drives runs under" \
    "ASan+UBSan in the cluster, hostile-input, soak, trust and other integration tests," \
    "and the simulator's parts in the sim_* unit tests and integration_sim_network; it" \
    "runs in the normal build"
fi
if [[ $kind == tsan ]]; then
  echo "== $kind: skipping integration_sim: it runs hundreds of in-process nodes for" \
    "simulated minutes; TSan makes it 5-15x slower, past its 10-minute timeout and the CI" \
    "budget. The node actors it drives run under TSan in the cluster, hostile-input, soak," \
    "trust and other integration tests; it runs in the normal build"
  excluded+=(integration_cli)
  echo "== $kind: skipping integration_cli: it tests the command line's arguments and" \
    "output by starting the dave binary about a hundred times (3.5 minutes under TSan);" \
    "the node threads it starts are the ones the cluster, hostile-input, soak, trust," \
    "durability and other integration tests run under TSan. It runs under ASan+UBSan," \
    "where bad arguments are an input path, and in the normal build"
fi
excluded+=(integration_netns readme readme_selftest)
echo "== $kind: skipping integration_netns, readme and readme_selftest: they test the" \
  "multi-host set-up (the same node code as the loopback cluster tests) and this" \
  "README's claims, at 7 minutes under ASan and TSan each; they run in the normal build"
pattern=$(IFS='|'; echo "^(${excluded[*]})\$")
# Whole groups, by ctest label (tests/CMakeLists.txt). source_check: checks of
# the source tree and of the labels, which run none of this build's code.
# single_thread (TSan only): unit tests that start no thread, checked with
# strace by single_thread_labels in the normal build; ThreadSanitizer reports
# races between threads, so it cannot find anything in them, and they ran
# for about 800 of the 1,900 CPU seconds of the TSan tests (backup_file and
# backup_sizes 4 minutes each). They run under ASan+UBSan.
excluded_labels=(source_check)
[[ $kind == tsan ]] && excluded_labels+=(single_thread)
label_pattern=$(IFS='|'; echo "^(${excluded_labels[*]})\$")
echo "== $kind: skipping the tests labelled ${excluded_labels[*]}"

options=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1"
  "-DDAVE_SANITIZE=$sanitize" -DDAVE_TEST_HOOKS=ON -DDAVE_BUILD_BENCH=OFF
  -DDAVE_BUILD_EXAMPLES=OFF)
source scripts/compiler_cache.sh
options+=("${compiler_cache[@]}")
if [[ $kind == tsan ]]; then
  caf=$(bash scripts/build-caf-tsan.sh | tail -1)
  options+=(-DDAVE_CAF_ROOT="$caf")
  phase "CAF for TSan ready"
fi
# (CMake warns that the test hooks are on, as for build-test/: intended.)
cmake -S . -B "$dir" "${options[@]}" >/dev/null
phase "configured"

# What the selected tests run: every file of this build that a selected
# test's command names (the test executables; the netns test's `dave`), and
# `dave`, which the integration tests start. Ninja builds a file by its path.
# (Read from CTestTestfile.cmake: ctest itself shows a command only once its
# executable exists.)
mapfile -t selected < <(ctest --test-dir "$dir" -N -E "$pattern" -LE "$label_pattern" "$@" |
  sed -n 's/^ *Test *#[0-9]*: //p')
commands=$(find "$dir" -name CTestTestfile.cmake -exec grep -h '^add_test(' {} +)
targets=(dave)
for name in "${selected[@]}"; do
  line=$(grep -F "add_test([=[$name]=] " <<<"$commands") ||
    { echo "sanitize.sh: no command for test $name in $dir" >&2; exit 1; }
  mapfile -t -O "${#targets[@]}" targets < <(grep -o "\"$root/$dir/[^\"]*\"" <<<"$line" |
    tr -d '"' | sed "s|^$root/$dir/||")
done
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
echo "== $kind: building ${#targets[@]} targets: ${targets[*]}"
cmake --build "$dir" --target "${targets[@]}"
phase "built"

supp=$root/tests/sanitizers
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$supp/tsan.supp"
# The soak test runs shorter here: the sanitized node is several times slower.
export DAVE_SOAK_SECONDS=${DAVE_SOAK_SECONDS:-40}
status=0
ctest --test-dir "$dir" --output-on-failure -j2 -E "$pattern" -LE "$label_pattern" "$@" ||
  status=$?
if ((status != 0)); then
  phase "tests FAILED"
  exit "$status"
fi
phase "tests passed"
echo "== $kind: all passed in $((SECONDS - start)) s"
