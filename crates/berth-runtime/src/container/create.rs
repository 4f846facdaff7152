//! `create`: make the state directory, compile seccomp, create the cgroup and apply its
//! limits, make `exec.fifo`, clone the init and do the parent's part of the handshake (id maps,
//! the cgroup the child is not in yet, `Go`), wait for `Ready`, record the container. Whatever
//! fails, [`Undo`] leaves nothing behind.

use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::clone::{clone_child, single_threaded};
use super::handshake::{await_joined, wait_ready};
use super::id_map::write_id_map;
use super::undo::Undo;
use super::{Container, CreateOptions, Created, Runtime, check_id, compile_seccomp};
use crate::cgroups::AnyCgroupManager;
use crate::error::Error;
use crate::state::{Record, now_rfc3339, proc_stat};
use crate::sync::{Channel, Message};
use crate::sys::Forked;

impl Runtime {
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
}

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
    single_threaded()?;
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

/// Write a pid file (atomically: a reader never sees it empty).
fn write_pid_file(path: &Path, pid: Pid) -> Result<(), Error> {
    crate::fsutil::write_atomic(path, pid.to_string().as_bytes(), Default::default())
        .map_err(|e| Error::PidFile(path.into(), e))
}
