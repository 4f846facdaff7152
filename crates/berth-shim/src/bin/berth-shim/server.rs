//! The event loop: one `poll` over the signalfd, the listening socket, the processes' output
//! and stdin fds and the clients. No threads, no async runtime.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use berth_shim::logfile::LogWriter;
use berth_shim::protocol::{
    AttachRequest, ExecRequest, ExecState, MAX_REQUEST_LINE, Request, Response, ShimState,
    SignalRequest, Status, StreamKind,
};
use berth_shim::status::{self, ExitStatus};
use berth_shim::time;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::backend::Backend;
use crate::conn::{Attach, Conn, Input, Mode};
use crate::proc::{Proc, READ_CHUNK, plumbing};

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

    fn find(&self, exec_id: Option<&str>) -> Result<usize, String> {
        match exec_id {
            None => Ok(0),
            Some(id) => self
                .procs
                .iter()
                .position(|p| p.exec_id.as_deref() == Some(id))
                .ok_or_else(|| format!("no such exec: {id}")),
        }
    }

    fn request(&mut self, c: &mut Conn, req: Request) {
        let r = match req {
            Request::State => Ok(Response {
                state: Some(self.state()),
                ..Response::ok()
            }),
            Request::Start => self.start(),
            Request::Signal(s) => self.signal(&s),
            Request::Resize(r) => self.find(r.exec_id.as_deref()).and_then(|i| {
                if r.width == 0 || r.height == 0 {
                    return Err(format!("invalid terminal size {}x{}", r.width, r.height));
                }
                match &self.procs[i].pty {
                    Some(pty) => crate::sys::set_winsize(pty.as_fd(), r.width, r.height)
                        .map(|()| Response::ok())
                        .map_err(|e| format!("resize terminal: {e}")),
                    None if self.procs[i].exit.is_some() => Err("process has exited".into()),
                    None => Err("process has no terminal".into()),
                }
            }),
            Request::Wait(w) => match self.find(w.exec_id.as_deref()) {
                Ok(i) => match &self.procs[i].exit {
                    Some(s) => Ok(Response {
                        status: Some(s.clone()),
                        ..Response::ok()
                    }),
                    None => {
                        c.mode = Mode::Waiting(i);
                        return;
                    }
                },
                Err(e) => Err(e),
            },
            Request::Attach(a) => match self.attach(&a) {
                Ok(att) => {
                    c.reply(&Response {
                        tty: Some(att.tty),
                        ..Response::ok()
                    });
                    c.mode = Mode::Attached(att);
                    return;
                }
                Err(e) => Err(e),
            },
            Request::Exec(e) => match self.exec(&e) {
                Ok((pid, att)) => {
                    c.reply(&Response {
                        pid: Some(pid),
                        tty: Some(att.tty),
                        ..Response::ok()
                    });
                    if !e.detach {
                        c.mode = Mode::Attached(att);
                    }
                    return;
                }
                Err(e) => Err(e),
            },
            Request::Shutdown => self.request_shutdown(),
        };
        match r {
            Ok(resp) => c.reply(&resp),
            Err(e) => c.reply(&Response::error(e)),
        }
    }

    fn status(&self) -> Status {
        if self.procs[0].exit.is_some() {
            Status::Stopped
        } else if self.started {
            Status::Running
        } else {
            Status::Created
        }
    }

    fn state(&self) -> ShimState {
        let init = &self.procs[0];
        ShimState {
            id: self.id.clone(),
            shim_pid: std::process::id() as i32,
            pid: init.pid.as_raw(),
            status: self.status(),
            tty: init.tty,
            stdin: self.stdin,
            exit: init.exit.clone(),
            execs: self.procs[1..]
                .iter()
                .map(|p| ExecState {
                    exec_id: p.exec_id.clone().unwrap_or_default(),
                    pid: p.pid.as_raw(),
                    tty: p.tty,
                    exit: p.exit.clone(),
                })
                .collect(),
        }
    }

    fn start(&mut self) -> Result<Response, String> {
        if self.status() != Status::Created {
            return Err("container is already started".into());
        }
        self.backend
            .start()
            .map_err(|e| format!("start container: {e:#}"))?;
        self.started = true;
        Ok(Response::ok())
    }

    fn signal(&mut self, s: &SignalRequest) -> Result<Response, String> {
        let sig = Signal::try_from(s.signal).map_err(|_| format!("invalid signal {}", s.signal))?;
        let i = self.find(s.exec_id.as_deref())?;
        if self.procs[i].exit.is_some() {
            return Err("process has exited".into());
        }
        if i == 0 {
            self.backend
                .kill(sig, s.all)
                .map_err(|e| format!("signal container: {e:#}"))?;
        } else {
            nix::sys::signal::kill(self.procs[i].pid, sig)
                .map_err(|e| format!("signal exec: {e}"))?;
        }
        Ok(Response::ok())
    }

    fn attach(&self, a: &AttachRequest) -> Result<Attach, String> {
        let i = self.find(a.exec_id.as_deref())?;
        let p = &self.procs[i];
        if p.exit.is_some() {
            return Err("process has exited".into());
        }
        Ok(Attach {
            proc: i,
            stdin: a.stdin,
            stdout: a.stdout,
            stderr: a.stderr,
            close_stdin: a.close_stdin,
            tty: p.tty,
        })
    }

    fn exec(&mut self, e: &ExecRequest) -> Result<(i32, Attach), String> {
        if self.status() != Status::Running {
            return Err(format!("container {} is not running", self.id));
        }
        if self.find(Some(&e.exec_id)).is_ok() {
            return Err(format!("exec {} already exists", e.exec_id));
        }
        let tty = e.process.terminal().unwrap_or(false);
        let (stdin, stdout, stderr) = if e.detach {
            (false, false, false)
        } else {
            (e.stdin, e.stdout, e.stderr)
        };
        let proc = if tty {
            let spawned = self.unblocked(|b| b.exec(&e.process, None))?;
            Proc::with_pty(Some(e.exec_id.clone()), spawned).map_err(|e| format!("{e:#}"))?
        } else {
            let pl = plumbing(stdin, stdout, stderr).map_err(|e| format!("{e:#}"))?;
            let spawned = self.unblocked(|b| b.exec(&e.process, Some(pl.child)))?;
            Proc::with_pipes(Some(e.exec_id.clone()), spawned.pid, pl.stdin, pl.out)
        };
        let pid = proc.pid.as_raw();
        self.procs.push(proc);
        Ok((
            pid,
            Attach {
                proc: self.procs.len() - 1,
                stdin,
                stdout,
                stderr,
                close_stdin: true,
                tty,
            },
        ))
    }

    /// Run a backend call that forks with the loop's signals unblocked, so the new process
    /// does not inherit a blocked SIGCHLD or SIGPIPE. Pending signals are drained first (a
    /// pending SIGPIPE would otherwise kill the shim); reaping catches up afterwards.
    fn unblocked<T>(&mut self, f: impl FnOnce(&B) -> anyhow::Result<T>) -> Result<T, String> {
        while let Ok(Some(_)) = self.sigfd.read_signal() {}
        let set = loop_signals();
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
        let r = f(&self.backend);
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
        r.map_err(|e| format!("exec in container: {e:#}"))
    }

    fn request_shutdown(&mut self) -> Result<Response, String> {
        match self.status() {
            Status::Running => return Err(format!("container {} is running", self.id)),
            Status::Created => {
                // never started: remove it from the runtime; there is no exit to record
                self.backend
                    .delete()
                    .map_err(|e| format!("delete container: {e:#}"))?;
            }
            Status::Stopped => {}
        }
        self.shutdown = true;
        Ok(Response::ok())
    }

    /// Reap every exited child; record the ones we watch.
    fn reap(&mut self) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.exited(pid, ExitStatus::exited(code, time::now()))
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.exited(pid, ExitStatus::signaled(sig as i32, time::now()))
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
    }

    fn exited(&mut self, pid: Pid, mut st: ExitStatus) {
        let Some(i) = self
            .procs
            .iter()
            .position(|p| p.pid == pid && p.exit.is_none())
        else {
            return; // an orphan we adopted as subreaper
        };
        // drain what the process wrote before it went
        for s in 0..2 {
            while self.read_output(i, s) == Read::Data {}
            self.procs[i].out[s] = None;
        }
        let p = &mut self.procs[i];
        p.stdin = None;
        p.stdin_pending = Vec::new();
        p.pty = None;
        if i == 0 {
            st.oom_killed = self.backend.oom_killed();
            if let Err(e) = self.backend.delete() {
                eprintln!("berth-shim: delete container: {e:#}");
            }
            if let Some(log) = &mut self.log
                && let Err(e) = log.finish()
            {
                eprintln!("berth-shim: write log: {e}");
            }
            self.log = None;
            if let Err(e) = status::write(&self.state_dir, &st) {
                eprintln!("berth-shim: {e}");
            }
        }
        self.procs[i].exit = Some(st.clone());
        for c in self.conns.iter_mut().flatten() {
            match c.mode {
                Mode::Waiting(w) if w == i => {
                    c.reply(&Response {
                        status: Some(st.clone()),
                        ..Response::ok()
                    });
                    c.mode = Mode::Request;
                }
                Mode::Attached(a) if a.proc == i => c.close_after_flush = true,
                _ => {}
            }
        }
        // requests that arrived while waiting
        for k in 0..self.conns.len() {
            if let Some(mut c) = self.conns[k].take() {
                if c.mode == Mode::Request && !c.inbuf.is_empty() {
                    self.process_requests(&mut c);
                }
                self.conns[k] = Some(c);
            }
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
