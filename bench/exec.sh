#!/usr/bin/env bash
# `berth exec CONTAINER true` through a release-built berthd: median and min–max of RUNS runs
# after warm-up, beside `docker exec` when a dockerd is reachable on /var/run/docker.sock.
# Target: ≤ 15 ms median.
# Usage (root): bench/exec.sh [RUNS]   (default 30; BERTH_BIN_DIR=dir uses binaries built there
# instead of building the workspace in release)
set -euo pipefail
runs=${1:-30}
warmup=5
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -n "${BERTH_BIN_DIR:-}" ]; then
  bin=$BERTH_BIN_DIR
else
  "$repo/scripts/install-deps.sh"
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  bin=$repo/target/release
fi

work=$(mktemp -d /tmp/berth-bench-exec.XXXXXX)
sock=$work/berth.sock
berth() { "$bin/berth" -H "unix://$sock" "$@"; }
cleanup() {
  berth rm -f $(berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  if [ -n "${dcid:-}" ]; then docker -H unix:///var/run/docker.sock rm -f "$dcid" >/dev/null 2>&1 || true; fi
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A bridge and pool of its own, so another daemon's default bridge does not collide.
netargs=()
if "$bin/berthd" --help 2>/dev/null | grep -q -- --bridge; then
  netargs=(--bridge "bbx$$" --default-address-pool "base=10.$((150 + $$ % 50)).0.0/21,size=24")
fi
BERTH_SHIM=$bin/berth-shim "$bin/berthd" -H "unix://$sock" --data-root "$work/data" \
  --exec-root "$work/exec" "${netargs[@]}" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
berth version >/dev/null 2>&1 || { echo "berthd did not start:" >&2; cat "$work/berthd.log" >&2; exit 1; }
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null
cid=$(berth run -d bench/busybox sleep 100000)

. "$repo/bench/lib.sh"

time_runs berth berth exec "$cid" true
others=()
if docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then
  docker -H unix:///var/run/docker.sock import "$work/busybox.tar" berth-bench-busybox >/dev/null
  dcid=$(docker -H unix:///var/run/docker.sock run -d berth-bench-busybox sleep 100000)
  time_runs docker docker -H unix:///var/run/docker.sock exec "$dcid" true && others+=(docker)
else
  echo "docker: no dockerd reachable on /var/run/docker.sock (only the client is installed)"
fi

echo "bench: exec CONTAINER true ($runs runs after $warmup warm-up)"
printf '%-14s %10s %10s %10s\n' engine "median ms" "min ms" "max ms"
summary berth
for o in "${others[@]}"; do summary "$o"; done
