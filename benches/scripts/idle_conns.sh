#!/usr/bin/env bash
# Memory per idle connection: opens N connections to each server (each sends one PING and
# reads the reply, then idles) and prints the growth of the server's RSS per connection, for
# tenantkv builds side by side with redis-server.
#
#   benches/scripts/idle_conns.sh N BINARY...
#   e.g. benches/scripts/idle_conns.sh 10000 target/release/tenantkv
set -euo pipefail
n=$1
shift
command -v redis-server >/dev/null || { echo "needs redis-server" >&2; exit 1; }
ulimit -n $((n + 1000))
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
port=$((20000 + RANDOM % 20000))
for bin in "$@" redis; do
  if [[ $bin == redis ]]; then
    redis-server --port $port --save '' --appendonly no --maxclients $((n + 100)) >/dev/null &
  else
    "$bin" --port $port --log-level warn >/dev/null &
  fi
  pid=$!
  pids+=($pid)
  sleep 1
  redis-cli -p $port CONFIG SET maxclients $((n + 100)) >/dev/null
  python3 - "$port" "$pid" "$n" "$bin" <<'PY'
import socket, sys, time
port, pid, n, name = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
before = rss_kib()
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PING\r\n")
    conns.append(s)
for s in conns:
    assert s.recv(16) == b"+PONG\r\n"
time.sleep(1)
grown = rss_kib() - before
print(f"{name:40} {n} idle connections: RSS +{grown / 1024:.1f} MiB, {grown * 1024 / n:.0f} B each")
PY
  kill $pid
  wait $pid 2>/dev/null || true
  port=$((port + 1))
done
