#!/usr/bin/env bash
# Container operations of issue 10 through a release-built berthd:
#   health  — N containers (default 100) with a health check every 1 s: berthd's CPU over
#             SECS seconds (default 30) as % of one core (target ≤ 2 %), and the shims' total;
#   stats   — `berth stats --no-stream CONTAINER`: median and min–max of 30 runs
#             (target ≤ 20 ms);
#   logs    — `berth logs` of MB megabytes (default 200) of log spread over rotated files
#             (max-size 20m): MB/s (target ≥ 400).
# Usage (root): bench/ops.sh [health|stats|logs|all] (N, SECS and MB from the environment;
# BERTH_BIN_DIR=dir uses binaries built there instead of building the workspace in release)
set -euo pipefail
what=${1:-all}
N=${N:-100}
SECS=${SECS:-30}
MB=${MB:-200}
runs=${RUNS:-30}
warmup=${WARMUP:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -n "${BERTH_BIN_DIR:-}" ]; then
  bin=$BERTH_BIN_DIR
else
  "$repo/scripts/install-deps.sh"
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  bin=$repo/target/release
fi

work=$(mktemp -d /tmp/berth-bench-ops.XXXXXX)
sock=$work/berth.sock
berth() { "$bin/berth" -H "unix://$sock" "$@"; }
cleanup() {
  berth rm -f $(berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

BERTH_SHIM=$bin/berth-shim "$bin/berthd" -H "unix://$sock" --data-root "$work/data" \
  --exec-root "$work/exec" --bridge "bbo$$" \
  --default-address-pool "base=10.$((150 + $$ % 50)).0.0/21,size=24" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
berth version >/dev/null 2>&1 || { echo "berthd did not start:" >&2; cat "$work/berthd.log" >&2; exit 1; }
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null

. "$repo/bench/lib.sh"

# CPU time (user + system) of a pid in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

bench_health() {
  local ids=()
  for ((i = 0; i < N; i++)); do
    ids+=("$(berth run -d --health-cmd true --health-interval 1s bench/busybox sleep 100000)")
  done
  sleep 3 # every check has started
  local shims
  shims=$(for f in "$work"/exec/shims/*/shim.pid; do cat "$f"; echo; done)
  local d0 s0=0 d1 s1=0 hz
  hz=$(getconf CLK_TCK)
  d0=$(ticks "$daemon")
  for p in $shims; do s0=$((s0 + $(ticks "$p"))); done
  sleep "$SECS"
  d1=$(ticks "$daemon")
  for p in $shims; do s1=$((s1 + $(ticks "$p"))); done
  local healthy
  healthy=$(berth ps --filter health=healthy -q | wc -l)
  echo "bench: health checks on $N containers at 1 s for ${SECS} s ($healthy healthy)"
  awk -v d=$((d1 - d0)) -v s=$((s1 - s0)) -v hz="$hz" -v t="$SECS" 'BEGIN {
    printf "berthd CPU      %8.2f %% of one core\n", d / hz / t * 100
    printf "shims CPU       %8.2f %% of one core (the probes themselves)\n", s / hz / t * 100
  }'
  berth rm -f "${ids[@]}" >/dev/null
}

bench_stats() {
  local cid
  cid=$(berth run -d bench/busybox sleep 100000)
  time_runs stats berth stats --no-stream "$cid"
  echo "bench: berth stats --no-stream CONTAINER ($runs runs after $warmup warm-up)"
  printf '%-14s %10s %10s %10s\n' what "median ms" "min ms" "max ms"
  summary stats
  berth rm -f "$cid" >/dev/null
}

bench_logs() {
  # lines of 100 bytes (about 150 in json-file) until MB megabytes of log
  local lines=$((MB * 1000000 / 150)) cid
  cid=$(berth run -d --log-opt max-size=20m --log-opt max-file=$((MB / 20 + 2)) bench/busybox \
    sh -c "yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 | head -n $lines")
  berth wait "$cid" >/dev/null
  local bytes files
  bytes=$(cat "$work/data/containers/$cid/$cid-json.log"* | wc -c)
  files=$(ls "$work/data/containers/$cid/" | grep -c -- -json.log)
  time_runs logs berth logs "$cid"
  echo "bench: berth logs of $((bytes / 1000000)) MB over $files files ($runs runs after $warmup warm-up)"
  printf '%-14s %10s %10s %10s\n' what "median ms" "min ms" "max ms"
  summary logs
  awk -v b="$bytes" -v ms="$(median logs)" 'BEGIN { printf "throughput     %10.0f MB/s of log file\n", b / 1000000 / (ms / 1000) }'
  berth rm -f "$cid" >/dev/null
}

case $what in
  health) bench_health ;;
  stats) bench_stats ;;
  logs) bench_logs ;;
  all) bench_stats; bench_logs; bench_health ;;
  *) echo "usage: $0 [health|stats|logs|all]" >&2; exit 2 ;;
esac
