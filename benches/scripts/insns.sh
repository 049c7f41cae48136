#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: the same total for the same build
# and load whatever else the machine is doing, so it settles a change a few percent wide that
# timed runs on this machine cannot. User-space instructions only (no syscalls), and the server
# runs ~50x slower under valgrind, so its batches are bigger than at full speed: compare
# builds and modes with it, not absolute speeds.
#
#   benches/scripts/insns.sh TEST DEPTH REQUESTS BINARY [MODE...]
#   e.g. benches/scripts/insns.sh set 16 100000 target/release/tenantkv global tenant noquota
#
# BINARY `redis` counts redis-server (mode `global` only). MODE is `global` (the default),
# `tenant` (an enterprise-tier tenant: every quota enforced, none hit) or `noquota` (a tenant
# with every limit off). Leaves callgrind.out.<mode> files in a scratch directory it names, for
# `callgrind_annotate`.
set -euo pipefail
test=$1 depth=$2 requests=$3 bin=$4
shift 4
modes=("${@:-global}")
command -v valgrind >/dev/null || { echo "needs valgrind (callgrind)" >&2; exit 1; }
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
if [[ $bin == redis ]]; then
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    redis-server --port $port --save '' --appendonly no >/dev/null 2>"$work/valgrind.log" &
else
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$bin" --port $port --log-level warn >/dev/null 2>"$work/valgrind.log" &
fi
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do redis-cli -p $port PING >/dev/null 2>&1 && break; sleep 0.2; done
sleep 0.5
# Still running: the server answering is ours, not one that had the port already.
kill -0 $pid 2>/dev/null || { cat "$work/valgrind.log" >&2; exit 1; }
token() {
  redis-cli -p $port TENANT.CREATE "$@" >/dev/null
  redis-cli -p $port --no-raw TENANT.TOKEN.CREATE "$1" | sed -n 4p | cut -d'"' -f2
}
declare -A auth=([global]="")
for m in "${modes[@]}"; do
  case $m in
    global) ;;
    tenant) auth[tenant]="--user insns-tenant -a $(token insns-tenant TIER enterprise)" ;;
    noquota)
      auth[noquota]="--user insns-noquota -a $(token insns-noquota TIER enterprise MEMORY 0 \
        KEYS 0 OPS 0 CONNECTIONS 0 REQUEST 0)" ;;
    *) echo "unknown mode $m" >&2; exit 1 ;;
  esac
  # Fill the keyspace first, uncounted, so every mode overwrites as the timed runs do, and
  # GET finds its keys (loadbench runs SET before GET on the same server).
  for fill in set "$test"; do
    redis-benchmark -p $port ${auth[$m]} -t "$fill" -P 16 -c 50 -r 100000 -n 200000 -q \
      >/dev/null 2>&1
  done
done
dumps=0
for m in "${modes[@]}"; do
  callgrind_control -z $pid >/dev/null 2>&1
  callgrind_control -i on $pid >/dev/null 2>&1
  redis-benchmark -p $port ${auth[$m]} -t "$test" -P "$depth" -c 50 -r 100000 -n "$requests" \
    -q >/dev/null 2>&1
  callgrind_control -i off $pid >/dev/null 2>&1
  callgrind_control -d "$m" $pid >/dev/null 2>&1
  # The dump is written as callgrind.out.<n>, numbered in order, once the server next runs.
  dumps=$((dumps + 1))
  for _ in $(seq 100); do [[ -s $work/callgrind.out.$dumps ]] && break; sleep 0.1; done
  mv "$work/callgrind.out.$dumps" "$work/callgrind.out.$m"
  total=$(callgrind_annotate "$work/callgrind.out.$m" 2>/dev/null |
    awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t}')
  printf '%-8s %s -P %s: %d instructions per request\n' "$m" "$test" "$depth" \
    $((total / requests))
done
echo "callgrind files: $work"
