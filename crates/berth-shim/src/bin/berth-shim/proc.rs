//! A process the shim watches (the container's init or an exec): its stdio ends, its stdin
//! backlog and its exit status.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use anyhow::Context;
use berth_shim::status::ExitStatus;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{Pid, pipe2};

use crate::backend::Spawned;

/// Size of the buffer output is read into.
pub const READ_CHUNK: usize = 16 * 1024;

/// One watched process.
pub struct Proc {
    /// `None` for the container's init.
    pub exec_id: Option<String>,
    /// Host pid (0 until known).
    pub pid: Pid,
    /// The process has a PTY.
    pub tty: bool,
    /// Where stdin bytes go: the pipe's write end or the PTY master.
    pub stdin: Option<OwnedFd>,
    /// Bytes accepted from clients but not yet taken by the process.
    pub stdin_pending: Vec<u8>,
    /// Close stdin once `stdin_pending` is written.
    pub stdin_close: bool,
    /// stdout and stderr read ends (with a PTY: the master as stdout).
    pub out: [Option<OwnedFd>; 2],
    /// The PTY master, for resize.
    pub pty: Option<OwnedFd>,
    /// Set once reaped and drained.
    pub exit: Option<ExitStatus>,
}

/// The ends the shim keeps, and the ones handed to the process.
pub struct Plumbing {
    /// The process's (stdin, stdout, stderr).
    pub child: [OwnedFd; 3],
    /// Our stdin write end, if stdin is a pipe.
    pub stdin: Option<OwnedFd>,
    /// Our stdout and stderr read ends (None where the stream goes to /dev/null).
    pub out: [Option<OwnedFd>; 2],
}

/// Non-blocking.
pub fn set_nonblocking(fd: &OwnedFd) -> nix::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map(drop)
}

fn dev_null(write: bool) -> anyhow::Result<OwnedFd> {
    let f = File::options()
        .read(!write)
        .write(write)
        .open("/dev/null")
        .context("open /dev/null")?;
    Ok(f.into())
}

/// Pipes for a process without a terminal. Unwanted streams are /dev/null.
pub fn plumbing(stdin: bool, stdout: bool, stderr: bool) -> anyhow::Result<Plumbing> {
    let (child_in, our_in) = if stdin {
        let (r, w) = pipe2(OFlag::O_CLOEXEC).context("make stdin pipe")?;
        set_nonblocking(&w).context("make stdin pipe non-blocking")?;
        (r, Some(w))
    } else {
        (dev_null(false)?, None)
    };
    let mut out = [None, None];
    let mut child_out = Vec::with_capacity(2);
    for (i, wanted) in [stdout, stderr].into_iter().enumerate() {
        if wanted {
            let (r, w) = pipe2(OFlag::O_CLOEXEC).context("make output pipe")?;
            set_nonblocking(&r).context("make output pipe non-blocking")?;
            out[i] = Some(r);
            child_out.push(w);
        } else {
            child_out.push(dev_null(true)?);
        }
    }
    let err = child_out.pop().context("stderr end")?;
    let outw = child_out.pop().context("stdout end")?;
    Ok(Plumbing {
        child: [child_in, outw, err],
        stdin: our_in,
        out,
    })
}

impl Proc {
    /// A process with pipes (the child ends already given away).
    pub fn with_pipes(
        exec_id: Option<String>,
        pid: Pid,
        stdin: Option<OwnedFd>,
        out: [Option<OwnedFd>; 2],
    ) -> Self {
        Proc {
            exec_id,
            pid,
            tty: false,
            stdin,
            stdin_pending: Vec::new(),
            stdin_close: false,
            out,
            pty: None,
            exit: None,
        }
    }

    /// A process on a PTY: the master serves as stdin, stdout and for resize.
    pub fn with_pty(exec_id: Option<String>, spawned: Spawned) -> anyhow::Result<Self> {
        let master = spawned.pty.context("the runtime returned no PTY master")?;
        set_nonblocking(&master).context("make PTY master non-blocking")?;
        let out = master.try_clone().context("dup PTY master")?;
        let stdin = master.try_clone().context("dup PTY master")?;
        Ok(Proc {
            exec_id,
            pid: spawned.pid,
            tty: true,
            stdin: Some(stdin),
            stdin_pending: Vec::new(),
            stdin_close: false,
            out: [Some(out), None],
            pty: Some(master),
            exit: None,
        })
    }

    /// Write as much of the stdin backlog as the process takes; closes stdin when asked and
    /// the backlog is empty. A process that closed its stdin drops the backlog.
    pub fn flush_stdin(&mut self) {
        while !self.stdin_pending.is_empty() {
            let Some(fd) = &self.stdin else {
                self.stdin_pending = Vec::new();
                break;
            };
            match nix::unistd::write(fd, &self.stdin_pending) {
                Ok(n) => {
                    self.stdin_pending.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.stdin = None;
                    self.stdin_pending = Vec::new();
                }
            }
        }
        if self.stdin_pending.capacity() > 0 {
            self.stdin_pending = Vec::new();
        }
        if self.stdin_close && !self.tty {
            self.stdin = None;
        }
    }

    /// Queue bytes for stdin and write what the process takes now.
    pub fn feed_stdin(&mut self, data: &[u8]) {
        if self.stdin.is_none() || self.exit.is_some() {
            return;
        }
        self.stdin_pending.extend_from_slice(data);
        self.flush_stdin();
    }

    /// Whether clients feeding stdin must wait for the process to take the backlog.
    pub fn stdin_blocked(&self) -> bool {
        !self.stdin_pending.is_empty()
    }
}
