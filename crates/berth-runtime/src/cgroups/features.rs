//! Optional cgroup files that depend on the kernel's configuration rather than on the
//! cgroup version: a daemon asks before it puts such a field in a spec, so it can drop the
//! field with a warning (as dockerd does) instead of failing the container's start.

use std::path::Path;

use super::mountinfo::CgroupMounts;

/// Whether a block IO weight can be set: `blkio.weight` (CFQ) or `blkio.bfq.weight` (BFQ)
/// on v1; `io.bfq.weight` or `io.weight` (blk-iocost) on v2. Kernels built without BFQ and
/// CFQ (CFQ is gone since 5.0) have neither v1 file.
pub fn blkio_weight_supported(mounts: &CgroupMounts) -> bool {
    if let Some(h) = mounts.hierarchy("blkio") {
        return ["blkio.weight", "blkio.bfq.weight"]
            .iter()
            .any(|f| h.mount_point.join(f).exists());
    }
    let Some(root) = &mounts.unified else {
        return false;
    };
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    if !controllers.split_whitespace().any(|c| c == "io") {
        return false;
    }
    // The root cgroup has no io weight files: look in its children.
    v2_child_has(root, &["io.bfq.weight", "io.weight"])
}

fn v2_child_has(root: &Path, files: &[&str]) -> bool {
    let Ok(entries) = std::fs::read_dir(root) else {
        return false;
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .any(|e| files.iter().any(|f| e.path().join(f).exists()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::mountinfo::V1Hierarchy;

    #[test]
    fn v1_weight_follows_the_files_present() {
        let dir = tempfile::tempdir().unwrap();
        let mounts = CgroupMounts {
            v1: vec![V1Hierarchy {
                controllers: vec!["blkio".into()],
                mount_point: dir.path().to_path_buf(),
            }],
            unified: None,
        };
        assert!(!blkio_weight_supported(&mounts));
        std::fs::write(dir.path().join("blkio.bfq.weight"), "100").unwrap();
        assert!(blkio_weight_supported(&mounts));
    }

    #[test]
    fn v2_weight_needs_the_io_controller_and_a_weight_file() {
        let dir = tempfile::tempdir().unwrap();
        let mounts = CgroupMounts {
            v1: vec![],
            unified: Some(dir.path().to_path_buf()),
        };
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        assert!(!blkio_weight_supported(&mounts));
        std::fs::write(dir.path().join("cgroup.controllers"), "cpu io memory\n").unwrap();
        assert!(!blkio_weight_supported(&mounts));
        std::fs::create_dir(dir.path().join("init.scope")).unwrap();
        std::fs::write(dir.path().join("init.scope/io.weight"), "default 100\n").unwrap();
        assert!(blkio_weight_supported(&mounts));
    }
}
