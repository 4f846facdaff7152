#!/usr/bin/env bash
# Storage figures through the daemon: `docker cp` (berth's archive API) of a 200 MB file into
# and out of a running container in MB/s, and the start time (`run --rm busybox true`) of a
# container with a named volume and two bind mounts beside one without.
# Usage (root): bench/storage.sh [RUNS]   (default 20)
# BERTH_BIN=DIR uses the binaries in DIR instead of a release build (e.g. target/debug).
set -euo pipefail
runs=${1:-20}
warmup=3
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -n "${BERTH_BIN:-}" ]; then
  bin=$(cd "$BERTH_BIN" && pwd)
else
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" --workspace --bins
  bin=$repo/target/release
fi
docker=${DOCKER:-docker}
command -v "$docker" >/dev/null || { echo "needs the docker CLI" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench-storage.XXXXXX)
sock=$work/berth.sock
export DOCKER_HOST=unix://$sock
cleanup() {
  "$docker" rm -f -v $("$docker" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  "$docker" volume prune -a -f >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l || true
  rm -rf "$work"
}
trap cleanup EXIT

BERTH_SHIM=$bin/berth-shim "$bin/berthd" -H "unix://$sock" --data-root "$work/data" \
  --exec-root "$work/exec" -b "bstor$$" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do "$docker" version >/dev/null 2>&1 && break; sleep 0.1; done
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$docker" import --change 'CMD ["sh"]' "$work/busybox.tar" bench/busybox:latest >/dev/null

. "$repo/bench/lib.sh"

# cp: 200 MB of random bytes in and out, 5 times each; MB/s of the median.
head -c $((200 * 1024 * 1024)) /dev/urandom >"$work/big"
"$docker" run -d --name cpbench bench/busybox sleep 3600 >/dev/null
cp_runs=5
(runs=$cp_runs warmup=1 time_runs cp_in "$docker" cp "$work/big" cpbench:/tmp/big)
(runs=$cp_runs warmup=1 time_runs cp_out "$docker" cp cpbench:/tmp/big "$work/out")
mbps() { awk -v ms="$(median "$1")" 'BEGIN {printf "%.0f", 200 / (ms / 1000)}'; }
echo "docker cp of a 200 MB file, median of $cp_runs (MB/s):"
echo "  into a running container:  $(mbps cp_in)"
echo "  out of it:                 $(mbps cp_out)"
"$docker" rm -f cpbench >/dev/null

# Start time with a named volume and two binds, next to none.
mkdir -p "$work/b1" "$work/b2"
"$docker" volume create benchvol >/dev/null
time_runs plain "$docker" run --rm bench/busybox true
time_runs mounts "$docker" run --rm -v benchvol:/v -v "$work/b1:/b1" -v "$work/b2:/b2:ro" bench/busybox true
echo
echo "run --rm busybox true, $runs runs after $warmup (ms):"
printf "%-14s %10s %10s %10s\n" "" median min max
summary plain
summary mounts "$(median plain)"
awk -v a="$(median plain)" -v b="$(median mounts)" 'BEGIN {printf "a named volume and two binds add %.2f ms\n", b - a}'
