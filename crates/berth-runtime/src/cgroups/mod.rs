//! cgroups v1, v2 and the hybrid layout behind one manager.
//!
//! # Design
//!
//! The set of cgroup implementations is closed, so [`AnyCgroupManager`] is an enum over
//! [`v1::V1Manager`] and [`v2::V2Manager`] with a plain `match` per call, not a `Box<dyn>`.
//! The hybrid layout (v1 controllers plus a cgroup2 mount, as on systemd hosts in "hybrid"
//! mode and on this project's machines) is the v1 manager with one more directory: the
//! container also joins the cgroup2 hierarchy, so nothing (systemd, `cgroup.kill`, hugetlb on
//! the unified mount) sees it in the root cgroup there.
//!
//! This sits on the container start path, so:
//! - `/proc/self/mountinfo` is read once per manager ([`AnyCgroupManager::new`]), never per
//!   call;
//! - `apply` writes only the files for values that are set; each is one `open`+`write`;
//! - nothing sleeps except the documented retry and wait loops (rmdir on EBUSY in `destroy`,
//!   freezer state in `freeze`/`thaw`).
//!
//! # Paths
//!
//! `linux.cgroupsPath` is taken relative to each hierarchy's root (the mount point), as runc's
//! cgroupfs driver does for absolute paths; a relative path is treated the same way. `..` is
//! refused. Without a path the cgroup is `/berth/<container id>`. systemd-style
//! `slice:prefix:name` paths are not interpreted.
//!
//! # Errors
//!
//! Every failure names the file and, for writes, the value: a limit the kernel refuses reads
//! `write "500" to /sys/fs/cgroup/cpu/berth/x/cpu.cfs_quota_us` with the errno as its source.
//!
//! # Testing
//!
//! The cgroupfs root is injectable ([`AnyCgroupManager::with_mounts`], [`v2::V2Manager::new`],
//! [`v1::V1Manager::new`]): unit tests run both managers against temp dirs shaped like
//! cgroupfs; `tests/cgroups.rs` runs a real-kernel suite on this (v1 hybrid) machine.

#[allow(unsafe_code)]
mod bpf;
mod convert;
mod device_filter;
mod error;
pub mod features;
mod fs;
pub mod mountinfo;
mod stats;
pub mod v1;
mod v1_resources;
pub mod v2;
mod v2_resources;

#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

pub use error::CgroupError;
pub use mountinfo::CgroupMounts;
pub use stats::{BlkioStats, CgroupStats, CpuStats, MemoryStats, PidsStats};

/// Which cgroup versions the host mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupLayout {
    /// Only v1 hierarchies.
    V1,
    /// Only the unified (cgroup2) hierarchy.
    V2,
    /// v1 controllers plus a cgroup2 mount (e.g. `/sys/fs/cgroup/unified`).
    Hybrid,
}

impl CgroupLayout {
    /// The layout the mounts describe, or [`CgroupError::NoCgroupFs`] when there is none.
    pub fn of(mounts: &CgroupMounts) -> Result<Self, CgroupError> {
        match (mounts.v1.is_empty(), mounts.unified.is_some()) {
            (false, true) => Ok(CgroupLayout::Hybrid),
            (false, false) => Ok(CgroupLayout::V1),
            (true, true) => Ok(CgroupLayout::V2),
            (true, false) => Err(CgroupError::NoCgroupFs {
                mountinfo: PathBuf::from(mountinfo::PROC_SELF_MOUNTINFO),
            }),
        }
    }
}

/// Detects the host's layout from `/proc/self/mountinfo`.
pub fn detect_layout() -> Result<CgroupLayout, CgroupError> {
    CgroupLayout::of(&CgroupMounts::from_proc()?)
}

