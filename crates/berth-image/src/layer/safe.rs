//! File operations confined to a root directory.
//!
//! Every parent directory is opened with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`
//! relative to the root's fd, so `..` and symlinks (absolute or relative, planted by an
//! earlier entry or layer) resolve as if the root were `/`: nothing outside it is reachable.
//! The last component is then handled with `*at` calls that never follow it.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// A path inside the root, cleaned lexically: no `.`, `..`, or leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPath(PathBuf);

impl RootPath {
    /// Cleans `p` as Go's `filepath.Clean` would after joining it to the root; `None` when
    /// it climbs above the root with `..`. A leading `/` is taken relative to the root.
    pub fn clean(p: &Path) -> Option<Self> {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    if !out.pop() {
                        return None;
                    }
                }
                Component::Normal(n) => out.push(n),
            }
        }
        Some(Self(out))
    }

    /// True for the root itself.
    pub fn is_root(&self) -> bool {
        self.0.as_os_str().is_empty()
    }

    /// The parent path (the root's parent is the root).
    pub fn parent(&self) -> &Path {
        self.0.parent().unwrap_or(Path::new(""))
    }

    /// The last component (empty for the root).
    pub fn name(&self) -> &OsStr {
        self.0.file_name().unwrap_or_default()
    }

    /// The path relative to the root.
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

/// The root every operation is confined to.
pub struct Root {
    fd: OwnedFd,
}

const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

fn rel(p: &Path) -> &Path {
    if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    }
}

impl Root {
    /// Opens `dir` as the root.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let fd = rustix::fs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self { fd })
    }

    /// Opens directory `p` (resolved inside the root) as an `O_PATH` fd.
    pub fn open_dir(&self, p: &Path) -> io::Result<OwnedFd> {
        self.open_dir_flags(p, OFlags::PATH)
    }

    /// Opens directory `p` read-only (for `fsetxattr`, `fchmod` and the like).
    pub fn open_dir_rdonly(&self, p: &Path) -> io::Result<OwnedFd> {
        self.open_dir_flags(p, OFlags::RDONLY)
    }

    fn open_dir_flags(&self, p: &Path, extra: OFlags) -> io::Result<OwnedFd> {
        Ok(rustix::fs::openat2(
            &self.fd,
            rel(p),
            extra | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            RESOLVE,
        )?)
    }

    /// Opens directory `p`, creating missing components (mode 0755) as `mkdir -p` would,
    /// each resolved inside the root.
    pub fn mkdir_all(&self, p: &Path) -> io::Result<OwnedFd> {
        match self.open_dir(p) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => return other,
        }
        let mut cur = PathBuf::new();
        let mut fd = self.open_dir(&cur)?;
        for comp in p.components() {
            let Component::Normal(name) = comp else {
                continue;
            };
            cur.push(name);
            match self.open_dir(&cur) {
                Ok(next) => fd = next,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    fd = self.open_dir(&cur)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(fd)
    }
}

/// What sits at `name` in `dir`, without following a symlink.
pub fn lstat_type(dir: impl AsFd, name: &OsStr) -> io::Result<Option<FileType>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes `name` in `dir` whatever it is (a directory recursively); never follows symlinks.
pub fn remove_all_at(dir: impl AsFd, name: &OsStr) -> io::Result<()> {
    let dir = dir.as_fd();
    match lstat_type(dir, name)? {
        None => Ok(()),
        Some(FileType::Directory) => {
            let sub = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            clear_dir(&sub)?;
            Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
        }
        Some(_) => Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?),
    }
}

/// Removes everything inside the directory `dir` (opened read-only), not `dir` itself.
pub fn clear_dir(dir: impl AsFd) -> io::Result<()> {
    let dir = dir.as_fd();
    let names: Vec<Vec<u8>> = {
        let mut d = Dir::read_from(dir)?;
        let mut v = Vec::new();
        while let Some(ent) = d.read() {
            let ent = ent?;
            let n = ent.file_name().to_bytes();
            if n != b"." && n != b".." {
                v.push(n.to_vec());
            }
        }
        v
    };
    for n in names {
        remove_all_at(dir, OsStr::from_bytes(&n))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_paths() {
        let c = |s: &str| RootPath::clean(Path::new(s)).map(|p| p.0);
        assert_eq!(c("a/b"), Some("a/b".into()));
        assert_eq!(c("./a/./b/"), Some("a/b".into()));
        assert_eq!(c("/abs/x"), Some("abs/x".into()));
        assert_eq!(c("a/../b"), Some("b".into()));
        assert_eq!(c("."), Some("".into()));
        assert_eq!(c("../../etc/passwd"), None);
        assert_eq!(c("a/../../x"), None);
        let r = RootPath::clean(Path::new("a/b/c")).unwrap();
        assert_eq!(r.parent(), Path::new("a/b"));
        assert_eq!(r.name(), "c");
        assert!(RootPath::clean(Path::new("./")).unwrap().is_root());
    }

    #[test]
    fn symlinks_resolve_inside_root() {
        let outer = tempfile::tempdir().unwrap();
        let root_dir = outer.path().join("root");
        std::fs::create_dir(&root_dir).unwrap();
        std::os::unix::fs::symlink("/", root_dir.join("evil")).unwrap();
        std::os::unix::fs::symlink("../../..", root_dir.join("up")).unwrap();
        let root = Root::open(&root_dir).unwrap();
        root.mkdir_all(Path::new("evil/etc")).unwrap();
        root.mkdir_all(Path::new("up/x")).unwrap();
        assert!(root_dir.join("etc").is_dir());
        assert!(root_dir.join("x").is_dir());
        assert!(!outer.path().join("x").exists());
    }
}
