#!/bin/bash
# PID 1 of the User-Mode Linux guest of scripts/uml-v2-tests.sh (not run on the host).
#
# Stage 1 (the kernel's init): the root is the host's / through hostfs, read-only. Build an
# overlay on it (tmpfs above), so nothing the guest writes reaches the host, and pivot into it.
# Stage 2: mount the pseudo filesystems and a pure cgroup v2 hierarchy with every controller
# enabled at the root, print the kernel and the controllers, run $BERTH_UML_RUN, power off.
# KEY=value words of the kernel command line arrive here as the environment.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
if [ "${BERTH_UML_STAGE:-1}" = 1 ]; then
  mount -t proc proc /proc
  mount -t tmpfs -o "size=${BERTH_UML_TMPFS:-1g},mode=755" tmpfs /run
  if ! grep -qw overlay /proc/filesystems; then
    busybox insmod "$BERTH_UML_MODULES/$(uname -r)/kernel/fs/overlayfs/overlay.ko" ||
      echo "UML-INIT insmod overlay failed"
  fi
  mkdir -p /run/ovl/upper /run/ovl/work /run/ovl/root
  if ! mount -t overlay -o lowerdir=/,upperdir=/run/ovl/upper,workdir=/run/ovl/work overlay /run/ovl/root; then
    echo "UML-INIT overlay root failed"; busybox poweroff -f
  fi
  mkdir -p /run/ovl/root/.oldroot
  if [ -n "${BERTH_UML_MODULES:-}" ]; then
    mkdir -p /run/ovl/root/usr/lib/modules
    mount -t hostfs -o "$BERTH_UML_MODULES,ro" hostfs /run/ovl/root/usr/lib/modules
  fi
  mount --move /proc /run/ovl/root/proc
  mount --move /dev /run/ovl/root/dev
  cd /run/ovl/root && busybox pivot_root . .oldroot &&
    exec busybox chroot . /usr/bin/env BERTH_UML_STAGE=2 /bin/bash "$0"
  echo "UML-INIT pivot failed"; busybox poweroff -f
fi

# Stage 2.
ln -sf /bin/busybox /usr/sbin/modprobe   # lets the kernel load modules (veth, ...) on demand
umount -l /.oldroot/run 2>/dev/null
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=755 tmpfs /run
# /tmp stays the overlay's (written to the tmpfs above it): a tmpfs here would hide a clone
# of the repository under the host's /tmp, where CI may put it. Tests write under /run/tmp.
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
enable=""
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do enable="$enable +$c"; done
echo "$enable" > /sys/fs/cgroup/cgroup.subtree_control
ip link set lo up
# /dev/net/tun: the device the berthd device tests open (built in, or a module of the kernel).
[ -e /dev/net/tun ] || modprobe tun
hostname berth-uml
echo "UML-KERNEL $(uname -r)"
echo "UML-CGROUP-CONTROLLERS $(cat /sys/fs/cgroup/cgroup.controllers)"
bash "$BERTH_UML_RUN"
echo "UML-EXIT $?"
sync
busybox poweroff -f
