//! Real-kernel tests of the cgroup manager on this host's layout (v1, or v1 hybrid with a
//! cgroup2 mount): as root, each test makes `/berth-test-<pid>-<name>` in every hierarchy,
//! applies limits and reads them back from the kernel's files, moves forked children in,
//! freezes, kills and destroys, and checks nothing is left. A guard kills the children and
//! removes the cgroup even when an assertion fails.
//!
//! The v2 manager runs against a fake cgroupfs in the unit suite (`src/cgroups/tests/`):
//! this machine's kernel mounts only hugetlb on cgroup2.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use berth_runtime::cgroups::{
    AnyCgroupManager, CgroupError, CgroupLayout, CgroupMount, CgroupMounts, detect_layout, features,
};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType,
    LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const MIB: i64 = 1024 * 1024;

/// Fails (never skips) without root or without a v1 layout.
fn prerequisites() -> Result<CgroupLayout, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err(
            "the cgroup tests need root: run them as root (sudo -E cargo test -p \
                    berth-runtime --test cgroups)"
                .to_string(),
        );
    }
    match detect_layout() {
        Ok(l @ (CgroupLayout::V1 | CgroupLayout::Hybrid)) => Ok(l),
        Ok(CgroupLayout::V2) => Err("this suite drives cgroup v1 hierarchies; this host is \
                                     pure cgroup v2 (the v2 manager is covered by the unit \
                                     suite on a fake cgroupfs)"
            .to_string()),
        Err(e) => Err(format!("detect cgroup layout: {e}")),
    }
}

/// A test cgroup plus its children; on drop the children are killed and reaped and the
/// cgroup destroyed.
struct TestCgroup {
    mgr: AnyCgroupManager,
    rel: PathBuf,
    mounts: CgroupMounts,
    children: Vec<Child>,
}

impl TestCgroup {
    fn new(name: &str) -> Result<Self, Box<dyn std::error::Error>> {
        prerequisites()?;
        let rel = PathBuf::from(format!("berth-test-{}-{name}", std::process::id()));
        let path = Path::new("/").join(&rel);
        let mgr = AnyCgroupManager::new(Some(&path), "unused")?;
        Ok(TestCgroup {
            mgr,
            rel,
            mounts: CgroupMounts::from_proc()?,
            children: Vec::new(),
        })
    }

    /// Every directory of the cgroup: one per v1 hierarchy, plus the cgroup2 one.
    fn dirs(&self) -> Vec<PathBuf> {
        self.mounts
            .v1
            .iter()
            .map(|h| h.mount_point.join(&self.rel))
            .chain(self.mounts.unified.iter().map(|u| u.join(&self.rel)))
            .collect()
    }

    /// The text of `file` in the hierarchy of `controller`.
    fn read(&self, controller: &str, file: &str) -> Result<String, Box<dyn std::error::Error>> {
        let h = self
            .mounts
            .hierarchy(controller)
            .ok_or_else(|| format!("no {controller} hierarchy mounted"))?;
        let path = h.mount_point.join(&self.rel).join(file);
        Ok(fs::read_to_string(&path)
            .map_err(|e| format!("read {}: {e}", path.display()))?
            .trim()
            .to_string())
    }

    /// Spawns `sh -c script` stopped at its first `read`, adds it to the cgroup, then lets it
    /// go, so everything it forks is born inside.
    fn spawn_inside(&mut self, script: &str) -> Result<Pid, Box<dyn std::error::Error>> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read go; {script}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // The shell's "Killed" note after the OOM test's hog is expected noise.
            .stderr(Stdio::null())
            .spawn()?;
        let pid = Pid::from_raw(i32::try_from(child.id())?);
        let added = self.mgr.add_task(pid);
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        self.children.push(child);
        added?;
        stdin.write_all(b"go\n")?;
        Ok(pid)
    }

    fn child(&mut self, pid: Pid) -> Result<&mut Child, String> {
        self.children
            .iter_mut()
            .find(|c| i64::from(c.id()) == i64::from(pid.as_raw()))
            .ok_or_else(|| format!("no child {pid}"))
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.mgr.kill_all(Signal::SIGKILL);
        if let Err(e) = self.mgr.destroy() {
            eprintln!("cleanup of {}: {e}", self.rel.display());
        }
    }
}

