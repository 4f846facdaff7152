//! The cgroup manager on whatever the running kernel offers, for real: on a pure cgroup v2
//! kernel (the User-Mode Linux run of `scripts/uml-v2-tests.sh`) that is the v2 manager with
//! the limits in `memory.max`, `cpu.max`, `pids.max`, freeze through `cgroup.freeze`, kill
//! through `cgroup.kill`; on a v1 or hybrid host (this project's machines) the same steps land
//! in the v1 hierarchies and each check reads the file the kernel keeps there. Nothing is
//! skipped: the layout decides which file is read, never whether it is.
//!
//! `tests/cgroups.rs` goes deeper into v1; `tests/devices.rs` covers the v2 device filter.

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use berth_runtime::cgroups::{AnyCgroupManager, CgroupLayout, CgroupMounts, detect_layout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Res<T> = Result<T, Box<dyn std::error::Error>>;

const MIB: i64 = 1024 * 1024;

/// A test cgroup `/berth-test-<pid>-<name>` made by the manager; on drop its children are
/// killed and reaped and it is destroyed.
struct Cg {
    mgr: AnyCgroupManager,
    layout: CgroupLayout,
    mounts: CgroupMounts,
    rel: PathBuf,
    children: Vec<Child>,
}

impl Cg {
    fn new(name: &str) -> Res<Self> {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the cgroup tests need root: run them as root (sudo)"
        );
        let layout = detect_layout()?;
        let mounts = CgroupMounts::from_proc()?;
        if layout == CgroupLayout::V2 {
            // A pure v2 kernel must offer what berth limits; without it the suite proves nothing.
            let root = mounts.unified.as_deref().ok_or("no cgroup2 mount")?;
            let offered = fs::read_to_string(root.join("cgroup.controllers"))?;
            for c in ["cpu", "memory", "pids"] {
                assert!(
                    offered.split_whitespace().any(|o| o == c),
                    "the cgroup2 root offers no {c} controller ({offered:?}): a kernel with \
                     CONFIG_MEMCG, CONFIG_CGROUP_PIDS and CONFIG_CGROUP_SCHED is needed"
                );
            }
        }
        let rel = PathBuf::from(format!("berth-test-{}-{name}", std::process::id()));
        let mgr = AnyCgroupManager::new(Some(&Path::new("/").join(&rel)), "unused")?;
        assert_eq!(mgr.layout(), layout);
        mgr.create()?;
        Ok(Cg {
            mgr,
            layout,
            mounts,
            rel,
            children: Vec::new(),
        })
    }

    /// The cgroup's directory holding `v2_file` on v2, or the v1 hierarchy of `controller`.
    fn dir(&self, controller: &str) -> Res<PathBuf> {
        let root = match self.layout {
            CgroupLayout::V2 => self.mounts.unified.clone().ok_or("no cgroup2 mount")?,
            _ => self
                .mounts
                .hierarchy(controller)
                .ok_or_else(|| format!("no {controller} hierarchy mounted"))?
                .mount_point
                .clone(),
        };
        Ok(root.join(&self.rel))
    }

    /// `v2` on a v2 kernel, else `v1` in the hierarchy of `controller`, trimmed.
    fn read(&self, controller: &str, v1: &str, v2: &str) -> Res<String> {
        let file = if self.layout == CgroupLayout::V2 {
            v2
        } else {
            v1
        };
        let path = self.dir(controller)?.join(file);
        Ok(fs::read_to_string(&path)
            .map_err(|e| format!("read {}: {e}", path.display()))?
            .trim()
            .to_string())
    }

    /// Spawns `sh -c script` held at a `read` until it is in the cgroup.
    fn spawn_inside(&mut self, script: &str) -> Res<Pid> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read go; {script}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = Pid::from_raw(i32::try_from(child.id())?);
        let added = self.mgr.add_task(pid);
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        self.children.push(child);
        added?;
        stdin.write_all(b"go\n")?;
        Ok(pid)
    }

    fn take_child(&mut self, pid: Pid) -> Res<Child> {
        let i = self
            .children
            .iter()
            .position(|c| i64::from(c.id()) == i64::from(pid.as_raw()))
            .ok_or_else(|| format!("no child {pid}"))?;
        Ok(self.children.remove(i))
    }
}

impl Drop for Cg {
    fn drop(&mut self) {
        let _ = self.mgr.kill_all(Signal::SIGKILL);
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Err(e) = self.mgr.destroy() {
            eprintln!("cleanup of {}: {e}", self.rel.display());
        }
    }
}

fn proc_state(pid: Pid) -> Res<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').ok_or("bad stat")?.1;
    Ok(after.trim_start().chars().next().ok_or("bad stat")?)
}

