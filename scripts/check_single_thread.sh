#!/usr/bin/env bash
# Runs each given test executable under strace and fails if any of them
# starts a thread. ctest runs it as single_thread_labels over the unit tests
# labelled single_thread (tests/CMakeLists.txt), which the TSan run leaves
# out: this keeps that label true as the code changes. Child processes
# (clone without CLONE_THREAD) are allowed; TSan checks threads only.
set -euo pipefail
if ! command -v strace >/dev/null; then
  echo "check_single_thread: strace is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
status=0
for test in "$@"; do
  if ! strace -f -qq -e trace=clone,clone3 -o "$trace" "$test" >/dev/null 2>&1; then
    echo "check_single_thread: $test failed (run it alone to see why)" >&2
    status=1
    continue
  fi
  threads=$(grep -c CLONE_THREAD "$trace" || true)
  if ((threads > 0)); then
    echo "$test started $threads thread(s) but is labelled single_thread:" \
      "take it off SINGLE_THREAD_UNIT_TESTS in tests/CMakeLists.txt so TSan runs it" >&2
    status=1
  fi
done
((status == 0)) && echo "check_single_thread: $# tests, none starts a thread"
exit "$status"