/// One cgroup filesystem to mount under the container's `/sys/fs/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// `cgroup` (a v1 hierarchy) or `cgroup2`.
    pub fstype: &'static str,
    /// Mount data: the v1 controllers (`cpu,cpuacct`, `name=systemd`), empty for cgroup2.
    pub data: String,
    /// Where under `/sys/fs/cgroup`: `cpu,cpuacct`, `systemd`, `unified` (hybrid's cgroup2);
    /// empty for cgroup2 on a v2 host (mounted on `/sys/fs/cgroup` itself).
    pub subdir: String,
    /// The container's cgroup directory in this hierarchy on the host, bind-mounted as is
    /// when the container shares the host's cgroup namespace.
    pub host_dir: PathBuf,
}

/// A container's cgroup, whatever the host's layout. Closed set: an enum, not `Box<dyn>`.
///
/// Lifecycle: [`new`](Self::new) (no I/O but reading the mount table) → [`create`](Self::create)
/// → [`apply`](Self::apply) → [`add_task`](Self::add_task) for the init (before it unshares
/// its cgroup namespace) → … [`freeze`](Self::freeze)/[`thaw`](Self::thaw),
/// [`stats`](Self::stats), [`kill_all`](Self::kill_all) … → [`destroy`](Self::destroy) once
/// every task has exited. `destroy` is safe to call on a cgroup that was never created.
#[derive(Debug, Clone)]
pub enum AnyCgroupManager {
    /// v1 hierarchies (and, hybrid, the cgroup2 mount).
    V1(v1::V1Manager),
    /// The unified hierarchy.
    V2(v2::V2Manager),
}

impl AnyCgroupManager {
    /// `cgroups_path` is the spec's linux.cgroupsPath; None means "/berth/<container_id>".
    /// Reads `/proc/self/mountinfo` once; creates nothing.
    pub fn new(cgroups_path: Option<&Path>, container_id: &str) -> Result<Self, CgroupError> {
        Self::with_mounts(&CgroupMounts::from_proc()?, cgroups_path, container_id)
    }

    /// Like [`new`](Self::new) with the mounts given (tests point them at a temp dir).
    pub fn with_mounts(
        mounts: &CgroupMounts,
        cgroups_path: Option<&Path>,
        container_id: &str,
    ) -> Result<Self, CgroupError> {
        let rel = relative_cgroup_path(cgroups_path, container_id)?;
        match CgroupLayout::of(mounts)? {
            CgroupLayout::V1 | CgroupLayout::Hybrid => {
                Ok(Self::V1(v1::V1Manager::new(mounts, &rel)))
            }
            CgroupLayout::V2 => {
                let root = mounts
                    .unified
                    .as_deref()
                    .unwrap_or(Path::new("/sys/fs/cgroup"));
                Ok(Self::V2(v2::V2Manager::new(root, &rel)))
            }
        }
    }

    /// The layout this manager drives.
    pub fn layout(&self) -> CgroupLayout {
        match self {
            Self::V1(m) if m.unified_dir().is_some() => CgroupLayout::Hybrid,
            Self::V1(_) => CgroupLayout::V1,
            Self::V2(_) => CgroupLayout::V2,
        }
    }

