#!/usr/bin/env bash
# Install the Debian packages berth needs to build and run (and, with --test, to test and
# benchmark). Idempotent: packages already present are not fetched again.
set -euo pipefail
pkgs=(libseccomp-dev pkg-config busybox-static iproute2 nftables tini)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(crun runc tmux docker-registry skopeo apache2-utils openssl iperf3 python3-docker docker-compose)
  # networking_dns.rs: nsenter (util-linux), modprobe for br_netfilter (kmod).
  pkgs+=(util-linux kmod)
  # scripts/uml-v2-tests.sh: a pure cgroup v2 kernel as a process (User-Mode Linux, built once
  # per machine from Debian's kernel source by scripts/uml-kernel.sh), and jq for cargo's JSON.
  pkgs+=(linux-source-6.1 flex bison bc make gcc libc6-dev xz-utils jq)
  # crates/berthd/tests/systemd.rs: systemd-socket-activate and systemd-analyze.
  pkgs+=(systemd)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo is missing: install the Rust toolchain (rustup)" >&2; exit 1; }