fn resources() -> Result<LinuxResources, Box<dyn std::error::Error>> {
    let dev = |allow: bool, typ: Option<LinuxDeviceType>, minor: i64| {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .access("rwm");
        if let Some(t) = typ {
            b = b.typ(t).major(1).minor(minor);
        }
        b.build()
    };
    Ok(LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(64 * MIB)
                .reservation(32 * MIB)
                .swap(128 * MIB)
                .build()?,
        )
        .cpu(
            LinuxCpuBuilder::default()
                .shares(512u64)
                .quota(50_000)
                .period(100_000u64)
                .cpus("0")
                .mems("0")
                .build()?,
        )
        .pids(LinuxPidsBuilder::default().limit(32).build()?)
        .devices(vec![
            dev(false, None, 0)?,
            dev(true, Some(LinuxDeviceType::C), 3)?,
            dev(true, Some(LinuxDeviceType::C), 5)?,
        ])
        .build()?)
}

#[test]
fn cgroups_real_layout_matches_mountinfo() -> TestResult {
    let layout = prerequisites()?;
    let mounts = CgroupMounts::from_proc()?;
    assert_eq!(layout == CgroupLayout::Hybrid, mounts.unified.is_some());
    assert!(!mounts.v1.is_empty());
    Ok(())
}

