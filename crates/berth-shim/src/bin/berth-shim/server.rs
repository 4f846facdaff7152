//! The event loop: one `poll` over the signalfd, the listening socket, the processes' output
//! and stdin fds and the clients. No threads, no async runtime. This module moves the bytes
//! (output to the log and attached clients, input to stdin, request lines to `requests`);
//! `requests` answers them; `exits` reaps and records.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use berth_shim::logfile::LogWriter;
use berth_shim::protocol::{MAX_REQUEST_LINE, Request, StreamKind};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::backend::Backend;
use crate::conn::{Conn, Input, Mode};
use crate::proc::{Proc, READ_CHUNK};

mod exits;
mod requests;

/// The signals the loop takes through its signalfd. SIGPIPE is blocked (and drained) rather
/// than ignored, because an ignored disposition would be inherited by the container.
fn loop_signals() -> SigSet {
    let mut s = SigSet::empty();
    s.add(Signal::SIGCHLD);
    s.add(Signal::SIGPIPE);
    s
}

/// Who the shim serves.
pub struct Config {
    /// The container id.
    pub id: String,
    /// The shim's state directory (exit.json goes there).
    pub state_dir: PathBuf,
    /// The container's process already runs (no `--defer-start`).
    pub started: bool,
    /// The container has a stdin pipe.
    pub stdin: bool,
}

/// The shim's state while it serves.
pub struct Shim<B: Backend> {
    id: String,
    state_dir: PathBuf,
    backend: B,
    started: bool,
    stdin: bool,
    procs: Vec<Proc>,
    conns: Vec<Option<Conn>>,
    listener: UnixListener,
    sigfd: SignalFd,
    log: Option<LogWriter>,
    shutdown: bool,
    /// A client was served since the resident set was last trimmed.
    trim_pending: bool,
}

/// What one read of a process's output produced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    Data,
    Empty,
    End,
}

#[derive(Clone, Copy)]
enum Tag {
    Signal,
    Listener,
    Out(usize, usize),
    Stdin(usize),
    Conn(usize),
}

