#!/usr/bin/env bash
# `docker build` (the CLI's classic builder: no buildx here) of a 10-step Dockerfile against a
# release-built berthd: cold (--no-cache: every RUN a container, every step a commit) and
# cached (every step from the cache), median and min–max of RUNS runs after warm-up.
# With BENCH_DOCKERD=1 the same builds against Debian's dockerd (docker.io), started here on
# roots of its own with no bridge and no iptables, and stopped afterwards. Neither daemon has a
# default bridge: RUN steps run without network on both sides.
# Goals (issue 12): cold ≥ 10× faster than dockerd's classic builder; cached ≤ 50 ms.
# Usage (root): bench/build.sh [RUNS]   (default 10; BERTH_BIN_DIR=dir uses binaries built
# there instead of building the workspace in release)
set -euo pipefail
runs=${1:-10}
warmup=2
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -n "${BERTH_BIN_DIR:-}" ]; then
  bin=$BERTH_BIN_DIR
else
  "$repo/scripts/install-deps.sh" --test
  cargo build --quiet --release --manifest-path "$repo/Cargo.toml" -p berthd -p berth -p berth-shim
  bin=$repo/target/release
fi

work=$(mktemp -d /tmp/berth-bench-build.XXXXXX)
sock=$work/berth.sock
dsock=$work/docker.sock
export DOCKER_BUILDKIT=0 DOCKER_CONFIG=$work/docker-config
dk() { docker -H "unix://$sock" "$@"; }
dd() { docker -H "unix://$dsock" "$@"; }
br_netfilter_before=$(grep -sc "^br_netfilter" /proc/modules || true)
cleanup() {
  dk rm -f $(dk ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  if [ -n "${dockerd_pid:-}" ]; then
    dd rm -f $(dd ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
    [ "$br_netfilter_before" = 0 ] && modprobe -r br_netfilter 2>/dev/null || true
  fi
  findmnt -rn -o TARGET | grep "^$work" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# No default bridge on either side (dockerd below runs with --bridge none, and its bridge
# would need br_netfilter and iptables): the RUN steps have no network, so the figures are the
# builders' own (a bridge attach is a cost of networking, measured by bench/network.sh).
netargs=(--bridge none)
BERTH_SHIM=$bin/berth-shim "$bin/berthd" -H "unix://$sock" --data-root "$work/data" \
  --exec-root "$work/exec" "${netargs[@]}" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do dk version >/dev/null 2>&1 && break; sleep 0.1; done
dk version >/dev/null 2>&1 || { echo "berthd did not start:" >&2; cat "$work/berthd.log" >&2; exit 1; }
"$repo/scripts/make-busybox-rootfs.sh" "$work/rootfs" >/dev/null
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
dk import --change 'CMD ["sh"]' "$work/busybox.tar" bench/busybox:latest >/dev/null

ctx=$work/ctx
mkdir -p "$ctx"
echo one >"$ctx/f1"
echo two >"$ctx/f2"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM bench/busybox
ENV A=1
WORKDIR /app
COPY f1 /app/
RUN echo one > /one
RUN echo two > /two
COPY f2 /app/
RUN cat /app/f1 /app/f2 > /both
LABEL bench=build
RUN ls /app > /ls
CMD ["sh"]
DOCKERFILE

. "$repo/bench/lib.sh"

# Both builds must really build: the image runs and holds what the steps made.
check() {
  local cli=$1
  [ "$($cli run --rm bench-built cat /both /ls | tr '\n' ' ')" = "one two f1 f2 " ] ||
    { echo "the built image is not what the Dockerfile makes" >&2; exit 1; }
}

time_runs berth-cold dk build --no-cache -t bench-built "$ctx"
check dk
time_runs berth-cached dk build -t bench-built "$ctx"
dk build -t bench-built "$ctx" | grep -c 'Using cache' | grep -qx 10 ||
  { echo "the cached build did not take all 10 steps from the cache" >&2; exit 1; }
others=()
if [ "${BENCH_DOCKERD:-0}" = 1 ]; then
  command -v dockerd >/dev/null || { echo "dockerd is missing: apt-get install docker.io" >&2; exit 1; }
  dockerd -H "unix://$dsock" --data-root "$work/dockerd" --exec-root "$work/dockerd-exec" \
    --pidfile "$work/dockerd.pid" --bridge none --iptables=false --ip6tables=false \
    >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 200); do dd version >/dev/null 2>&1 && break; sleep 0.1; done
  dd version >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail "$work/dockerd.log" >&2; exit 1; }
  dd import --change 'CMD ["sh"]' "$work/busybox.tar" bench/busybox:latest >/dev/null
  time_runs dockerd-cold dd build --no-cache -t bench-built "$ctx"
  check dd
  time_runs dockerd-cached dd build -t bench-built "$ctx"
  others=(dockerd-cold dockerd-cached)
fi

echo "bench: docker build of a 10-step Dockerfile ($runs runs after $warmup warm-up)"
printf '%-16s %10s %10s %10s\n' engine "median ms" "min ms" "max ms"
summary berth-cold
summary berth-cached
for o in "${others[@]}"; do summary "$o"; done
if [ ${#others[@]} -gt 0 ]; then
  awk -v b="$(median berth-cold)" -v d="$(median dockerd-cold)" \
    'BEGIN {printf "cold: berth %.1fx faster than dockerd\n", d / b}'
fi
