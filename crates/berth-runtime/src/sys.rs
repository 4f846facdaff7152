//! The few raw syscalls nix does not wrap safely: a fork-like `clone` with namespace flags,
//! `setdomainname`, `TIOCSCTTY`, `SIOCSIFFLAGS` (loopback up), `_exit` and resetting signal
//! dispositions.
//!
//! This is the only module of the crate's core that may use `unsafe`; each block states why it
//! is sound.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

/// What `clone_process` returned: which side of the fork we are on.
pub enum Forked {
    /// In the parent: the child's pid (as seen from the parent's pid namespace).
    Parent(Pid),
    /// In the child.
    Child,
}

/// `clone(2)` without a new stack, like `fork(2)` but with namespace flags (`CLONE_NEW*`), so
/// that the child is pid 1 of a new pid namespace directly.
///
/// The caller must be single-threaded: the child gets a copy of the address space with only
/// the calling thread, as after `fork`.
pub fn clone_process(flags: libc::c_int) -> Result<Forked, Errno> {
    // SAFETY: without CLONE_VM and with a null stack the kernel duplicates the address space
    // exactly as fork does; the child continues on its own copy of this stack. The caller is
    // single-threaded, so no lock can be held by a thread that does not exist in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as libc::pid_t))),
    }
}

/// `struct clone_args` of `clone3(2)`, up to `cgroup` (kernel 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// [`clone_process`] through `clone3(2)` with `CLONE_INTO_CGROUP`: the child starts in the
/// cgroup2 directory `cgroup`, so nothing has to migrate it there. Kernels before 5.7 answer
/// `ENOSYS` or `E2BIG`; the caller then clones plainly and moves the child.
pub fn clone_process_into(flags: libc::c_int, cgroup: BorrowedFd<'_>) -> Result<Forked, Errno> {
    let args = CloneArgs {
        // The CLONE_NEW* flags are positive c_ints: widening keeps their bits.
        flags: flags as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: as for clone_process (no CLONE_VM, no stack: fork semantics); `args` is a valid
    // clone_args of the size passed and outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as libc::pid_t))),
    }
}

/// How many threads this process has (field 20 of /proc/self/stat).
pub fn thread_count() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    // After ") " come fields 3..; num_threads is field 20.
    rest.split(' ').nth(17)?.parse().ok()
}

/// Mark every descriptor from 3 up close-on-exec, so nothing the caller left open leaks into
/// the container (runc's fix for CVE-2024-21626 does the same).
pub fn cloexec_from_3() -> Result<(), Errno> {
    // SAFETY: close_range only changes descriptor flags; no memory is passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        )
    };
    Errno::result(ret).map(drop)
}

/// `setdomainname(2)`.
pub fn set_domainname(name: &str) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe `name`'s bytes, alive for the call.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(ret).map(drop)
}

/// Make the terminal on `fd` the controlling terminal of this (session leader) process.
pub fn set_controlling_terminal(fd: std::os::fd::BorrowedFd<'_>) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: TIOCSCTTY takes an int argument, no pointer; `fd` is open for the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) };
    Errno::result(ret).map(drop)
}

/// End a forked child at once, without running atexit handlers or flushing the parent's
/// buffers a second time.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions; it never returns.
    unsafe { libc::_exit(code) }
}

/// Reset the signals a process image inherits: every disposition to default (ignored signals
/// survive execve, e.g. Rust's SIGPIPE) and an empty signal mask.
pub fn reset_signals() -> Result<(), Errno> {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL involves no handler code; invalid numbers (32, 33 held
        // by glibc) return EINVAL, which is ignored.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    )
}

/// Set a terminal's window size.
pub fn set_winsize(fd: std::os::fd::BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize through the pointer, which points at `ws`.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    Errno::result(ret).map(drop)
}

/// Take ownership of a descriptor just received with `SCM_RIGHTS`.
pub fn received_fd(raw: std::os::fd::RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: the kernel just installed `raw` in our table for this message; nothing else
    // owns it.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) }
}

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `MOUNT_ATTR_RDONLY`.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
/// `MOUNT_ATTR_NOSUID`.
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
/// `MOUNT_ATTR_NODEV`.
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
/// `MOUNT_ATTR_NOEXEC`.
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const AT_RECURSIVE: libc::c_uint = 0x8000;

/// `mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, {attr_set})`: sets `attr_set` on the
/// mount `fd` refers to and on every mount below it (kernel 5.12+; `ENOSYS` before).
pub fn mount_setattr_recursive(fd: BorrowedFd<'_>, attr_set: u64) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let empty = c"";
    let flags = libc::AT_EMPTY_PATH as libc::c_uint | AT_RECURSIVE;
    // SAFETY: `empty` is a NUL-terminated string and `attr` a live `struct mount_attr` whose
    // size is passed with it; the kernel only reads them; `fd` is a valid open descriptor.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            empty.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// `struct ifreq` with the `ifr_flags` member of its union (40 bytes on every 64-bit ABI).
#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    pad: [u8; 22],
}

/// Brings the loopback interface of the current network namespace up (`SIOCSIFFLAGS` with
/// `IFF_UP` added to its flags), as runc and crun do in every new network namespace.
pub fn loopback_up() -> Result<(), Errno> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: SIOCGIFFLAGS reads the name from and writes the flags into the ifreq the
    // pointer designates; `req` is a full-size ifreq, alive and exclusively borrowed.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) };
    Errno::result(ret)?;
    if req.flags & libc::IFF_UP as libc::c_short != 0 {
        return Ok(());
    }
    req.flags |= libc::IFF_UP as libc::c_short;
    // SAFETY: SIOCSIFFLAGS reads the name and flags from the ifreq, as above.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
    Errno::result(ret).map(drop)
}

#[cfg(test)]
mod tests {
    #[test]
    fn threads_are_counted() {
        let n = super::thread_count().unwrap();
        let handle =
            std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(200)));
        assert!(super::thread_count().unwrap() > n.min(1));
        handle.join().unwrap();
    }
}
