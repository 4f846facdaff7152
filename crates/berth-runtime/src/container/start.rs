//! `start`: release a created init blocked on opening `exec.fifo` for writing. Opening the
//! fifo for reading (non-blocking) lets the init's open complete; the init writes one byte,
//! which says it is past its last check; then the fifo is removed, so the status reads
//! `running`.

use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, read};

use super::Container;
use crate::error::Error;
use crate::state::{Record, Status};
use crate::sync::Remote;

impl Container {
    /// Release the init: it loads seccomp and execs the process. When this process created the
    /// container, an exec failure (e.g. the program vanished) is returned.
    pub fn start(&self) -> Result<(), Error> {
        self.require(&[Status::Created], "created")?;
        release(self.id(), &self.dir, &self.record)?;
        if let Some(chan) = &self.chan {
            match chan.expect_eof() {
                Ok(()) => {}
                Err(Remote::Failed(message)) => {
                    let exit_code = self.reap_exit_code();
                    return Err(Error::Init {
                        id: self.id().into(),
                        message,
                        exit_code,
                    });
                }
                Err(Remote::Sync(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The exit code of the init that just failed to exec; it stays unreaped for the caller
    /// when it is not ours to reap.
    fn reap_exit_code(&self) -> i32 {
        let pid = Pid::from_raw(self.record.pid);
        match waitpid(pid, Some(WaitPidFlag::WNOWAIT | WaitPidFlag::WEXITED)) {
            Ok(WaitStatus::Exited(_, code)) => code,
            _ => 1,
        }
    }
}

/// Release the init of the container in `dir`.
fn release(id: &str, dir: &Path, record: &Record) -> Result<(), Error> {
    let path = dir.join("exec.fifo");
    let fd = open(
        &path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::Fifo(path.clone(), e))?;
    let mut byte = [0u8; 1];
    loop {
        match read(&fd, &mut byte) {
            Ok(1) => break,
            Ok(_) | Err(nix::Error::EAGAIN) => {}
            Err(e) => return Err(Error::Fifo(path, e)),
        }
        if !record.alive() {
            return Err(Error::ExitedBeforeStart(id.into()));
        }
        let mut fds = [PollFd::new(
            std::os::fd::AsFd::as_fd(&fd),
            PollFlags::POLLIN,
        )];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(Error::Fifo(path, e)),
        }
        // A writer that came and went without writing leaves POLLHUP set forever: pace it.
        if fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLHUP) && !r.contains(PollFlags::POLLIN))
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    std::fs::remove_file(&path).map_err(|e| {
        Error::Fifo(
            path,
            nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        )
    })?;
    Ok(())
}
