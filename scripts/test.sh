#!/usr/bin/env bash
# Installs dependencies, builds, runs every test, then fuzzes the decoder for a
# bounded time. Exit code is non-zero on any failure or fuzzer finding.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j2
bash scripts/fuzz.sh "${DAVE_FUZZ_SECONDS:-60}"
