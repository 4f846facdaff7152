//! cgroup v2: one unified hierarchy, so one directory per container.
//!
//! Controllers must be enabled top-down: each ancestor's `cgroup.subtree_control` lists what
//! its children get. [`V2Manager::create`] enables, at every level from the root down to the
//! container's parent, the controllers berth uses that the root offers. The container's own
//! directory holds processes, so (the "no internal processes" rule) nothing is enabled in it.
//!
//! The root is injectable ([`V2Manager::new`] takes it), so the manager is unit-tested against
//! a temp dir shaped like cgroupfs, as youki tests its v2 code. Resource writes live in
//! `v2_resources`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::stats::{self, CpuStats, MemoryStats};
use super::v1::{FREEZE_TIMEOUT, signal_pids};
use super::{CgroupError, CgroupMount, CgroupStats, fs};

/// Controllers berth enables for its cgroups (when the root offers them).
const WANTED: &[&str] = &[
    "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
];

/// A container's cgroup in the unified (v2) hierarchy.
#[derive(Debug, Clone)]
pub struct V2Manager {
    root: PathBuf,
    rel: PathBuf,
    dir: PathBuf,
}

impl V2Manager {
    /// A manager for the cgroup `rel` (relative, no `..`) under the cgroup2 mount `root`
    /// (normally `/sys/fs/cgroup`). Touches no file.
    pub fn new(root: &Path, rel: &Path) -> Self {
        V2Manager {
            root: root.to_path_buf(),
            rel: rel.to_path_buf(),
            dir: root.join(rel),
        }
    }

