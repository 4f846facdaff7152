//! Copy-up: a new, empty volume is filled with what the image has at the volume's mount
//! point (moby `CopyImagePathContent`), owner and mode of the directory included.
//!
//! Every step works on directory file descriptors: the source is opened in the rootfs with
//! `openat2(RESOLVE_IN_ROOT)` (a symlink in the image resolves inside the rootfs, never on
//! the host), each entry is opened with `O_NOFOLLOW` relative to its parent, and entries
//! are created relative to the volume's directory fd. A symlink swapped in anywhere while
//! the copy runs therefore cannot make it read or write outside the rootfs and the volume.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{
    AtFlags, CWD, Dir, FileType, Mode, OFlags, ResolveFlags, Stat, fchmod, fchown, mkdirat,
    mknodat, openat, openat2, readlinkat, statat, symlinkat,
};
use rustix::io::Errno;
use rustix::process::{Gid, Uid};

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOFOLLOW);

fn io(e: Errno) -> std::io::Error {
    std::io::Error::from(e)
}

/// Opens `path` (a directory) as the container sees it: resolved inside `root`, symlinks
/// and `..` included, never leaving it. Falls back, on kernels without `openat2`, to a walk
/// that opens one component at a time with `O_NOFOLLOW` and refuses any symlink.
pub fn open_in_root(root: &Path, path: &str) -> std::io::Result<OwnedFd> {
    let rootfd = rustix::fs::open(root, DIR_FLAGS, Mode::empty()).map_err(io)?;
    resolve(
        &rootfd,
        path,
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Opens `rel` (a directory) beneath `dir`, refusing to leave it (`RESOLVE_BENEATH`).
pub fn open_beneath(dir: &Path, rel: &str) -> std::io::Result<OwnedFd> {
    let dirfd = rustix::fs::open(dir, DIR_FLAGS, Mode::empty()).map_err(io)?;
    resolve(
        &dirfd,
        rel,
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
}

fn resolve(dirfd: &OwnedFd, path: &str, how: ResolveFlags) -> std::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    match openat2(dirfd, rel, flags, Mode::empty(), how) {
        Err(Errno::NOSYS) => walk_nofollow(dirfd, rel),
        r => r.map_err(io),
    }
}

fn walk_nofollow(dirfd: &OwnedFd, rel: &str) -> std::io::Result<OwnedFd> {
    let mut cur = openat(dirfd, ".", DIR_FLAGS, Mode::empty()).map_err(io)?;
    for comp in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if comp == ".." {
            return Err(std::io::Error::from(Errno::XDEV));
        }
        cur = openat(&cur, comp, DIR_FLAGS, Mode::empty()).map_err(io)?;
    }
    Ok(cur)
}

fn ids(st: &Stat) -> (Option<Uid>, Option<Gid>) {
    (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )
}

/// Fills the empty directory `volume` with the image's content at `dest` in `rootfs`.
/// Nothing happens when the volume has entries or the image has no directory there.
pub fn copy_up(rootfs: &Path, dest: &str, volume: &Path) -> std::io::Result<()> {
    let dst = rustix::fs::openat(CWD, volume, DIR_FLAGS, Mode::empty()).map_err(io)?;
    if has_entries(&dst)? {
        return Ok(());
    }
    let src = match open_in_root(rootfs, dest) {
        Ok(fd) => fd,
        Err(e)
            if [Errno::NOENT, Errno::NOTDIR]
                .iter()
                .any(|n| e.raw_os_error() == Some(n.raw_os_error())) =>
        {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    copy_dir(src.as_fd(), dst.as_fd())?;
    let st = rustix::fs::fstat(&src).map_err(io)?;
    let (u, g) = ids(&st);
    fchown(&dst, u, g).map_err(io)?;
    fchmod(&dst, Mode::from_raw_mode(st.st_mode & 0o7777)).map_err(io)
}

fn has_entries(dir: &OwnedFd) -> std::io::Result<bool> {
    for e in Dir::read_from(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            return Ok(true);
        }
    }
    Ok(false)
}

fn copy_dir(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> std::io::Result<()> {
    for e in Dir::read_from(src).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        copy_entry(src, dst, name)?;
    }
    Ok(())
}

fn copy_entry(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, name: &CStr) -> std::io::Result<()> {
    let st = statat(src, name, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
    let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
    let (u, g) = ids(&st);
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {
            mkdirat(dst, name, Mode::from_raw_mode(0o700)).map_err(io)?;
            let s = openat(src, name, DIR_FLAGS, Mode::empty()).map_err(io)?;
            let d = openat(dst, name, DIR_FLAGS, Mode::empty()).map_err(io)?;
            copy_dir(s.as_fd(), d.as_fd())?;
            fchown(&d, u, g).map_err(io)?;
            fchmod(&d, mode).map_err(io)?;
        }
        FileType::RegularFile => {
            let s = openat(
                src,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(io)?;
            let d = openat(
                dst,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
            .map_err(io)?;
            let mut sf = std::fs::File::from(s);
            let mut df = std::fs::File::from(d);
            std::io::copy(&mut sf, &mut df)?;
            fchown(&df, u, g).map_err(io)?;
            fchmod(&df, mode).map_err(io)?;
        }
        FileType::Symlink => {
            let target = readlinkat(src, name, Vec::new()).map_err(io)?;
            symlinkat(target.as_c_str(), dst, name).map_err(io)?;
            rustix::fs::chownat(dst, name, u, g, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
        }
        ft => {
            mknodat(dst, name, ft, mode, st.st_rdev).map_err(io)?;
            rustix::fs::chownat(dst, name, u, g, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_up_copies_a_tree_and_never_follows_links_out() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let vol = t.path().join("vol");
        let outside = t.path().join("outside");
        std::fs::create_dir_all(root.join("data/sub")).unwrap();
        std::fs::create_dir_all(&vol).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("canary"), "host").unwrap();
        std::fs::write(root.join("data/sub/f"), "image").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("data/link")).unwrap();
        // An absolute link to the host's directory resolves inside the rootfs instead.
        std::os::unix::fs::symlink(&outside, root.join("via")).unwrap();
        copy_up(&root, "/data", &vol).unwrap();
        assert_eq!(std::fs::read_to_string(vol.join("sub/f")).unwrap(), "image");
        assert_eq!(
            std::fs::read_link(vol.join("link")).unwrap(),
            Path::new("/etc/passwd")
        );
        let vol2 = t.path().join("vol2");
        std::fs::create_dir_all(&vol2).unwrap();
        copy_up(&root, "/via", &vol2).unwrap();
        assert!(!vol2.join("canary").exists(), "the host's canary was read");
        // A volume with content is left alone.
        copy_up(&root, "/data", &vol).unwrap();
    }
}
