#!/usr/bin/env bash
# Installs Dave's build dependencies (Debian 12 packages only) and builds into build/
# (or $DAVE_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build clang libclang-rt-14-dev
  libcaf-dev libsodium-dev librust-blake3-dev libxxhash-dev libspdlog-dev
  libtomlplusplus-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev
  libbenchmark-dev iproute2 procps python3
  # packaging_service: systemd-analyze, and the node's system calls under strace
  systemd strace curl
  # scripts/compiler_cache.sh: rebuilds compile only what changed
  ccache
  # dave-sim's allocator (sim/CMakeLists.txt): 1.5x faster at 1,000 nodes
  libjemalloc-dev
)
sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y "${missing[@]}"
fi

build_type="${DAVE_BUILD_TYPE:-RelWithDebInfo}"
build_dir="${DAVE_BUILD_DIR:-build}"
# Test-only node switches ([test] in node.toml): scripts/test.sh turns them on
# in its own build folder; a build for running nodes never has them.
test_hooks="${DAVE_TEST_HOOKS:-OFF}"
source scripts/compiler_cache.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DDAVE_TEST_HOOKS="$test_hooks" "${compiler_cache[@]}" >/dev/null
cmake --build "$build_dir"
