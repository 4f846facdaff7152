//! Extraction of an uploaded tar into a directory of the container. Entry names are made
//! relative (a leading `/` is dropped) and one with a `..` component is refused before
//! anything of it is written; each entry's parent is resolved in the container's root with
//! `RESOLVE_IN_ROOT` and the entry is made relative to that descriptor without following a
//! final symlink, so neither the tar's own links nor the container's reach the host.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};

use super::{in_root, split};
use crate::error::{EngineError, Result};

/// Options of `PUT /containers/{id}/archive`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    /// Refuse to replace a directory with a non-directory and the other way round.
    pub no_overwrite_dir_non_dir: bool,
    /// Keep the tar's owners (`docker cp -a`); otherwise files belong to root.
    pub copy_uid_gid: bool,
}

fn io_err(what: &'static str, path: &str, e: Errno) -> EngineError {
    EngineError::io(what, path, e.into())
}

/// A tar entry's name inside the destination, relative and `/`-separated (empty for the
/// destination itself), or a refusal when a `..` would leave it. Shared with the build's
/// COPY/ADD, which renames the entries of the archives it unpacks.
pub(crate) fn clean_name(p: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                return Err(EngineError::Invalid(format!(
                    "invalid tar entry {}: a path with '..' leaves the destination",
                    p.display()
                )));
            }
        }
    }
    Ok(parts.join("/"))
}

/// Makes the directories of `path` that are missing, each relative to its parent resolved
/// in the root.
fn mkdir_all(root: &OwnedFd, path: &str) -> Result<()> {
    let mut prefix = String::new();
    for comp in path.split('/').filter(|c| !c.is_empty()) {
        let parent = if prefix.is_empty() {
            "/".to_owned()
        } else {
            prefix.clone()
        };
        prefix = format!("{prefix}/{comp}");
        match in_root(root, &prefix, OFlags::PATH | OFlags::DIRECTORY) {
            Ok(_) => continue,
            Err(Errno::NOENT) => {}
            Err(e) => return Err(io_err("resolve", &prefix, e)),
        }
        let p = in_root(root, &parent, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| io_err("resolve", &parent, e))?;
        match rustix::fs::mkdirat(&p, comp, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(io_err("create", &prefix, e)),
        }
    }
    Ok(())
}

