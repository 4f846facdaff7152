#!/usr/bin/env bash
# Pull benchmark: a generated ~200 MB image in 5 gzip layers in a local docker-registry on
# 127.0.0.1; times berth's pull (download, verify AND unpack) beside skopeo's
# `copy docker://… dir:…` (download and verify only), and berth's load of the saved archive.
# Until the daemon wires pull, berth's side is crates/berth-image/examples/registry_tool.
# Usage: bench/pull.sh [MB] [RUNS]   (needs docker-registry and skopeo: scripts/install-deps.sh --test)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
RUNS=${2:-3}
command -v docker-registry >/dev/null || { echo "docker-registry missing: apt-get install docker-registry" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "skopeo missing: apt-get install skopeo" >&2; exit 1; }
cargo build -q --release -p berth-image --example registry_tool
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOOL="$TARGET_DIR/release/examples/registry_tool"
W=$(mktemp -d /var/tmp/berth-pull-bench.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/config.yml" <<CFG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/registry
http:
  addr: 127.0.0.1:$PORT
CFG
docker-registry serve "$W/config.yml" >"$W/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
REF="127.0.0.1:$PORT/bench/big:v1"
echo "generating a ${MB} MB image in 5 gzip layers..."
"$TOOL" gen "$W/src" bench/big:v1 5 "$MB" >/dev/null
"$TOOL" push "$W/src" bench/big:v1 "$REF" >/dev/null
blobs=$(du -sm "$W/registry" | cut -f1)
echo "registry holds ${blobs} MB (compressed)"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
berth=(); sko=(); load=()
for i in $(seq "$RUNS"); do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t=$("$TOOL" pull "$W/pull$i" "$REF" | cut -d' ' -f1); berth+=("$t")
  s0=$(date +%s.%N)
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "dir:$W/sko$i"
  s1=$(date +%s.%N); sko+=("$(echo "$s1 - $s0" | bc)")
  [ "$i" = 1 ] && "$TOOL" save "$W/pull1" "$REF" "$W/img.tar"
  l=$("$TOOL" load "$W/load$i" "$W/img.tar" | cut -d' ' -f1); load+=("$l")
  rm -rf "$W/pull$i" "$W/sko$i" "$W/load$i"
done
tar_mb=$(( $(stat -c %s "$W/img.tar") / 1048576 ))
bm=$(printf '%s\n' "${berth[@]}" | median)
sm=$(printf '%s\n' "${sko[@]}" | median)
lm=$(printf '%s\n' "${load[@]}" | median)
echo "berth pull (download+verify+unpack): ${berth[*]} s  median $bm s"
echo "skopeo copy dir: (download+verify):  ${sko[*]} s  median $sm s"
echo "ratio berth/skopeo: $(echo "scale=2; $bm / $sm" | bc)"
echo "berth load of the ${tar_mb} MB archive: ${load[*]} s  median $lm s ($(echo "scale=0; $tar_mb / $lm" | bc) MB/s)"