#[test]
fn cgroups_real_v1_lifecycle() -> TestResult {
    let mut cg = TestCgroup::new("lifecycle")?;
    cg.mgr.create()?;
    cg.mgr.create()?; // idempotent
    for dir in cg.dirs() {
        assert!(dir.is_dir(), "{} not created", dir.display());
    }
    // The cpuset level got cpus and mems from its parent, or no task could join.
    assert!(!cg.read("cpuset", "cpuset.cpus")?.is_empty());

    cg.mgr.apply(&resources()?)?;
    assert_eq!(cg.read("memory", "memory.limit_in_bytes")?, "67108864");
    assert_eq!(cg.read("memory", "memory.soft_limit_in_bytes")?, "33554432");
    if cg.mounts.hierarchy("memory").is_some_and(|h| {
        h.mount_point
            .join(&cg.rel)
            .join("memory.memsw.limit_in_bytes")
            .exists()
    }) {
        assert_eq!(
            cg.read("memory", "memory.memsw.limit_in_bytes")?,
            "134217728"
        );
    }
    assert_eq!(cg.read("cpu", "cpu.shares")?, "512");
    assert_eq!(cg.read("cpu", "cpu.cfs_quota_us")?, "50000");
    assert_eq!(cg.read("cpu", "cpu.cfs_period_us")?, "100000");
    assert_eq!(cg.read("cpuset", "cpuset.cpus")?, "0");
    assert_eq!(cg.read("cpuset", "cpuset.mems")?, "0");
    assert_eq!(cg.read("pids", "pids.max")?, "32");
    assert_eq!(cg.read("devices", "devices.list")?, "c 1:3 rwm\nc 1:5 rwm");
    assert_blkio_weight_as_the_kernel_calls_for(&cg)?;

    // A forked child joins every hierarchy.
    let pid = cg.spawn_inside("exec sleep 100")?;
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let want = format!("/{}", cg.rel.display());
    let lines: Vec<&str> = own.lines().collect();
    assert_eq!(lines.len(), cg.dirs().len(), "{own}");
    for line in lines {
        assert!(line.ends_with(&want), "{line} is not in {want}");
    }
    assert_eq!(cg.mgr.pids()?, vec![pid]);

    let stats = cg.mgr.stats()?;
    let mem = stats.memory.ok_or("no memory stats")?;
    assert_eq!(mem.limit, Some(64 * 1024 * 1024));
    assert!(mem.stat.contains_key("total_rss"), "{:?}", mem.stat);
    let pids = stats.pids.ok_or("no pids stats")?;
    assert_eq!((pids.current, pids.limit), (1, Some(32)));
    assert!(stats.cpu.is_some());

    cg.mgr.freeze()?;
    assert_eq!(cg.read("freezer", "freezer.state")?, "FROZEN");
    let state = proc_state(pid)?;
    assert!(state == 'D' || state == 'S', "frozen task in state {state}");
    cg.mgr.thaw()?;
    assert_eq!(cg.read("freezer", "freezer.state")?, "THAWED");

    cg.mgr.kill_all(Signal::SIGKILL)?;
    let status = cg.child(pid)?.wait()?;
    assert_eq!(status.signal(), Some(9));
    assert_eq!(cg.mgr.pids()?, Vec::<Pid>::new());
    assert_eq!(cg.mgr.oom_kill_count()?, 0);

    cg.mgr.destroy()?;
    for dir in cg.dirs() {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    cg.mgr.destroy()?; // absent is fine
    Ok(())
}

/// A block IO weight needs BFQ (or the old CFQ) in the kernel, and kernels differ: where the
/// weight file exists the value is written; where it does not, the runtime refuses the spec
/// with an error naming the field and the missing file (the engine drops the field with a
/// warning before it gets here, as dockerd does).
fn assert_blkio_weight_as_the_kernel_calls_for(cg: &TestCgroup) -> TestResult {
    let weight = LinuxResourcesBuilder::default()
        .block_io(LinuxBlockIoBuilder::default().weight(500u16).build()?)
        .build()?;
    if features::blkio_weight_supported(&cg.mounts) {
        cg.mgr.apply(&weight)?;
        let read = cg
            .read("blkio", "blkio.weight")
            .or_else(|_| cg.read("blkio", "blkio.bfq.weight"))?;
        assert!(read.ends_with("500"), "blkio weight reads {read:?}");
    } else {
        let err = cg
            .mgr
            .apply(&weight)
            .err()
            .ok_or("a blkio weight was accepted by a kernel without a weight file")?;
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                CgroupError::MissingFile {
                    field: "blockIO.weight",
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("blkio.weight"), "{msg}");
    }
    Ok(())
}

fn proc_state(pid: Pid) -> Result<char, Box<dyn std::error::Error>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').ok_or("bad stat")?.1;
    Ok(after.trim_start().chars().next().ok_or("bad stat")?)
}

#[test]
fn cgroups_real_kill_all_with_sigterm_freezes_signals_thaws() -> TestResult {
    let mut cg = TestCgroup::new("sigterm")?;
    cg.mgr.create()?;
    let a = cg.spawn_inside("exec sleep 100")?;
    let b = cg.spawn_inside("exec sleep 100")?;
    let mut pids = cg.mgr.pids()?;
    pids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(pids, want);
    cg.mgr.kill_all(Signal::SIGTERM)?;
    for pid in [a, b] {
        assert_eq!(cg.child(pid)?.wait()?.signal(), Some(15));
    }
    assert_eq!(cg.read("freezer", "freezer.state")?, "THAWED");
    cg.mgr.destroy()?;
    Ok(())
}

