#!/usr/bin/env bash
# dave-bench's table and its --godave option, as a user meets them:
#   1. a --godave path that is missing, not a file or not executable is said
#      at once (exit 2), before any benchmark runs; so is an unknown option;
#      bench/run.sh says the same before building anything;
#   2. `dave-bench table` renders a saved run: issue 15's figures first, each
#      judged against its target relative to its limit from the same run,
#      godave's figures in their own columns with our ratio to them, and a
#      figure the run did not report marked NOT MEASURED;
#   3. `dave-bench godave` against a stand-in: a script that takes godave's
#      command line (-udp_listen_addr, -node_key_filename, ...) and runs our
#      own `dave node` with it, so the whole path runs for real (start, wait
#      for GETMYADDRPORT, PUTs over TCP at port + 1, GETs and PINGs over
#      UDP) and prints every godave.* figure.
# Usage: bench_options_test.sh DAVE_BENCH DAVE RUN_SH
set -euo pipefail
bench="$1"
dave="$2"
run_sh="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_refused() { # expected-text command...
  local expected="$1"; shift
  local rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$* exited $rc, expected 2; stderr: $(cat "$work/err")"
  grep -qF -- "$expected" "$work/err" || fail "$*: stderr lacks '$expected': $(cat "$work/err")"
  if grep -q "== dave-bench" "$work/out"; then fail "$*: a benchmark ran before the error"; fi
}

# ---- 1. bad options --------------------------------------------------------
expect_refused "--godave $work/none: No such file or directory" "$bench" all --godave "$work/none"
touch "$work/plain"
expect_refused "--godave $work/plain: not executable" "$bench" all --godave "$work/plain"
mkdir "$work/folder"
expect_refused "--godave $work/folder: not a file" "$bench" all --godave "$work/folder"
expect_refused "--godave needs a value" "$bench" all --godave
expect_refused "unknown option '--fast'" "$bench" all --fast
expect_refused "--godave $work/none: No such file or directory" "$bench" godave "$work/none"
BUILD_DIR="$work/never-built" expect_refused "--godave $work/none: no such executable file" \
  bash "$run_sh" --godave "$work/none"
[[ ! -e "$work/never-built" ]] || fail "run.sh configured a build before refusing --godave"

# ---- 2. the table of a saved run -------------------------------------------
cat >"$work/run.txt" <<'RUN'
== dave-bench node (load 0.50)
{"figure":"ping_pong","value":131000,"unit":"PONGs/s","goal":"none","target":0,"limit":160000,"limit_name":"sign-bound","load":0.5}
{"figure":"get_serving_udp","value":100000,"unit":"GETs/s","goal":"at_least","target":150000,"limit":160000,"limit_name":"udp-echo","load":0.5}
{"figure":"put_ingest_tcp","value":30000,"unit":"entries/s","goal":"at_least","target":0,"limit":34000,"limit_name":"verify-bound","load":0.5}
{"figure":"put_identical_tcp","value":290000,"unit":"entries/s","goal":"at_least","target":0,"limit":0,"limit_name":"","load":0.5}
{"figure":"get_latency_udp_median","value":35,"unit":"us","goal":"at_most","target":200,"limit":0,"limit_name":"","load":0.5}
{"figure":"memory_per_entry","value":270,"unit":"bytes","goal":"at_most","target":300,"limit":230,"limit_name":"raw entry bytes","load":0.5}
{"figure":"verify_limit","value":34000,"unit":"verifications/s","goal":"none","target":0,"limit":0,"limit_name":"","load":0.5}
{"figure":"godave.get_serving_udp","value":50000,"unit":"GETs/s","goal":"none","target":0,"limit":0,"limit_name":"","load":0.5}
{"figure":"godave.get_latency_udp_median","value":70,"unit":"us","goal":"none","target":0,"limit":0,"limit_name":"","load":0.5}
not a figure line
RUN
"$bench" table "$work/run.txt" >"$work/table.txt" || fail "dave-bench table failed"
# Issue 15's rows read "label [figure]", the others start with the figure.
row() {
  grep -F "[$1]" "$work/table.txt" || grep -E "^$1 " "$work/table.txt" ||
    fail "no row for $1 in: $(cat "$work/table.txt")"
}
expect_row() { # figure, then words the row must hold in order
  local figure="$1"; shift
  local line pattern=""
  line="$(row "$figure")"
  for word in "$@"; do pattern+=".*${word}"; done
  grep -qE -- "$pattern" <<<"$line" || fail "row $figure lacks ($*): $line"
}
head -1 "$work/table.txt" | grep -q "godave.*ours/godave" || fail "no godave columns: $(head -1 "$work/table.txt")"
# 131k of 160k signs: 0.819 of the limit, target 0.8 x 160k = 128k.
expect_row ping_pong "131.0k" ">=128.0k" "160.0k \(sign-bound\)" "0.819" "ok"
# 100k of a 160k echo: below 0.8 x 160k; twice godave's 50k.
expect_row get_serving_udp "100.0k" ">=128.0k" "0.625" "50.0k" "2.000" "MISSED"
expect_row put_ingest_tcp "30.0k" ">=28.9k" "0.882" "ok"
# 10 x the verified ingest (30k) is the target of identical dats.
expect_row put_identical_tcp "290.0k" ">=300.0k" "30.0k \(put_ingest_tcp\)" "MISSED"
expect_row get_latency_udp_median "35" "<=40" "70" "0.500" "ok"
expect_row memory_per_entry "270" "<=276" "1.174" "ok"
expect_row get_latency_api_remote_median "NOT MEASURED"
expect_row verify_limit "34.0k"
if grep -q "\[godave\." "$work/table.txt"; then fail "godave figures became rows of their own"; fi
# Issue 15's figures come first, in its order.
first="$(sed -n 2p "$work/table.txt")"
grep -qF "[get_latency_udp_median]" <<<"$first" || fail "first row: $first"

