# Shared by ab.sh and modes.sh (sourced): the alternating rounds and their summary.
# Callers set the arrays `names`, `ports`, `pids` (one server pid per target; may repeat) and
# `auths`, and `$work`, a scratch directory.

# rounds TEST DEPTH REQUESTS ROUNDS: runs redis-benchmark against every target in turn, ROUNDS
# times, on CPU 0; appends "round target ops/s server-µs-CPU-per-request" to $work/rows.
rounds() {
  local test=$1 depth=$2 requests=$3 count=$4 round k before after ops
  for ((round = 1; round <= count; round++)); do
    for k in "${!names[@]}"; do
      before=$(awk '{print $14 + $15}' /proc/${pids[$k]}/stat)
      ops=$(taskset -c 0 redis-benchmark -p "${ports[$k]}" ${auths[$k]} -t "$test" -P "$depth" -c 50 \
        -r 100000 -n "$requests" -q 2>/dev/null | grep -oE "[0-9.]+ requests per second" | tail -1 | cut -d' ' -f1)
      after=$(awk '{print $14 + $15}' /proc/${pids[$k]}/stat)
      echo "$round $k $ops $(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)" >>"$work/rows"
    done
  done
}

# summarize: per target, median ops/s, median CPU per request, and the median of per-round
# ratios against the first target.
summarize() {
  python3 - "$work/rows" "${names[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = sys.argv[2:]
by = {(int(r[0]), int(r[1])): (float(r[2]), float(r[3])) for r in rows}
rounds = sorted({r for r, _ in by})
for k, name in enumerate(names):
    ops = [by[(r, k)][0] for r in rounds]
    cpu = [by[(r, k)][1] for r in rounds]
    line = f"{name:40} {statistics.median(ops):>10.0f} ops/s  {statistics.median(cpu):6.3f} µs CPU/req"
    if k > 0:
        po = statistics.median(by[(r, k)][0] / by[(r, 0)][0] for r in rounds)
        pc = statistics.median(by[(r, k)][1] / by[(r, 0)][1] for r in rounds)
        line += f"  paired vs {names[0]}: ops {po:.3f}, CPU {pc:.3f}"
    print(line)
PY
}
