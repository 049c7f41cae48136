#!/usr/bin/env bash
# A/B of tenantkv builds on one redis-benchmark test, for changes too small for loadbench's
# noise: each build (plus redis-server) runs pinned to CPU 1, the client to CPU 0, in
# alternation for ROUNDS rounds over a keyspace filled first. Prints, per server, the median
# ops/s, the median server CPU µs per request (/proc/<pid>/stat), and the median of per-round
# ratios against the first build.
#
#   benches/scripts/ab.sh [--tenant] TEST DEPTH REQUESTS ROUNDS BINARY...
#   e.g. benches/scripts/ab.sh set 16 2000000 7 /tmp/before/tenantkv target/release/tenantkv
#
# --tenant runs the tests inside an enterprise-tier tenant (every quota enforced, none hit).
set -euo pipefail
tenant=0
if [[ ${1:-} == --tenant ]]; then tenant=1; shift; fi
test=$1 depth=$2 requests=$3 rounds=$4
shift 4
command -v redis-server >/dev/null || { echo "needs redis-server and redis-benchmark" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
names=() ports=() auths=()
port=$((20000 + RANDOM % 20000))
for bin in "$@" redis; do
  if [[ $bin == redis ]]; then
    taskset -c 1 redis-server --port $port --save '' --appendonly no >/dev/null &
  else
    taskset -c 1 "$bin" --port $port --log-level warn &
  fi
  pids+=($!) names+=("$bin") ports+=($port)
  port=$((port + 1))
done
sleep 1
for k in "${!names[@]}"; do
  auth=""
  if [[ $tenant == 1 && ${names[$k]} != redis ]]; then
    redis-cli -p "${ports[$k]}" TENANT.CREATE ab TIER enterprise >/dev/null
    secret=$(redis-cli -p "${ports[$k]}" --no-raw TENANT.TOKEN.CREATE ab | sed -n 4p | cut -d'"' -f2)
    auth="--user ab -a $secret"
  fi
  auths+=("$auth")
  taskset -c 0 redis-benchmark -p "${ports[$k]}" $auth -t set,lpush,sadd,hset,zadd -P 16 -c 50 \
    -r 100000 -n 400000 -q >/dev/null 2>&1
done
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
for ((round = 1; round <= rounds; round++)); do
  for k in "${!names[@]}"; do
    before=$(cpu "${pids[$k]}")
    ops=$(taskset -c 0 redis-benchmark -p "${ports[$k]}" ${auths[$k]} -t "$test" -P "$depth" -c 50 \
      -r 100000 -n "$requests" -q 2>/dev/null | grep -oE "[0-9.]+ requests per second" | tail -1 | cut -d' ' -f1)
    after=$(cpu "${pids[$k]}")
    echo "$round $k $ops $(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)" >>"$work/rows"
  done
done
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
        line += f"  paired vs first: ops {po:.3f}, CPU {pc:.3f}"
    print(line)
PY
