#!/usr/bin/env bash
# Installs berthd as a systemd service, the way Debian ships docker.service and docker.socket:
# the binaries, packaging/systemd/{berthd.service,berth.socket}, the `berth` group for the
# socket; then enables and starts the socket when systemd runs (berthd starts on the first
# connection, or at boot).
#
#   scripts/install-systemd.sh [BIN_DIR]     (default: target/release)
#
# PREFIX (default /usr/local), UNITDIR (default /etc/systemd/system) and BERTH_GROUP
# (default berth; empty: make no group) change where things go.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release}
prefix=${PREFIX:-/usr/local}
unitdir=${UNITDIR:-/etc/systemd/system}
group=${BERTH_GROUP-berth}

for b in berthd berth berth-shim; do
  [ -x "$bin/$b" ] || { echo "install-systemd: $bin/$b is missing: build first (cargo build --release --workspace --bins)" >&2; exit 1; }
done
install -d "$prefix/bin" "$unitdir"
install -m 0755 "$bin/berthd" "$bin/berth" "$bin/berth-shim" "$prefix/bin/"
if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
  groupadd --system "$group"
fi
install -m 0644 packaging/systemd/berthd.service packaging/systemd/berth.socket "$unitdir/"
sed -i "s#^ExecStart=/usr/local/bin/berthd#ExecStart=$prefix/bin/berthd#" "$unitdir/berthd.service"
if [ -n "$group" ]; then
  sed -i "s#^SocketGroup=.*#SocketGroup=$group#" "$unitdir/berth.socket"
else
  sed -i "s#^SocketGroup=.*#SocketGroup=root#" "$unitdir/berth.socket"
fi

if [ -d /run/systemd/system ] && [ "$unitdir" = /etc/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now berth.socket
  echo "berth.socket listens on /run/berth/berth.sock; berthd.service starts on the first connection"
else
  echo "units installed in $unitdir; systemd does not run here, so start berthd by hand (scripts/quickstart.sh does)"
fi
