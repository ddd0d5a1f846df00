#!/usr/bin/env bash
# Multi-host test: five `dave node` processes, each in its own network
# namespace with its own IPv4 address (10.77.0.1 .. 10.77.0.5/24 on veth
# pairs joined by a bridge in a sixth, "hub" namespace; nothing touches the
# host's own network). Edges point at the first node. With fanout 3:
#
#   1. writes KEYS entries through node 2's HTTP API (`dave put` run inside
#      its namespace) and waits for 3 replicas of each (entries counts in
#      `dave status`, each run inside its node's namespace);
#   2. cuts one host off (its veth down): the host holding the most
#      entries, other than the edge and the writer;
#   3. checks the other four re-replicate: the entries the cut host held
#      reach new replicas, so the four hold at least 3 x KEYS entries between
#      them again (right after the cut they held 3 x KEYS minus the cut
#      host's share); and keep serving: every entry is read back through
#      each of them (one `dave get --count KEYS` inside its namespace: one
#      process per node, not one per entry, which under ASan on a loaded
#      machine cost about a second each and took the test past its timeout).
#
#   netns_test.sh DAVE_BINARY
#
# Needs root and `ip netns`; otherwise it prints why and exits 77 (ctest
# reports the test as skipped). Namespaces are named davenetns-PID-* (PID:
# this script's) and nothing is created in the host's own namespace; they
# and the nodes are removed on any exit, and a run first removes those of
# earlier runs whose script is gone (killed by a ctest timeout, say).
# Deadlines are sized for a loaded 2-core machine under sanitizers; waits
# end as soon as their condition holds. DAVE_KEEP_TMP=1 keeps the folder
# with configs and logs.
set -euo pipefail

dave=${1:?usage: netns_test.sh DAVE_BINARY}
dave=$(realpath "$dave")
keys=${DAVE_NETNS_KEYS:-40}
skip() {
  echo "SKIPPED: $*"
  exit 77
}
[[ $(id -u) == 0 ]] || skip "needs root to create network namespaces (running as $(id -un))"
command -v ip >/dev/null || skip "the ip command (iproute2) is missing"
command -v python3 >/dev/null || skip "python3 is missing (reads the status JSON)"

prefix=davenetns
# Namespaces of earlier runs whose script no longer runs: davenetns-PID-*,
# and dvPID-* from before this naming. A live run's PID still runs this
# script, so concurrent runs keep theirs.
remove_stale_namespaces() {
  local ns pid
  while read -r ns _; do
    [[ $ns =~ ^$prefix-([0-9]+)- || $ns =~ ^dv([0-9]+)-(hub|n[0-9]+)$ ]] || continue
    pid=${BASH_REMATCH[1]}
    [[ $pid != "$$" ]] || continue
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline | grep -q netns_test; then
      continue
    fi
    # Its nodes may have outlived the script (SIGKILL does not run traps).
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null && echo "== removed stale namespace $ns"
  done < <(ip netns list 2>/dev/null)
}
remove_stale_namespaces

