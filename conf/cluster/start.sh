#!/usr/bin/env bash
# Starts a three-node cluster on [::1] (UDP 1620, 1622, 1624; HTTP 8081-8083),
# keys and backups in this folder. Ctrl-C stops all three (backups flushed).
# Try, from another terminal:
#   build/dave put hello world --config conf/cluster/node1.toml
#   build/dave get hello --config conf/cluster/node3.toml --pubkey $(...)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dave="${DAVE:-$here/../../build/dave}"
pids=()
# Ctrl-C ends the script cleanly (exit 0); on any exit the nodes are stopped.
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true; wait' EXIT
trap 'exit 0' INT TERM
for i in 1 2 3; do
  "$dave" node --config "$here/node$i.toml" 2> >(sed "s/^/[node$i] /" >&2) &
  pids+=($!)
  sleep 0.3
done
echo "three nodes running; Ctrl-C to stop" >&2
wait
