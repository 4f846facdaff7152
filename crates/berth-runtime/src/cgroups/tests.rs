//! Unit tests of the manager level, and the conformance suite: the same checks run against the
//! v1 (hybrid) and the v2 manager, each on a temp dir shaped like cgroupfs (as youki tests its
//! cgroups). A fake tree cannot refuse values or move tasks, so those are left to the
//! real-kernel suite in `tests/cgroups.rs`; here a small emulator stands in for the kernel
//! only where a wait loop needs it (v2's `cgroup.events`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxDeviceCgroupBuilder, LinuxDeviceType,
    LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn default_path_is_berth_id() -> Result<(), CgroupError> {
    assert_eq!(
        relative_cgroup_path(None, "abc")?,
        PathBuf::from("berth/abc")
    );
    Ok(())
}

#[test]
fn spec_path_is_relative_to_each_root() -> Result<(), CgroupError> {
    let p = relative_cgroup_path(Some(Path::new("/docker/abc")), "ignored")?;
    assert_eq!(p, PathBuf::from("docker/abc"));
    Ok(())
}

#[test]
fn bad_paths_are_refused() {
    assert!(relative_cgroup_path(Some(Path::new("/a/../../etc")), "x").is_err());
    assert!(relative_cgroup_path(Some(Path::new("/")), "x").is_err());
    assert!(relative_cgroup_path(None, "").is_err());
    assert!(relative_cgroup_path(None, "a/b").is_err());
    assert!(relative_cgroup_path(None, "..").is_err());
}

