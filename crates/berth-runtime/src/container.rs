//! The lifecycle: [`Runtime::create`] clones the container's init into its namespaces, puts it
//! in its cgroup and waits until it is set up and blocked on `exec.fifo`; [`Container::start`]
//! (from the same or another process) releases it; then kill, pause, resume, stats and delete.
//!
//! The init is a direct child of the process that called `create`, so that process (the shim)
//! can wait for it. A failed create leaves nothing behind: the child is killed and reaped, the
//! cgroup destroyed and the state directory removed.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxIdMapping;

use crate::cgroups::{AnyCgroupManager, CgroupStats};
use crate::error::Error;
use crate::state::{Record, State, Status, now_rfc3339, proc_stat};
use crate::sync::{Channel, Message, Remote};
use crate::sys::Forked;

/// The runtime: a state root holding one directory per container.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: PathBuf,
}

/// How `create` wires up the container's stdio and terminal.
#[derive(Debug)]
pub struct CreateOptions {
    /// The container's stdin, stdout, stderr; None = inherit the caller's 0, 1, 2.
    pub stdio: Option<[OwnedFd; 3]>,
    /// Used only when process.terminal is true.
    pub console: ConsoleMode,
    /// Where to write the init's pid.
    pub pid_file: Option<PathBuf>,
}

/// Where the PTY master goes.
#[derive(Debug, Clone)]
pub enum ConsoleMode {
    /// Send the PTY master over SCM_RIGHTS to this unix socket (runc's `--console-socket`).
    Socket(PathBuf),
    /// Return it to the caller.
    Return,
}

/// A created container and, with [`ConsoleMode::Return`], its PTY master.
#[derive(Debug)]
pub struct Created {
    /// The container, waiting for `start`.
    pub container: Container,
    /// The PTY master when process.terminal and ConsoleMode::Return.
    pub pty_master: Option<OwnedFd>,
}

/// A container known to the runtime.
#[derive(Debug)]
pub struct Container {
    pub(crate) dir: PathBuf,
    pub(crate) record: Record,
    /// The sync channel to the init when this process created it: reports exec failures.
    chan: Option<Channel>,
}

/// Container ids as runc accepts them.
fn check_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.into()))
    }
}