    /// Creates the cgroup in every hierarchy (mkdir -p; idempotent).
    pub fn create(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.create(),
            Self::V2(m) => m.create(),
        }
    }

    /// Writes the resource limits that are set in `r`.
    pub fn apply(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.apply(r),
            Self::V2(m) => m.apply(r),
        }
    }

    /// Moves `pid` into the cgroup (every hierarchy).
    pub fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.add_task(pid),
            Self::V2(m) => m.add_task(pid),
        }
    }

    /// The part of joining the cgroup a single-threaded child does cheaply itself (v1: every
    /// hierarchy through `tasks`; v2: nothing, a process cannot move itself cheaply there).
    /// The child must still be root over the host's cgroup files (no user namespace).
    pub fn join_self(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.join_self(),
            Self::V2(_) => Ok(()),
        }
    }

    /// The container's directory in the cgroup2 hierarchy (v2, or a hybrid host's unified
    /// mount), opened for `clone3(CLONE_INTO_CGROUP)`: a child born there needs no migration.
    pub fn open_v2_dir(&self) -> Result<Option<OwnedFd>, CgroupError> {
        let dir = match self {
            Self::V1(m) => m.unified_dir(),
            Self::V2(m) => Some(m.dir()),
        };
        dir.map(|d| {
            nix::fcntl::open(
                d,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|source| CgroupError::OpenDir {
                path: d.to_path_buf(),
                source,
            })
        })
        .transpose()
    }

    /// Moves `pid` into what it is not in yet: the v1 hierarchies unless `v1_done` (the child's
    /// [`Self::join_self`]), the cgroup2 directory unless `v2_done` (born there).
    pub fn add_task_rest(&self, pid: Pid, v1_done: bool, v2_done: bool) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.add_task_to(pid, !v1_done, !v2_done),
            Self::V2(m) if !v2_done => m.add_task(pid),
            Self::V2(_) => Ok(()),
        }
    }

    /// The processes in the cgroup.
    pub fn pids(&self) -> Result<Vec<Pid>, CgroupError> {
        match self {
            Self::V1(m) => m.pids(),
            Self::V2(m) => m.pids(),
        }
    }

    /// Memory, cpu and pids statistics.
    pub fn stats(&self) -> Result<CgroupStats, CgroupError> {
        match self {
            Self::V1(m) => m.stats(),
            Self::V2(m) => m.stats(),
        }
    }

    /// Freezes every task, returning once the kernel reports the cgroup frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.freeze(),
            Self::V2(m) => m.freeze(),
        }
    }

    /// Thaws every task, returning once the kernel reports the cgroup thawed.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.thaw(),
            Self::V2(m) => m.thaw(),
        }
    }

    /// Sends `signal` to every process of the cgroup.
    pub fn kill_all(&self, signal: Signal) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.kill_all(signal),
            Self::V2(m) => m.kill_all(signal),
        }
    }

    /// How often the OOM killer struck in this cgroup.
    pub fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        match self {
            Self::V1(m) => m.oom_kill_count(),
            Self::V2(m) => m.oom_kill_count(),
        }
    }

    /// Removes the cgroup everywhere (retrying EBUSY briefly); missing directories are fine;
    /// every failure is reported.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(m) => m.destroy(),
            Self::V2(m) => m.destroy(),
        }
    }

    /// What to mount under the container's `/sys/fs/cgroup`.
    pub fn container_mounts(&self) -> Vec<CgroupMount> {
        match self {
            Self::V1(m) => m.container_mounts(),
            Self::V2(m) => m.container_mounts(),
        }
    }
}

/// The cgroup's path below each hierarchy root: `cgroups_path` without its leading `/`, or
/// `berth/<id>`. Refuses `..`, an empty result (the root cgroup itself) and ids that are not
/// a single path component.
pub fn relative_cgroup_path(
    cgroups_path: Option<&Path>,
    container_id: &str,
) -> Result<PathBuf, CgroupError> {
    let path = match cgroups_path {
        Some(p) => p.to_path_buf(),
        None => {
            let single = Path::new(container_id).components().count() == 1
                && matches!(
                    Path::new(container_id).components().next(),
                    Some(Component::Normal(_))
                );
            if !single {
                return Err(CgroupError::InvalidPath {
                    path: PathBuf::from(container_id),
                    reason: "the container id must be a single path component",
                });
            }
            return Ok(Path::new("berth").join(container_id));
        }
    };
    let mut rel = PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => rel.push(n),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(CgroupError::InvalidPath {
                    path,
                    reason: "`..` is not allowed",
                });
            }
        }
    }
    if rel.as_os_str().is_empty() {
        return Err(CgroupError::InvalidPath {
            path,
            reason: "it names the root cgroup",
        });
    }
    Ok(rel)
}