tag="$prefix-$$"
hub="$tag-hub"
work=$(mktemp -d "${TMPDIR:-/tmp}/dave-netns.XXXXXX")
pids=()
namespaces=()
cleanup() {
  local code=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in "${namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ $code != 0 && $code != 77 ]]; then
    for log in "$work"/n*/node.log; do
      [[ -f $log ]] && { echo "---- $log (last 30 lines)"; tail -30 "$log"; }
    done
  fi
  if [[ -z "${DAVE_KEEP_TMP:-}" ]]; then rm -rf "$work"; else echo "kept $work"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

ip netns add "$hub" 2>"$work/netns.err" || skip "ip netns add failed: $(cat "$work/netns.err")"
namespaces+=("$hub")
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
ip -n "$hub" link set lo up

start=$(date +%s)
for i in 1 2 3 4 5; do
  ns="$tag-n$i"
  ip netns add "$ns"
  namespaces+=("$ns")
  # Both ends are made inside the namespaces: nothing is left in the host's.
  ip -n "$hub" link add "h$i" type veth peer name eth0 netns "$ns"
  ip -n "$hub" link set "h$i" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done
echo "== five namespaces on a bridge: 10.77.0.1 .. 10.77.0.5"

"$dave" keygen "$work/data.key" >/dev/null
for i in 1 2 3 4 5; do
  dir="$work/n$i"
  mkdir -p "$dir"
  edges="[]"
  [[ $i != 1 ]] && edges='["10.77.0.1:1618"]'
  cat >"$dir/node.toml" <<EOF
[node]
key_file = "node.key"
listen = "10.77.0.$i:1618"
edges = $edges

[store]
backup_file = "dave.backup"

[protocol]
fanout = 3
ping = "200ms"
activate_after = "1s"
deactivate_after = "2s"
drop_after = "6s"
replicate_every = "3s"
get_timeout = "2s"

[log]
level = "info"
status_every = "5s"

[http]
listen = "127.0.0.1:8080"
EOF
  ip netns exec "$tag-n$i" "$dave" node --config "$dir/node.toml" >"$dir/node.log" 2>&1 &
  pids+=($!)
done

status_field() { # NODE PYTHON-EXPRESSION-ON-s
  ip netns exec "$tag-n$1" "$dave" status --config "$work/n$1/node.toml" --json 2>/dev/null |
    python3 -c "import json,sys; s=json.load(sys.stdin); print($2)" 2>/dev/null || echo -1
}
wait_for() { # SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || { echo "FAILED: timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}
all_active() { # COUNT NODES...
  local want=$1
  shift
  for n in "$@"; do (($(status_field "$n" "s['peers']['active']") >= want)) || return 1; done
}
wait_for 120 "every node to see its 4 peers active" all_active 4 1 2 3 4 5
echo "== all five nodes see 4 active peers ($(($(date +%s) - start)) s)"

# 1. Write through node 2 (its HTTP API, from inside its namespace).
ip netns exec "$tag-n2" "$dave" put --config "$work/n2/node.toml" --data-key "$work/data.key" \
  --count "$keys" key "value across hosts" >/dev/null 2>"$work/put.err" ||
  { cat "$work/put.err"; echo "FAILED: dave put in node 2's namespace"; exit 1; }
read_all() { # NODE: prints how many of the KEYS entries it did not serve
  local out
  out=$(ip netns exec "$tag-n$1" "$dave" get --config "$work/n$1/node.toml" \
    --data-key "$work/data.key" --count "$keys" key 2>"$work/get$1.err") || true
  local served
  served=$(grep -c $'^key[0-9]*\tvalue across hosts$' <<<"$out" || true)
  echo $((keys - served))
}
total_entries() { # NODES...
  local sum=0
  for n in "$@"; do sum=$((sum + $(status_field "$n" "s['store_entries']"))); done
  echo "$sum"
}
# Reading through a node stores what it fetched there too, so the replica
# counts are taken before any read.
replicated() { (($(total_entries 1 2 3 4 5) >= 3 * keys)); }
wait_for 90 "3 replicas of every entry" replicated
declare -A held
for n in 1 2 3 4 5; do held[$n]=$(status_field "$n" "s['store_entries']"); done
echo "== entries per node: 1:${held[1]} 2:${held[2]} 3:${held[3]} 4:${held[4]} 5:${held[5]}" \
  "(3 replicas of $keys = $((3 * keys)))"

# 2. Cut off the host holding the most entries (not the edge, not the writer).
cut=3
for n in 4 5; do ((held[$n] > held[$cut])) && cut=$n; done
alive=()
for n in 1 2 3 4 5; do [[ $n != "$cut" ]] && alive+=("$n"); done
before=$(total_entries "${alive[@]}")
ip -n "$hub" link set "h$cut" down
ip -n "$tag-n$cut" link set eth0 down
echo "== cut node $cut off (it held ${held[$cut]}); the other four hold $before"

# 3. The rest deactivate it, keep serving, and re-replicate.
active_three() { for n in "${alive[@]}"; do (($(status_field "$n" "s['peers']['active']") == 3)) || return 1; done; }
wait_for 90 "nodes ${alive[*]} to count node $cut inactive" active_three
rereplicated() { (($(total_entries "${alive[@]}") >= 3 * keys)); }
wait_for 120 "re-replication to 3 replicas among the 4 left" rereplicated
after=$(total_entries "${alive[@]}")
echo "== re-replicated: the four left hold $after entries (before the cut $before, 3 x $keys = $((3 * keys)))"
for n in "${alive[@]}"; do
  missing=$(read_all "$n")
  [[ $missing == 0 ]] || {
    head -5 "$work/get$n.err"
    echo "FAILED: after the cut node $n could not read $missing of $keys entries"
    exit 1
  }
done
echo "== $keys entries written on node 2 read back through nodes ${alive[*]} after the cut"
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null || { echo "FAILED: node $((i + 1)) exited"; exit 1; }
done
echo "netns: passed in $(($(date +%s) - start)) s"
