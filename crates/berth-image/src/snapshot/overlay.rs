//! The overlayfs snapshotter: `dir/upper`, `dir/work`, mounted at `dir/rootfs`.
//!
//! The mount data goes through mount(2) when it fits in a page (the kernel's limit on mount
//! data); a deeper stack goes through the new mount API, one `lowerdir+` per layer
//! (Linux 6.8+), so there is no limit on the number of layers and no chdir tricks.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use rustix::fs::CWD;
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, UnmountFlags,
};

use super::{SnapshotError, Snapshotter, create_dir, remove_dir};

/// Mount data must fit in one page, NUL included.
const MOUNT_DATA_MAX: usize = 4095;

/// The overlayfs snapshotter.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverlaySnapshotter;

/// True when the kernel knows overlayfs.
pub(super) fn supported() -> bool {
    std::fs::read_to_string("/proc/filesystems")
        .map(|s| {
            s.lines()
                .any(|l| l.split_whitespace().last() == Some("overlay"))
        })
        .unwrap_or(false)
}

/// Escapes the characters overlayfs treats specially in a lowerdir list.
fn escape(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ':' | ',' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl OverlaySnapshotter {
    fn mount_overlay(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        let rootfs = dir.join("rootfs");
        let (upper, work) = (dir.join("upper"), dir.join("work"));
        if !upper.is_dir() {
            return Err(SnapshotError::NotFound(dir.to_owned()));
        }
        if is_mountpoint(&rootfs) {
            return Ok(rootfs);
        }
        let empty;
        let lowers: &[PathBuf] = if lowers.is_empty() {
            // overlayfs needs a lowerdir; an image without layers gets an empty one.
            empty = [dir.join("empty")];
            create_dir(&empty[0])?;
            &empty
        } else {
            lowers
        };
        let merr = |source: std::io::Error| SnapshotError::Mount {
            target: rootfs.clone(),
            source,
        };
        let lowerdir: Vec<String> = lowers.iter().map(|p| escape(p)).collect();
        let data = format!(
            "lowerdir={},upperdir={},workdir={}",
            lowerdir.join(":"),
            escape(&upper),
            escape(&work)
        );
        if data.len() <= MOUNT_DATA_MAX {
            let data = CString::new(data).map_err(|e| merr(std::io::Error::other(e)))?;
            rustix::mount::mount("overlay", &rootfs, "overlay", MountFlags::empty(), &*data)
                .map_err(|e| merr(e.into()))?;
        } else {
            let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)
                .map_err(|e| merr(e.into()))?;
            for l in lowers {
                rustix::mount::fsconfig_set_string(&fs, "lowerdir+", l.as_path())
                    .map_err(|e| merr(e.into()))?;
            }
            rustix::mount::fsconfig_set_string(&fs, "upperdir", upper.as_path())
                .map_err(|e| merr(e.into()))?;
            rustix::mount::fsconfig_set_string(&fs, "workdir", work.as_path())
                .map_err(|e| merr(e.into()))?;
            rustix::mount::fsconfig_create(&fs).map_err(|e| merr(e.into()))?;
            let mnt =
                rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
                    .map_err(|e| merr(e.into()))?;
            rustix::mount::move_mount(
                &mnt,
                "",
                CWD,
                &rootfs,
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
            )
            .map_err(|e| merr(e.into()))?;
        }
        Ok(rootfs)
    }
}

/// True when `p` is the root of a mount (its device differs from its parent's).
fn is_mountpoint(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(m), Some(parent)) = (std::fs::symlink_metadata(p), p.parent()) else {
        return false;
    };
    match std::fs::metadata(parent) {
        Ok(pm) => m.dev() != pm.dev() || m.ino() == pm.ino(),
        Err(_) => false,
    }
}

impl Snapshotter for OverlaySnapshotter {
    fn prepare(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        for sub in ["upper", "work", "rootfs"] {
            create_dir(&dir.join(sub))?;
        }
        self.mount_overlay(dir, lowers)
    }

    fn mount(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        self.mount_overlay(dir, lowers)
    }

    fn unmount(&self, dir: &Path) -> Result<(), SnapshotError> {
        let rootfs = dir.join("rootfs");
        loop {
            match rustix::mount::unmount(&rootfs, UnmountFlags::empty()) {
                // Unmount every stacked mount.
                Ok(()) => continue,
                Err(Errno::INVAL) | Err(Errno::NOENT) => return Ok(()),
                Err(Errno::BUSY) => {
                    return rustix::mount::unmount(&rootfs, UnmountFlags::DETACH).map_err(|e| {
                        SnapshotError::Unmount {
                            target: rootfs.clone(),
                            source: e.into(),
                        }
                    });
                }
                Err(e) => {
                    return Err(SnapshotError::Unmount {
                        target: rootfs,
                        source: e.into(),
                    });
                }
            }
        }
    }

    fn remove(&self, dir: &Path) -> Result<(), SnapshotError> {
        self.unmount(dir)?;
        remove_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_overlay_separators() {
        assert_eq!(escape(Path::new("/a:b,c\\d")), "/a\\:b\\,c\\\\d");
    }
}
