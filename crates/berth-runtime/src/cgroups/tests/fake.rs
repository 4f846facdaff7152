//! The fake cgroupfs trees (a v1 hybrid host and a v2 host, as temp dirs with the kernel's
//! default files), the v2 freezer emulator, and the helpers the suites share.

use super::*;

pub(super) const REL: &str = "berth/ctr";
pub(super) const UNLIMITED_V1: &str = "9223372036854771712";

/// v1 hierarchies of the fake hybrid host: (directory, super options, control files of a
/// new cgroup with the kernel's defaults).
/// A fake v1 hierarchy: (directory, super options, control files with their contents).
pub(super) type FakeHierarchy = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

pub(super) const V1_TREE: &[FakeHierarchy] = &[
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
pub(super) const V2_FILES: &[(&str, &str)] = &[
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
pub(super) enum Kind {
    V1,
    V2,
}

pub(super) struct Fake {
    pub(super) tmp: tempfile::TempDir,
    pub(super) kind: Kind,
    pub(super) mgr: AnyCgroupManager,
}

pub(super) fn write_files(dir: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
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
    pub(super) fn new(kind: Kind) -> Result<Self, Box<dyn std::error::Error>> {
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
    pub(super) fn path(&self, v1: &str, v2: &str) -> PathBuf {
        match self.kind {
            Kind::V1 => {
                let (hier, file) = v1.split_once('/').unwrap_or(("", v1));
                self.tmp.path().join(hier).join(REL).join(file)
            }
            Kind::V2 => self.tmp.path().join(REL).join(v2),
        }
    }

    pub(super) fn read(&self, v1: &str, v2: &str) -> String {
        fs::read_to_string(self.path(v1, v2)).unwrap_or_else(|e| format!("<{e}>"))
    }

    /// Every directory of the container's cgroup.
    pub(super) fn dirs(&self) -> Vec<PathBuf> {
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
    pub(super) fn drop_control_files(&self) -> std::io::Result<()> {
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
pub(super) struct FreezeEmulator {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FreezeEmulator {
    pub(super) fn start(fake: &Fake) -> Option<Self> {
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
pub(super) struct Sleeper(pub(super) Child);

impl Sleeper {
    pub(super) fn spawn() -> std::io::Result<Self> {
        Command::new("sleep").arg("100").spawn().map(Sleeper)
    }
    pub(super) fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.0.id()).unwrap_or(i32::MAX))
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn full_resources() -> Result<LinuxResources, Box<dyn std::error::Error>> {
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
