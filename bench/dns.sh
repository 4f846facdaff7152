#!/usr/bin/env bash
# The embedded resolver's throughput (issue 16), against a berthd of its own (own roots,
# bridge and pool): queries per second answered by the resolver at 127.0.0.11 for a container's
# name, from one container and from CLIENTS (20) containers at once. The load comes from a
# small UDP client run inside each container's namespace (nsenter + python3), keeping WINDOW
# (64) queries in flight for SECONDS (5); only the bench's own containers are contacted.
# Usage (root): bench/dns.sh   (BERTH_BENCH_BIN=debug uses target/debug instead of a release
# build; quote release figures)
set -euo pipefail
clients=${CLIENTS:-20}
secs=${SECONDS_PER_RUN:-5}
window=${WINDOW:-64}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
"$repo/scripts/install-deps.sh"
command -v nsenter >/dev/null || { echo "nsenter missing: apt-get install util-linux" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing: apt-get install python3" >&2; exit 1; }
if [ "${BERTH_BENCH_BIN:-release}" = debug ]; then
  cargo build --quiet --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  bin=$repo/target/debug
else
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  bin=$repo/target/release
fi

work=$(mktemp -d /tmp/berth-bench-dns.XXXXXX)
sock=$work/berth.sock
bridge="bdb$$"
berth() { "$bin/berth" -H "unix://$sock" "$@"; }
cleanup() {
  berth rm -f $(berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  berth network rm dnsbench >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

BERTH_SHIM=$bin/berth-shim "$bin/berthd" -H "unix://$sock" --data-root "$work/data" \
  --exec-root "$work/exec" -b "$bridge" \
  --default-address-pool "base=10.$((150 + $$ % 50)).0.0/21,size=24" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null
berth network create dnsbench >/dev/null
berth run -d --name srv --network dnsbench bench/busybox sleep 3600 >/dev/null
for i in $(seq 1 "$clients"); do
  berth run -d --name "c$i" --network dnsbench bench/busybox sleep 3600 >/dev/null
done

# The client: WINDOW queries in flight on one socket, each answer replaced by a new query;
# prints the answers per second over SECS and how many waits for an answer timed out (1 s).
cat >"$work/client.py" <<'PY'
import socket, struct, sys, time
secs, window = float(sys.argv[1]), int(sys.argv[2])
def query(i):
    return struct.pack(">H", i & 0xffff) + bytes([1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + b"\x03srv\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.11", 53))
s.settimeout(1.0)
sent = answered = timeouts = 0
for _ in range(window):
    s.send(query(sent)); sent += 1
end = time.time() + secs
start = time.time()
while time.time() < end:
    try:
        s.recv(512)
    except socket.timeout:
        # A lost query: put another in flight so the window stays full.
        timeouts += 1
        s.send(query(sent)); sent += 1
        continue
    answered += 1
    s.send(query(sent)); sent += 1
print("%.0f %d" % (answered / (time.time() - start), timeouts))
PY

pid_of() { berth inspect -f '{{.State.Pid}}' "$1"; }
run_clients() {
  local n=$1
  for i in $(seq 1 "$n"); do
    nsenter -t "$(pid_of "c$i")" -n python3 "$work/client.py" "$secs" "$window" >"$work/out.$i" &
  done
  wait
  cat $(seq -f "$work/out.%g" 1 "$n") | awk '{q += $1; t += $2} END {printf "%d %d\n", q, t}'
}
nsenter -t "$(pid_of c1)" -n python3 "$work/client.py" 1 "$window" >/dev/null # warm-up
read -r one lost1 < <(run_clients 1)
read -r many lostn < <(run_clients "$clients")
echo "bench: resolver at 127.0.0.11, A queries for a container's name, ${secs}s, $window in flight per client ($(basename "$bin") build)"
printf '  1 container        %10d queries/s\n' "$one"
printf '  %d containers      %10d queries/s in total (%d per container)\n' "$clients" "$many" "$((many / clients))"
printf '  waits timed out (1 s): %d and %d\n' "$lost1" "$lostn"