impl<B: Backend> Shim<B> {
    /// Take over a created container. `init` is the container's init (index 0). Blocks
    /// SIGCHLD and SIGPIPE in the calling thread and opens the signalfd.
    pub fn new(
        cfg: Config,
        backend: B,
        init: Proc,
        listener: UnixListener,
        log: Option<LogWriter>,
    ) -> anyhow::Result<Self> {
        listener.set_nonblocking(true)?;
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&loop_signals()), None)?;
        let sigfd = SignalFd::with_flags(
            &loop_signals(),
            SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
        )?;
        Ok(Shim {
            id: cfg.id,
            state_dir: cfg.state_dir,
            backend,
            started: cfg.started,
            stdin: cfg.stdin,
            procs: vec![init],
            conns: Vec::new(),
            listener,
            sigfd,
            log,
            shutdown: false,
            trim_pending: false,
        })
    }

    /// Serve until a `shutdown` request.
    pub fn run(&mut self) -> anyhow::Result<()> {
        while !self.shutdown {
            self.reap();
            self.close_finished();
            let ready = self.wait_ready()?;
            if ready.is_empty() {
                // idle for a while after serving clients: give back what serving them touched
                crate::sys::trim_heap();
                crate::sys::drop_clean_file_pages();
                self.trim_pending = false;
            }
            for (tag, ev) in ready {
                self.trim_pending |= matches!(tag, Tag::Listener | Tag::Conn(_));
                self.handle(tag, ev);
            }
        }
        // deliver the shutdown reply before the sockets close
        for c in self.conns.iter_mut().flatten() {
            c.flush();
        }
        Ok(())
    }

    fn wait_ready(&self) -> anyhow::Result<Vec<(Tag, PollFlags)>> {
        let mut want: Vec<(Tag, BorrowedFd<'_>, PollFlags)> = Vec::with_capacity(8);
        let mut add = |tag, fd, ev| want.push((tag, fd, ev));
        add(Tag::Signal, self.sigfd.as_fd(), PollFlags::POLLIN);
        add(Tag::Listener, self.listener.as_fd(), PollFlags::POLLIN);
        for (i, p) in self.procs.iter().enumerate() {
            for (s, fd) in p.out.iter().enumerate() {
                if let Some(fd) = fd {
                    add(Tag::Out(i, s), fd.as_fd(), PollFlags::POLLIN);
                }
            }
            if let (Some(fd), true) = (&p.stdin, p.stdin_blocked()) {
                add(Tag::Stdin(i), fd.as_fd(), PollFlags::POLLOUT);
            }
        }
        for (i, c) in self.conns.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut ev = PollFlags::empty();
            if !c.read_closed && !self.input_blocked(c) {
                ev |= PollFlags::POLLIN;
            }
            if !c.out.is_empty() {
                ev |= PollFlags::POLLOUT;
            }
            add(Tag::Conn(i), c.stream.as_fd(), ev);
        }
        let tags: Vec<Tag> = want.iter().map(|w| w.0).collect();
        let mut fds: Vec<PollFd<'_>> = want.iter().map(|w| PollFd::new(w.1, w.2)).collect();
        // with a trim pending, wake up after a second of quiet to do it
        let timeout = if self.trim_pending {
            PollTimeout::from(1000u16)
        } else {
            PollTimeout::NONE
        };
        loop {
            match poll(&mut fds, timeout) {
                Ok(_) => break,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(tags
            .into_iter()
            .zip(fds.iter())
            .filter_map(|(t, f)| f.revents().filter(|r| !r.is_empty()).map(|r| (t, r)))
            .collect())
    }

    /// A client feeding a stdin with a backlog waits until the process takes it.
    fn input_blocked(&self, c: &Conn) -> bool {
        match c.mode {
            Mode::Attached(a) if a.stdin => self.procs.get(a.proc).is_some_and(Proc::stdin_blocked),
            _ => false,
        }
    }

    fn handle(&mut self, tag: Tag, ev: PollFlags) {
        match tag {
            Tag::Signal => while let Ok(Some(_)) = self.sigfd.read_signal() {},
            Tag::Listener => self.accept(),
            Tag::Out(i, s) => {
                if self.read_output(i, s) == Read::End {
                    self.procs[i].out[s] = None;
                }
            }
            Tag::Stdin(i) => self.procs[i].flush_stdin(),
            Tag::Conn(i) => self.conn_event(i, ev),
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    if let Ok(c) = Conn::new(s) {
                        match self.conns.iter().position(Option::is_none) {
                            Some(i) => self.conns[i] = Some(c),
                            None => self.conns.push(Some(c)),
                        }
                    }
                }
                Err(_) => return,
            }
        }
    }

    /// Read one chunk of output and hand it to the log and the attached clients.
    fn read_output(&mut self, i: usize, s: usize) -> Read {
        let mut buf = [0u8; READ_CHUNK];
        let Some(fd) = &self.procs[i].out[s] else {
            return Read::End;
        };
        let n = match nix::unistd::read(fd, &mut buf) {
            Ok(0) => return Read::End,
            Ok(n) => n,
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => return Read::Empty,
            // EIO: the PTY's slave side is closed
            Err(_) => return Read::End,
        };
        let kind = if s == 1 {
            StreamKind::Stderr
        } else {
            StreamKind::Stdout
        };
        let data = &buf[..n];
        if i == 0
            && let Some(log) = &mut self.log
            && let Err(e) = log.write(kind, data)
        {
            eprintln!("berth-shim: write log: {e}");
        }
        for c in self.conns.iter_mut().flatten() {
            if let Mode::Attached(a) = c.mode
                && a.proc == i
                && (if s == 1 { a.stderr } else { a.stdout })
            {
                c.output(kind, data, a.tty);
            }
        }
        Read::Data
    }

    fn conn_event(&mut self, i: usize, ev: PollFlags) {
        let Some(mut c) = self.conns[i].take() else {
            return;
        };
        if ev.contains(PollFlags::POLLOUT) {
            c.flush();
        }
        if ev.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
            && !c.read_closed
        {
            let mut buf = [0u8; 4096];
            match c.read(&mut buf) {
                Input::Data(n) => self.conn_input(&mut c, &buf[..n]),
                Input::WouldBlock => {}
                Input::Eof => self.conn_eof(&mut c),
            }
        } else if ev.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            // the client has closed both directions
            c.dead = true;
        }
        self.conns[i] = Some(c);
    }

    fn conn_input(&mut self, c: &mut Conn, data: &[u8]) {
        match c.mode {
            Mode::Attached(a) => {
                if a.stdin
                    && let Some(p) = self.procs.get_mut(a.proc)
                {
                    p.feed_stdin(data);
                }
            }
            Mode::Request | Mode::Waiting(_) => {
                c.inbuf.extend_from_slice(data);
                self.process_requests(c);
            }
        }
    }

    fn conn_eof(&mut self, c: &mut Conn) {
        match c.mode {
            Mode::Attached(a) => {
                if a.stdin
                    && a.close_stdin
                    && let Some(p) = self.procs.get_mut(a.proc)
                    && !p.tty
                {
                    p.stdin_close = true;
                    p.flush_stdin();
                }
            }
            // a client that stopped sending gets its pending replies, then the end
            Mode::Request => c.close_after_flush = true,
            Mode::Waiting(_) => {}
        }
    }

    /// Handle every complete request line while the connection reads requests.
    fn process_requests(&mut self, c: &mut Conn) {
        while c.mode == Mode::Request && !c.close_after_flush && !c.dead {
            let Some(nl) = c.inbuf.iter().position(|&b| b == b'\n') else {
                if c.inbuf.len() > MAX_REQUEST_LINE {
                    c.inbuf = Vec::new();
                    c.fail("request line too long");
                }
                return;
            };
            let line: Vec<u8> = c.inbuf.drain(..=nl).collect();
            match serde_json::from_slice::<Request>(&line) {
                Ok(req) => self.request(c, req),
                Err(e) => c.fail(format!("malformed request: {e}")),
            }
        }
        if c.inbuf.is_empty() {
            c.inbuf = Vec::new();
        }
    }

    fn close_finished(&mut self) {
        for slot in &mut self.conns {
            if slot.as_ref().is_some_and(Conn::finished) {
                *slot = None;
            }
        }
        while matches!(self.conns.last(), Some(None)) {
            self.conns.pop();
        }
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
