#!/usr/bin/env bash
# integration_cluster_script: conf/cluster/start.sh run as a user runs it, in
# a process group of its own (as a terminal's foreground job):
#   happy path: three nodes come up, their logs stream while they run (each
#     line [nodeN]-prefixed), a put through node 1 is read through node 3,
#     Ctrl-C (SIGINT to the group) stops everything with exit 0 within
#     seconds, backups flushed, no "Terminated" noise, no node left running;
#   fail fast: a node whose UDP port is taken makes the script exit 1 at once,
#     naming that node and showing its last log lines, with no node left;
#   a missing binary, ports overridden without a folder, a bad port, are refused.
#
#   cluster_script_test.sh DAVE_BINARY START_SH
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 DAVE_BINARY START_SH" >&2
  exit 2
fi
dave=$1 script=$2
# The script gives each node 15 s to answer on its HTTP API. A sanitized
# node on a loaded 2-core machine has needed more than that just to start;
# this test waits up to 60 s for the nodes itself, and so lets the script too.
export DAVE_CLUSTER_START_TIMEOUT=${DAVE_CLUSTER_START_TIMEOUT:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/dave-cluster-test.XXXXXX")
script_pid=
holder_pid=
cleanup() {
  [[ -z "$script_pid" ]] || kill -KILL -- "-$script_pid" 2>/dev/null
  [[ -z "$holder_pid" ]] || kill -KILL "$holder_pid" 2>/dev/null
  pgrep -f -- "--config $work/" | xargs -r kill -KILL 2>/dev/null
  if [[ -n "${DAVE_KEEP_TMP:-}" ]]; then echo "keeping $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
  echo "cluster_script: FAIL: $*" >&2
  [[ -f "$work/out" ]] && { echo "--- script output:" >&2; tail -n 40 "$work/out" >&2; }
  exit 1
}

# A UDP base port P with P..P+5 free (UDP on even, TCP on odd offsets) and an
# HTTP base port H with H..H+2 free.
read -r udp_base http_base < <(python3 - <<'EOF'
import random, socket
def free(port, kind, host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False
def pick(check):
    while True:
        base = random.randrange(20000, 60000, 2)
        if check(base):
            return base
udp = pick(lambda b: all(free(b + i, socket.SOCK_DGRAM if i % 2 == 0 else socket.SOCK_STREAM, "::1")
                         for i in range(6)))
http = pick(lambda b: b - udp not in range(-3, 6) and
            all(free(b + i, socket.SOCK_STREAM, "127.0.0.1") for i in range(3)))
print(udp, http)
EOF
)
[[ -n "$udp_base" && -n "$http_base" ]] || fail "no free ports found"
echo "ports: UDP $udp_base.., HTTP $http_base.."

# Runs start.sh in a new session (its own process group, like a terminal's
# foreground job) with output to $work/out; sets script_pid (= its group).
# A background job of this non-interactive shell would ignore SIGINT, and a
# shell started so cannot trap it: the job's SIGINT is reset to the default,
# as a terminal's foreground job has it.
start_cluster() {
  local dir=$1
  : >"$work/out"
  DAVE="$dave" DAVE_CLUSTER_DIR="$dir" DAVE_CLUSTER_UDP_PORT="$udp_base" \
    DAVE_CLUSTER_HTTP_PORT="$http_base" python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("bash", ["bash", sys.argv[1]])' "$script" >"$work/out" 2>&1 &
  script_pid=$!
}

# Waits up to $1 seconds for the script to exit; sets status to its exit
# status and clears script_pid. Returns 1 if it is still running.
wait_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$script_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  wait "$script_pid"
  status=$?
  script_pid=
}

nodes_left() { pgrep -f -- "--config $1/node" || true; }

echo "== happy path"
dir=$work/happy
start_cluster "$dir"
deadline=$((SECONDS + 60))
until grep -q '^cluster: three nodes running' "$work/out"; do
  kill -0 "$script_pid" 2>/dev/null || fail "the script exited before the nodes were up"
  ((SECONDS < deadline)) || fail "the nodes were not up within 60 s"
  sleep 0.2
done
# Streamed while running, not when the script ends: node 3's HTTP API line
# (logged before the script's "running") is in the output already.
deadline=$((SECONDS + 5))
until grep -q '^\[node3\] .*HTTP API on 127.0.0.1:'"$((http_base + 2))" "$work/out"; do
  ((SECONDS < deadline)) || fail "node3's log is not streamed while it runs"
  sleep 0.1
done

"$dave" put greeting "from node one" --config "$dir/node1.toml" >/dev/null ||
  fail "put through node1 failed"
value=
deadline=$((SECONDS + 30))
until value=$("$dave" get greeting --config "$dir/node3.toml" --data-key "$dir/node1.key" 2>/dev/null) &&
  [[ "$value" == "from node one" ]]; do
  ((SECONDS < deadline)) || fail "node3 did not return the value within 30 s (got '$value')"
  sleep 0.5
done
echo "put through node1, got through node3: $value"

kill -INT -- "-$script_pid" # Ctrl-C
wait_exit 10 || fail "the script did not exit within 10 s of SIGINT"
[[ "$status" -eq 0 ]] || fail "the script exited $status after SIGINT, not 0"
[[ -z "$(nodes_left "$dir")" ]] || fail "nodes left running after SIGINT: $(nodes_left "$dir")"
noise=$(grep -vE '^(\[node[123]\] |cluster: )' "$work/out" || true)
[[ -z "$noise" ]] || fail "output lines from neither a node nor the script: $noise"
for i in 1 2 3; do
  grep -q "^\[node$i\] .*backup writer stopped" "$work/out" ||
    fail "node$i did not log its backup writer's stop (its last lines were lost?)"
done
grep -aq "from node one" "$dir/node1.backup" || fail "node1's backup does not hold the put"
echo "SIGINT: exit 0, all stopped, backups flushed"

echo "== fail fast: node2's UDP port is taken"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::1", int(sys.argv[1])))
print("bound", flush=True)
time.sleep(120)' "$((udp_base + 2))" >"$work/holder" &
holder_pid=$!
until grep -q bound "$work/holder"; do
  kill -0 "$holder_pid" 2>/dev/null || fail "could not bind the port to take"
  sleep 0.1
done
dir=$work/taken
start_cluster "$dir"
started=$SECONDS
wait_exit 20 || fail "the script did not exit within 20 s when node2 could not start"
[[ "$status" -eq 1 ]] || fail "the script exited $status when node2 could not start, not 1"
grep -q '^cluster: node2 could not start' "$work/out" || fail "the message does not name node2"
# Its last lines include the bind error, which names the taken port.
grep -A10 '^cluster: node2 could not start' "$work/out" | grep -v '^\[node' |
  grep -q ":$((udp_base + 2))" || fail "node2's last log lines (the bind error) are not shown"
[[ -z "$(nodes_left "$dir")" ]] || fail "nodes left running: $(nodes_left "$dir")"
kill "$holder_pid" 2>/dev/null
holder_pid=
echo "exit 1 after $((SECONDS - started)) s, naming node2"

echo "== started as a background job of a script, SIGINT still stops it"
# Such a job ignores SIGINT (bash's rule); the script starts itself again
# with SIGINT at its default.
dir=$work/background
DAVE="$dave" DAVE_CLUSTER_DIR="$dir" DAVE_CLUSTER_UDP_PORT="$udp_base" \
  DAVE_CLUSTER_HTTP_PORT="$http_base" setsid bash "$script" >"$work/out" 2>&1 &
script_pid=$!
deadline=$((SECONDS + 60))
until grep -q '^cluster: three nodes running' "$work/out"; do
  kill -0 "$script_pid" 2>/dev/null || fail "the script exited before the nodes were up"
  ((SECONDS < deadline)) || fail "the nodes were not up within 60 s"
  sleep 0.2
done
kill -INT -- "-$script_pid"
wait_exit 10 || fail "a background start.sh did not exit within 10 s of SIGINT"
[[ "$status" -eq 0 ]] || fail "a background start.sh exited $status after SIGINT, not 0"
[[ -z "$(nodes_left "$dir")" ]] || fail "nodes left running after SIGINT: $(nodes_left "$dir")"
echo "SIGINT: exit 0, all stopped"

echo "== refused: no binary; ports without a folder; a bad port"
out=$(DAVE=$work/no-such-dave bash "$script" 2>&1)
status=$?
[[ $status -ne 0 && "$out" == *"no dave binary at $work/no-such-dave"* ]] ||
  fail "a missing binary: exit $status, '$out'"
out=$(env -u DAVE_CLUSTER_DIR DAVE="$dave" DAVE_CLUSTER_UDP_PORT="$udp_base" bash "$script" 2>&1)
status=$?
[[ $status -eq 2 && "$out" == *"need DAVE_CLUSTER_DIR"* ]] ||
  fail "ports without DAVE_CLUSTER_DIR: exit $status, '$out'"
out=$(DAVE="$dave" DAVE_CLUSTER_DIR="$work/bad-port" DAVE_CLUSTER_UDP_PORT=16x bash "$script" 2>&1)
status=$?
[[ $status -eq 2 && "$out" == *"not a port number: '16x'"* ]] ||
  fail "a port that is not a number: exit $status, '$out'"
echo "cluster_script: ok"