# ---- 3. a stand-in with godave's command line ------------------------------
cat >"$work/standin.sh" <<STANDIN
#!/usr/bin/env bash
# godave's flags in, our node out (a stand-in for the test, not godave).
listen="" key=""
while [[ \$# -gt 0 ]]; do
  case "\$1" in
    -udp_listen_addr) listen="\$2"; shift 2 ;;
    -node_key_filename) key="\$2"; shift 2 ;;
    -shard_cap | -log_level) shift 2 ;;
    *) echo "standin: unknown flag \$1" >&2; exit 2 ;;
  esac
done
dir="\$(dirname "\$key")"
cat >"\$dir/standin.toml" <<CONFIG
[node]
key_file = "\$key"
listen = "\$listen"
[store]
backup_file = ""
[http]
listen = ""
[limits]
ping_rate = 0
get_rate = 0
put_rate = 0
ping_total_rate = 0
CONFIG
exec "$dave" node --config "\$dir/standin.toml" --log-level error
STANDIN
chmod +x "$work/standin.sh"
DAVE_BENCH_GODAVE_ENTRIES=2000 DAVE_BENCH_CACHE="$work/cache" \
  "$bench" godave "$work/standin.sh" >"$work/godave.txt" 2>"$work/godave.err" ||
  fail "dave-bench godave with the stand-in failed: $(cat "$work/godave.err") $(cat "$work/godave.txt")"
for figure in put_ingest_tcp get_latency_udp_median get_latency_udp_p99 get_serving_udp ping_pong; do
  value="$(grep -F "{\"figure\":\"godave.$figure\"" "$work/godave.txt" |
    sed -E 's/.*"value":([0-9.e+]+).*/\1/')"
  [[ -n "$value" ]] || fail "no godave.$figure figure: $(cat "$work/godave.txt")"
  awk -v v="$value" 'BEGIN { exit !(v > 0) }' || fail "godave.$figure is $value"
done
grep -q "found" "$work/godave.txt" || fail "no GET counts: $(cat "$work/godave.txt")"
if pgrep -f "$work/standin.toml" >/dev/null; then fail "the stand-in node was left running"; fi

# ---- 4. a benchmark that does not end is killed, and the table still comes --
# Each benchmark gets 1 s here, far less than any needs: every one is killed
# at its deadline, named in the footer, and `all` exits 1 with its table.
rc=0
DAVE_BENCH_CHILD_LIMIT_S=1 DAVE_BENCH_CACHE="$work/cache" timeout 120 "$bench" all \
  >"$work/killed.txt" 2>"$work/killed.err" || rc=$?
[[ $rc -eq 1 ]] || fail "dave-bench all with 1 s per benchmark exited $rc, expected 1: $(tail -5 "$work/killed.txt")"
grep -q "^figure " "$work/killed.txt" || fail "no table after killed benchmarks: $(tail -5 "$work/killed.txt")"
for name in pow verify node latency memory replay durable; do
  grep -qF "dave-bench $name: still running after 1 s, killed" "$work/killed.txt" ||
    fail "$name was not reported killed: $(tail -5 "$work/killed.txt")"
  grep -qE "failed:.* $name \(killed after 1 s\)" "$work/killed.txt" ||
    fail "the footer does not name $name: $(tail -2 "$work/killed.txt")"
done
echo "bench options: ok"
