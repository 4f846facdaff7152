//! The foreground container of `run`: our stdin in raw mode and the container's terminal
//! relayed both ways, the signals a terminal or supervisor sends us forwarded to the
//! container's init (as runc run does), until the init ends; its end becomes our exit code.

use std::io::Write;
use std::os::fd::{BorrowedFd, OwnedFd};

use anyhow::{Context, Result, anyhow};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

/// Our stdin in raw mode while we relay a container's terminal; restored on drop.
struct RawStdin(Option<nix::sys::termios::Termios>);

impl RawStdin {
    fn new() -> RawStdin {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        match tcgetattr(&stdin) {
            Ok(saved) => {
                let mut raw = saved.clone();
                cfmakeraw(&mut raw);
                let _ = tcsetattr(&stdin, SetArg::TCSANOW, &raw);
                RawStdin(Some(saved))
            }
            Err(_) => RawStdin(None),
        }
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
    }
}

/// Copy what is readable from `from` to `to`; false at end of input.
fn relay(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 8192];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let mut done = 0;
            while done < n {
                match nix::unistd::write(to, &buf[done..n]) {
                    Ok(w) => done += w,
                    Err(nix::Error::EINTR) => {}
                    Err(_) => return false,
                }
            }
            true
        }
        Err(nix::Error::EINTR | nix::Error::EAGAIN) => true,
        // EIO: the terminal's last slave descriptor closed.
        Err(_) => false,
    }
}

/// Wait for the container's init, forwarding the signals a terminal or supervisor sends us
/// (as runc run does), and turn its end into an exit code.
pub fn wait_forwarding(pid: Pid, master: Option<OwnedFd>) -> Result<i32> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::SigSet;
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use nix::sys::wait::WaitPidFlag;
    use std::os::fd::AsFd;
    let mut mask = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        mask.add(sig);
    }
    mask.thread_block().context("block signals")?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .context("signalfd")?;
    let _raw = master.as_ref().map(|_| RawStdin::new());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut master_open, mut stdin_open) = (master.is_some(), master.is_some());
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(drain(master.as_ref(), code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                return Ok(drain(master.as_ref(), 128 + sig as i32));
            }
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context(format!("wait for pid {pid}"))),
        }
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(m) = master.as_ref().filter(|_| master_open) {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context("poll")),
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sig_ready, mut next) = (ready(0), 1);
        if let Some(m) = master.as_ref() {
            if master_open {
                if ready(next) {
                    master_open = relay(m.as_fd(), stdout.as_fd());
                }
                next += 1;
            }
            if stdin_open && ready(next) {
                stdin_open = relay(stdin.as_fd(), m.as_fd());
            }
        }
        if !sig_ready {
            continue;
        }
        match sfd.read_signal() {
            Ok(Some(info)) => {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32)
                    && sig != Signal::SIGCHLD
                {
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
            Ok(None) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context("read signalfd")),
        }
    }
}

/// Copy what the container's terminal still holds, then pass `code` on.
fn drain(master: Option<&OwnedFd>, code: i32) -> i32 {
    if let Some(m) = master {
        use std::os::fd::AsFd;
        let flags = nix::fcntl::OFlag::O_NONBLOCK;
        let _ = nix::fcntl::fcntl(m.as_fd(), nix::fcntl::FcntlArg::F_SETFL(flags));
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        while let Ok(n @ 1..) = nix::unistd::read(m.as_fd(), &mut buf) {
            if out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = out.flush();
    }
    code
}
