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
. "$(dirname "$0")/common.sh"
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
rounds "$test" "$depth" "$requests" "$rounds"
summarize
