#!/usr/bin/env bash
# Server CPU under a steady light load: one connection sends PING at fixed intervals (a
# client spinning on CPU 0, the server on CPU 1) and the server's user + system time is read
# from /proc/<pid>/stat. Shows what busy polling costs a server that is not saturated.
#
#   benches/scripts/light_load.sh BINARY [ARGS...]
#   e.g. benches/scripts/light_load.sh target/release/tenantkv --config my.toml
set -euo pipefail
port=$((20000 + RANDOM % 20000))
taskset -c 1 "$@" --port $port --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1
for gap in 30 100 150 300 1000; do
  taskset -c 0 python3 - $port $gap 3 $pid <<'PY'
import os, socket, sys, time
port, gap_us, secs, pid = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def ticks():
    f = open(f"/proc/{pid}/stat").read().split()
    return int(f[13]) + int(f[14])
t0, start, n = ticks(), time.perf_counter(), 0
nxt = start
while (now := time.perf_counter()) - start < secs:
    if now < nxt:
        continue
    s.sendall(b"*1\r\n$4\r\nPING\r\n")
    s.recv(64)
    n += 1
    nxt += gap_us / 1e6
cpu = (ticks() - t0) / os.sysconf("SC_CLK_TCK") / secs
print(f"requests {gap_us:5.0f} µs apart: {n / secs:6.0f}/s, server CPU {100 * cpu:5.1f} %")
PY
done
