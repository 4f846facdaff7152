//! The conformance suite: one body, run against the v1 (hybrid) and the v2 manager.

use super::fake::*;
use super::*;

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