pub(super) fn extract(
    root: &OwnedFd,
    dest: &str,
    reader: impl Read,
    opts: &PutOptions,
) -> Result<()> {
    let mut ar = tar::Archive::new(reader);
    let bad = |e: std::io::Error| EngineError::Invalid(format!("read the archive: {e}"));
    for entry in ar.entries().map_err(bad)? {
        let mut e = entry.map_err(bad)?;
        let rel = clean_name(&e.path().map_err(bad)?)?;
        if rel.is_empty() {
            continue;
        }
        let full = format!("{}/{rel}", dest.trim_end_matches('/'));
        let (dir, base) = split(&full);
        mkdir_all(root, &dir)?;
        let parent = in_root(root, &dir, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|err| io_err("resolve", &dir, err))?;
        let existing = rustix::fs::statat(&parent, base.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            .ok()
            .map(|st| FileType::from_raw_mode(st.st_mode));
        let kind = e.header().entry_type();
        let is_dir = kind == tar::EntryType::Directory;
        match existing {
            Some(FileType::Directory) if !is_dir => {
                if opts.no_overwrite_dir_non_dir {
                    return Err(EngineError::Invalid(format!(
                        "cannot overwrite directory {full:?} with non-directory {rel:?}"
                    )));
                }
                return Err(EngineError::Invalid(format!(
                    "cannot replace directory {full:?} with a non-directory"
                )));
            }
            Some(ft) if ft != FileType::Directory && is_dir => {
                if opts.no_overwrite_dir_non_dir {
                    return Err(EngineError::Invalid(format!(
                        "cannot overwrite non-directory {full:?} with directory {rel:?}"
                    )));
                }
                rustix::fs::unlinkat(&parent, base.as_str(), AtFlags::empty())
                    .map_err(|err| io_err("remove", &full, err))?;
            }
            Some(ft) if ft != FileType::Directory => {
                rustix::fs::unlinkat(&parent, base.as_str(), AtFlags::empty())
                    .map_err(|err| io_err("remove", &full, err))?;
            }
            _ => {}
        }
        let h = e.header();
        let mode = Mode::from_raw_mode(h.mode().unwrap_or(0o644) & 0o7777);
        let (uid, gid) = if opts.copy_uid_gid {
            (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32)
        } else {
            (0, 0)
        };
        let mtime = h.mtime().unwrap_or(0) as i64;
        match kind {
            tar::EntryType::Directory => {
                if existing != Some(FileType::Directory) {
                    rustix::fs::mkdirat(&parent, base.as_str(), mode)
                        .map_err(|err| io_err("create", &full, err))?;
                }
                let d = rustix::fs::openat(
                    &parent,
                    base.as_str(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|err| io_err("open", &full, err))?;
                rustix::fs::fchmod(&d, mode).map_err(|err| io_err("chmod", &full, err))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let f = rustix::fs::openat(
                    &parent,
                    base.as_str(),
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|err| io_err("create", &full, err))?;
                let mut file = std::fs::File::from(f);
                std::io::copy(&mut e, &mut file)
                    .map_err(|err| EngineError::io("write", &full, err))?;
                rustix::fs::fchmod(&file, mode).map_err(|err| io_err("chmod", &full, err))?;
            }
            tar::EntryType::Symlink => {
                let target = e
                    .link_name()
                    .map_err(bad)?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                rustix::fs::symlinkat(target.as_path(), &parent, base.as_str())
                    .map_err(|err| io_err("symlink", &full, err))?;
            }
            tar::EntryType::Link => {
                let target = e
                    .link_name()
                    .map_err(bad)?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let src_rel = clean_name(&target)?;
                let src_full = format!("{}/{src_rel}", dest.trim_end_matches('/'));
                let (sdir, sbase) = split(&src_full);
                let sparent = in_root(root, &sdir, OFlags::PATH | OFlags::DIRECTORY)
                    .map_err(|err| io_err("resolve", &sdir, err))?;
                rustix::fs::linkat(
                    &sparent,
                    sbase.as_str(),
                    &parent,
                    base.as_str(),
                    AtFlags::empty(),
                )
                .map_err(|err| io_err("link", &full, err))?;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let ft = match kind {
                    tar::EntryType::Char => FileType::CharacterDevice,
                    tar::EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let dev = rustix::fs::makedev(
                    h.device_major().ok().flatten().unwrap_or(0),
                    h.device_minor().ok().flatten().unwrap_or(0),
                );
                rustix::fs::mknodat(&parent, base.as_str(), ft, mode, dev)
                    .map_err(|err| io_err("create", &full, err))?;
            }
            // PAX and GNU long-name records are consumed by `tar`; anything else is skipped.
            _ => continue,
        }
        rustix::fs::chownat(
            &parent,
            base.as_str(),
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|err| io_err("chown", &full, err))?;
        let t = Timespec {
            tv_sec: mtime,
            tv_nsec: 0,
        };
        let _ = rustix::fs::utimensat(
            &parent,
            base.as_str(),
            &Timestamps {
                last_access: t,
                last_modification: t,
            },
            AtFlags::SYMLINK_NOFOLLOW,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_dotdot_are_refused_and_absolute_ones_made_relative() {
        assert_eq!(clean_name(Path::new("/etc/passwd")).unwrap(), "etc/passwd");
        assert_eq!(clean_name(Path::new("./a/./b")).unwrap(), "a/b");
        assert!(clean_name(Path::new("a/../../etc")).is_err());
    }
}
