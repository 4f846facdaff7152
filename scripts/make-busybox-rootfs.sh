#!/usr/bin/env bash
# Make a minimal root filesystem from Debian's busybox-static: DIR/bin/busybox plus one link
# per applet, /etc/passwd and /etc/group with root, nobody and a test user (1000:1000).
# Usage: make-busybox-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: make-busybox-rootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-static is missing: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,home/user,var,run}
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
# One process for every link (perl-base is essential on Debian): an `ln` per applet costs
# seconds where a fork is slow (the User-Mode Linux run of scripts/uml-v2-tests.sh).
"$dir/bin/busybox" --list | BIN="$dir/bin" perl -ne \
  'chomp; my $l = "$ENV{BIN}/$_"; -e $l or -l $l or symlink("busybox", $l) or die "symlink $l: $!\n"'
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$dir/etc/group" <<'G'
root:x:0:
user:x:1000:
nogroup:x:65534:
G
chown 1000:1000 "$dir/home/user"
