//! cgroup v1: one directory per mounted hierarchy, plus (hybrid layout) one in the cgroup2
//! mount so the container is in the same place in every hierarchy.
//!
//! The manager holds the hierarchies parsed once from `/proc/self/mountinfo` (or from the
//! mount table a test passes in, whose mount points may be plain directories in a temp dir),
//! and the container's directory in each. Resource writes live in `v1_resources`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::mountinfo::{CgroupMounts, V1Hierarchy};
use super::stats::{self, CpuStats, MemoryStats};
use super::{CgroupError, CgroupMount, CgroupStats, fs};

/// `USER_HZ`, the unit of `cpuacct.stat` (fixed at 100 in the Linux ABI).
const USER_HZ: u64 = 100;
/// How long freezing or thawing may take before it is reported as stuck.
pub(crate) const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

/// A container's cgroup in every mounted v1 hierarchy (and the cgroup2 mount of a hybrid
/// layout).
#[derive(Debug, Clone)]
pub struct V1Manager {
    /// The mounted hierarchies and the container's directory in each, in mount order.
    hierarchies: Vec<(V1Hierarchy, PathBuf)>,
    /// The container's directory in the cgroup2 mount (hybrid layout), if there is one.
    unified: Option<PathBuf>,
}

impl V1Manager {
    /// A manager for the cgroup `rel` (relative to each hierarchy's root, no `..`) in the
    /// hierarchies of `mounts`. Hybrid when `mounts.unified` is set. Touches no file.
    pub fn new(mounts: &CgroupMounts, rel: &Path) -> Self {
        let hierarchies = mounts
            .v1
            .iter()
            .map(|h| (h.clone(), h.mount_point.join(rel)))
            .collect();
        let unified = mounts.unified.as_ref().map(|u| u.join(rel));
        V1Manager {
            hierarchies,
            unified,
        }
    }

    /// The container's directory in the hierarchy carrying `controller`.
    pub fn dir(&self, controller: &str) -> Option<&Path> {
        self.hierarchies
            .iter()
            .find(|(h, _)| h.has(controller))
            .map(|(_, d)| d.as_path())
    }

    /// The container's directory in the cgroup2 mount (hybrid layout only).
    pub fn unified_dir(&self) -> Option<&Path> {
        self.unified.as_deref()
    }

    /// Every directory of this cgroup: each hierarchy's, then the unified one.
    fn all_dirs(&self) -> impl Iterator<Item = &Path> {
        self.hierarchies
            .iter()
            .map(|(_, d)| d.as_path())
            .chain(self.unified.as_deref())
    }