impl Runtime {
    /// A runtime keeping state under `root` (default /run/berth-runtime).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { root: root.into() }
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Create a container from a bundle: its init is set up and waits for `start`.
    pub fn create(&self, id: &str, bundle: &Path, opts: CreateOptions) -> Result<Created, Error> {
        check_id(id)?;
        let bundle = crate::spec::load(bundle)?;
        let dir = self.dir(id);
        std::fs::create_dir_all(&self.root).map_err(|e| Error::StateDir(self.root.clone(), e))?;
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists(id.into()));
            }
            Err(e) => return Err(Error::StateDir(dir, e)),
        }
        let mut undo = Undo {
            dir: Some(dir.clone()),
            cgroup: None,
            child: None,
        };
        match create_in(id, &dir, &bundle, opts, &mut undo) {
            Ok(created) => Ok(created),
            Err(e) => Err(undo.run(e)),
        }
    }

    /// Load a container's record.
    pub fn load(&self, id: &str) -> Result<Container, Error> {
        check_id(id)?;
        let dir = self.dir(id);
        let record = match Record::load(&dir) {
            Ok(r) => r,
            Err(crate::state::StateError::Read(_, e))
                if e.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(Error::NotFound(id.into()));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Container {
            dir,
            record,
            chan: None,
        })
    }

    /// The states of all containers under the root.
    pub fn list(&self) -> Result<Vec<State>, Error> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::List(self.root.clone(), e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let dir = entry.path();
            if let Ok(record) = Record::load(&dir) {
                out.push(record.state(&dir));
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// What a failed create must undo.
struct Undo {
    dir: Option<PathBuf>,
    cgroup: Option<AnyCgroupManager>,
    child: Option<Pid>,
}

impl Undo {
    /// Undo everything; keep the cause and every cleanup failure.
    fn run(self, cause: Error) -> Error {
        let mut failures = Vec::new();
        let mut cause = cause;
        if let Some(pid) = self.child {
            // An init that reported an error exits by itself, with the code to keep.
            if !matches!(cause, Error::Init { .. }) {
                let _ = kill(pid, Signal::SIGKILL);
            }
            if let Ok(WaitStatus::Exited(_, code)) = waitpid(pid, None)
                && let Error::Init { exit_code, .. } = &mut cause
            {
                *exit_code = code;
            }
        }
        if let Some(cg) = self.cgroup
            && let Err(e) = cg.destroy()
        {
            failures.push(e.into());
        }
        if let Some(dir) = self.dir
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            failures.push(Error::RemoveStateDir(dir, e));
        }
        if failures.is_empty() {
            cause
        } else {
            Error::Cleanup {
                source: Box::new(cause),
                failures,
            }
        }
    }
}

/// Refuse to fork from a multi-threaded process (the child runs Rust code, which may allocate,
/// until execve).
pub(crate) fn single_threaded() -> Result<(), Error> {
    match crate::sys::thread_count() {
        Some(n) if n > 1 => Err(Error::MultiThreaded(n)),
        _ => Ok(()),
    }
}

/// Compile a seccomp section through the on-disk cache in the state root (next to the
/// container directory `dir`): libseccomp takes ~20 ms for Docker's profile, a cache hit ~0.1.
pub(crate) fn compile_seccomp(
    s: &oci_spec::runtime::LinuxSeccomp,
    dir: &Path,
) -> Result<crate::seccomp::SeccompProgram, Error> {
    match dir.parent() {
        Some(root) => Ok(crate::seccomp::compile_cached(
            s,
            &root.join(SECCOMP_CACHE),
        )?),
        None => Ok(crate::seccomp::compile(s)?),
    }
}

/// The seccomp cache's directory under the state root; ids cannot start with a dot.
const SECCOMP_CACHE: &str = ".seccomp-cache";

/// The device cgroup must let the container use the devices the runtime creates, as runc
/// does: after the spec's rules, allow the default devices, the spec's `linux.devices` that
/// no spec rule names, ptmx and the pty slaves (136:*).
fn with_device_access(
    resources: &oci_spec::runtime::LinuxResources,
    devices: &[oci_spec::runtime::LinuxDevice],
) -> oci_spec::runtime::LinuxResources {
    use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};
    let Some(rules) = resources.devices() else {
        return resources.clone();
    };
    let mut rules = rules.clone();
    let allow = |major: i64, minor: Option<i64>| {
        let mut rule = LinuxDeviceCgroup::default();
        rule.set_allow(true);
        rule.set_typ(Some(LinuxDeviceType::C));
        rule.set_major(Some(major));
        rule.set_minor(minor);
        rule.set_access(Some("rwm".into()));
        rule
    };
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        rules.push(allow(major, Some(minor)));
    }
    rules.push(allow(136, None));
    // A spec device is made usable unless the spec's own rules already decide its access
    // (docker's `--device X:Y:r` comes with a rule for exactly `r`, which must stand).
    let decided = |d: &oci_spec::runtime::LinuxDevice| {
        resources.devices().iter().flatten().any(|r| {
            r.typ() == Some(d.typ()) && r.major() == Some(d.major()) && r.minor() == Some(d.minor())
        })
    };
    rules.extend(
        devices
            .iter()
            .filter(|d| !decided(d))
            .map(LinuxDeviceCgroup::from),
    );
    let mut out = resources.clone();
    out.set_devices(Some(rules));
    out
}

fn write_id_map(pid: Pid, file: &str, maps: &[LinuxIdMapping]) -> Result<(), Error> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    let text: String = maps
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect();
    std::fs::write(&path, text).map_err(|e| Error::IdMap(path, e))
}

