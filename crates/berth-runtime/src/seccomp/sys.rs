//! The raw `seccomp(2)` and `prctl(PR_SET_SECCOMP)` calls: the module's only `unsafe`.

use super::SeccompError;
use nix::errno::Errno;

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`, with the `prctl` fallback.
pub(super) fn load(filter: &[libc::sock_filter], flags: libc::c_uint) -> Result<(), SeccompError> {
    let Ok(len) = u16::try_from(filter.len()) else {
        return Err(SeccompError::BadProgram {
            bytes: std::mem::size_of_val(filter),
        });
    };
    let prog = libc::sock_fprog {
        len,
        // The kernel only reads through this pointer.
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `len` valid instructions borrowed from `filter`, which lives
    // for the whole call; the kernel copies the program and does not keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    if rc > 0 {
        // With SECCOMP_FILTER_FLAG_TSYNC the kernel returns the id of the thread it could not
        // synchronise.
        return Err(SeccompError::Tsync { tid: rc });
    }
    let errno = Errno::last();
    if errno != Errno::ENOSYS || flags != 0 {
        return Err(SeccompError::Load(errno));
    }
    // SAFETY: as above: `prog` is valid for the duration of the call and only read.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &prog as *const libc::sock_fprog,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(SeccompError::Load(Errno::last()))
    }
}