#[test]
fn cgroups_any_layout_limits_freeze_kill_destroy() -> TestResult {
    let mut cg = Cg::new("life")?;
    cg.mgr.create()?; // idempotent
    let resources = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(64 * MIB)
                .reservation(32 * MIB)
                .build()?,
        )
        .cpu(
            LinuxCpuBuilder::default()
                .shares(512u64)
                .quota(50_000)
                .period(100_000u64)
                .build()?,
        )
        .pids(LinuxPidsBuilder::default().limit(32).build()?)
        .build()?;
    cg.mgr.apply(&resources)?;
    let v2 = cg.layout == CgroupLayout::V2;
    assert_eq!(
        cg.read("memory", "memory.limit_in_bytes", "memory.max")?,
        "67108864"
    );
    assert_eq!(
        cg.read("memory", "memory.soft_limit_in_bytes", "memory.low")?,
        "33554432"
    );
    assert_eq!(cg.read("pids", "pids.max", "pids.max")?, "32");
    if v2 {
        assert_eq!(cg.read("cpu", "", "cpu.max")?, "50000 100000");
        assert_eq!(cg.read("cpu", "", "cpu.weight")?, "20");
        // Controllers were enabled top-down for the cgroup.
        let root = cg.mounts.unified.as_deref().ok_or("no cgroup2 mount")?;
        let enabled = fs::read_to_string(root.join("cgroup.subtree_control"))?;
        for c in ["cpu", "memory", "pids"] {
            assert!(enabled.split_whitespace().any(|e| e == c), "{enabled:?}");
        }
    } else {
        assert_eq!(cg.read("cpu", "cpu.cfs_quota_us", "")?, "50000");
        assert_eq!(cg.read("cpu", "cpu.shares", "")?, "512");
    }

    let pid = cg.spawn_inside("exec sleep 100")?;
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let want = format!("/{}", cg.rel.display());
    if v2 {
        assert_eq!(own.trim(), format!("0::{want}"));
    } else {
        assert!(own.lines().all(|l| l.ends_with(&want)), "{own}");
    }
    assert_eq!(cg.mgr.pids()?, vec![pid]);

    // Statistics come from the layout's files.
    let stats = cg.mgr.stats()?;
    let mem = stats.memory.ok_or("no memory stats")?;
    assert_eq!(mem.limit, Some(64 * 1024 * 1024));
    let key = if v2 { "anon" } else { "total_rss" };
    assert!(mem.stat.contains_key(key), "{:?}", mem.stat);
    let pids = stats.pids.ok_or("no pids stats")?;
    assert_eq!((pids.current, pids.limit), (1, Some(32)));
    assert!(stats.cpu.is_some());

    cg.mgr.freeze()?;
    if v2 {
        assert_eq!(cg.read("", "", "cgroup.freeze")?, "1");
        assert!(cg.read("", "", "cgroup.events")?.contains("frozen 1"));
    } else {
        assert_eq!(cg.read("freezer", "freezer.state", "")?, "FROZEN");
    }
    let state = proc_state(pid)?;
    assert!(state == 'D' || state == 'S', "frozen task in state {state}");
    cg.mgr.thaw()?;
    if v2 {
        assert!(cg.read("", "", "cgroup.events")?.contains("frozen 0"));
    } else {
        assert_eq!(cg.read("freezer", "freezer.state", "")?, "THAWED");
    }

    // SIGKILL: one write to cgroup.kill on v2.
    cg.mgr.kill_all(Signal::SIGKILL)?;
    assert_eq!(cg.take_child(pid)?.wait()?.signal(), Some(9));
    assert_eq!(cg.mgr.pids()?, Vec::<Pid>::new());
    assert_eq!(cg.mgr.oom_kill_count()?, 0);

    // Another signal: freeze, signal each task, thaw.
    let a = cg.spawn_inside("exec sleep 100")?;
    cg.mgr.kill_all(Signal::SIGTERM)?;
    assert_eq!(cg.take_child(a)?.wait()?.signal(), Some(15));

    cg.mgr.destroy()?;
    let dir = cg.dir("memory")?;
    assert!(!dir.exists(), "{} left behind", dir.display());
    cg.mgr.destroy()?; // absent is fine
    Ok(())
}

#[test]
fn cgroups_any_layout_oom_kill_is_counted() -> TestResult {
    let mut cg = Cg::new("oom")?;
    let limit = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(16 * MIB)
                .swap(16 * MIB)
                .build()?,
        )
        .build()?;
    cg.mgr.apply(&limit)?;
    // tail buffers a line with no newline: it grows until the OOM killer stops it.
    let pid = cg.spawn_inside("head -c 400000000 /dev/zero | tail > /dev/null")?;
    let status = cg.take_child(pid)?.wait()?;
    assert!(!status.success(), "the hog survived: {status:?}");
    assert!(cg.mgr.oom_kill_count()? >= 1);
    if cg.layout == CgroupLayout::V2 {
        let events = cg.read("memory", "", "memory.events")?;
        assert!(events.lines().any(|l| l == "oom_kill 1"), "{events}");
    }
    Ok(())
}

#[test]
fn cgroups_any_layout_pids_limit_refuses_forks() -> TestResult {
    let mut cg = Cg::new("pids")?;
    let limit = LinuxResourcesBuilder::default()
        .pids(LinuxPidsBuilder::default().limit(8).build()?)
        .build()?;
    cg.mgr.apply(&limit)?;
    // 20 sleepers (not holding the stderr pipe) under a limit of 8: the shell reports the
    // fork the kernel refused.
    let pid = cg.spawn_inside(
        "i=0; while [ $i -lt 20 ]; do sleep 100 > /dev/null 2>&1 & i=$((i+1)); done",
    )?;
    let out = cg.take_child(pid)?.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("fork"), "{err}");
    let current = cg.mgr.stats()?.pids.ok_or("no pids stats")?.current;
    assert!(
        (1..=8).contains(&current),
        "{current} tasks under a limit of 8"
    );
    if cg.layout == CgroupLayout::V2 {
        let events = cg.read("pids", "", "pids.events")?;
        let max: u64 = events
            .strip_prefix("max ")
            .ok_or(format!("pids.events reads {events:?}"))?
            .parse()?;
        assert!(max > 0, "no fork was refused: {events}");
    }
    Ok(())
}
