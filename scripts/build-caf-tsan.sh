#!/usr/bin/env bash
# Builds CAF 0.17.6 (libcaf_core, libcaf_io) instrumented for ThreadSanitizer
# and prints the install prefix on its last line of output.
#
# Why: Debian's libcaf is not instrumented, so TSan cannot see the atomics
# that order a message's construction (sender thread) before its handling
# (receiver thread), nor the hand-over of an actor between scheduler threads.
# Against it every actor looks racy (about 1,300 reports in one hostile-input
# run). Built from the same release, with the same options as Debian's
# (build_config.hpp: log level QUIET, no runtime checks), it is a drop-in
# replacement for the TSan build only (CMake: -DDAVE_CAF_ROOT=PREFIX).
#
# The source is Debian's own source package (actor-framework 0.17.6, via
# `apt-get source`), checked against the SHA-256 Debian lists for it. The
# build is kept in $DAVE_CAF_TSAN_CACHE (default ~/.cache/dave) and reused
# while the compiler and flags are the same.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.17.6
tarball=actor-framework_$version.orig.tar.gz
sha256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
# CAF 0.17.6 predates GCC 12's leaner headers: one of its files uses
# std::numeric_limits without <limits> (Debian patches that file; we include
# <limits> everywhere instead of changing the source).
flags="-O1 -g1 -fsanitize=thread -include limits"
compiler=$(c++ --version | head -1)
cache=${DAVE_CAF_TSAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dave}
prefix=$cache/caf-$version-tsan
stamp="$version|$flags|$compiler"

if [[ -f $prefix/stamp && $(cat "$prefix/stamp") == "$stamp" && -f $prefix/lib/libcaf_core.so ]]; then
  echo "CAF $version for TSan: cached in $prefix" >&2
  echo "$prefix"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dave-caf.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
# Debian's source index, in a private apt state: the machine's apt setup
# (binary packages only) is left alone.
echo "deb-src http://deb.debian.org/debian bookworm main" >"$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root")
echo "CAF $version for TSan: fetching Debian's source package" >&2
for attempt in 1 2 3; do
  apt-get "${apt_options[@]}" -qq update >"$work/apt.log" 2>&1 || true
  # Only the upstream tarball is needed (not the Debian packaging), so a
  # failure to fetch the rest is not fatal; the checksum below is.
  (cd "$work" && apt-get "${apt_options[@]}" -qq source --download-only \
    "actor-framework=$version-2.1" >>"$work/apt.log" 2>&1) || true
  [[ -f $work/$tarball ]] && break
  sleep $((attempt * 5))
done
if [[ ! -f $work/$tarball ]]; then
  cat "$work/apt.log" >&2
  echo "build-caf-tsan: could not fetch $tarball from Debian" >&2
  exit 1
fi
echo "$sha256  $work/$tarball" | sha256sum --check --quiet ||
  { echo "build-caf-tsan: $tarball does not match Debian's SHA-256" >&2; exit 1; }
tar xzf "$work/$tarball" -C "$work"

echo "CAF $version for TSan: building libcaf_core and libcaf_io (a few minutes)" >&2
start=$SECONDS
cmake -S "$work/actor-framework-$version" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCAF_LOG_LEVEL=QUIET -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes \
  -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes -DCAF_NO_SUMMARY=yes \
  -DCAF_NO_COMPILER_CHECK=yes >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix"
cmake --install "$work/build" >/dev/null
echo "$stamp" >"$prefix/stamp"
echo "CAF $version for TSan: built in $((SECONDS - start)) s, installed in $prefix" >&2
echo "$prefix"
