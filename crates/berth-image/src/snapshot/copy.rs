//! The copy snapshotter (docker's `vfs`): the layers are copied, bottom first, into a plain
//! `dir/rootfs`, applying their overlay-form whiteouts as it goes. Slow and disk-hungry, but
//! it needs nothing from the kernel beyond a filesystem.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps, XattrFlags};

use super::{SnapshotError, Snapshotter, create_dir, remove_dir};
use crate::layer::whiteout::{OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX};

/// The copy snapshotter.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopySnapshotter;

impl Snapshotter for CopySnapshotter {
    fn prepare(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        let rootfs = dir.join("rootfs");
        create_dir(&rootfs)?;
        for layer in lowers.iter().rev() {
            let mut links = HashMap::new();
            copy_tree(layer, &rootfs, &mut links).map_err(|source| SnapshotError::Copy {
                layer: layer.clone(),
                target: rootfs.clone(),
                source,
            })?;
        }
        Ok(rootfs)
    }

    fn mount(&self, dir: &Path, _lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        let rootfs = dir.join("rootfs");
        if rootfs.is_dir() {
            Ok(rootfs)
        } else {
            Err(SnapshotError::NotFound(dir.to_owned()))
        }
    }

    fn unmount(&self, _dir: &Path) -> Result<(), SnapshotError> {
        Ok(())
    }

    fn remove(&self, dir: &Path) -> Result<(), SnapshotError> {
        remove_dir(dir)
    }
}

fn is_whiteout(m: &fs::Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

fn is_opaque(p: &Path) -> bool {
    let mut v = [0u8; 2];
    matches!(rustix::fs::lgetxattr(p, OVERLAY_OPAQUE_XATTR, &mut v[..]), Ok(1) if v[0] == b'y')
}

fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Copies the children of `src` into `dst` (a real directory we created), never following a
/// symlink in `dst`: anything in the way that is not a directory is removed first.
fn copy_tree(src: &Path, dst: &Path, links: &mut HashMap<(u64, u64), PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let (s, d) = (entry.path(), dst.join(entry.file_name()));
        let m = fs::symlink_metadata(&s)?;
        if is_whiteout(&m) {
            remove_any(&d)?;
            continue;
        }
        let existing = fs::symlink_metadata(&d).ok();
        if m.is_dir() {
            match existing {
                Some(e) if e.is_dir() => {
                    if is_opaque(&s) {
                        for child in fs::read_dir(&d)? {
                            remove_any(&child?.path())?;
                        }
                    }
                }
                Some(_) => {
                    fs::remove_file(&d)?;
                    fs::create_dir(&d)?;
                }
                None => fs::create_dir(&d)?,
            }
            copy_tree(&s, &d, links)?;
            copy_meta(&s, &d, &m)?;
            continue;
        }
        if existing.is_some() {
            remove_any(&d)?;
        }
        let ft = m.file_type();
        if ft.is_file() {
            if m.nlink() > 1 {
                if let Some(first) = links.get(&(m.dev(), m.ino())) {
                    fs::hard_link(first, &d)?;
                    continue;
                }
                links.insert((m.dev(), m.ino()), d.clone());
            }
            fs::copy(&s, &d)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&s)?, &d)?;
        } else {
            let kind = if ft.is_char_device() {
                FileType::CharacterDevice
            } else if ft.is_block_device() {
                FileType::BlockDevice
            } else if ft.is_fifo() {
                FileType::Fifo
            } else {
                // Sockets are not layer content; skip them.
                continue;
            };
            rustix::fs::mknodat(
                CWD,
                &d,
                kind,
                Mode::from_raw_mode(m.mode() & 0o7777),
                m.rdev(),
            )?;
        }
        copy_meta(&s, &d, &m)?;
    }
    Ok(())
}

/// Ownership, then mode (not for symlinks), xattrs (but overlay's own), then times.
fn copy_meta(src: &Path, dst: &Path, m: &fs::Metadata) -> io::Result<()> {
    std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid()))?;
    let is_link = m.file_type().is_symlink();
    if !is_link {
        fs::set_permissions(dst, fs::Permissions::from_mode(m.mode() & 0o7777))?;
        copy_xattrs(src, dst)?;
    }
    let ts = |sec: i64, nsec: i64| Timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    };
    let times = Timestamps {
        last_access: ts(m.atime(), m.atime_nsec()),
        last_modification: ts(m.mtime(), m.mtime_nsec()),
    };
    rustix::fs::utimensat(CWD, dst, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}

fn copy_xattrs(src: &Path, dst: &Path) -> io::Result<()> {
    let mut names = vec![0u8; 4096];
    let n = match rustix::fs::llistxattr(src, &mut names[..]) {
        Ok(n) => n,
        Err(rustix::io::Errno::OPNOTSUPP) => return Ok(()),
        Err(rustix::io::Errno::RANGE) => {
            let len = rustix::fs::llistxattr_query(src)?;
            names.resize(len, 0);
            rustix::fs::llistxattr(src, &mut names[..])?
        }
        Err(e) => return Err(e.into()),
    };
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
            continue;
        }
        let name = OsStr::from_bytes(name);
        let len = rustix::fs::lgetxattr_query(src, name)?;
        let mut v = vec![0u8; len];
        let got = rustix::fs::lgetxattr(src, name, &mut v[..])?;
        rustix::fs::lsetxattr(dst, name, &v[..got], XattrFlags::empty())?;
    }
    Ok(())
}
