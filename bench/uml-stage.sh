#!/usr/bin/env bash
# What the cgroup v2 stage (scripts/uml-v2-tests.sh) costs CI: its wall time with the UML kernel
# already cached (split into the host-side cargo step and the guest's boot-to-poweroff, with
# each test target's time in the guest), and the one-off build of that kernel.
#
# Usage: bench/uml-stage.sh [--rebuild] [--workspace]
#   The stage is run once after the kernel is cached (a missing kernel is built first and not
#   counted). Its host build is what cargo still has to do: in CI, after the suite, nothing
#   (scripts/test.sh passes --workspace, given here too; run the suite's cargo commands first),
#   and a few seconds on a second run without it. The kernel figure is the time recorded when
#   the cached kernel was built; with --rebuild the kernel is built again into a scratch cache
#   (removed afterwards) and that build is timed. Needs root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
scripts/install-deps.sh --test
rebuild="" stage_args=()
for a in "$@"; do
  case $a in
    --rebuild) rebuild=1 ;;
    --workspace) stage_args+=(--workspace) ;;
    *) echo "usage: $0 [--rebuild] [--workspace]" >&2; exit 2 ;;
  esac
done

kernel=$(scripts/uml-kernel.sh)
mkdir -p "$repo/target/uml"
start=$EPOCHREALTIME
scripts/uml-v2-tests.sh "${stage_args[@]}" >"$repo/target/uml/bench.log" 2>&1 && rc=0 || rc=$?
stage=$(echo "$start $EPOCHREALTIME" | awk '{printf "%.0f", $2 - $1}')
log=$repo/target/uml/bench.log
summary=$(grep -a '^uml-v2-tests: ' "$log" | tail -n1)

if [ -n "$rebuild" ]; then
  scratch=$(mktemp -d /var/tmp/berth-uml-bench.XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
  kstart=$EPOCHREALTIME
  BERTH_UML_CACHE=$scratch scripts/uml-kernel.sh >/dev/null
  kbuild="$(echo "$kstart $EPOCHREALTIME" | awk '{printf "%.0f", $2 - $1}') s (measured now, make -j${BERTH_UML_JOBS:-2})"
else
  kbuild="$(cat "$(dirname "$kernel")/built") (recorded when $kernel was built; --rebuild measures it again)"
fi

echo "v2 stage with a cached kernel: ${stage} s wall (exit $rc)"
echo "  ${summary#uml-v2-tests: }"
grep -a '^UML-TIME ' "$log" | while read -r _ target secs; do
  printf '  %-60s %6s\n' "$target" "$secs"
done
echo "  $(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)"
echo "kernel build (one-off per machine): $kbuild"
