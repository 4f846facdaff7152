#!/usr/bin/env bash
# Many running containers: N x `run -d --network none busybox sleep`, then berthd's thread
# count and RSS, the time of `ps`, the time of the 1st and the Nth `run -d`, and the time from
# SIGTERM to berthd's exit with them all running (live restore). A second daemon on the same
# roots then removes them all; nothing is left behind.
# Usage (root): bench/many-containers.sh [N]   (default 1000)
#   BIN=DIR uses the binaries in DIR (e.g. target/debug) instead of a release build.
set -euo pipefail
n=${1:-1000}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ "$n" -ge 2 ] || { echo "N must be at least 2" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  BIN=$repo/target/release
fi

work=$(mktemp -d /tmp/berth-bench-many.XXXXXX)
sock=$work/berth.sock
bridge=bmany$$
berth() { "$BIN/berth" -H "unix://$sock" "$@"; }
start_daemon() {
  BERTH_SHIM=$BIN/berth-shim "$BIN/berthd" -H "unix://$sock" --data-root "$work/data" \
    --exec-root "$work/exec" -b "$bridge" >>"$work/berthd.log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 200); do berth version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "berthd did not start:" >&2; cat "$work/berthd.log" >&2; exit 1
}
cleanup() {
  if [ -n "${daemon:-}" ] && kill -0 "$daemon" 2>/dev/null; then
    ids=$(berth ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || berth rm -f $ids >/dev/null 2>&1 || true
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  ip link del "$bridge" 2>/dev/null || true
  nft delete table ip "berth_$bridge" 2>/dev/null || true
  findmnt -rn -o TARGET | grep "^$work" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b - a) * 1000}'; }
timed_run() {
  local t0=$EPOCHREALTIME
  berth run -d --network none bench/busybox sleep 100000 >/dev/null
  ms "$t0" "$EPOCHREALTIME"
}

start_daemon
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null

first=$(timed_run)
t0=$EPOCHREALTIME
for ((i = 2; i < n; i++)); do
  berth run -d --network none bench/busybox sleep 100000 >/dev/null
done
fill=$(ms "$t0" "$EPOCHREALTIME")
last=$(timed_run)
running=$(berth ps -q | wc -l)
sleep 12 # idle blocking-pool threads retire after 10 s
threads=$(awk '/^Threads:/ {print $2}' "/proc/$daemon/status")
rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$daemon/status")
t0=$EPOCHREALTIME
berth ps >/dev/null
ps_ms=$(ms "$t0" "$EPOCHREALTIME")
t0=$EPOCHREALTIME
kill -TERM "$daemon"
wait "$daemon" || true
term_ms=$(ms "$t0" "$EPOCHREALTIME")
still=$(for d in "$work"/exec/shims/*/; do [ -S "$d/shim.sock" ] && echo x; done | wc -l)

printf 'binaries                 %s\n' "$BIN"
printf 'running containers       %d of %d\n' "$running" "$n"
printf 'berthd threads           %d\n' "$threads"
printf 'berthd RSS               %s MB\n' "$rss"
printf 'ps (%d containers)     %s ms\n' "$running" "$ps_ms"
printf 'run -d, 1st              %s ms\n' "$first"
printf 'run -d, %dth           %s ms (%s x the 1st)\n' "$n" "$last" \
  "$(awk -v a="$first" -v b="$last" 'BEGIN {printf "%.2f", b / a}')"
printf 'runs 2..%d             %s ms in all\n' "$((n - 1))" "$fill"
printf 'SIGTERM to exit          %s ms (%d shims still running after it)\n' "$term_ms" "$still"

start_daemon # the cleanup removes them through a fresh daemon