fn create_in(
    id: &str,
    dir: &Path,
    bundle: &crate::spec::Bundle,
    opts: CreateOptions,
    undo: &mut Undo,
) -> Result<Created, Error> {
    let spec = &bundle.spec;
    let linux = spec.linux().as_ref();
    let seccomp = match linux.and_then(|l| l.seccomp().as_ref()) {
        Some(s) => Some(compile_seccomp(s, dir)?),
        None => None,
    };
    let plan = crate::namespaces::plan(&crate::spec::namespaces(spec))?;
    let cgroups_path = linux.and_then(|l| l.cgroups_path().clone());
    let cgroup = AnyCgroupManager::new(cgroups_path.as_deref(), id)?;
    undo.cgroup = Some(cgroup.clone());
    cgroup.create()?;
    if let Some(resources) = linux.and_then(|l| l.resources().as_ref()) {
        let devices = linux
            .and_then(|l| l.devices().as_deref())
            .unwrap_or_default();
        cgroup.apply(&with_device_access(resources, devices))?;
    }
    let cgroup_mounts = cgroup.container_mounts();

    let fifo_path = dir.join("exec.fifo");
    nix::unistd::mkfifo(&fifo_path, Mode::from_bits_truncate(0o600))
        .map_err(|e| Error::Fifo(fifo_path.clone(), e))?;
    // Writable by the container's user whatever uid it switches to.
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        &fifo_path,
        Mode::from_bits_truncate(0o622),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .map_err(|e| Error::Fifo(fifo_path.clone(), e))?;
    let fifo = open(&fifo_path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| Error::Fifo(fifo_path.clone(), e))?;

    let (parent_chan, child_chan) = crate::sync::pair()?;
    // Without a user namespace the child is still root over the host's cgroup files and
    // moves itself where that is far cheaper for the kernel than the parent moving it.
    let self_join = !plan.new_user && plan.user.is_none();
    let flags = plan.clone_flags.bits();
    crate::container::single_threaded()?;
    let (forked, v2_done) = clone_child(flags, plan.pid.as_ref(), &cgroup)?;
    let pid = match forked {
        Forked::Child => {
            drop(parent_chan);
            crate::init::run(crate::init::Init {
                bundle,
                plan: &plan,
                chan: &child_chan,
                fifo: Some(&fifo),
                cgroup_mounts: &cgroup_mounts,
                join_cgroup: self_join.then_some(&cgroup),
                seccomp: seccomp.as_ref(),
                stdio: opts.stdio.as_ref(),
            })
        }
        Forked::Parent(pid) => pid,
    };
    undo.child = Some(pid);
    drop(child_chan);
    drop(fifo);
    drop(opts.stdio);

    // A child that failed early (e.g. a bad mount before it needs the cgroup) has exited:
    // report what it said rather than the broken pipe.
    let child_said = |e: Error| match parent_chan.pending_error() {
        Some(message) => Error::Init {
            id: id.into(),
            message,
            exit_code: 1,
        },
        None => e,
    };
    let joined = Joined {
        v1: self_join,
        v2: v2_done,
    };
    join_parent_steps(id, pid, linux, &plan, &cgroup, joined, &parent_chan).map_err(child_said)?;
    let pty_master = wait_ready(id, &parent_chan, &opts.console)?;

    let start_time = proc_stat(pid).map(|(_, t)| t).unwrap_or_default();
    let record = Record {
        oci_version: spec.version().clone(),
        id: id.into(),
        pid: pid.as_raw(),
        start_time,
        bundle: bundle.path.clone(),
        rootfs: bundle.rootfs.clone(),
        cgroups_path,
        annotations: spec.annotations().clone().unwrap_or_default(),
        created: now_rfc3339(),
    };
    record.save(dir)?;
    if let Some(path) = &opts.pid_file {
        write_pid_file(path, pid)?;
    }
    Ok(Created {
        container: Container {
            dir: dir.into(),
            record,
            chan: Some(parent_chan),
        },
        pty_master,
    })
}

