#!/usr/bin/env bash
# Starts a three-node cluster on [::1] (UDP 1620, 1622, 1624; HTTP 8081-8083),
# keys and backups in this folder, and streams the nodes' logs, each line
# prefixed [node1] .. [node3]. Ctrl-C stops all three (backups flushed) and
# exits 0. If a node cannot start (port in use, bad config, no binary), or
# one exits later, the others are stopped and the script exits 1, naming the
# node and showing its last log lines.
# Try, from another terminal:
#   build/dave put hello world --config conf/cluster/node1.toml
#   build/dave get hello --config conf/cluster/node3.toml --pubkey $(...)
#
# Environment (all optional):
#   DAVE                    the dave binary (default: build/dave)
#   DAVE_CLUSTER_DIR        run from this folder instead: node1.toml .. node3.toml
#                           are written there from this folder's, with the
#                           ports below, and keys and backups are kept there
#   DAVE_CLUSTER_UDP_PORT   UDP port of node 1; node N gets it + 2(N-1), and
#                           TCP the UDP port + 1 (default 1620; needs DAVE_CLUSTER_DIR)
#   DAVE_CLUSTER_HTTP_PORT  HTTP port of node 1; node N gets it + N-1
#                           (default 8081; needs DAVE_CLUSTER_DIR)
#   DAVE_CLUSTER_START_TIMEOUT  seconds a node may take to answer (default 15)
set -uo pipefail
# Started as a background job of a script (`start.sh &`), bash would ignore
# SIGINT for good, and it could not be trapped: start again with the default.
if [[ "$(trap -p INT)" == "trap -- '' SIGINT" && -z "${DAVE_CLUSTER_SIGINT_RESET:-}" ]] &&
  env --default-signal=INT true 2>/dev/null; then
  DAVE_CLUSTER_SIGINT_RESET=1 exec env --default-signal=INT bash "$0" "$@"
fi
here="$(cd "$(dirname "$0")" && pwd)"
dave="${DAVE:-$here/../../build/dave}"
dir="${DAVE_CLUSTER_DIR:-}"
udp_port="${DAVE_CLUSTER_UDP_PORT:-1620}"
http_port="${DAVE_CLUSTER_HTTP_PORT:-8081}"
start_timeout="${DAVE_CLUSTER_START_TIMEOUT:-15}"
nodes=(1 2 3)

say() { echo "cluster: $*" >&2; }

if [[ ! -x "$dave" ]]; then
  say "no dave binary at $dave: build it (cmake --build build) or set DAVE"
  exit 1
fi
for port in "$udp_port" "$http_port"; do
  if [[ ! "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65530)); then
    say "DAVE_CLUSTER_UDP_PORT/DAVE_CLUSTER_HTTP_PORT: not a port number: '$port'"
    exit 2
  fi
done
if [[ -n "$dir" ]]; then
  mkdir -p "$dir" && dir="$(cd "$dir" && pwd)" || exit 2
fi
if [[ -z "$dir" || "$dir" == "$here" ]]; then
  if [[ -n "${DAVE_CLUSTER_UDP_PORT:-}${DAVE_CLUSTER_HTTP_PORT:-}" ]]; then
    say "DAVE_CLUSTER_UDP_PORT and DAVE_CLUSTER_HTTP_PORT need DAVE_CLUSTER_DIR (where the configs go), another folder than $here"
    exit 2
  fi
  dir="$here"
else
  # This folder's configs with the ports changed; key and backup paths are
  # relative, so they resolve in $dir.
  for i in "${nodes[@]}"; do
    sed -e "s/^listen = \"\[::1\]:[0-9]*\"$/listen = \"[::1]:$((udp_port + 2 * (i - 1)))\"/" \
      -e "s/^edges = \[\"\[::1\]:1620\"\]$/edges = [\"[::1]:$udp_port\"]/" \
      -e "s/^listen = \"127\.0\.0\.1:[0-9]*\"$/listen = \"127.0.0.1:$((http_port + i - 1))\"/" \
      "$here/node$i.toml" >"$dir/node$i.toml" || exit 2
  done
fi

logs="$(mktemp -d "${TMPDIR:-/tmp}/dave-cluster.XXXXXX")" || exit 1
declare -A node_pid=() follower_pid=()

# Stops every node still running (SIGTERM: each flushes and fsyncs its
# backup), waits for them and for their log followers. Prints the nodes that
# did not exit 0; returns 1 if there was one.
stop_all() {
  local i status result=0
  for i in "${!node_pid[@]}"; do
    kill -TERM "${node_pid[$i]}" 2>/dev/null
  done
  for i in "${!node_pid[@]}"; do
    status=0
    wait "${node_pid[$i]}" || status=$?
    if [[ $status -ne 0 ]]; then
      say "node$i exited with status $status"
      result=1
    fi
  done
  node_pid=()
  # The followers end once their node has (tail --pid) and its last lines
  # are out.
  [[ ${#follower_pid[@]} -eq 0 ]] || wait "${follower_pid[@]}" 2>/dev/null
  rm -rf "$logs"
  return $result
}

# node$1 failed ($2 says how): stop the others and exit 1.
node_failed() {
  local i=$1 how=$2
  unset "node_pid[$i]"
  # Let its follower print what it had, then say what went wrong below it.
  wait "${follower_pid[$i]}" 2>/dev/null
  unset "follower_pid[$i]"
  say "node$i $how (config $dir/node$i.toml). Its last log lines:"
  tail -n 10 "$logs/node$i.log" | sed 's/^/  /' >&2
  trap '' INT TERM
  stop_all
  exit 1
}

on_signal() {
  trap '' INT TERM
  say "stopping the nodes"
  if stop_all; then exit 0; else exit 1; fi
}
trap on_signal INT TERM

for i in "${nodes[@]}"; do
  config="$dir/node$i.toml"
  : >"$logs/node$i.log"
  # In a session of its own, so the terminal's Ctrl-C (SIGINT to the
  # foreground process group) reaches this script only: on_signal stops the
  # nodes with SIGTERM, and a node exiting meanwhile is not taken for a
  # failure. (setsid execs the node: $! is the node.)
  setsid "$dave" node --config "$config" >>"$logs/node$i.log" 2>&1 &
  node_pid[$i]=$!
  # Streams the log as it is written, line by line, until the node is gone.
  tail -n +1 -F --pid="${node_pid[$i]}" --sleep-interval=0.1 "$logs/node$i.log" 2>/dev/null |
    sed -u "s/^/[node$i] /" >&2 &
  follower_pid[$i]=$!
  # Up once its HTTP API answers; a node that exits meanwhile failed.
  deadline=$((SECONDS + start_timeout))
  until "$dave" status --config "$config" >/dev/null 2>&1; do
    if ! kill -0 "${node_pid[$i]}" 2>/dev/null; then
      status=0
      wait "${node_pid[$i]}" || status=$?
      node_failed "$i" "could not start (exit status $status)"
    fi
    if ((SECONDS >= deadline)); then
      kill -TERM "${node_pid[$i]}" 2>/dev/null
      wait "${node_pid[$i]}" 2>/dev/null
      node_failed "$i" "did not answer on its HTTP API within ${start_timeout}s"
    fi
    sleep 0.1
  done
done
say "three nodes running (configs in $dir); Ctrl-C to stop"

# A node that exits on its own (not stopped by us) takes the cluster down.
while true; do
  exited=0
  wait -n -p exited "${node_pid[@]}"
  status=$?
  for i in "${!node_pid[@]}"; do
    if [[ ${node_pid[$i]} == "$exited" ]]; then
      node_failed "$i" "exited on its own (exit status $status)"
    fi
  done
done
