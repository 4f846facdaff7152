#!/usr/bin/env bash
# The whole test suite, as CI runs it: prerequisites, formatting, lints, every test.
# Integration tests need root and the real kernel (namespaces, cgroups, overlayfs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the test suite needs root (it runs real containers)" >&2; exit 1; }
scripts/install-deps.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# Integration tests run the daemon, the shim and the CLI as programs: build every binary first
# (cargo test builds only a package's own binaries for its own tests).
cargo build --workspace --bins
# The tests find them built and skip their own `cargo build -p berth-shim -p berth`, which
# would build those two again with other features and replace the workspace's binaries.
export BERTH_TEST_BINS_BUILT=1
cargo test --workspace
# The runtime's, berthd's cgroup and bridge-network and berth-net's bridge tests again on a pure
# cgroup v2 kernel (User-Mode Linux, built once per machine): this host keeps its controllers
# on v1. --workspace: reuse what the lines above built.
scripts/uml-v2-tests.sh --workspace
