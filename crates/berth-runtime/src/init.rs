//! The container's init, from `clone` to `execve`, in runc's order: wait for the parent (user
//! mappings written, cgroup joined), join or unshare the remaining namespaces, bring `lo` up in
//! a new network namespace, set up and `pivot_root` into the rootfs, the terminal, hostname,
//! sysctls, masked and read-only paths, OOM score, rlimits, user and capabilities,
//! no_new_privs; report ready, wait for `start`, load seccomp last and exec.
//!
//! Runs in the freshly cloned child only; every failure is sent to the parent as text over the
//! sync channel and ends the child.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid, setresgid, setresuid};
use oci_spec::runtime::{Process, Spec};

use crate::cgroups::{AnyCgroupManager, CgroupMount};
use crate::namespaces::{NamespaceError, Plan};
use crate::process::ProcessError;
use crate::rootfs::{self, RootfsError};
use crate::seccomp::SeccompProgram;
use crate::spec::Bundle;
use crate::sync::{Channel, Message, Remote};
use crate::terminal::TerminalError;

/// A step of the init failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The parent went away or sent nonsense.
    #[error("wait for the runtime")]
    Sync(#[source] crate::sync::SyncError),
    /// The parent reported a failure while we waited.
    #[error("runtime failed: {0}")]
    Parent(String),
    /// Becoming root of the new user namespace failed.
    #[error("become root in the user namespace")]
    UserNsRoot(#[source] nix::Error),
    /// A namespace step failed.
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    /// The root filesystem set-up failed.
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    /// The terminal set-up failed.
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    /// A process setting failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// sethostname(2) failed.
    #[error("hostname: set {0:?}")]
    Hostname(String, #[source] nix::Error),
    /// setdomainname(2) failed.
    #[error("domainname: set {0:?}")]
    Domainname(String, #[source] nix::Error),
    /// Writing a sysctl failed.
    #[error("linux.sysctl {0}: write")]
    Sysctl(String, #[source] std::io::Error),
    /// A sysctl name that would escape /proc/sys.
    #[error("linux.sysctl {0}: invalid name")]
    SysctlName(String),
    /// setsid(2) failed.
    #[error("setsid")]
    Setsid(#[source] nix::Error),
    /// The container needs a mount namespace.
    #[error("linux.namespaces: a mount namespace is required")]
    NoMountNamespace,
    /// Waiting on exec.fifo for `start` failed.
    #[error("wait for start on exec.fifo")]
    Fifo(#[source] nix::Error),
    /// Moving into the container's cgroup failed.
    #[error("join the container's cgroup")]
    Cgroup(#[source] crate::cgroups::CgroupError),
    /// Bringing up `lo` in the new network namespace failed.
    #[error("bring up the loopback interface")]
    Loopback(#[source] nix::Error),
    /// Sending the PTY master to the parent failed.
    #[error("send the pty master to the runtime")]
    SendPty(#[source] crate::sync::SyncError),
}

/// Everything the init needs, prepared by the parent before `clone`.
pub struct Init<'a> {
    /// The bundle and spec.
    pub bundle: &'a Bundle,
    /// The namespace plan (joined namespaces opened).
    pub plan: &'a Plan,
    /// The child's end of the sync channel.
    pub chan: &'a Channel,
    /// exec.fifo, opened `O_PATH`; reopened for writing to wait for `start`.
    pub fifo: Option<&'a OwnedFd>,
    /// The cgroup hierarchies for a `cgroup` mount.
    pub cgroup_mounts: &'a [CgroupMount],
    /// The cgroup the init moves itself into first; `None` when the parent moves it.
    pub join_cgroup: Option<&'a AnyCgroupManager>,
    /// The compiled seccomp filter.
    pub seccomp: Option<&'a SeccompProgram>,
    /// The container's stdio; None keeps the inherited 0, 1, 2.
    pub stdio: Option<&'a [OwnedFd; 3]>,
}

/// Run the init; never returns (exec or exit).
pub fn run(init: Init<'_>) -> ! {
    let err = match setup(&init) {
        Ok(program) => finish(&init, &program),
        Err(e) => e,
    };
    let code = match &err {
        InitError::Process(p) => p.exit_code(),
        _ => 1,
    };
    let _ = init.chan.send(&Message::Error(render(&err)));
    crate::sys::exit_now(code)
}

/// An error and its sources, joined with ": ".
pub fn render(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn wait_for(chan: &Channel, msg: Message) -> Result<(), InitError> {
    match chan.expect(msg) {
        Ok(_) => Ok(()),
        Err(Remote::Sync(e)) => Err(InitError::Sync(e)),
        Err(Remote::Failed(text)) => Err(InitError::Parent(text)),
    }
}

fn setup(init: &Init<'_>) -> Result<crate::process::Program, InitError> {
    let spec: &Spec = &init.bundle.spec;
    let process: &Process = spec.process().as_ref().ok_or(InitError::NoMountNamespace)?;
    if let Some(cgroup) = init.join_cgroup {
        cgroup.join_self().map_err(InitError::Cgroup)?;
        init.chan.send(&Message::Joined).map_err(InitError::Sync)?;
    }
    if init.plan.new_user {
        wait_for(init.chan, Message::Mapped)?;
    }
    if let Some(stdio) = init.stdio {
        crate::terminal::set_stdio([stdio[0].as_fd(), stdio[1].as_fd(), stdio[2].as_fd()])?;
    }
    if init.plan.new_user {
        let root_gid = Gid::from_raw(0);
        let root_uid = Uid::from_raw(0);
        setresgid(root_gid, root_gid, root_gid).map_err(InitError::UserNsRoot)?;
        setresuid(root_uid, root_uid, root_uid).map_err(InitError::UserNsRoot)?;
    }
    crate::namespaces::join_all(init.plan)?;
    if init
        .plan
        .clone_flags
        .contains(nix::sched::CloneFlags::CLONE_NEWNET)
    {
        // A new network namespace starts with `lo` down; containers expect 127.0.0.1.
        crate::sys::loopback_up().map_err(InitError::Loopback)?;
    }
    if !init.plan.new_mount {
        return Err(InitError::NoMountNamespace);
    }
    nix::sys::stat::umask(Mode::empty());
    // The parent puts us in the cgroup meanwhile (unless we joined it above); we wait for it
    // only where it matters.
    let in_cgroup = std::cell::Cell::new(false);
    let gate = || -> Result<(), RootfsError> {
        if !in_cgroup.get() {
            wait_for(init.chan, Message::Go).map_err(|e| RootfsError::Gate(Box::new(e)))?;
            if init.plan.new_cgroup {
                crate::namespaces::unshare_cgroup().map_err(|e| RootfsError::Gate(Box::new(e)))?;
            }
            in_cgroup.set(true);
        }
        Ok(())
    };
    let mut ctx = rootfs::Context {
        rootfs: &init.bundle.rootfs,
        bundle: &init.bundle.path,
        cgroup_mounts: init.cgroup_mounts,
        user_ns: init.plan.new_user || init.plan.user.is_some(),
        cgroup_ns: init.plan.new_cgroup,
        gate: &gate,
    };
    let deferred = rootfs::prepare(spec, &ctx)?;
    rootfs::pivot(&init.bundle.rootfs)?;
    gate()?;
    ctx.rootfs = std::path::Path::new("/");
    rootfs::mount_deferred(&deferred, &ctx)?;
    new_session(process, init.chan, true)?;
    if let Some(name) = spec.hostname() {
        nix::unistd::sethostname(name).map_err(|e| InitError::Hostname(name.clone(), e))?;
    }
    if let Some(name) = spec.domainname() {
        crate::sys::set_domainname(name).map_err(|e| InitError::Domainname(name.clone(), e))?;
    }
    if let Some(sysctl) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) {
        for (key, value) in sysctl {
            write_sysctl(key, value)?;
        }
    }
    rootfs::finish(spec)?;
    Ok(crate::process::prepare(process, init.seccomp)?)
}

/// Start the process's session: with `process.terminal`, a new PTY (its slave the
/// controlling terminal, `/dev/console` bound to it with `bind_console`) whose master is sent
/// to the parent; otherwise `setsid`.
pub(crate) fn new_session(
    process: &Process,
    chan: &Channel,
    bind_console: bool,
) -> Result<(), InitError> {
    if process.terminal() == Some(true) {
        let size = process
            .console_size()
            .map(|b| (b.height() as u16, b.width() as u16));
        let master = crate::terminal::setup_in_container(size, bind_console)?;
        chan.send_with(&Message::Pty, Some(master.as_fd()))
            .map_err(InitError::SendPty)?;
    } else {
        nix::unistd::setsid().map_err(InitError::Setsid)?;
    }
    Ok(())
}

/// Report ready, wait for `start`, then seccomp and exec.
fn finish(init: &Init<'_>, program: &crate::process::Program) -> InitError {
    if let Err(e) = init.chan.send(&Message::Ready) {
        return InitError::Sync(e);
    }
    if let Some(fifo) = init.fifo
        && let Err(e) = wait_start(fifo)
    {
        return e;
    }
    let nnp = init
        .bundle
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.no_new_privileges())
        == Some(true);
    if nnp
        && let Some(p) = init.seccomp
        && let Err(e) = crate::seccomp::load(p)
    {
        return ProcessError::Seccomp(e).into();
    }
    if let Err(e) = crate::sys::reset_signals() {
        return ProcessError::Signals(e).into();
    }
    if let Err(e) = crate::sys::cloexec_from_3() {
        return ProcessError::CloseFds(e).into();
    }
    crate::process::exec(program).into()
}

/// Block until `start` opens exec.fifo for reading, then write one byte to release it.
fn wait_start(fifo: &OwnedFd) -> Result<(), InitError> {
    let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    let fd = open(
        path.as_str(),
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(InitError::Fifo)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(b"0").map_err(|e| {
        InitError::Fifo(nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    })?;
    Ok(())
}

fn write_sysctl(key: &str, value: &str) -> Result<(), InitError> {
    if key.is_empty() || key.split(['.', '/']).any(|c| c.is_empty() || c == "..") {
        return Err(InitError::SysctlName(key.into()));
    }
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    std::fs::write(path, value).map_err(|e| InitError::Sysctl(key.into(), e))
}
