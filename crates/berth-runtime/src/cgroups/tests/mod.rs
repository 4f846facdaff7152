//! Unit tests of the manager level, and the conformance suite (`conformance.rs`): the same
//! checks run against the v1 (hybrid) and the v2 manager, each on a temp dir shaped like
//! cgroupfs (`fake.rs`, as youki tests its cgroups). A fake tree cannot refuse values or move
//! tasks, so those are left to the real-kernel suite in `tests/cgroups.rs`; here a small
//! emulator stands in for the kernel only where a wait loop needs it (v2's `cgroup.events`).
//! The manager-specific checks follow the manager-level ones below.

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

mod conformance;
mod fake;

use fake::*;

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
