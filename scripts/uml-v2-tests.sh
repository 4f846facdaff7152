#!/usr/bin/env bash
# berth's real-kernel tests on a pure cgroup v2 kernel (issue 17): berth-runtime's, berthd's
# resource limits and a bridge network, berth-net's bridge driver with nftables.
#
# This machine's kernel keeps cpu, memory and pids on cgroup v1. User-Mode Linux runs a second
# kernel as an ordinary process (no disk image, no KVM) in which cgroup v2 is pure: the host's
# / is its root, read-only through hostfs under a tmpfs overlay (scripts/uml/init.sh), so
# nothing the guest does reaches the host. The tests are built here, on the host, and run
# there; the log shows the guest's kernel, its cgroup controllers and ends with one
# "N passed, N failed" line. Exits non-zero on any failure.
#
# Kernel: built from Debian's linux-source-6.1 with scripts/uml/kernel.config by
# scripts/uml-kernel.sh, once per machine (about 5 minutes on 2 cores) and cached outside the
# clone; it has nftables for ip/ip6/inet, so berth-net's bridge tests and a berthd bridge
# network run here too. BERTH_UML_KERNEL names another UML kernel instead (with
# BERTH_UML_MODULES its modules directory, e.g. Debian's user-mode-linux: /usr/bin/linux.uml
# and /usr/lib/uml/modules; that one has no nftables for ip/ip6/inet).
#
# BERTH_UML_TESTS: the test targets to run, as package:target, or package:target:filters with
# libtest name filters separated by commas (default below); a guest process starts about 30x
# slower than on the host, so tests must not assert timing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tests=${BERTH_UML_TESTS:-"berth-runtime:cgroups_v2 berth-runtime-cli:devices berth-runtime-cli:isolation
  berth-runtime-cli:lifecycle berthd:cgroup_limits berth-net:bridge
  berthd:networking:containers_resolve_each_other,published_port_answers"}

[ "$(id -u)" = 0 ] || { echo "uml-v2-tests: needs root (the guest's tests run containers)" >&2; exit 1; }
command -v jq >/dev/null || { echo "uml-v2-tests: jq is missing: apt-get install jq" >&2; exit 1; }

if [ -n "${BERTH_UML_KERNEL:-}" ]; then
  kernel=$BERTH_UML_KERNEL
  modules=${BERTH_UML_MODULES-/usr/lib/uml/modules}
else
  kernel=$(scripts/uml-kernel.sh)
  modules=${BERTH_UML_MODULES-} # everything is built in
fi
[ -x "$kernel" ] || { echo "uml-v2-tests: $kernel is missing" >&2; exit 1; }

work=$repo/target/uml
mkdir -p "$work"

# Build on the host: the binaries the tests run by absolute path (berth-runtime, from the
# berth-runtime-cli package; berthd, berth-shim, berth) and the test executables, found in
# cargo's JSON messages. With --workspace (scripts/test.sh, after the whole suite) cargo is
# asked exactly what the suite asked, so nothing is compiled again; per package otherwise.
build_start=$(date +%s)
: >"$work/build.json"
if [ "${1:-}" = --workspace ]; then
  cargo build -q --workspace --bins
  cargo test -q --workspace --no-run --message-format=json >"$work/build.json"
else
  for p in $(for t in $tests; do echo "${t%%:*}"; done | sort -u); do
    case $p in
      berthd) cargo build -q -p berth-shim -p berth -p berthd ;;
      *) cargo build -q -p "$p" --bins ;;
    esac
    cargo test -q -p "$p" --no-run --message-format=json >>"$work/build.json"
  done
fi
build_secs=$(($(date +%s) - build_start))
run=$work/run.sh
{
  echo "cd '$repo'"
  # berth-shim and berth are built above: berthd's harness need not run cargo in the guest.
  # Test data on a tmpfs (/run): overlayfs takes no upper directory on the guest's overlay
  # root, where /tmp stays so that a repository cloned under the host's /tmp is seen.
  echo "mkdir -p /run/tmp && chmod 1777 /run/tmp"
  echo "export TMPDIR=/run/tmp RUST_BACKTRACE=1 HOME='$HOME' PATH='$PATH' BERTH_TEST_BINS_BUILT=1"
  echo 'passed=0; failed=0'
  for t in $tests; do
    pkg=${t%%:*} name=${t#*:} filters=""
    case $name in *:*)
      filters=$(tr ',' ' ' <<<"${name#*:}")
      name=${name%%:*}
      ;;
    esac
    exe=$(jq -r --arg p "$pkg" --arg t "$name" 'select(.reason == "compiler-artifact"
        and .target.name == $t and (.package_id | test("[/#]" + $p + "[@#]"))
        and .profile.test == true and .executable != null) | .executable' "$work/build.json" | tail -n1)
    [ -n "$exe" ] || { echo "uml-v2-tests: no test target $name in $pkg" >&2; exit 1; }
    cat <<RUN
echo "=== $t"
t0=\$(date +%s)
"$exe" --test-threads=1 $filters > /tmp/out 2>&1; rc=\$?
cat /tmp/out
p=\$(grep -c '^test .* \.\.\. ok\$' /tmp/out); f=\$(grep -c '^test .* \.\.\. FAILED\$' /tmp/out)
# A crash before libtest's summary counts as one more failure.
if [ \$rc -ne 0 ] && [ \$f -eq 0 ]; then f=1; echo "UML-CRASH $t exited \$rc"; fi
passed=\$((passed + p)); failed=\$((failed + f))
echo "UML-TIME $t \$((\$(date +%s) - t0))s"
RUN
  done
  echo 'echo "UML-COUNTS $passed $failed"'
} >"$run"

log=$work/console.log
start=$(date +%s)
# The guest's console is this process's stdout; kernel messages are kept to errors.
timeout -k 10 "${BERTH_UML_TIMEOUT:-1200}" "$kernel" mem="${BERTH_UML_MEM:-1536M}" \
  rootfstype=hostfs rootflags=/ ro quiet loglevel=3 \
  init="$repo/scripts/uml/init.sh" BERTH_UML_RUN="$run" BERTH_UML_MODULES="$modules" \
  con=null con0=null,fd:1 </dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" || true
elapsed=$(($(date +%s) - start))

counts=$(grep -a '^UML-COUNTS ' "$log" | tail -n1 || true)
if [ -z "$counts" ]; then
  echo "uml-v2-tests: the guest did not finish (see $log)"
  echo "0 passed, 1 failed"
  exit 1
fi
read -r _ passed failed <<<"$counts"
echo "uml-v2-tests: $(grep -a '^UML-KERNEL ' "$log" | cut -d' ' -f2-) kernel, controllers: $(grep -a '^UML-CGROUP-CONTROLLERS ' "$log" | cut -d' ' -f2-), host build ${build_secs}s, guest ${elapsed}s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