    /// Creates the cgroup in every hierarchy (mkdir -p; idempotent). In the cpuset hierarchy
    /// every new level gets `cpuset.cpus` and `cpuset.mems` from its parent, without which no
    /// task could join it.
    pub fn create(&self) -> Result<(), CgroupError> {
        for (h, dir) in &self.hierarchies {
            let rel = dir.strip_prefix(&h.mount_point).unwrap_or(Path::new(""));
            if h.has("cpuset") {
                fs::mkdir_levels(&h.mount_point, rel, copy_cpuset_from_parent)?;
            } else {
                fs::mkdir_levels(&h.mount_point, rel, |_| Ok(()))?;
            }
        }
        if let Some(dir) = &self.unified {
            fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    /// Moves `pid` (and its threads) into the cgroup in every hierarchy.
    pub fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        let value = pid.as_raw().to_string();
        for dir in self.all_dirs() {
            fs::write(dir, "cgroup.procs", &value)?;
        }
        Ok(())
    }

    /// Moves the calling thread into the cgroup of every v1 hierarchy by writing `0` to
    /// `tasks`. For a single-threaded process that moves the process, and a thread moving
    /// itself spares the kernel the global threadgroup lock whose RCU grace period a write to
    /// `cgroup.procs` costs (6 to 15 ms here). The unified hierarchy of a hybrid host has no
    /// `tasks`: the child is cloned into it (`CLONE_INTO_CGROUP`) or moved by the parent.
    pub fn join_self(&self) -> Result<(), CgroupError> {
        for (_, dir) in &self.hierarchies {
            fs::write(dir, "tasks", "0")?;
        }
        Ok(())
    }

    /// Moves `pid` into the cgroup of every v1 hierarchy (`v1`) and of the hybrid host's
    /// unified hierarchy (`unified`).
    pub fn add_task_to(&self, pid: Pid, v1: bool, unified: bool) -> Result<(), CgroupError> {
        let value = pid.as_raw().to_string();
        if v1 {
            for (_, dir) in &self.hierarchies {
                fs::write(dir, "cgroup.procs", &value)?;
            }
        }
        match &self.unified {
            Some(dir) if unified => fs::write(dir, "cgroup.procs", &value),
            _ => Ok(()),
        }
    }

    /// The processes in the cgroup (read from the first hierarchy; tasks join all at once).
    pub fn pids(&self) -> Result<Vec<Pid>, CgroupError> {
        let dir = self
            .dir("pids")
            .or_else(|| self.dir("memory"))
            .or_else(|| self.all_dirs().next());
        match dir {
            Some(dir) => fs::read_pids(dir),
            None => Ok(Vec::new()),
        }
    }

    /// Memory, cpu and pids statistics; a part is `None` when its hierarchy is not mounted.
    pub fn stats(&self) -> Result<CgroupStats, CgroupError> {
        let memory = match self.dir("memory") {
            Some(dir) => Some(memory_stats(dir)?),
            None => None,
        };
        let cpu = match self.dir("cpuacct") {
            Some(dir) => Some(cpu_stats(dir, self.dir("cpu"))?),
            None => None,
        };
        let pids = match self.dir("pids") {
            Some(dir) => Some(stats::read_pids_stats(dir)?),
            None => None,
        };
        let blkio = match self.dir("blkio") {
            Some(dir) => Some(stats::BlkioStats {
                service_bytes: stats::parse_v1_blkio(
                    &fs::read_opt(dir, "blkio.throttle.io_service_bytes_recursive")?
                        .unwrap_or_default(),
                ),
                serviced: stats::parse_v1_blkio(
                    &fs::read_opt(dir, "blkio.throttle.io_serviced_recursive")?.unwrap_or_default(),
                ),
            }),
            None => None,
        };
        Ok(CgroupStats {
            memory,
            cpu,
            pids,
            blkio,
        })
    }

    fn freezer(&self, field: &'static str, value: &'static str) -> Result<&Path, CgroupError> {
        self.dir("freezer").ok_or(CgroupError::MissingController {
            field,
            value: value.to_string(),
            controller: "freezer",
        })
    }

    /// Freezes every task: writes `FROZEN` to `freezer.state` until it reads back `FROZEN`
    /// (it reads `FREEZING` while tasks are still being stopped).
    pub fn freeze(&self) -> Result<(), CgroupError> {
        let dir = self.freezer("freeze", "FROZEN")?;
        set_freezer_state(dir, "FROZEN")
    }

    /// Thaws every task: writes `THAWED` until it reads back `THAWED`.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        let dir = self.freezer("thaw", "THAWED")?;
        set_freezer_state(dir, "THAWED")
    }

    /// Sends `signal` to every process of the cgroup.
    ///
    /// SIGKILL on a hybrid layout whose kernel has `cgroup.kill` (5.14+) is one write to the
    /// unified cgroup. Otherwise the cgroup is frozen (when the freezer is mounted) so no task
    /// can fork past the signal, each pid is signalled, and the cgroup is thawed so the
    /// signals are delivered.
    pub fn kill_all(&self, signal: Signal) -> Result<(), CgroupError> {
        if signal == Signal::SIGKILL
            && let Some(dir) = &self.unified
            && fs::exists(dir, "cgroup.kill")
        {
            return fs::write(dir, "cgroup.kill", "1");
        }
        // A failed freeze (a task stuck in D state) still gets its signal; the error is kept.
        let freezer = self.dir("freezer");
        let froze = freezer.map(|dir| set_freezer_state(dir, "FROZEN"));
        let signalled = signal_pids(self.pids(), signal);
        let thawed = freezer.map(|dir| set_freezer_state(dir, "THAWED"));
        froze
            .unwrap_or(Ok(()))
            .and(signalled)
            .and(thawed.unwrap_or(Ok(())))
    }

    /// How often the OOM killer killed a task of this cgroup (`oom_kill` of
    /// `memory.oom_control`, kernel 4.13+).
    pub fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let dir = self.dir("memory").ok_or(CgroupError::MissingController {
            field: "oom_kill",
            value: String::new(),
            controller: "memory",
        })?;
        let text = fs::read(dir, "memory.oom_control")?;
        fs::keyed(&dir.join("memory.oom_control"), &text, "oom_kill")
    }

    /// Removes the cgroup from every hierarchy. Absent directories are fine; EBUSY is retried
    /// briefly; every failure is reported, not just the first.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let errors = fs::remove_cgroup_dirs(self.all_dirs());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CgroupError::Destroy(errors))
        }
    }

    /// One `cgroup` mount per hierarchy (`cpu,cpuacct` → `/sys/fs/cgroup/cpu,cpuacct`,
    /// `name=systemd` → `/sys/fs/cgroup/systemd`), plus `cgroup2` on `unified` when hybrid.
    pub fn container_mounts(&self) -> Vec<CgroupMount> {
        let mut mounts: Vec<CgroupMount> = self
            .hierarchies
            .iter()
            .map(|(h, dir)| CgroupMount {
                fstype: "cgroup",
                data: h.data(),
                subdir: h.subdir(),
                host_dir: dir.clone(),
            })
            .collect();
        if let Some(dir) = &self.unified {
            mounts.push(CgroupMount {
                fstype: "cgroup2",
                data: String::new(),
                subdir: "unified".to_string(),
                host_dir: dir.clone(),
            });
        }
        mounts
    }
}

