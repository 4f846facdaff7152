#!/usr/bin/env bash
# Container start-to-exit time of `berth-runtime run`, `crun run` and `runc run` on one bundle
# whose process is /bin/true, interleaved so machine noise hits all alike.
#
# crun refuses this machine's hybrid cgroup layout (v1 controllers + a cgroup2 mount), so every
# runtime is timed inside the same private mount namespace with the cgroup2 mount unmounted.
# Usage: bench/runtime-startup.sh [RUNS]   (default 60; 5 warm-up runs each are not counted)
set -euo pipefail
runs=${1:-60}
warmup=5
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${BERTH_BENCH_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
  "$repo/scripts/install-deps.sh" --test
  cargo build --release --manifest-path "$repo/Cargo.toml" -p berth-runtime-cli --bin berth-runtime >&2
  exec env BERTH_BENCH_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

# Inside the private mount namespace.
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
berth=$repo/target/release/berth-runtime
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
"$berth" spec --bundle "$work"
python3 - "$work/config.json" <<'PY'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["root"] = {"path": "rootfs", "readonly": False}
c["process"]["args"] = ["/bin/true"]
# crun 1.8 and runc 1.1 (Debian 12) accept only 1.0.x versions; the fields used are 1.0 ones.
c["ociVersion"] = "1.0.2"
c["process"]["terminal"] = False
json.dump(c, open(path, "w"), indent=2)
PY

declare -A cmd=(
  [berth-runtime]="$berth --root $work/state-berth run --bundle $work"
  [crun]="crun --root $work/state-crun run --bundle $work"
  [runc]="runc --root $work/state-runc run --bundle $work"
)
order=(berth-runtime crun runc)
for rt in "${order[@]}"; do : >"$work/$rt.times"; done

for ((i = 0; i < warmup + runs; i++)); do
  for rt in "${order[@]}"; do
    id="bench-$rt-$i"
    start=$EPOCHREALTIME
    ${cmd[$rt]} "$id" </dev/null >/dev/null 2>"$work/err" || {
      echo "$rt failed on run $i:" >&2; cat "$work/err" >&2; exit 1; }
    end=$EPOCHREALTIME
    if ((i >= warmup)); then
      echo "$start $end" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >>"$work/$rt.times"
    fi
  done
done

echo "bench: runtime-startup ($runs runs each after $warmup warm-up, interleaved; /bin/true)"
printf '%-14s %10s %10s %10s %12s\n' runtime "median ms" "min ms" "max ms" "vs berth"
base=$(sort -n "$work/berth-runtime.times" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
for rt in "${order[@]}"; do
  sort -n "$work/$rt.times" | awk -v name="$rt" -v base="$base" '
    {a[NR]=$1}
    END {
      med = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
      printf "%-14s %10.2f %10.2f %10.2f %11.2fx\n", name, med, a[1], a[NR], med / base
    }'
done
