//! The PTY of a process with `process.terminal`: allocated by the container process itself
//! from the container's own devpts (so the slave's name is valid inside), the slave made its
//! stdio and controlling terminal, the master sent to the runtime over the sync channel and
//! from there over `SCM_RIGHTS` to a `--console-socket` (or returned to the caller).

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, open};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
use nix::sys::stat::Mode;

/// A terminal operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// Opening /dev/ptmx failed.
    #[error("open /dev/ptmx")]
    OpenMaster(#[source] nix::Error),
    /// unlockpt/ptsname failed.
    #[error("unlock the pty slave")]
    Unlock(#[source] nix::Error),
    /// Opening the slave failed.
    #[error("open pty slave {0}")]
    OpenSlave(String, #[source] nix::Error),
    /// dup2 onto stdio failed.
    #[error("dup pty slave onto stdio")]
    Dup(#[source] nix::Error),
    /// setsid(2) failed.
    #[error("setsid")]
    Setsid(#[source] nix::Error),
    /// TIOCSCTTY failed.
    #[error("make pty slave the controlling terminal")]
    Ctty(#[source] nix::Error),
    /// TIOCSWINSZ failed.
    #[error("process.consoleSize: set window size")]
    Winsize(#[source] nix::Error),
    /// Binding the slave onto /dev/console failed.
    #[error("bind pty slave onto /dev/console")]
    Console(#[source] nix::Error),
    /// Connecting to the console socket failed.
    #[error("connect to console socket {0}")]
    Connect(PathBuf, #[source] std::io::Error),
    /// Sending the master failed.
    #[error("send pty master to console socket {0}")]
    Send(PathBuf, #[source] nix::Error),
}

/// In the container process: a new PTY whose slave becomes stdin, stdout, stderr and the
/// controlling terminal (in a new session). Returns the master to hand to the runtime.
pub fn setup_in_container(
    size: Option<(u16, u16)>,
    bind_console: bool,
) -> Result<OwnedFd, TerminalError> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(TerminalError::OpenMaster)?;
    unlockpt(&master).map_err(TerminalError::Unlock)?;
    let name = ptsname_r(&master).map_err(TerminalError::Unlock)?;
    let slave = open(
        Path::new(&name),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| TerminalError::OpenSlave(name.clone(), e))?;
    if let Some((rows, cols)) = size {
        crate::sys::set_winsize(slave.as_fd(), rows, cols).map_err(TerminalError::Winsize)?;
    }
    if bind_console {
        // /dev/console names the container's terminal, as with runc.
        let console = Path::new("/dev/console");
        if std::fs::symlink_metadata(console).is_err() {
            let _ = std::fs::File::create(console);
        }
        nix::mount::mount(
            Some(Path::new(&name)),
            console,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(TerminalError::Console)?;
    }
    nix::unistd::setsid().map_err(TerminalError::Setsid)?;
    crate::sys::set_controlling_terminal(slave.as_fd()).map_err(TerminalError::Ctty)?;
    set_stdio([slave.as_fd(), slave.as_fd(), slave.as_fd()])?;
    Ok(master.into())
}

/// Make `fds` this process's stdin, stdout and stderr (close-on-exec cleared).
pub fn set_stdio(fds: [BorrowedFd<'_>; 3]) -> Result<(), TerminalError> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};
    let dups = [dup2_stdin, dup2_stdout, dup2_stderr];
    for (i, (fd, dup)) in fds.into_iter().zip(dups).enumerate() {
        if fd.as_raw_fd() == i as i32 {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())).map_err(TerminalError::Dup)?;
        } else {
            dup(fd).map_err(TerminalError::Dup)?;
        }
    }
    Ok(())
}

/// In the runtime: send `master` over the unix socket at `path`, as runc's `--console-socket`
/// does (the message's data is the pty's name).
pub fn send_to_socket(path: &Path, master: BorrowedFd<'_>) -> Result<(), TerminalError> {
    let sock = UnixStream::connect(path).map_err(|e| TerminalError::Connect(path.into(), e))?;
    let fds = [master.as_raw_fd()];
    let name = b"/dev/ptmx";
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(name)],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| TerminalError::Send(path.into(), e))?;
    Ok(())
}
