#!/usr/bin/env bash
# Prints the path of the User-Mode Linux kernel scripts/uml-v2-tests.sh boots, building it
# first when this machine has none for the current recipe.
#
# The kernel is Debian's linux-source-6.1 configured as `make ARCH=um defconfig` with
# scripts/uml/kernel.config merged over it (scripts/kconfig/merge_config.sh, then
# `make olddefconfig`: no question is ever asked), everything built in. It is kept outside the
# clone, in $BERTH_UML_CACHE (default /var/cache/berth/uml)/<key>/linux, where <key> is the
# sha256 of the fragment's options (comments aside), the linux-source package's version and this
# recipe's version: a
# machine builds it once (about 5 minutes on 2 cores with `make -j2`), later runs and other
# clones reuse it. The build fails when an option of the fragment does not reach the final
# .config (a dependency missing from the fragment). Build prerequisites: linux-source-6.1,
# flex, bison, bc, make, gcc (scripts/install-deps.sh --test).
#
# Progress and errors go to stderr; the kernel's path is the only line on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
fragment=$PWD/scripts/uml/kernel.config
recipe=1 # bump when the build steps below change what is built
cache=${BERTH_UML_CACHE:-/var/cache/berth/uml}
tarball=/usr/src/linux-source-6.1.tar.xz

say() { echo "uml-kernel: $*" >&2; }
die() {
  say "$*"
  exit 1
}

version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
if [ -z "$version" ] || [ ! -f "$tarball" ]; then
  die "linux-source-6.1 is missing: apt-get install linux-source-6.1 (scripts/install-deps.sh --test)"
fi
options() { grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$fragment"; }
key=$( {
  options
  echo "linux-source-6.1 $version"
  echo "recipe $recipe"
} | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -x "$dir/linux" ]; then
  echo "$dir/linux"
  exit 0
fi

for tool in make gcc flex bison bc xz; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --test)"
done
mkdir -p "$cache"
# One build at a time on a machine; a second caller waits and then finds the kernel.
exec 9>"$cache/.lock"
flock 9
if [ -x "$dir/linux" ]; then
  echo "$dir/linux"
  exit 0
fi

build=$cache/build-$key
log=$cache/build-$key.log
say "building the UML kernel $key from linux-source-6.1 $version (once per machine; log: $log)"
start=$(date +%s)
rm -rf "$build" "$dir.tmp"
mkdir -p "$build"
fail() {
  tail -n 40 "$log" >&2 || true
  die "$1 (log: $log)"
}
tar -xJf "$tarball" -C "$build" --strip-components=1 || die "cannot unpack $tarball"
cd "$build"
{
  make ARCH=um defconfig &&
    ARCH=um scripts/kconfig/merge_config.sh -m .config "$fragment" &&
    make ARCH=um olddefconfig
} </dev/null >"$log" 2>&1 || fail "configuring failed"

# Every option the fragment sets must be in the final .config as written.
missing=$(options |
  while IFS= read -r line; do
    grep -qxF -- "$line" .config || echo "$line"
  done)
[ -z "$missing" ] || die "options of $fragment not in the final .config (a dependency is missing):
$missing"

make ARCH=um -j"${BERTH_UML_JOBS:-2}" linux </dev/null >>"$log" 2>&1 || fail "make failed"
mkdir -p "$dir.tmp"
cp linux "$dir.tmp/linux"
cp .config "$dir.tmp/config"
echo "linux-source-6.1 $version, built in $(($(date +%s) - start)) s" >"$dir.tmp/built"
mv "$dir.tmp" "$dir"
cd /
rm -rf "$build"
say "built $dir/linux in $(($(date +%s) - start)) s"
echo "$dir/linux"