/// A new cpuset cgroup starts with empty `cpuset.cpus` and `cpuset.mems`; copy the parent's.
fn copy_cpuset_from_parent(dir: &Path) -> Result<(), CgroupError> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let value = fs::read(parent, file)?;
        let value = value.trim();
        if !value.is_empty() {
            fs::write(dir, file, value)?;
        }
    }
    Ok(())
}

/// Writes `want` to `freezer.state` and waits until it reads back. The documented wait loop:
/// polls at 100 µs doubling to 10 ms, rewriting `FROZEN` each round (runc does the same, as a
/// task that forked meanwhile needs a new freeze pass), up to [`FREEZE_TIMEOUT`].
fn set_freezer_state(dir: &Path, want: &'static str) -> Result<(), CgroupError> {
    let start = Instant::now();
    let mut delay = Duration::from_micros(100);
    loop {
        fs::write(dir, "freezer.state", want)?;
        let state = fs::read(dir, "freezer.state")?;
        let state = state.trim();
        if state == want {
            return Ok(());
        }
        if start.elapsed() >= FREEZE_TIMEOUT {
            return Err(CgroupError::FreezeTimeout {
                path: dir.join("freezer.state"),
                want,
                last: state.to_string(),
                waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            });
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(10));
    }
}

/// Signals each pid; a process that is already gone (ESRCH) is fine. Keeps the first error
/// and still signals the rest.
pub(crate) fn signal_pids(
    pids: Result<Vec<Pid>, CgroupError>,
    signal: Signal,
) -> Result<(), CgroupError> {
    let mut first_err = None;
    for pid in pids? {
        match nix::sys::signal::kill(pid, signal) {
            Ok(()) | Err(nix::Error::ESRCH) => {}
            Err(source) => {
                first_err.get_or_insert(CgroupError::Signal {
                    pid: pid.as_raw(),
                    signal,
                    source,
                });
            }
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn memory_stats(dir: &Path) -> Result<MemoryStats, CgroupError> {
    let stat = fs::read(dir, "memory.stat")?;
    Ok(MemoryStats {
        usage: fs::read_u64(dir, "memory.usage_in_bytes")?,
        max_usage: Some(fs::read_u64(dir, "memory.max_usage_in_bytes")?),
        limit: stats::v1_limit(fs::read_u64(dir, "memory.limit_in_bytes")?),
        stat: stats::parse_flat(&stat),
    })
}

fn cpu_stats(cpuacct: &Path, cpu: Option<&Path>) -> Result<CpuStats, CgroupError> {
    let total_ns = fs::read_u64(cpuacct, "cpuacct.usage")?;
    let (user_ns, system_ns) = match fs::read_opt(cpuacct, "cpuacct.usage_user")? {
        Some(user) => (
            fs::parse_u64(&cpuacct.join("cpuacct.usage_user"), &user)?,
            fs::read_u64(cpuacct, "cpuacct.usage_sys")?,
        ),
        None => {
            // Older kernels: only tick counts in cpuacct.stat.
            let path = cpuacct.join("cpuacct.stat");
            let text = fs::read(cpuacct, "cpuacct.stat")?;
            let tick_ns = 1_000_000_000 / USER_HZ;
            (
                fs::keyed(&path, &text, "user")?.saturating_mul(tick_ns),
                fs::keyed(&path, &text, "system")?.saturating_mul(tick_ns),
            )
        }
    };
    let percpu_ns = match fs::read_opt(cpuacct, "cpuacct.usage_percpu")? {
        Some(text) => stats::parse_list(&cpuacct.join("cpuacct.usage_percpu"), &text)?,
        None => Vec::new(),
    };
    let mut out = CpuStats {
        total_ns,
        user_ns,
        system_ns,
        percpu_ns,
        ..CpuStats::default()
    };
    if let Some(cpu) = cpu
        && let Some(text) = fs::read_opt(cpu, "cpu.stat")?
    {
        let path = cpu.join("cpu.stat");
        out.nr_periods = fs::keyed_opt(&path, &text, "nr_periods")?.unwrap_or(0);
        out.nr_throttled = fs::keyed_opt(&path, &text, "nr_throttled")?.unwrap_or(0);
        out.throttled_ns = fs::keyed_opt(&path, &text, "throttled_time")?.unwrap_or(0);
    }
    Ok(out)
}
