#!/usr/bin/env bash
# The whole test suite, as CI runs it: prerequisites, formatting, lints, every test.
# Integration tests need root and the real kernel (namespaces, cgroups, overlayfs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the test suite needs root (it runs real containers)" >&2; exit 1; }
scripts/install-deps.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
