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
. "$(dirname "$0")/common.sh"
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
ports=($port $port $port) pids=($pid $pid $pid)
for k in 0 1 2; do
  taskset -c 0 redis-benchmark -p $port ${auths[$k]} -t set,lpush,sadd,hset,zadd -P 16 -c 50 \
    -r 100000 -n 400000 -q >/dev/null 2>&1
done
rounds "$test" "$depth" "$requests" "$rounds"
summarize