/// Clones the child (`clone_flags`, inside `pid_ns` when given: joined around the clone and
/// left again) into the cgroup's cgroup2 directory where the kernel allows it (`CLONE_INTO_CGROUP`,
/// no migration needed); returns whether it was born there. The caller is single-threaded.
pub(crate) fn clone_child(
    flags: libc::c_int,
    pid_ns: Option<&crate::namespaces::Join>,
    cgroup: &AnyCgroupManager,
) -> Result<(Forked, bool), Error> {
    let v2_dir = cgroup.open_v2_dir()?;
    let mut v2_done = v2_dir.is_some();
    let mut clone = || match &v2_dir {
        Some(dir) => match crate::sys::clone_process_into(flags, dir.as_fd()) {
            // Kernels before 5.7 (ENOSYS, E2BIG), a seccomp filter refusing clone3 (ENOSYS or
            // EPERM), a cgroup it refuses (EINVAL), or a v2 pids limit reached in the target
            // (EAGAIN: a migration is not held to pids.max, so exec into a container at its
            // limit still works, as with runc): clone plainly, the parent moves the child.
            Err(Errno::ENOSYS | Errno::E2BIG | Errno::EINVAL | Errno::EPERM | Errno::EAGAIN) => {
                v2_done = false;
                crate::sys::clone_process(flags)
            }
            other => other,
        },
        None => crate::sys::clone_process(flags),
    };
    let forked = match pid_ns {
        Some(target) => {
            let back = crate::namespaces::open_ns(
                oci_spec::runtime::LinuxNamespaceType::Pid,
                Path::new("/proc/self/ns/pid"),
            )?;
            crate::namespaces::join(target)?;
            let forked = clone();
            if let Ok(Forked::Parent(_)) | Err(_) = forked {
                crate::namespaces::join(&back)?;
            }
            forked
        }
        None => clone(),
    }
    .map_err(Error::Clone)?;
    Ok((forked, v2_done))
}

/// In the parent: waits for the child's `Joined` (it moved itself into the v1 hierarchies),
/// turning an error it reports into [`Error::Init`].
pub(crate) fn await_joined(id: &str, chan: &Channel) -> Result<(), Error> {
    match chan.expect(Message::Joined) {
        Ok(_) => Ok(()),
        Err(Remote::Failed(message)) => Err(Error::Init {
            id: id.into(),
            message,
            exit_code: 1,
        }),
        Err(Remote::Sync(e)) => Err(e.into()),
    }
}

/// Which parts of the cgroup the child is in without the parent moving it.
#[derive(Clone, Copy)]
struct Joined {
    /// The v1 hierarchies: the child moves itself ([`AnyCgroupManager::join_self`]).
    v1: bool,
    /// The cgroup2 directory: the child was born there (`CLONE_INTO_CGROUP`).
    v2: bool,
}

/// The parent's part between clone and the child's set-up: id maps, cgroup (what the child is
/// not in yet), go.
fn join_parent_steps(
    id: &str,
    pid: Pid,
    linux: Option<&oci_spec::runtime::Linux>,
    plan: &crate::namespaces::Plan,
    cgroup: &AnyCgroupManager,
    joined: Joined,
    parent_chan: &Channel,
) -> Result<(), Error> {
    if plan.new_user
        && let Some(l) = linux
    {
        write_id_map(
            pid,
            "uid_map",
            l.uid_mappings().as_deref().unwrap_or_default(),
        )?;
        write_id_map(
            pid,
            "gid_map",
            l.gid_mappings().as_deref().unwrap_or_default(),
        )?;
        parent_chan.send(&Message::Mapped)?;
    }
    if joined.v1 {
        // A move by the parent would block the child's own: wait for it first.
        await_joined(id, parent_chan)?;
    }
    if plan.new_cgroup || !joined.v1 {
        // The child's cgroup namespace is rooted where it is when it unshares after `Go`.
        cgroup.add_task_rest(pid, joined.v1, joined.v2)?;
        parent_chan.send(&Message::Go)?;
    } else {
        // What is left (if anything: the cgroup2 directory on a kernel without
        // CLONE_INTO_CGROUP) costs an RCU grace period: spent while the child sets up its
        // rootfs, and done before `create` returns, so before the container's process runs.
        parent_chan.send(&Message::Go)?;
        cgroup.add_task_rest(pid, joined.v1, joined.v2)?;
    }
    Ok(())
}