#[test]
fn cgroups_real_refused_values_name_file_and_value() -> TestResult {
    let mut cg = TestCgroup::new("refused")?;
    cg.mgr.create()?;

    let quota = LinuxResourcesBuilder::default()
        .cpu(LinuxCpuBuilder::default().quota(500).build()?)
        .build()?;
    let err = cg.mgr.apply(&quota).err().ok_or("quota 500 accepted")?;
    let msg = err.to_string();
    assert!(matches!(err, CgroupError::Write { .. }), "{msg}");
    assert!(
        msg.starts_with("write \"500\" to /") && msg.ends_with("/cpu.cfs_quota_us"),
        "{msg}"
    );

    let cpus = LinuxResourcesBuilder::default()
        .cpu(LinuxCpuBuilder::default().cpus("4096").build()?)
        .build()?;
    let msg = cg
        .mgr
        .apply(&cpus)
        .err()
        .ok_or("cpus 4096 accepted")?
        .to_string();
    assert!(
        msg.contains("\"4096\"") && msg.ends_with("/cpuset.cpus"),
        "{msg}"
    );

    // A memory limit below what the cgroup already uses (no swap to push it to): EBUSY.
    let pid = cg.spawn_inside(
        "v=$(head -c 40000000 /dev/zero | tr '\\0' a); echo filled; read done; echo ${#v}",
    )?;
    let child = cg.child(pid)?;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().ok_or("no stdout")?).read_line(&mut line)?;
    assert_eq!(line.trim(), "filled");
    let usage: u64 = cg.read("memory", "memory.usage_in_bytes")?.parse()?;
    let no_swap = fs::read_to_string("/proc/swaps")?.lines().count() <= 1;
    if no_swap {
        let limit = LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(4 * MIB).build()?)
            .build()?;
        let err = cg.mgr.apply(&limit).err();
        let msg = err
            .map(|e| e.to_string())
            .ok_or(format!("4 MiB accepted at usage {usage}"))?;
        assert!(
            msg.starts_with("write \"4194304\" to /") && msg.ends_with("/memory.limit_in_bytes"),
            "{msg}"
        );
    }
    Ok(())
}

#[test]
fn cgroups_real_oom_kill_is_counted() -> TestResult {
    let mut cg = TestCgroup::new("oom")?;
    cg.mgr.create()?;
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
    let status = cg.child(pid)?.wait()?;
    assert!(!status.success(), "the hog survived: {status:?}");
    assert!(cg.mgr.oom_kill_count()? >= 1);
    cg.mgr.destroy()?;
    Ok(())
}

#[test]
fn cgroups_real_destroy_reports_every_busy_hierarchy() -> TestResult {
    let mut cg = TestCgroup::new("busy")?;
    cg.mgr.create()?;
    let pid = cg.spawn_inside("exec sleep 100")?;
    let err = cg
        .mgr
        .destroy()
        .err()
        .ok_or("destroyed a cgroup with a live task")?;
    let CgroupError::Destroy(errors) = &err else {
        return Err(format!("not a Destroy error: {err}").into());
    };
    assert_eq!(errors.len(), cg.dirs().len(), "{err}");
    for dir in cg.dirs() {
        assert!(
            err.to_string().contains(&dir.display().to_string()),
            "{err}"
        );
    }
    cg.mgr.kill_all(Signal::SIGKILL)?;
    cg.child(pid)?.wait()?;
    cg.mgr.destroy()?;
    for dir in cg.dirs() {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    Ok(())
}

#[test]
fn cgroups_real_container_mounts_follow_mountinfo() -> TestResult {
    let cg = TestCgroup::new("mounts")?;
    let mounts = cg.mgr.container_mounts();
    assert_eq!(mounts.len(), cg.dirs().len());
    for h in &cg.mounts.v1 {
        let want = CgroupMount {
            fstype: "cgroup",
            data: h.data(),
            subdir: h.subdir(),
            host_dir: h.mount_point.join(&cg.rel),
        };
        assert!(mounts.contains(&want), "{want:?} missing from {mounts:?}");
    }
    if cg.mounts.hierarchy("cpu").is_some() {
        assert!(mounts.iter().any(|m| m.data.split(',').any(|c| c == "cpu")));
    }
    if cg.mounts.hierarchy("name=systemd").is_some() {
        let sd = mounts.iter().find(|m| m.data == "name=systemd");
        assert_eq!(sd.map(|m| m.subdir.as_str()), Some("systemd"));
    }
    if cg.mounts.unified.is_some() {
        assert!(
            mounts
                .iter()
                .any(|m| m.fstype == "cgroup2" && m.subdir == "unified")
        );
    }
    Ok(())
}
