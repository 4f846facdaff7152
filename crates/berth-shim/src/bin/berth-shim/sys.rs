//! The few syscalls nix offers only as `unsafe`: fork and the terminal-size ioctl.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::unistd::ForkResult;

/// Fork the process.
///
/// Only called from `main` before any thread exists (the shim never starts threads), so the
/// child is a complete copy with no lock held by a vanished thread.
pub fn fork() -> nix::Result<ForkResult> {
    // SAFETY: the process is single-threaded here (see above), which is fork's precondition
    // for the child to use any function, including the allocator.
    unsafe { nix::unistd::fork() }
}

nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, libc::winsize);

/// Set the window size of the terminal behind `fd` (a PTY master): `TIOCSWINSZ`.
pub fn set_winsize(fd: BorrowedFd<'_>, width: u16, height: u16) -> nix::Result<()> {
    let ws = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: `fd` is a live descriptor borrowed for the call and `ws` is a valid winsize that
    // outlives it; TIOCSWINSZ only reads the struct.
    unsafe { tiocswinsz(fd.as_raw_fd(), &ws) }.map(drop)
}

/// Restore SIGPIPE's default action. Rust's runtime ignores SIGPIPE at startup, and an ignored
/// signal stays ignored across `execve`: the container's processes must not inherit that.
/// The event loop blocks SIGPIPE instead (and writes with `MSG_NOSIGNAL`).
pub fn default_sigpipe() -> nix::Result<()> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_DFL installs no handler, so no code runs in signal context.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map(drop)
}
