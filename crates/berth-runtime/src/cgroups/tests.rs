//! Unit tests of the manager-level pieces: path resolution and layout detection.

use std::path::{Path, PathBuf};

use super::*;

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
