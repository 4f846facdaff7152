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

/// Give freed heap memory back to the kernel (after setup, which parsed the whole spec).
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of the allocator; no pointer is touched.
    unsafe { libc::malloc_trim(0) };
}

/// Drop the file-backed pages that setup touched (creating the container runs most of the
/// runtime once and reads much of its read-only data) from the resident set; the event loop
/// faults back in the few it uses. Only non-writable private file mappings none of whose pages
/// was ever copied on write (smaps `Anonymous: 0 kB`): every page of those comes back
/// unchanged from the page cache. Relocated read-only data (RELRO) has copied pages and is
/// left alone.
pub fn drop_clean_file_pages() {
    for (start, len) in clean_file_mappings() {
        // SAFETY: the range is a non-writable private file mapping of this process holding no
        // modified (anonymous) page: MADV_DONTNEED only unmaps pages, and an access re-reads
        // them from the file. The code running now is faulted back in on return.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
}

/// This process's non-writable private file mappings without anonymous pages: (start, length).
fn clean_file_mappings() -> Vec<(usize, usize)> {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(anon) = line.strip_prefix("Anonymous:") {
            if let Some(range) = current.take()
                && anon.trim() == "0 kB"
            {
                out.push(range);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue; // a "Key: value" line, not a mapping header
        };
        let path = f.nth(3);
        let private_readonly =
            perms.starts_with('r') && !perms.contains('w') && perms.ends_with('p');
        current = (private_readonly && path.is_some_and(|p| p.starts_with('/')))
            .then(|| (start, end.saturating_sub(start)));
    }
    out
}
