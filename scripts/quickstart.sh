#!/usr/bin/env bash
# Quick start on a fresh Debian machine, as root: install what is needed, build berth, make a
# busybox root filesystem locally (no registry is reachable) and run a container on it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: containers need namespaces and cgroups" >&2; exit 1; }
scripts/install-deps.sh
cargo build --release --workspace --bins
bundle=/var/lib/berth-quickstart/busybox
rm -rf "$bundle"
scripts/make-busybox-rootfs.sh "$bundle/rootfs"
target/release/berth-runtime spec --bundle "$bundle"
python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": "rootfs", "readonly": True}
c["process"]["args"] = ["echo", "hello"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
target/release/berth-runtime --root /run/berth-quickstart run --bundle "$bundle" "quickstart-$$"