#[test]
fn layouts_from_mounts() -> Result<(), CgroupError> {
    let v1 = "1 0 0:1 / /c/cpu rw - cgroup cgroup rw,cpu\n";
    let v2 = "1 0 0:1 / /c rw - cgroup2 cgroup2 rw\n";
    assert_eq!(
        CgroupLayout::of(&CgroupMounts::parse(v1))?,
        CgroupLayout::V1
    );
    assert_eq!(
        CgroupLayout::of(&CgroupMounts::parse(v2))?,
        CgroupLayout::V2
    );
    let hybrid = format!("{v1}2 0 0:2 / /c/unified rw - cgroup2 cgroup2 rw\n");
    assert_eq!(
        CgroupLayout::of(&CgroupMounts::parse(&hybrid))?,
        CgroupLayout::Hybrid
    );
    assert!(matches!(
        CgroupLayout::of(&CgroupMounts::parse("")),
        Err(CgroupError::NoCgroupFs { .. })
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The fake trees.

const REL: &str = "berth/ctr";
const UNLIMITED_V1: &str = "9223372036854771712";

/// v1 hierarchies of the fake hybrid host: (directory, super options, control files of a
/// new cgroup with the kernel's defaults).
/// A fake v1 hierarchy: (directory, super options, control files with their contents).
type FakeHierarchy = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const V1_TREE: &[FakeHierarchy] = &[
    (
        "cpu",
        "cpu",
        &[
            ("cpu.shares", "1024"),
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "-1"),
            ("cpu.cfs_burst_us", "0"),
            (
                "cpu.stat",
                "nr_periods 10\nnr_throttled 2\nthrottled_time 3000\n",
            ),
        ],
    ),
    (
        "cpuacct",
        "cpuacct",
        &[
            ("cpuacct.usage", "5000000"),
            ("cpuacct.usage_user", "3000000"),
            ("cpuacct.usage_sys", "2000000"),
            ("cpuacct.usage_percpu", "2500000 2500000 \n"),
        ],
    ),
    (
        "cpuset",
        "cpuset",
        &[("cpuset.cpus", "0-1"), ("cpuset.mems", "0")],
    ),
    (
        "memory",
        "memory",
        &[
            ("memory.limit_in_bytes", UNLIMITED_V1),
            ("memory.soft_limit_in_bytes", UNLIMITED_V1),
            ("memory.memsw.limit_in_bytes", UNLIMITED_V1),
            ("memory.usage_in_bytes", "1048576"),
            ("memory.max_usage_in_bytes", "2097152"),
            ("memory.stat", "cache 4096\ntotal_inactive_file 4096\n"),
            (
                "memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
            ),
            ("memory.swappiness", "60"),
        ],
    ),
    (
        "devices",
        "devices",
        &[("devices.allow", ""), ("devices.deny", "")],
    ),
    ("freezer", "freezer", &[("freezer.state", "THAWED")]),
    ("blkio", "blkio", &[("blkio.bfq.weight", "100")]),
    (
        "pids",
        "pids",
        &[("pids.current", "1"), ("pids.max", "max")],
    ),
    ("systemd", "xattr,name=systemd", &[]),
];

/// Control files of a new v2 cgroup with every controller enabled.
const V2_FILES: &[(&str, &str)] = &[
    ("cgroup.freeze", "0"),
    ("cgroup.events", "populated 1\nfrozen 0\n"),
    ("cgroup.kill", ""),
    ("cgroup.subtree_control", ""),
    ("cpu.weight", "100"),
    ("cpu.max", "max 100000"),
    ("cpu.max.burst", "0"),
    (
        "cpu.stat",
        "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 3\n",
    ),
    ("cpuset.cpus", ""),
    ("cpuset.mems", ""),
    ("memory.max", "max"),
    ("memory.low", "0"),
    ("memory.swap.max", "max"),
    ("memory.current", "1048576"),
    ("memory.peak", "2097152"),
    ("memory.stat", "anon 4096\ninactive_file 4096\n"),
    ("memory.events", "low 0\nhigh 0\nmax 0\noom 3\noom_kill 3\n"),
    ("pids.current", "1"),
    ("pids.max", "max"),
    ("io.bfq.weight", "default 100"),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    V1,
    V2,
}

struct Fake {
    tmp: tempfile::TempDir,
    kind: Kind,
    mgr: AnyCgroupManager,
}

fn write_files(dir: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("cgroup.procs"), "")?;
    for (name, value) in files {
        fs::write(dir.join(name), value)?;
    }
    Ok(())
}

impl Fake {
    /// A fake host of `kind` with the container's cgroup already made (as the kernel would
    /// populate it on mkdir).
    fn new(kind: Kind) -> Result<Self, Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let root = tmp.path();
        let mut mountinfo = String::new();
        match kind {
            Kind::V1 => {
                for (i, (dir, opts, files)) in V1_TREE.iter().enumerate() {
                    let mp = root.join(dir);
                    mountinfo.push_str(&format!(
                        "{} 1 0:{i} / {} rw - cgroup cgroup rw,{opts}\n",
                        i + 10,
                        mp.display()
                    ));
                    write_files(&mp, &[])?;
                    write_files(&mp.join(REL), files)?;
                }
                let unified = root.join("unified");
                mountinfo.push_str(&format!(
                    "99 1 0:99 / {} rw - cgroup2 cgroup2 rw\n",
                    unified.display()
                ));
                write_files(&unified, &[("cgroup.controllers", "hugetlb")])?;
                write_files(&unified.join(REL), &[("cgroup.kill", "")])?;
            }
            Kind::V2 => {
                mountinfo.push_str(&format!(
                    "10 1 0:10 / {} rw - cgroup2 cgroup2 rw\n",
                    root.display()
                ));
                write_files(
                    root,
                    &[
                        ("cgroup.controllers", "cpuset cpu io memory hugetlb pids"),
                        ("cgroup.subtree_control", ""),
                    ],
                )?;
                write_files(&root.join(REL), V2_FILES)?;
            }
        }
        let mounts = CgroupMounts::parse(&mountinfo);
        let mgr = AnyCgroupManager::with_mounts(&mounts, Some(Path::new(REL)), "ctr")?;
        Ok(Fake { tmp, kind, mgr })
    }

    /// The path of a control file: `v1` as `hierarchy/file`, `v2` as `file`.
    fn path(&self, v1: &str, v2: &str) -> PathBuf {
        match self.kind {
            Kind::V1 => {
                let (hier, file) = v1.split_once('/').unwrap_or(("", v1));
                self.tmp.path().join(hier).join(REL).join(file)
            }
            Kind::V2 => self.tmp.path().join(REL).join(v2),
        }
    }

    fn read(&self, v1: &str, v2: &str) -> String {
        fs::read_to_string(self.path(v1, v2)).unwrap_or_else(|e| format!("<{e}>"))
    }

    /// Every directory of the container's cgroup.
    fn dirs(&self) -> Vec<PathBuf> {
        match self.kind {
            Kind::V1 => V1_TREE
                .iter()
                .map(|(d, _, _)| *d)
                .chain(["unified"])
                .map(|d| self.tmp.path().join(d).join(REL))
                .collect(),
            Kind::V2 => vec![self.tmp.path().join(REL)],
        }
    }

    /// What the kernel does on rmdir of an empty cgroup: its control files go with it.
    fn drop_control_files(&self) -> std::io::Result<()> {
        for dir in self.dirs() {
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    fs::remove_file(entry.path())?;
                }
            }
        }
        Ok(())
    }
}

