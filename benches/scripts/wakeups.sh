#!/usr/bin/env bash
# How often a server sleeps and is woken during a redis-benchmark test: the server on CPU 1,
# the client on CPU 0, a list and sets filled first. Prints ops/s, the server's voluntary
# context switches (its sleeps, from /proc/<pid>/task/*/status) and the function-call IPIs CPU
# 1 took (CAL in /proc/interrupts; each wakes a sleeping server at the client's cost).
#
#   benches/scripts/wakeups.sh TEST REQUESTS BINARY|redis [ARGS...]
#   e.g. benches/scripts/wakeups.sh lrange_600 60000 target/release/tenantkv
set -euo pipefail
test=$1 requests=$2
shift 2
port=$((20000 + RANDOM % 20000))
if [[ $1 == redis ]]; then
  taskset -c 1 redis-server --port $port --save '' --appendonly no >/dev/null &
else
  taskset -c 1 "$@" --port $port --log-level warn &
fi
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1
taskset -c 0 redis-benchmark -p $port -t lpush,sadd,zadd -P 16 -c 50 -r 100000 -n 400000 -q >/dev/null 2>&1
sleeps() { cat /proc/$pid/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
ipis() { awk '/CAL:/ {print $3}' /proc/interrupts; }
s0=$(sleeps) i0=$(ipis)
ops=$(taskset -c 0 redis-benchmark -p $port -t "$test" -c 50 -r 100000 -n "$requests" --csv | tail -1 | cut -d, -f2 | tr -d '"')
echo "$1 $test: $ops ops/s, $(($(sleeps) - s0)) sleeps, $(($(ipis) - i0)) IPIs to CPU 1"
