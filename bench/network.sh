#!/usr/bin/env bash
# Networking cost (issue 6), against a berthd of its own (own roots, bridge and pool):
#  1. start: median of RUNS `berth run --rm busybox true` on the default bridge beside
#     `--network none` (target: the bridge adds <= 5 ms);
#  2. TCP throughput with iperf3 (Debian's, copied with its libraries into a busybox image):
#     through a published port on 127.0.0.1 beside the container's own address
#     (target: >= 90%), IPERF_PAIRS (5) alternating runs of IPERF_SECONDS (3) per path,
#     medians compared. Only 127.0.0.1 and the bench's own container are contacted.
# Usage (root): bench/network.sh [RUNS]   (default 30)
set -euo pipefail
runs=${1:-30}
warmup=5
secs=${IPERF_SECONDS:-3}
pairs=${IPERF_PAIRS:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
"$repo/scripts/install-deps.sh"
command -v iperf3 >/dev/null || { echo "iperf3 missing: scripts/install-deps.sh --test" >&2; exit 1; }
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" --workspace --bins
bin=$repo/target/release

work=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
sock=$work/berth.sock
bridge="bnb$$"
berth() { "$bin/berth" -H "unix://$sock" "$@"; }
cleanup() {
  berth rm -f $(berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" -b "$bridge" \
  --default-address-pool "base=10.$((200 + $$ % 50)).0.0/21,size=24" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null
# busybox plus iperf3 and the libraries it links.
iperf=$(command -v iperf3)
mkdir -p "$work/rootfs/usr/bin"
cp "$iperf" "$work/rootfs/usr/bin/iperf3"
for lib in $(ldd "$iperf" | grep -o '/[^ ]*'); do
  mkdir -p "$work/rootfs$(dirname "$lib")"
  cp -L "$lib" "$work/rootfs$lib"
done
tar -C "$work/rootfs" -cf "$work/iperf.tar" .
berth import "$work/iperf.tar" bench/iperf:latest >/dev/null

. "$repo/bench/lib.sh"

time_runs none berth run --rm --network none bench/busybox true
time_runs bridge berth run --rm bench/busybox true
n=$(median none)
b=$(median bridge)
echo "bench: run --rm busybox true ($runs runs after $warmup warm-up), median ms"
printf '  --network none  %8.2f\n  bridge          %8.2f\n  added           %8.2f (target <= 5)\n' \
  "$n" "$b" "$(awk -v a="$b" -v b="$n" 'BEGIN{print a-b}')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
berth run -d --name iperf -p "127.0.0.1:$port:5201" bench/iperf iperf3 -s >/dev/null
ip=$(berth inspect -f '{{.NetworkSettings.IPAddress}}' iperf)
for _ in $(seq 1 50); do iperf3 -c "$ip" -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
gbps() { iperf3 -c "$1" -p "$2" -t "$secs" -J | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'; }
# Alternate the two paths so that machine noise hits both alike; compare medians.
: >"$work/direct.gbps"
: >"$work/published.gbps"
for ((i = 0; i < pairs; i++)); do
  gbps "$ip" 5201 >>"$work/direct.gbps"
  gbps 127.0.0.1 "$port" >>"$work/published.gbps"
done
direct=$(median_of "$work/direct.gbps")
published=$(median_of "$work/published.gbps")
echo "bench: iperf3 TCP, $pairs alternating runs of ${secs}s per path, median Gbit/s received"
printf '  direct %s:5201        %8s   (runs: %s)\n  published 127.0.0.1:%s %8s   (runs: %s)\n  ratio                   %7.1f%% (target >= 90%%)\n' \
  "$ip" "$direct" "$(tr '\n' ' ' <"$work/direct.gbps")" \
  "$port" "$published" "$(tr '\n' ' ' <"$work/published.gbps")" \
  "$(awk -v p="$published" -v d="$direct" 'BEGIN{print 100*p/d}')"
