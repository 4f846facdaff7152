//! Resolve a path inside the container's root filesystem the way the container would: symlinks
//! and `..` never lead out of the root.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::path::{Component, Path, PathBuf};

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// `root` joined with `unsafe_path`, each symlink on the way resolved relative to `root`.
/// Missing components are kept as they are (the caller creates them).
pub fn secure_join(root: &Path, unsafe_path: &Path) -> std::io::Result<PathBuf> {
    let mut pending: Vec<PathBuf> = vec![unsafe_path.to_path_buf()];
    let mut resolved = PathBuf::new(); // relative to root
    let mut links = 0;
    while let Some(path) = pending.pop() {
        let mut comps = path.components().peekable();
        while let Some(c) = comps.next() {
            match c {
                Component::RootDir | Component::Prefix(_) => resolved = PathBuf::new(),
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => {
                    let candidate = resolved.join(name);
                    let full = root.join(&candidate);
                    match std::fs::symlink_metadata(&full) {
                        Ok(m) if m.file_type().is_symlink() => {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(std::io::Error::from_raw_os_error(libc::ELOOP));
                            }
                            let target = std::fs::read_link(&full)?;
                            let rest: PathBuf = comps.collect();
                            if !rest.as_os_str().is_empty() {
                                pending.push(rest);
                            }
                            pending.push(target);
                            break;
                        }
                        _ => resolved = candidate,
                    }
                }
            }
        }
    }
    Ok(root.join(strip(&resolved)))
}

/// Opens (`O_PATH`) the mount target `dest` inside `root` as the container would see it,
/// making what is missing: directories, and an empty file as the last component when `dir`
/// is false. Resolution is `openat2(RESOLVE_IN_ROOT)`, so a symlink (even one swapped in
/// meanwhile) resolves inside `root`; every directory and file is made relative to a
/// descriptor resolved the same way. Mounting on `/proc/self/fd/<fd>` then mounts exactly
/// on what was resolved. Kernels without `openat2` (before 5.6) get [`secure_join`] and a
/// check that the opened path is still under `root`.
pub fn open_target(root: &Path, dest: &Path, dir: bool) -> std::io::Result<OwnedFd> {
    let rootfd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    match in_root(&rootfd, dest) {
        Ok(fd) => return Ok(fd),
        Err(Errno::NOSYS) => return open_target_fallback(root, dest, dir),
        Err(Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    // What to make: the path with today's symlinks resolved inside the root (a dangling
    // link's target is made, as runc does); each step is still opened in the root, so a
    // link swapped in meanwhile cannot lead out.
    let joined = secure_join(root, dest)?;
    let rel = joined.strip_prefix(root).unwrap_or(&joined).to_path_buf();
    let comps: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut prefix = PathBuf::new();
    for (i, c) in comps.iter().enumerate() {
        let next = prefix.join(c);
        match in_root(&rootfd, &next) {
            Ok(_) => {}
            Err(Errno::NOENT) => {
                let parent = in_root(&rootfd, &prefix)?;
                let made = if i + 1 == comps.len() && !dir {
                    rustix::fs::openat(
                        &parent,
                        *c,
                        OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::WRONLY
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o644),
                    )
                    .map(drop)
                } else {
                    rustix::fs::mkdirat(&parent, *c, Mode::from_raw_mode(0o755))
                };
                match made {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        prefix = next;
    }
    Ok(in_root(&rootfd, &rel)?)
}

/// `openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`.
fn in_root(rootfd: &OwnedFd, path: &Path) -> Result<OwnedFd, Errno> {
    let rel = strip(path);
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    rustix::fs::openat2(
        rootfd,
        rel,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

fn open_target_fallback(root: &Path, dest: &Path, dir: bool) -> std::io::Result<OwnedFd> {
    let path = secure_join(root, dest)?;
    if dir {
        std::fs::create_dir_all(&path)?;
    } else {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::symlink_metadata(&path).is_err() {
            std::fs::File::create(&path)?;
        }
    }
    let fd = rustix::fs::open(
        &path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let real = std::fs::read_link(fd_path(&fd))?;
    if !real.starts_with(root) {
        return Err(std::io::Error::from_raw_os_error(libc::EXDEV));
    }
    Ok(fd)
}

/// `/proc/self/fd/<fd>`: the path through which a mount lands on what `fd` refers to.
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn strip(p: &Path) -> &Path {
    let bytes = p.as_os_str().as_bytes();
    let trimmed = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
    Path::new(OsStr::from_bytes(&bytes[trimmed..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::os::unix::fs::symlink("/usr/lib", root.join("lib")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("escape")).unwrap();
        assert_eq!(
            secure_join(root, Path::new("/lib/x")).unwrap(),
            root.join("usr/lib/x")
        );
        assert_eq!(
            secure_join(root, Path::new("/escape/passwd")).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            secure_join(root, Path::new("/../../a/./b")).unwrap(),
            root.join("a/b")
        );
    }

    #[test]
    fn targets_are_made_and_opened_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("evil")).unwrap();
        let fd = open_target(&root, Path::new("/evil/made/here"), true).unwrap();
        let real = std::fs::read_link(fd_path(&fd)).unwrap();
        assert!(real.starts_with(&root), "{real:?} is outside the root");
        assert!(
            std::fs::read_dir(&outside).unwrap().next().is_none(),
            "something was made outside the root"
        );
        let fd = open_target(&root, Path::new("/etc/file"), false).unwrap();
        assert_eq!(
            std::fs::read_link(fd_path(&fd)).unwrap(),
            root.join("etc/file")
        );
        assert!(root.join("etc/file").is_file());
    }

    #[test]
    fn symlink_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/loop", dir.path().join("loop")).unwrap();
        assert!(secure_join(dir.path(), Path::new("/loop/x")).is_err());
    }
}