/// Wait for the child's `Ready`, handing over a PTY master on the way.
pub(crate) fn wait_ready(
    id: &str,
    chan: &Channel,
    console: &ConsoleMode,
) -> Result<Option<OwnedFd>, Error> {
    recv_until(id, chan, console, Until::Ready)
}

/// What ends [`recv_until`]: init's `Ready`, or an exec'd child closing its end.
#[derive(Clone, Copy)]
pub(crate) enum Until {
    Ready,
    Eof,
}

/// Receive from the child until `until`, handing over a PTY master on the way.
pub(crate) fn recv_until(
    id: &str,
    chan: &Channel,
    console: &ConsoleMode,
    until: Until,
) -> Result<Option<OwnedFd>, Error> {
    let want = match until {
        Until::Ready => "ready",
        Until::Eof => "end of file",
    };
    let mut pty_master = None;
    loop {
        match (chan.recv()?, until) {
            (Some((Message::Ready, _)), Until::Ready) | (None, Until::Eof) => {
                return Ok(pty_master);
            }
            (Some((Message::Pty, Some(master))), _) => match console {
                ConsoleMode::Socket(path) => {
                    crate::terminal::send_to_socket(path, master.as_fd())?;
                }
                ConsoleMode::Return => pty_master = Some(master),
            },
            (Some((Message::Error(message), _)), _) => {
                return Err(Error::Init {
                    id: id.into(),
                    message,
                    exit_code: 1,
                });
            }
            (Some((got, _)), _) => {
                return Err(crate::sync::SyncError::Unexpected { got, want }.into());
            }
            (None, _) => return Err(crate::sync::SyncError::Closed(want).into()),
        }
    }
}

/// Write a pid file (atomically: a reader never sees it empty).
pub(crate) fn write_pid_file(path: &Path, pid: Pid) -> Result<(), Error> {
    crate::fsutil::write_atomic(path, pid.to_string().as_bytes(), Default::default())
        .map_err(|e| Error::PidFile(path.into(), e))
}

impl Container {
    /// The container's id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The init's pid (host view).
    pub fn pid(&self) -> Option<Pid> {
        (self.record.pid > 0).then(|| Pid::from_raw(self.record.pid))
    }

    /// The bundle directory.
    pub fn bundle(&self) -> &Path {
        &self.record.bundle
    }

    /// The OCI state now.
    pub fn state(&self) -> Result<State, Error> {
        Ok(self.record.state(&self.dir))
    }

    fn status(&self) -> Status {
        self.record.status(&self.dir)
    }

    fn require(&self, ok: &[Status], want: &'static str) -> Result<Status, Error> {
        let status = self.status();
        if ok.contains(&status) {
            Ok(status)
        } else {
            Err(Error::Status {
                id: self.id().into(),
                status,
                want,
            })
        }
    }

    pub(crate) fn cgroup(&self) -> Result<AnyCgroupManager, Error> {
        Ok(AnyCgroupManager::new(
            self.record.cgroups_path.as_deref(),
            &self.record.id,
        )?)
    }

