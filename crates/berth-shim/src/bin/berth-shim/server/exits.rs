//! Exits: reap every exited child, and for the ones the shim watches drain their output,
//! record the status (the container's init: OOM, delete, log end, exit.json) and answer the
//! clients waiting for it.

use berth_shim::protocol::Response;
use berth_shim::status::{self, ExitStatus};
use berth_shim::time;
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::{Read, Shim};
use crate::backend::Backend;
use crate::conn::Mode;

impl<B: Backend> Shim<B> {
    /// Reap every exited child; record the ones we watch.
    pub(super) fn reap(&mut self) {
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
}
