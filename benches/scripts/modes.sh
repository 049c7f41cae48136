#!/usr/bin/env bash
# One tenantkv server, three ways in to the same test: the global context, an enterprise-tier
# tenant (every quota enforced, none hit) and a tenant without limits. The server is pinned
# to CPU 1 and the client to CPU 0; each way's keyspace is filled first, then the three run in
# alternation for ROUNDS rounds. Prints, per way, the median ops/s, the median server CPU µs per
# request (/proc/<pid>/stat), and the median of per-round ratios against the global context.
#
#   benches/scripts/modes.sh TEST DEPTH REQUESTS ROUNDS BINARY
#   e.g. benches/scripts/modes.sh get 16 2000000 5 target/release/tenantkv
set -euo pipefail
test=$1 depth=$2 requests=$3 rounds=$4 bin=$5
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
taskset -c 1 "$bin" --port $port --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 1
token() {
  redis-cli -p $port --no-raw TENANT.TOKEN.CREATE "$1" | sed -n 4p | cut -d'"' -f2
}
redis-cli -p $port TENANT.CREATE qon TIER enterprise >/dev/null
redis-cli -p $port TENANT.CREATE qoff TIER enterprise MEMORY 0 KEYS 0 OPS 0 CONNECTIONS 0 REQUEST 0 >/dev/null
auths=("" "--user qon -a $(token qon)" "--user qoff -a $(token qoff)")
names=(global tenant-quotas-on tenant-quotas-off)
for k in 0 1 2; do
  taskset -c 0 redis-benchmark -p $port ${auths[$k]} -t set,lpush,sadd,hset,zadd -P 16 -c 50 \
    -r 100000 -n 400000 -q >/dev/null 2>&1
done
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
for ((round = 1; round <= rounds; round++)); do
  for k in 0 1 2; do
    before=$(cpu)
    ops=$(taskset -c 0 redis-benchmark -p $port ${auths[$k]} -t "$test" -P "$depth" -c 50 \
      -r 100000 -n "$requests" -q 2>/dev/null | grep -oE "[0-9.]+ requests per second" | tail -1 | cut -d' ' -f1)
    after=$(cpu)
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
    line = f"{name:18} {statistics.median(ops):>10.0f} ops/s  {statistics.median(cpu):6.3f} µs CPU/req"
    if k > 0:
        po = statistics.median(by[(r, k)][0] / by[(r, 0)][0] for r in rounds)
        pc = statistics.median(by[(r, k)][1] / by[(r, 0)][1] for r in rounds)
        line += f"  paired vs global: ops {po:.3f}, CPU {pc:.3f}"
    print(line)
PY
