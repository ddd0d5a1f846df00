#!/usr/bin/env bash
# Runs issue 14's target scenarios (sim/scenarios/targets-*.args) one after
# another under `nice` and prints sim/README.md's targets table: per run the
# GET success, replicas among the FANOUT closest live nodes (p50), entries
# lost, wall time and the process's maximum RSS (/usr/bin/time -v when
# installed, else the report's rss), and whether dave-sim met every target
# the scenario file sets (its exit status; missed ones are listed below).
#
# usage: sim/run-targets.sh [--dave-sim PATH] [--out DIR] [--threads N] [ROW...]
#   ROW: 2k-steady 2k-loss10 2k-churn30 10k-steady 1k-default eclipse (default: all,
#        in that order; the 10k row alone takes the machine for a long while)
#   --threads N: dave-sim --threads N (each virtual instant on N threads:
#        faster, not reproducible from the seed; default 1)
# Each run leaves DIR/ROW.out (text + JSON line), DIR/ROW.err and DIR/ROW.svg.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sim="$here/../build/sim/dave-sim"
[ -x "$sim" ] || sim="$here/../build-test/sim/dave-sim"
out=sim-targets
threads=1
rows=()
while [ $# -gt 0 ]; do
  case $1 in
  --dave-sim) sim=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --threads) threads=$2; shift 2 ;;
  -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
  *) rows+=("$1"); shift ;;
  esac
done
[ ${#rows[@]} -gt 0 ] || rows=(2k-steady 2k-loss10 2k-churn30 10k-steady 1k-default eclipse)
[ -x "$sim" ] || { echo "run-targets: no dave-sim at $sim (use --dave-sim PATH)" >&2; exit 2; }
mkdir -p "$out"
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -v)
status=0
for row in "${rows[@]}"; do
  file="$here/scenarios/targets-$row.args"
  [ -f "$file" ] || { echo "run-targets: no scenario $file" >&2; status=2; continue; }
  echo "run-targets: $row ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  start=$(date +%s.%N)
  nice "${timer[@]}" "$sim" --scenario "$file" --threads "$threads" --svg "$out/$row.svg" \
    >"$out/$row.out" 2>"$out/$row.err"
  echo $? >"$out/$row.rc"
  echo "$start $(date +%s.%N)" >"$out/$row.wall"
  [ "$(cat "$out/$row.rc")" = 0 ] || status=1
done
python3 - "$out" "${rows[@]}" <<'PY'
import json, re, sys
out, rows = sys.argv[1], sys.argv[2:]
def pct(x): return "-" if x is None else f"{100 * x:.2f}%"
print("| scenario | GET success | replicas p50 | lost | wall time | RSS | targets |")
print("|---|---|---|---|---|---|---|")
notes = []
for row in rows:
    try:
        lines = open(f"{out}/{row}.out").read().splitlines()
        report = json.loads(next(l for l in reversed(lines) if l.startswith("{")))
    except Exception:
        report = {}
    err = open(f"{out}/{row}.err", errors="replace").read()
    rc = open(f"{out}/{row}.rc").read().strip()
    start, end = map(float, open(f"{out}/{row}.wall").read().split())
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    rss_mib = int(rss.group(1)) / 1024 if rss else report.get("rss_bytes", 0) / 1048576
    get = pct(report.get("get_success"))
    if "eclipse" in report:
        get += f" (eclipsed key {pct(report['eclipse']['target_get_success'])})"
    wall = end - start
    print(f"| {row} ({report.get('nodes', '?')} nodes) | {get} | {report.get('replicas_p50', '-')} | "
          f"{report.get('lost_entries', '-')} | {wall:.0f} s ({report.get('speedup', 0):.2f}x) | "
          f"{rss_mib:.0f} MiB | {'met' if rc == '0' else 'MISSED (exit ' + rc + ')'} |")
    notes += [f"{row}: {l.split('target missed: ', 1)[1]}" for l in err.splitlines() if "target missed: " in l]
    if not report:
        notes.append(f"{row}: no report (see {out}/{row}.err)")
for note in notes:
    print("-", note)
PY
exit $status
