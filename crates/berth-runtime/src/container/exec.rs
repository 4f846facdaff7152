//! `exec`: start another process in a running container. The caller's `pid_for_children` is
//! switched to the container's pid namespace around the clone (`clone3` into the container's
//! cgroup2 directory, or a plain `clone` where that is refused), so the new process is a
//! direct child of the caller and a member of the container's pid namespace; it is born in the
//! container's cgroup2 directory and moves itself into the v1 hierarchies (the parent does what
//! is left), joins the container's other namespaces (user first, mount last) through
//! `/proc/<pid>/ns/*`, and applies the same security settings as the
//! init (seccomp from the container's spec, the process's capabilities, user, no_new_privs).
//! Success is the sync channel's end-of-file at `execve`; a failure comes back as text.

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use super::clone::{clone_child, single_threaded};
use super::handshake::{Until, await_joined, recv_until};
use super::{ConsoleMode, Container, compile_seccomp};
use crate::error::Error;
use crate::init::{InitError, render};
use crate::namespaces::Plan;
use crate::process::ProcessError;
use crate::seccomp::SeccompProgram;
use crate::state::Status;
use crate::sync::{Channel, Message, Remote};
use crate::sys::Forked;

/// How `exec` wires up the new process's stdio and terminal.
#[derive(Debug)]
pub struct ExecOptions {
    /// stdin, stdout, stderr; None = inherit the caller's 0, 1, 2.
    pub stdio: Option<[OwnedFd; 3]>,
    /// Where the PTY master goes when process.terminal is true.
    pub console: ConsoleMode,
}

/// A started exec'd process.
#[derive(Debug)]
pub struct Exec {
    /// Its pid (host view); a child of the caller.
    pub pid: Pid,
    /// The PTY master with process.terminal and ConsoleMode::Return.
    pub pty_master: Option<OwnedFd>,
}

impl Container {
    /// Start `process` inside the running container.
    pub fn exec(&self, process: &Process, opts: ExecOptions) -> Result<Exec, Error> {
        let status = self.state()?.status;
        if status != Status::Running && status != Status::Created {
            return Err(Error::Status {
                id: self.id().into(),
                status,
                want: "running",
            });
        }
        let bundle = crate::spec::load(self.bundle())?;
        let init_pid = self
            .pid()
            .ok_or_else(|| Error::NotFound(self.id().into()))?;
        let list = crate::spec::namespaces(&bundle.spec);
        let plan = crate::namespaces::plan_exec(init_pid, &list)?;
        let seccomp = match bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
        {
            Some(s) => Some(compile_seccomp(s, &self.dir)?),
            None => None,
        };
        let cgroup = self.cgroup()?;
        let (parent_chan, child_chan) = crate::sync::pair()?;
        single_threaded()?;
        let (forked, v2_done) = clone_child(0, plan.pid.as_ref(), &cgroup)?;
        let pid = match forked {
            Forked::Child => {
                drop(parent_chan);
                child(ChildArgs {
                    cgroup: &cgroup,
                    process,
                    plan: &plan,
                    chan: &child_chan,
                    seccomp: seccomp.as_ref(),
                    stdio: opts.stdio.as_ref(),
                })
            }
            Forked::Parent(pid) => pid,
        };
        drop(child_chan);
        drop(opts.stdio);
        match parent(
            self.id(),
            pid,
            &cgroup,
            v2_done,
            &parent_chan,
            &opts.console,
        ) {
            Ok(pty_master) => Ok(Exec { pid, pty_master }),
            Err(e) => {
                // A process that reported an error exits by itself, with the code to keep.
                if !matches!(e, Error::Init { .. }) {
                    let _ = kill(pid, Signal::SIGKILL);
                }
                let code = match waitpid(pid, None) {
                    Ok(WaitStatus::Exited(_, code)) => code,
                    _ => 1,
                };
                Err(match e {
                    Error::Init { id, message, .. } => Error::Init {
                        id,
                        message,
                        exit_code: code,
                    },
                    other => other,
                })
            }
        }
    }
}

/// The parent's part: once the child moved itself into the v1 hierarchies, the rest of the
/// cgroup (the cgroup2 directory unless the child was born there), then `Go`.
fn parent(
    id: &str,
    pid: Pid,
    cgroup: &crate::cgroups::AnyCgroupManager,
    v2_done: bool,
    chan: &Channel,
    console: &ConsoleMode,
) -> Result<Option<OwnedFd>, Error> {
    await_joined(id, chan)?;
    cgroup.add_task_rest(pid, true, v2_done)?;
    chan.send(&Message::Go)?;
    recv_until(id, chan, console, Until::Eof)
}

struct ChildArgs<'a> {
    cgroup: &'a crate::cgroups::AnyCgroupManager,
    process: &'a Process,
    plan: &'a Plan,
    chan: &'a Channel,
    seccomp: Option<&'a SeccompProgram>,
    stdio: Option<&'a [OwnedFd; 3]>,
}

fn child(a: ChildArgs<'_>) -> ! {
    let err = match setup(&a) {
        Ok(program) => crate::process::exec(&program).into(),
        Err(e) => e,
    };
    let code = match &err {
        InitError::Process(p) => p.exit_code(),
        _ => 1,
    };
    let _ = a.chan.send(&Message::Error(render(&err)));
    crate::sys::exit_now(code)
}

fn setup(a: &ChildArgs<'_>) -> Result<crate::process::Program, InitError> {
    // Still root in the host's user namespace: move into the v1 hierarchies ourselves, the
    // cheap way (see `AnyCgroupManager::join_self`).
    a.cgroup.join_self().map_err(InitError::Cgroup)?;
    a.chan.send(&Message::Joined).map_err(InitError::Sync)?;
    match a.chan.expect(Message::Go) {
        Ok(_) => {}
        Err(Remote::Sync(e)) => return Err(InitError::Sync(e)),
        Err(Remote::Failed(text)) => return Err(InitError::Parent(text)),
    }
    if let Some(stdio) = a.stdio {
        crate::terminal::set_stdio([stdio[0].as_fd(), stdio[1].as_fd(), stdio[2].as_fd()])?;
    }
    crate::namespaces::join_all(a.plan)?;
    let process = a.process;
    crate::init::new_session(process, a.chan, false)?;
    let program = crate::process::prepare(process, a.seccomp)?;
    if process.no_new_privileges() == Some(true)
        && let Some(p) = a.seccomp
    {
        crate::seccomp::load(p).map_err(ProcessError::Seccomp)?;
    }
    crate::sys::reset_signals().map_err(ProcessError::Signals)?;
    crate::sys::cloexec_from_3().map_err(ProcessError::CloseFds)?;
    Ok(program)
}