    /// Release the init: it loads seccomp and execs the process. When this process created the
    /// container, an exec failure (e.g. the program vanished) is returned.
    pub fn start(&self) -> Result<(), Error> {
        self.require(&[Status::Created], "created")?;
        crate::start::release(self.id(), &self.dir, &self.record)?;
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

    /// Send `signal` to the init, or with `all` to every process of the container.
    pub fn kill(&self, signal: Signal, all: bool) -> Result<(), Error> {
        self.require(
            &[Status::Created, Status::Running, Status::Paused],
            "created, running or paused",
        )?;
        if all {
            self.cgroup()?.kill_all(signal)?;
        } else {
            let pid = self.record.pid;
            kill(Pid::from_raw(pid), signal).map_err(|source| Error::Kill {
                signal,
                pid,
                source,
            })?;
        }
        Ok(())
    }

    /// Freeze every process of the container.
    pub fn pause(&self) -> Result<(), Error> {
        self.require(&[Status::Running, Status::Created], "running or created")?;
        self.cgroup()?.freeze()?;
        crate::state::set_paused(&self.dir, true)?;
        Ok(())
    }

    /// Thaw a paused container.
    pub fn resume(&self) -> Result<(), Error> {
        self.require(&[Status::Paused], "paused")?;
        self.cgroup()?.thaw()?;
        crate::state::set_paused(&self.dir, false)?;
        Ok(())
    }

    /// Memory, cpu and pids statistics from the cgroup.
    pub fn stats(&self) -> Result<CgroupStats, Error> {
        Ok(self.cgroup()?.stats()?)
    }

    /// Whether the OOM killer struck in the container's cgroup.
    pub fn oom_killed(&self) -> Result<bool, Error> {
        Ok(self.cgroup()?.oom_kill_count()? > 0)
    }

    /// The pids of the container's processes (host view).
    pub fn pids(&self) -> Result<Vec<Pid>, Error> {
        Ok(self.cgroup()?.pids()?)
    }

    /// Delete the container: with `force`, kill it first; then destroy its cgroup and state
    /// directory. Every failure is reported, not just the first.
    pub fn delete(&self, force: bool) -> Result<(), Error> {
        let status = self.status();
        let mut failures = Vec::new();
        let cgroup = self.cgroup();
        if status != Status::Stopped {
            if !force {
                return Err(Error::Status {
                    id: self.id().into(),
                    status,
                    want: "stopped (use --force)",
                });
            }
            if let Err(e) = self.kill_and_wait(cgroup.as_ref().ok()) {
                failures.push(e);
            }
        }
        match cgroup {
            Ok(cg) => {
                if let Err(e) = cg.destroy() {
                    failures.push(e.into());
                }
            }
            Err(e) => failures.push(e),
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            failures.push(Error::RemoveStateDir(self.dir.clone(), e));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Delete {
                id: self.id().into(),
                failures,
            })
        }
    }

    fn kill_and_wait(&self, cgroup: Option<&AnyCgroupManager>) -> Result<(), Error> {
        let pid = Pid::from_raw(self.record.pid);
        if let Some(cg) = cgroup {
            let _ = cg.kill_all(Signal::SIGKILL);
            let _ = cg.thaw();
        }
        let _ = kill(pid, Signal::SIGKILL);
        for _ in 0..1000 {
            // Reap it if it is ours; otherwise its parent will.
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
            let procs_left = cgroup
                .and_then(|cg| cg.pids().ok())
                .is_some_and(|p| !p.is_empty());
            if !self.record.alive() && !procs_left {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Err(Error::StillAlive(self.id().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(check_id("abc-1.2_x+y").is_ok());
        for bad in ["", ".", "..", ".seccomp-cache", "a/b", "a b", "é"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loading_a_missing_container_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let rt = Runtime::new(dir.path());
        assert!(matches!(rt.load("nope"), Err(Error::NotFound(_))));
        assert!(rt.list().unwrap().is_empty());
    }
}
