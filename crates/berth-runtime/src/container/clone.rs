//! The clone shared by create and exec: from a single-threaded caller, into the container's
//! pid namespace when it has one to join, and straight into its cgroup2 directory where the
//! kernel allows it.

use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;

use crate::cgroups::AnyCgroupManager;
use crate::error::Error;
use crate::sys::Forked;

/// Refuse to fork from a multi-threaded process (the child runs Rust code, which may allocate,
/// until execve).
pub(super) fn single_threaded() -> Result<(), Error> {
    match crate::sys::thread_count() {
        Some(n) if n > 1 => Err(Error::MultiThreaded(n)),
        _ => Ok(()),
    }
}

/// Clones the child (`clone_flags`, inside `pid_ns` when given: joined around the clone and
/// left again) into the cgroup's cgroup2 directory where the kernel allows it (`CLONE_INTO_CGROUP`,
/// no migration needed); returns whether it was born there. The caller is single-threaded.
pub(super) fn clone_child(
    flags: libc::c_int,
    pid_ns: Option<&crate::namespaces::Join>,
    cgroup: &AnyCgroupManager,
) -> Result<(Forked, bool), Error> {
    let v2_dir = cgroup.open_v2_dir()?;
    let mut v2_done = v2_dir.is_some();
    let mut clone = || match &v2_dir {
        Some(dir) => match crate::sys::clone_process_into(flags, dir.as_fd()) {
            // Kernels before 5.7 (ENOSYS, E2BIG), a seccomp filter refusing clone3 (ENOSYS or
            // EPERM), a cgroup it refuses (EINVAL), or a v2 pids limit reached in the target
            // (EAGAIN: a migration is not held to pids.max, so exec into a container at its
            // limit still works, as with runc): clone plainly, the parent moves the child.
            Err(Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL | Errno::EPERM | Errno::EAGAIN) => {
                v2_done = false;
                crate::sys::clone_process(flags)
            }
            other => other,
        },
        None => crate::sys::clone_process(flags),
    };
    let forked = match pid_ns {
        Some(target) => {
            let back = crate::namespaces::open_ns(
                oci_spec::runtime::LinuxNamespaceType::Pid,
                Path::new("/proc/self/ns/pid"),
            )?;
            crate::namespaces::join(target)?;
            let forked = clone();
            if let Ok(Forked::Parent(_)) | Err(_) = forked {
                crate::namespaces::join(&back)?;
            }
            forked
        }
        None => clone(),
    }
    .map_err(Error::Clone)?;
    Ok((forked, v2_done))
}
