#!/usr/bin/env bash
# Idle berth-shim memory: start N idle containers (`sleep 1000`) through release-built shims,
# print each shim's VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) and the means,
# then stop the containers and the shims and remove everything.
# Usage (root): bench/shim-rss.sh [N]   (default 10)
set -euo pipefail
n=${1:-10}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing: apt-get install python3" >&2; exit 1; }

cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berth-shim -p berth-runtime-cli
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
shim=$target/release/berth-shim
rt=$target/release/berth-runtime

work=$(mktemp -d /tmp/berth-shim-rss.XXXXXX)
ids=()

# talk to a shim: one JSON request line, one reply line
shim_call() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
PY
}

cleanup() {
  for id in "${ids[@]}"; do
    sock=$work/shims/$id/shim.sock
    if [ -S "$sock" ]; then
      shim_call "$sock" '{"type":"signal","signal":9,"all":true}' >/dev/null 2>&1 || true
      shim_call "$sock" '{"type":"wait"}' >/dev/null 2>&1 || true
      shim_call "$sock" '{"type":"shutdown"}' >/dev/null 2>&1 || true
    fi
    pidf=$work/shims/$id/shim.pid
    [ -f "$pidf" ] && kill -9 "$(cat "$pidf")" 2>/dev/null || true
    "$rt" --root "$work/runtime" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/make-busybox-rootfs.sh" "$work/bundle/rootfs"
"$rt" spec --bundle "$work/bundle"
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["root"]["path"] = "rootfs"
c["process"]["args"] = ["sleep", "1000"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=2)
PY

for i in $(seq 1 "$n"); do
  id=rss-$$-$i
  ids+=("$id")
  "$shim" --id "$id" --bundle "$work/bundle" --state-dir "$work/shims/$id" \
    --runtime-root "$work/runtime" --log "$work/$id.log" >/dev/null
done
sleep 1 # let them settle into idle
# every shim serves one request first, as it does when the engine asks for its state
for id in "${ids[@]}"; do
  shim_call "$work/shims/$id/shim.sock" '{"type":"state"}' >/dev/null
done
sleep 2 # a shim trims its resident set after a second without clients

printf '%-16s %8s %10s %10s\n' container shim-pid VmRSS-KiB Pss-KiB
total_rss=0
total_pss=0
for id in "${ids[@]}"; do
  pid=$(cat "$work/shims/$id/shim.pid")
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  printf '%-16s %8s %10s %10s\n' "$id" "$pid" "$rss" "$pss"
  total_rss=$((total_rss + rss))
  total_pss=$((total_pss + pss))
done
awk -v r="$total_rss" -v p="$total_pss" -v n="$n" \
  'BEGIN { printf "mean over %d shims: VmRSS %.0f KiB, Pss %.0f KiB (target <= 1024 KiB)\n", n, r / n, p / n }'
