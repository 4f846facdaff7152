#!/usr/bin/env bash
# End to end through the daemon: `berth run --rm busybox true`, median and min–max of RUNS runs
# after warm-up, beside `podman run` (installed from Debian if missing, on the same busybox tar) and
# `docker run` (when a dockerd is reachable); then berthd's idle RSS and the RSS of the shim of
# each running container.
# Usage (root): bench/run.sh [RUNS]   (default 30)
set -euo pipefail
runs=${1:-30}
warmup=5
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
"$repo/scripts/install-deps.sh"
cargo build --quiet --release --manifest-path "$repo/Cargo.toml" --workspace --bins
bin=$repo/target/release

work=$(mktemp -d /tmp/berth-bench-run.XXXXXX)
sock=$work/berth.sock
berth() { "$bin/berth" -H "unix://$sock" "$@"; }
cleanup() {
  berth rm -f $(berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/exec" -b "bbench$$" \
  --pidfile "$work/berthd.pid" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
berth import "$work/busybox.tar" bench/busybox:latest >/dev/null

. "$repo/bench/lib.sh"

time_runs berth berth run --rm bench/busybox true
others=()
command -v podman >/dev/null || apt-get install -y -qq podman >/dev/null 2>&1 || true
if command -v podman >/dev/null; then
  # Debian's podman defaults to crun, which refuses this hybrid cgroup layout, and asks for
  # rlimits above this machine's hard ones: runc and limits it may set. Without a network:
  # podman's default CNI network leaves a bridge and iptables chains on the host (and only
  # makes podman slower, so the comparison stays in podman's favour).
  podman_run=(podman run --rm --runtime runc --network none --ulimit nofile=1024:1024
    --ulimit nproc=1024:1024)
  echo "podman: $(podman --version), run as: ${podman_run[*]}"
  podman import "$work/busybox.tar" localhost/berth-bench-busybox >/dev/null 2>&1 &&
    time_runs podman "${podman_run[@]}" localhost/berth-bench-busybox true && others+=(podman) ||
    echo "podman: could not run on this host (see above)" >&2
else
  echo "podman: not installed and apt-get install podman failed"
fi
if docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then
  docker -H unix:///var/run/docker.sock import "$work/busybox.tar" berth-bench-busybox >/dev/null &&
    time_runs docker docker -H unix:///var/run/docker.sock run --rm berth-bench-busybox true && others+=(docker)
else
  echo "docker: no dockerd reachable on /var/run/docker.sock (only the client is installed)"
fi

echo "bench: run --rm busybox true ($runs runs after $warmup warm-up)"
printf '%-14s %10s %10s %10s %12s\n' engine "median ms" "min ms" "max ms" "vs berth"
summary berth
base=$(median berth)
for o in "${others[@]}"; do summary "$o" "$base"; done

# memory: berthd idle, and one shim per running container
for i in 1 2 3 4 5; do berth run -d --name "idle$i" bench/busybox sleep 1000 >/dev/null; done
sleep 3 # shims trim their resident set after a quiet second
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
echo "berthd idle: VmRSS $(rss "$daemon") KiB"
if [[ " ${others[*]} " == *" docker "* ]]; then
  # dockerd's side: the daemon and its containerd, as idle as berthd here.
  for p in dockerd containerd; do
    pid=$(pgrep -xo "$p") && echo "$p idle: VmRSS $(rss "$pid") KiB"
  done
fi
total=0
n=0
for pid in $(pgrep -f "^$bin/berth-shim .*--state-dir $work/exec/"); do
  total=$((total + $(rss "$pid")))
  n=$((n + 1))
done
((n > 0)) && echo "berth-shim per running container: mean VmRSS $((total / n)) KiB over $n shims"
