#!/usr/bin/env bash
# Quick start on a fresh Debian machine, as root: install what is needed, build berth, start
# berthd, make a busybox image locally (no registry is reachable) and run a container on it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: containers need namespaces and cgroups" >&2; exit 1; }
scripts/install-deps.sh
cargo build --release --workspace --bins
bin=$PWD/target/release
# Shell completions (bash, zsh, fish) and man pages of the CLI.
mkdir -p /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions \
  /usr/share/fish/vendor_completions.d /usr/local/share/man/man1
"$bin/berth" completion bash >/usr/share/bash-completion/completions/berth
"$bin/berth" completion zsh >/usr/share/zsh/vendor-completions/_berth
"$bin/berth" completion fish >/usr/share/fish/vendor_completions.d/berth.fish
"$bin/berth" man /usr/local/share/man/man1
sock=/run/berth/berth.sock
export DOCKER_HOST=unix://$sock

if ! "$bin/berth" version >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    # Under systemd: installed as a service with socket activation, as docker.service is.
    scripts/install-systemd.sh "$bin"
  else
    mkdir -p /var/log
    nohup "$bin/berthd" >/var/log/berthd.log 2>&1 &
  fi
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && "$bin/berth" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$bin/berth" version >/dev/null || { echo "berthd did not start: see /var/log/berthd.log (or journalctl -u berthd)" >&2; exit 1; }
  echo "berthd is running (socket $sock)"
fi

# A busybox image from Debian's busybox-static, imported as `docker import` would.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/make-busybox-rootfs.sh "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
"$bin/berth" import --change 'CMD ["sh"]' "$work/busybox.tar" busybox:latest >/dev/null
"$bin/berth" run --rm busybox echo hello
