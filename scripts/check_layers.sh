#!/usr/bin/env bash
# Checks that no include points upward through the layers, each of which is
# its own CMake target linking only what is below it:
#
#   codec -> crypto -> model -> messages -> actors -> node
#
# and that the pure layers (codec, crypto, model) include neither CAF nor
# spdlog. Exits 1 naming every offending line. Run by ctest as `layers`.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

layers=(codec crypto model messages actors node)
rank_of() {
  local i
  for i in "${!layers[@]}"; do
    if [ "${layers[$i]}" = "$1" ]; then echo "$i"; return; fi
  done
  echo -1
}

status=0
for layer in "${layers[@]}"; do
  own=$(rank_of "$layer")
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$line")
    rank=$(rank_of "$target")
    if [ "$rank" -gt "$own" ]; then
      echo "upward include ($layer -> $target): $line"
      status=1
    fi
  done < <(grep -rnE '^#include "[^"]+/' "$layer" --include='*.hpp' --include='*.cpp' || true)
  if [ "$own" -le "$(rank_of model)" ]; then
    if grep -rnE '^#include <(caf|spdlog)/' "$layer" --include='*.hpp' --include='*.cpp'; then
      echo "the pure layer $layer includes CAF or spdlog (above)"
      status=1
    fi
  fi
done
[ "$status" = 0 ] && echo "layers: no upward include"
exit "$status"
