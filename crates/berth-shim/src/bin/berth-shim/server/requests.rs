//! The shim's requests (protocol.rs): state, start, signal, resize, wait, attach, exec and
//! shutdown, each answered from the shim's table of processes and the backend.

use std::os::fd::AsFd;

use berth_shim::protocol::{
    AttachRequest, ExecRequest, ExecState, Request, Response, ShimState, SignalRequest, Status,
};
use nix::sys::signal::{SigmaskHow, Signal, pthread_sigmask};

use super::{Shim, loop_signals};
use crate::backend::Backend;
use crate::conn::{Attach, Conn, Mode};
use crate::proc::{Proc, plumbing};

impl<B: Backend> Shim<B> {
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

    /// Answer one request; a `wait` or an `attach` changes what the connection does next.
    pub(super) fn request(&mut self, c: &mut Conn, req: Request) {
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
}
