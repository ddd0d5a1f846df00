#!/usr/bin/env bash
# Installs a dave build into a temporary prefix and checks the default
# (runtime) install: a stripped binary, the sample config, the unit, the
# licence, no libraries. Then installs the devel component, builds an outside
# project (consumer/) that finds it with find_package(dave) and links
# dave::dave, and runs the result.
#
#   install_test.sh CMAKE BUILD_DIR CONSUMER_DIR EMBED_SOURCE GENERATOR CXX [SANITIZE]
#
# DAVE_KEEP_TMP=1 keeps the temporary folder for a look afterwards.
set -euo pipefail

if [[ $# -lt 6 ]]; then
  echo "usage: $0 CMAKE BUILD_DIR CONSUMER_DIR EMBED_SOURCE GENERATOR CXX [SANITIZE]" >&2
  exit 2
fi
cmake=$1 build=$2 consumer=$3 source=$4 generator=$5 cxx=$6 sanitize=${7:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/dave-packaging.XXXXXX")
if [[ -z "${DAVE_KEEP_TMP:-}" ]]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "keeping $work"
fi
prefix=$work/prefix

fail() {
  echo "packaging_install: $*" >&2
  exit 1
}

echo "== install $build into $prefix (default: the runtime)"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install failed"; }

for file in bin/dave share/dave/node.toml lib/systemd/system/dave.service \
  share/doc/dave/LICENSE; do
  [[ -e "$prefix/$file" ]] || fail "$file is not installed"
done
# The libraries and headers (over 100 MB) are the devel component, opt-in.
for file in lib/libdave.a include/dave lib/cmake/dave; do
  [[ ! -e "$prefix/$file" ]] || fail "$file is installed by default (it belongs to --component devel)"
done
readelf --sections "$prefix/bin/dave" | grep -Eq '[.](symtab|debug_info)' &&
  fail "the installed bin/dave is not stripped"
grep -q '^MIT License' "$prefix/share/doc/dave/LICENSE" || fail "LICENSE is not the MIT licence"
# The sample config keeps the key and backup in the unit's StateDirectory.
grep -qx 'key_file = "/var/lib/dave/node.key"' "$prefix/share/dave/node.toml" ||
  fail "share/dave/node.toml: key_file is not under /var/lib/dave"
grep -qx 'backup_file = "/var/lib/dave/dave.backup"' "$prefix/share/dave/node.toml" ||
  fail "share/dave/node.toml: backup_file is not under /var/lib/dave"
grep -qx "ExecStart=$prefix/bin/dave node --config /etc/dave/node.toml" \
  "$prefix/lib/systemd/system/dave.service" ||
  fail "dave.service does not start $prefix/bin/dave"
echo "runtime install: $(du -sh "$prefix" | cut -f1), bin/dave $(stat -c %s "$prefix/bin/dave") bytes"

echo "== install the devel component into $prefix"
"$cmake" --install "$build" --prefix "$prefix" --component devel >"$work/install-devel.log" ||
  { cat "$work/install-devel.log" >&2; fail "cmake --install --component devel failed"; }
for file in lib/cmake/dave/daveConfig.cmake lib/cmake/dave/daveConfigVersion.cmake \
  lib/libdave.a include/dave/node/node.hpp include/dave/node/client.hpp \
  include/dave/crypto/dat_crypto.hpp include/dave/codec/types.hpp \
  include/dave/messages/type_ids.hpp; do
  [[ -e "$prefix/$file" ]] || fail "$file is not installed"
done

# Every quoted include of an installed header must be installed as well.
while IFS= read -r header; do
  while IFS= read -r included; do
    [[ -e "$prefix/include/dave/$included" ]] ||
      fail "${header#"$prefix/"} includes \"$included\", which is not installed"
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$header")
done < <(find "$prefix/include/dave" -name '*.hpp')

"$prefix/bin/dave" version | grep -q '^dave ' || fail "the installed dave does not run"

echo "== configure and build the consumer"
flags=()
if [[ -n "$sanitize" ]]; then
  flags+=("-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize -fno-omit-frame-pointer"
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize")
fi
"$cmake" -S "$consumer" -B "$work/consumer-build" -G "$generator" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DEMBED_SOURCE="$source" "${flags[@]}" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "the consumer does not configure"; }
grep -q "dave 0\.[0-9.]* from $prefix/lib/cmake/dave" "$work/configure.log" ||
  { cat "$work/configure.log" >&2; fail "find_package(dave) did not use $prefix"; }
"$cmake" --build "$work/consumer-build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "the consumer does not build"; }

echo "== run it"
mkdir -p "$work/run"
output=$(cd "$work/run" && timeout 60 "$work/consumer-build/embed_node" "[::1]:0") ||
  fail "embed_node exited with $?: $output"
echo "$output"
[[ "$output" == *"hello from an embedded node"* ]] || fail "unexpected output: $output"
echo "packaging_install: ok"