/// Stands in for the kernel's v2 freezer: mirrors `cgroup.freeze` into `cgroup.events`.
struct FreezeEmulator {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FreezeEmulator {
    fn start(fake: &Fake) -> Option<Self> {
        if fake.kind != Kind::V2 {
            return None;
        }
        let dir = fake.tmp.path().join(REL);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Ok(v) = fs::read_to_string(dir.join("cgroup.freeze")) {
                    let events = format!("populated 1\nfrozen {}\n", v.trim());
                    let _ = fs::write(dir.join("cgroup.events"), events);
                }
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        Some(FreezeEmulator {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for FreezeEmulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A `sleep` child killed and reaped on drop.
struct Sleeper(Child);

impl Sleeper {
    fn spawn() -> std::io::Result<Self> {
        Command::new("sleep").arg("100").spawn().map(Sleeper)
    }
    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.0.id()).unwrap_or(i32::MAX))
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn full_resources() -> Result<LinuxResources, Box<dyn std::error::Error>> {
    Ok(LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(64 * 1024 * 1024)
                .reservation(32 * 1024 * 1024)
                .swap(128 * 1024 * 1024)
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
        .block_io(LinuxBlockIoBuilder::default().weight(500u16).build()?)
        .devices(vec![
            LinuxDeviceCgroupBuilder::default()
                .allow(false)
                .access("rwm")
                .build()?,
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .typ(LinuxDeviceType::C)
                .major(1)
                .minor(3)
                .access("rwm")
                .build()?,
        ])
        .build()?)
}

// ---------------------------------------------------------------------------------------------
// The conformance suite: one body, run for both managers.

fn conformance(kind: Kind) -> TestResult {
    let fake = Fake::new(kind)?;
    let m = &fake.mgr;

    // create is idempotent on an existing cgroup.
    m.create()?;
    m.create()?;

    // apply writes what is set...
    let mut resources = full_resources()?;
    if kind == Kind::V2 {
        // v2 device rules are an eBPF program attached to a real cgroup: tests/devices.rs.
        resources.set_devices(None);
    }
    m.apply(&resources)?;
    let r = |v1, v2| fake.read(v1, v2);
    assert_eq!(r("memory/memory.limit_in_bytes", "memory.max"), "67108864");
    assert_eq!(
        r("memory/memory.soft_limit_in_bytes", "memory.low"),
        "33554432"
    );
    // v1 takes memory+swap; v2 takes the swap alone.
    assert_eq!(
        r("memory/memory.memsw.limit_in_bytes", "memory.swap.max"),
        match kind {
            Kind::V1 => "134217728",
            Kind::V2 => "67108864",
        }
    );
    assert_eq!(
        r("cpu/cpu.shares", "cpu.weight"),
        match kind {
            Kind::V1 => "512",
            Kind::V2 => "20",
        }
    );
    match kind {
        Kind::V1 => {
            assert_eq!(r("cpu/cpu.cfs_quota_us", ""), "50000");
            assert_eq!(r("cpu/cpu.cfs_period_us", ""), "100000");
            // Deny all, then the allow rule.
            assert_eq!(r("devices/devices.deny", ""), "a");
            assert_eq!(r("devices/devices.allow", ""), "c 1:3 rwm");
        }
        Kind::V2 => assert_eq!(r("", "cpu.max"), "50000 100000"),
    }
    assert_eq!(r("cpuset/cpuset.cpus", "cpuset.cpus"), "0");
    assert_eq!(r("cpuset/cpuset.mems", "cpuset.mems"), "0");
    assert_eq!(r("pids/pids.max", "pids.max"), "32");
    assert_eq!(r("blkio/blkio.bfq.weight", "io.bfq.weight"), "500");

    // ...and nothing else: a pids-only update leaves memory alone.
    fs::write(
        fake.path("memory/memory.limit_in_bytes", "memory.max"),
        "sentinel",
    )?;
    let pids_only = LinuxResourcesBuilder::default()
        .pids(LinuxPidsBuilder::default().limit(-1).build()?)
        .build()?;
    m.apply(&pids_only)?;
    assert_eq!(r("memory/memory.limit_in_bytes", "memory.max"), "sentinel");
    assert_eq!(r("pids/pids.max", "pids.max"), "max");
    fs::write(
        fake.path("memory/memory.limit_in_bytes", "memory.max"),
        "67108864",
    )?;
    fs::write(fake.path("pids/pids.max", "pids.max"), "32")?;

    // add_task puts the pid in every hierarchy; pids reads it back.
    m.add_task(Pid::from_raw(4242))?;
    for dir in fake.dirs() {
        assert_eq!(fs::read_to_string(dir.join("cgroup.procs"))?, "4242");
    }
    assert_eq!(m.pids()?, vec![Pid::from_raw(4242)]);

    // stats.
    let s = m.stats()?;
    let mem = s.memory.ok_or("no memory stats")?;
    assert_eq!(mem.usage, 1_048_576);
    assert_eq!(mem.max_usage, Some(2_097_152));
    assert_eq!(mem.limit, Some(67_108_864));
    assert_eq!(
        mem.stat.get(match kind {
            Kind::V1 => "total_inactive_file",
            Kind::V2 => "inactive_file",
        }),
        Some(&4096)
    );
    let cpu = s.cpu.ok_or("no cpu stats")?;
    assert_eq!(
        (cpu.total_ns, cpu.user_ns, cpu.system_ns),
        (5_000_000, 3_000_000, 2_000_000)
    );
    assert_eq!(
        (cpu.nr_periods, cpu.nr_throttled, cpu.throttled_ns),
        (10, 2, 3000)
    );
    let pids = s.pids.ok_or("no pids stats")?;
    assert_eq!((pids.current, pids.limit), (1, Some(32)));

    // freeze and thaw.
    {
        let _kernel = FreezeEmulator::start(&fake);
        m.freeze()?;
        assert_eq!(
            r("freezer/freezer.state", "cgroup.freeze"),
            match kind {
                Kind::V1 => "FROZEN",
                Kind::V2 => "1",
            }
        );
        m.thaw()?;
        assert_eq!(
            r("freezer/freezer.state", "cgroup.freeze"),
            match kind {
                Kind::V1 => "THAWED",
                Kind::V2 => "0",
            }
        );

        // kill_all with a signal other than SIGKILL: freeze, signal each pid, thaw.
        let mut child = Sleeper::spawn()?;
        let procs = fake.path("pids/cgroup.procs", "cgroup.procs");
        fs::write(&procs, format!("{}\n", child.pid()))?;
        m.kill_all(Signal::SIGTERM)?;
        let status = child.0.wait()?;
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15)
        );
        assert_eq!(
            r("freezer/freezer.state", "cgroup.freeze"),
            match kind {
                Kind::V1 => "THAWED",
                Kind::V2 => "0",
            }
        );
    }

    // SIGKILL goes through cgroup.kill where there is one (v2, and hybrid's cgroup2 mount).
    m.kill_all(Signal::SIGKILL)?;
    let kill_file = match kind {
        Kind::V1 => fake
            .tmp
            .path()
            .join("unified")
            .join(REL)
            .join("cgroup.kill"),
        Kind::V2 => fake.path("", "cgroup.kill"),
    };
    assert_eq!(fs::read_to_string(kill_file)?, "1");

    assert_eq!(m.oom_kill_count()?, 3);

    // destroy: every directory goes (with a child cgroup the container made), twice is fine.
    let nested = fake.dirs()[0].join("nested");
    fs::create_dir(&nested)?;
    fake.drop_control_files()?;
    m.destroy()?;
    for dir in fake.dirs() {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    m.destroy()?;
    Ok(())
}

#[test]
fn conformance_v1_hybrid() -> TestResult {
    conformance(Kind::V1)
}

#[test]
fn conformance_v2() -> TestResult {
    conformance(Kind::V2)
}

fn missing_weight_file_is_a_clear_error(kind: Kind) -> TestResult {
    let fake = Fake::new(kind)?;
    let weight = fake.path("blkio/blkio.bfq.weight", "io.bfq.weight");
    fs::remove_file(&weight)?;
    // Without a weight requested, nothing is needed.
    fake.mgr.apply(&LinuxResourcesBuilder::default().build()?)?;
    let want = LinuxResourcesBuilder::default()
        .block_io(LinuxBlockIoBuilder::default().weight(300u16).build()?)
        .build()?;
    let err = fake
        .mgr
        .apply(&want)
        .err()
        .ok_or("weight applied without a file")?;
    let msg = err.to_string();
    assert!(matches!(err, CgroupError::MissingFile { .. }), "{msg}");
    assert!(
        msg.contains("blockIO.weight") && msg.contains("300"),
        "{msg}"
    );
    Ok(())
}

#[test]
fn missing_weight_file_is_a_clear_error_v1() -> TestResult {
    missing_weight_file_is_a_clear_error(Kind::V1)
}

#[test]
fn missing_weight_file_is_a_clear_error_v2() -> TestResult {
    missing_weight_file_is_a_clear_error(Kind::V2)
}

fn container_mounts(kind: Kind) -> TestResult {
    let fake = Fake::new(kind)?;
    let all = fake.mgr.container_mounts();
    let dirs = all.iter().map(|m| m.host_dir.clone()).collect::<Vec<_>>();
    assert!(
        dirs.iter().all(|d| d.ends_with(REL)),
        "host dirs not the container's: {dirs:?}"
    );
    let mounts: Vec<_> = all
        .into_iter()
        .map(|m| (m.fstype, m.data, m.subdir))
        .collect();
    let cg = |fstype, data: &str, subdir: &str| (fstype, data.to_string(), subdir.to_string());
    match kind {
        Kind::V1 => {
            assert_eq!(mounts.len(), V1_TREE.len() + 1);
            assert!(mounts.contains(&cg("cgroup", "cpu", "cpu")));
            assert!(mounts.contains(&cg("cgroup", "name=systemd", "systemd")));
            assert!(mounts.contains(&cg("cgroup2", "", "unified")));
            assert_eq!(fake.mgr.layout(), CgroupLayout::Hybrid);
        }
        Kind::V2 => {
            assert_eq!(mounts, vec![cg("cgroup2", "", "")]);
            assert_eq!(fake.mgr.layout(), CgroupLayout::V2);
        }
    }
    Ok(())
}

#[test]
fn container_mounts_v1_hybrid() -> TestResult {
    container_mounts(Kind::V1)
}

#[test]
fn container_mounts_v2() -> TestResult {
    container_mounts(Kind::V2)
}

// ---------------------------------------------------------------------------------------------
// Manager-specific behaviour.

#[test]
fn v2_swap_below_limit_is_refused_before_any_write() -> TestResult {
    let fake = Fake::new(Kind::V2)?;
    let bad = LinuxResourcesBuilder::default()
        .memory(
            LinuxMemoryBuilder::default()
                .limit(128 * 1024 * 1024)
                .swap(64 * 1024 * 1024)
                .build()?,
        )
        .build()?;
    let err = fake.mgr.apply(&bad).err().ok_or("bad swap accepted")?;
    assert!(
        matches!(
            err,
            CgroupError::InvalidValue {
                field: "memory.swap",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.read("", "memory.max"), "max");
    Ok(())
}

#[test]
fn v2_create_enables_controllers_top_down() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path();
    write_files(
        root,
        &[
            (
                "cgroup.controllers",
                "cpuset cpu io memory hugetlb pids net_cls_not_ours",
            ),
            ("cgroup.subtree_control", "memory"),
        ],
    )?;
    // An existing intermediate level with everything enabled already.
    write_files(
        &root.join("berth"),
        &[(
            "cgroup.subtree_control",
            "cpuset cpu io memory hugetlb pids",
        )],
    )?;
    let m = v2::V2Manager::new(root, Path::new("berth/new"));
    m.create()?;
    assert!(root.join("berth/new").is_dir());
    // Only the missing ones were written at the root; nothing at the complete level.
    assert_eq!(
        fs::read_to_string(root.join("cgroup.subtree_control"))?,
        "+cpuset +cpu +io +hugetlb +pids"
    );
    assert_eq!(
        fs::read_to_string(root.join("berth/cgroup.subtree_control"))?,
        "cpuset cpu io memory hugetlb pids"
    );
    Ok(())
}

#[test]
fn v1_create_makes_every_level() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mountinfo = format!(
        "1 0 0:1 / {0}/memory rw - cgroup cgroup rw,memory\n2 0 0:2 / {0}/pids rw - cgroup cgroup rw,pids\n",
        tmp.path().display()
    );
    for h in ["memory", "pids"] {
        fs::create_dir(tmp.path().join(h))?;
    }
    let mounts = CgroupMounts::parse(&mountinfo);
    let m = AnyCgroupManager::with_mounts(&mounts, None, "abc")?;
    m.create()?;
    m.create()?;
    assert!(tmp.path().join("memory/berth/abc").is_dir());
    assert!(tmp.path().join("pids/berth/abc").is_dir());
    assert_eq!(m.layout(), CgroupLayout::V1);
    assert_eq!(m.container_mounts().len(), 2);
    Ok(())
}

#[test]
fn v1_missing_controller_names_the_field() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mountinfo = format!(
        "1 0 0:1 / {}/memory rw - cgroup cgroup rw,memory\n",
        tmp.path().display()
    );
    let mounts = CgroupMounts::parse(&mountinfo);
    let m = AnyCgroupManager::with_mounts(&mounts, None, "abc")?;
    let r = LinuxResourcesBuilder::default()
        .pids(LinuxPidsBuilder::default().limit(10).build()?)
        .build()?;
    let err = m
        .apply(&r)
        .err()
        .ok_or("pids applied without a pids hierarchy")?;
    assert_eq!(
        err.to_string(),
        "cannot set pids.limit to \"10\": the pids cgroup controller is not available"
    );
    assert!(m.freeze().is_err());
    Ok(())
}

#[test]
fn write_error_names_file_and_value() {
    let err = super::fs::write_path(Path::new("/nonexistent-berth/x/memory.max"), "max").err();
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, "write \"max\" to /nonexistent-berth/x/memory.max");
}

#[test]
fn destroy_of_a_never_created_cgroup_is_ok() -> TestResult {
    let fake = Fake::new(Kind::V1)?;
    let m = v1::V1Manager::new(
        &CgroupMounts::parse(&format!(
            "1 0 0:1 / {}/cpu rw - cgroup cgroup rw,cpu\n",
            fake.tmp.path().display()
        )),
        Path::new("never/made"),
    );
    m.destroy()?;
    v2::V2Manager::new(fake.tmp.path(), Path::new("never/made")).destroy()?;
    Ok(())
}