    /// The container's cgroup directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the cgroup (mkdir -p; idempotent) and enables the controllers in every
    /// ancestor's `cgroup.subtree_control` that does not have them yet.
    pub fn create(&self) -> Result<(), CgroupError> {
        if self.dir.is_dir() {
            return Ok(());
        }
        let offered = fs::read(&self.root, "cgroup.controllers")?;
        let wanted: Vec<&str> = offered
            .split_whitespace()
            .filter(|c| WANTED.contains(c))
            .collect();
        let mut dir = self.root.clone();
        for component in self.rel.components() {
            enable_controllers(&dir, &wanted)?;
            dir.push(component);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(CgroupError::CreateDir { path: dir, source }),
            }
        }
        Ok(())
    }

    /// Moves `pid` into the cgroup.
    pub fn add_task(&self, pid: Pid) -> Result<(), CgroupError> {
        fs::write(&self.dir, "cgroup.procs", &pid.as_raw().to_string())
    }

    /// The processes in the cgroup.
    pub fn pids(&self) -> Result<Vec<Pid>, CgroupError> {
        fs::read_pids(&self.dir)
    }

    /// Memory, cpu and pids statistics; memory and pids are `None` when their controller is
    /// not enabled for this cgroup.
    pub fn stats(&self) -> Result<CgroupStats, CgroupError> {
        let dir = &self.dir;
        let memory = match fs::read_opt(dir, "memory.current")? {
            Some(current) => {
                let max_usage = match fs::read_opt(dir, "memory.peak")? {
                    Some(t) => Some(fs::parse_u64(&dir.join("memory.peak"), &t)?),
                    None => None,
                };
                Some(MemoryStats {
                    usage: fs::parse_u64(&dir.join("memory.current"), &current)?,
                    max_usage,
                    limit: fs::read_max(dir, "memory.max")?,
                    stat: stats::parse_flat(&fs::read(dir, "memory.stat")?),
                })
            }
            None => None,
        };
        let cpu = match fs::read_opt(dir, "cpu.stat")? {
            Some(text) => Some(cpu_stats(&dir.join("cpu.stat"), &text)?),
            None => None,
        };
        let pids = if fs::exists(dir, "pids.current") {
            Some(stats::read_pids_stats(dir)?)
        } else {
            None
        };
        let blkio = fs::read_opt(dir, "io.stat")?.map(|t| stats::parse_v2_io(&t));
        Ok(CgroupStats {
            memory,
            cpu,
            pids,
            blkio,
        })
    }

    /// Freezes every task: `cgroup.freeze` = 1, then waits for `frozen 1` in `cgroup.events`.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.set_frozen(true)
    }

    /// Thaws every task: `cgroup.freeze` = 0, then waits for `frozen 0`.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.set_frozen(false)
    }

    /// The documented wait loop: polls `cgroup.events` at 100 µs doubling to 10 ms, up to
    /// [`FREEZE_TIMEOUT`].
    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let (value, want) = if frozen {
            ("1", "frozen 1")
        } else {
            ("0", "frozen 0")
        };
        fs::write(&self.dir, "cgroup.freeze", value)?;
        let start = Instant::now();
        let mut delay = Duration::from_micros(100);
        loop {
            let events = fs::read(&self.dir, "cgroup.events")?;
            let state = events
                .lines()
                .find(|l| l.starts_with("frozen "))
                .unwrap_or("");
            if state.trim() == want {
                return Ok(());
            }
            if start.elapsed() >= FREEZE_TIMEOUT {
                return Err(CgroupError::FreezeTimeout {
                    path: self.dir.join("cgroup.events"),
                    want,
                    last: state.to_string(),
                    waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                });
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(10));
        }
    }

    /// Sends `signal` to every process: SIGKILL is one write to `cgroup.kill` (kernel 5.14+);
    /// otherwise freeze, signal each pid, thaw.
    pub fn kill_all(&self, signal: Signal) -> Result<(), CgroupError> {
        if signal == Signal::SIGKILL && fs::exists(&self.dir, "cgroup.kill") {
            return fs::write(&self.dir, "cgroup.kill", "1");
        }
        let can_freeze = fs::exists(&self.dir, "cgroup.freeze");
        let froze = can_freeze.then(|| self.set_frozen(true));
        let signalled = signal_pids(self.pids(), signal);
        let thawed = can_freeze.then(|| self.set_frozen(false));
        froze
            .unwrap_or(Ok(()))
            .and(signalled)
            .and(thawed.unwrap_or(Ok(())))
    }

    /// How often the OOM killer killed a task of this cgroup (`oom_kill` of `memory.events`).
    pub fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let text = fs::read(&self.dir, "memory.events")?;
        fs::keyed(&self.dir.join("memory.events"), &text, "oom_kill")
    }

    /// Removes the cgroup (and any child cgroups made inside it). Absent is fine; EBUSY is
    /// retried briefly.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let errors = fs::remove_cgroup_dirs([self.dir.as_path()]);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CgroupError::Destroy(errors))
        }
    }

    /// One `cgroup2` mount at the container's `/sys/fs/cgroup`.
    pub fn container_mounts(&self) -> Vec<CgroupMount> {
        vec![CgroupMount {
            fstype: "cgroup2",
            data: String::new(),
            subdir: String::new(),
            host_dir: self.dir.clone(),
        }]
    }
}

/// Adds the `wanted` controllers missing from `dir/cgroup.subtree_control`, in one write.
fn enable_controllers(dir: &Path, wanted: &[&str]) -> Result<(), CgroupError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let enabled = fs::read(dir, "cgroup.subtree_control")?;
    let enabled: Vec<&str> = enabled.split_whitespace().collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|c| !enabled.contains(c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    fs::write(dir, "cgroup.subtree_control", &missing.join(" "))
}

fn cpu_stats(path: &Path, text: &str) -> Result<CpuStats, CgroupError> {
    let us = |key: &'static str| -> Result<u64, CgroupError> {
        Ok(fs::keyed_opt(path, text, key)?
            .unwrap_or(0)
            .saturating_mul(1000))
    };
    Ok(CpuStats {
        total_ns: fs::keyed(path, text, "usage_usec")?.saturating_mul(1000),
        user_ns: us("user_usec")?,
        system_ns: us("system_usec")?,
        percpu_ns: Vec::new(),
        nr_periods: fs::keyed_opt(path, text, "nr_periods")?.unwrap_or(0),
        nr_throttled: fs::keyed_opt(path, text, "nr_throttled")?.unwrap_or(0),
        throttled_ns: us("throttled_usec")?,
    })
}
