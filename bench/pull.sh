#!/usr/bin/env bash
# Pull benchmark: a generated ~200 MB image in 5 gzip layers in a local docker-registry on
# 127.0.0.1; times berth's pull (download, verify AND unpack) beside skopeo's
# `copy docker://… dir:…` (download and verify only), and berth's load of the saved archive:
# once through the library (crates/berth-image/examples/registry_tool) and once end to end
# through a release-built berthd and the berth CLI (`berth pull`, `berth save`/`berth load`).
# Beside them `podman pull` (installed from Debian if missing, with a storage of its own).
# Usage: bench/pull.sh [MB] [RUNS]   (needs docker-registry and skopeo: scripts/install-deps.sh --test)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
RUNS=${2:-3}
command -v docker-registry >/dev/null || { echo "docker-registry missing: apt-get install docker-registry" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "skopeo missing: apt-get install skopeo" >&2; exit 1; }
cargo build -q --release -p berth-image --example registry_tool
cargo build -q --release -p berthd -p berth -p berth-shim
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOOL="$TARGET_DIR/release/examples/registry_tool"
BIN="$TARGET_DIR/release"
W=$(mktemp -d /var/tmp/berth-pull-bench.XXXXXX)
REG_PID=
D_PID=
cleanup() {
  [ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null || true
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if command -v podman >/dev/null; then
    podman --root "$W/podman-root" --runroot "$W/podman-run" --storage-driver overlay \
      system reset -f >/dev/null 2>&1 || true
  fi
  umount -R "$W/podman-root" 2>/dev/null || true
  rm -rf "$W"
}
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
SOCK="$W/berthd.sock"
BERTH=("$BIN/berth" -H "unix://$SOCK")
BERTH_SHIM="$BIN/berth-shim" "$BIN/berthd" -H "unix://$SOCK" --data-root "$W/d-data" \
  --exec-root "$W/d-exec" --bridge berthbench0 \
  --default-address-pool base=10.219.0.0/21,size=24 2>"$W/berthd.log" &
D_PID=$!
for _ in $(seq 150); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "berthd did not start:" >&2; cat "$W/berthd.log" >&2; exit 1; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
command -v podman >/dev/null || apt-get install -y -qq podman >/dev/null 2>&1 || true
# podman with a storage of its own under the bench dir, so nothing of the host's is touched.
PODMAN=(podman --root "$W/podman-root" --runroot "$W/podman-run" --storage-driver overlay)
berth=(); sko=(); load=(); dpull=(); dload=(); pm=()
for i in $(seq "$RUNS"); do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t=$("$TOOL" pull "$W/pull$i" "$REF" | cut -d' ' -f1); berth+=("$t")
  s0=$(date +%s.%N)
  skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "dir:$W/sko$i"
  s1=$(date +%s.%N); sko+=("$(echo "$s1 - $s0" | bc)")
  [ "$i" = 1 ] && "$TOOL" save "$W/pull1" "$REF" "$W/img.tar"
  l=$("$TOOL" load "$W/load$i" "$W/img.tar" | cut -d' ' -f1); load+=("$l")
  rm -rf "$W/pull$i" "$W/sko$i" "$W/load$i"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  s0=$(now); "${BERTH[@]}" pull -q "$REF" >/dev/null; s1=$(now)
  dpull+=("$(echo "$s1 - $s0" | bc)")
  [ "$i" = 1 ] && "${BERTH[@]}" save -o "$W/berth-img.tar" "$REF"
  "${BERTH[@]}" rmi "$REF" >/dev/null
  s0=$(now); "${BERTH[@]}" load -q -i "$W/berth-img.tar" >/dev/null; s1=$(now)
  dload+=("$(echo "$s1 - $s0" | bc)")
  "${BERTH[@]}" rmi "$REF" >/dev/null
  if command -v podman >/dev/null; then
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    s0=$(now)
    if "${PODMAN[@]}" pull -q --tls-verify=false "$REF" >/dev/null 2>"$W/podman.err"; then
      s1=$(now); pm+=("$(echo "$s1 - $s0" | bc)")
      "${PODMAN[@]}" rmi -f "$REF" >/dev/null 2>&1 || true
    else
      echo "podman pull failed: $(cat "$W/podman.err")" >&2
    fi
  fi
done
tar_mb=$(( $(stat -c %s "$W/img.tar") / 1048576 ))
bm=$(printf '%s\n' "${berth[@]}" | median)
sm=$(printf '%s\n' "${sko[@]}" | median)
lm=$(printf '%s\n' "${load[@]}" | median)
echo "berth pull (download+verify+unpack): ${berth[*]} s  median $bm s"
echo "skopeo copy dir: (download+verify):  ${sko[*]} s  median $sm s"
echo "ratio berth/skopeo: $(echo "scale=2; $bm / $sm" | bc)"
echo "berth load of the ${tar_mb} MB archive: ${load[*]} s  median $lm s ($(echo "scale=0; $tar_mb / $lm" | bc) MB/s)"
dpm=$(printf '%s\n' "${dpull[@]}" | median)
dlm=$(printf '%s\n' "${dload[@]}" | median)
dtar_mb=$(( $(stat -c %s "$W/berth-img.tar") / 1048576 ))
echo "berth pull via berthd (release):       ${dpull[*]} s  median $dpm s  (ratio to skopeo $(echo "scale=2; $dpm / $sm" | bc))"
echo "berth load via berthd of the ${dtar_mb} MB archive: ${dload[*]} s  median $dlm s ($(echo "scale=0; $dtar_mb / $dlm" | bc) MB/s)"
if [ "${#pm[@]}" -gt 0 ]; then
  pmm=$(printf '%s\n' "${pm[@]}" | median)
  echo "podman pull (download+verify+unpack): ${pm[*]} s  median $pmm s  (berthd/podman $(echo "scale=2; $dpm / $pmm" | bc))"
else
  echo "podman pull: not measured (podman missing or failing, see above)"
fi
