//! `--mount type=volume,volume-subpath=P` without a window between check and mount.
//!
//! Resolving `volume/P` and handing that path to the runtime would let a container that
//! shares the volume swap a component of `P` for a symlink between the check and the bind,
//! and have the host's `/` mounted into the next container (the class Docker fixed in
//! 25.0.2). Instead the daemon opens `P` beneath the volume once (`openat2` with
//! `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, an `O_PATH` descriptor), bind-mounts that very
//! object through its `/proc/self/fd/N` link onto a staging point of its own
//! (`containers/<id>/subpaths/<n>`), and the container's bind takes the staging point, which
//! no container can reach. The staging mounts go when the container stops.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, fstat, openat2};
use rustix::io::Errno;

use super::copy;

/// Opens `subpath` beneath `volume` as an `O_PATH` descriptor (file or directory); `..`,
/// absolute links and links that leave the volume are refused by the kernel.
fn open_beneath(volume: &Path, subpath: &str) -> std::io::Result<OwnedFd> {
    let dir = rustix::fs::open(
        volume,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )?;
    let rel = subpath.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    match openat2(
        &dir,
        rel,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    ) {
        // Kernels before 5.6: a walk that refuses every symlink (directories only).
        Err(Errno::NOSYS) => copy::open_beneath(volume, rel),
        r => Ok(r?),
    }
}

/// Bind-mounts `subpath` of `volume` onto `target` (made as a directory or an empty file to
/// match) and returns `target`.
pub(crate) fn stage(volume: &Path, subpath: &str, target: &Path) -> std::io::Result<PathBuf> {
    let fd = open_beneath(volume, subpath)?;
    let is_dir = FileType::from_raw_mode(fstat(&fd)?.st_mode) == FileType::Directory;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if is_dir {
        std::fs::create_dir_all(target)?;
    } else {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(target)?;
    }
    // The magic link names the opened object itself: nothing is resolved again.
    let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
    mount(
        Some(source.as_str()),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(std::io::Error::from)?;
    Ok(target.to_path_buf())
}

/// Unmounts and removes every staging point under `dir`, then `dir`; nothing when absent.
pub(crate) fn release_all(dir: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        match umount2(&path, MntFlags::MNT_DETACH) {
            // EINVAL: not a mount point (a stage that failed half-way).
            Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
            Err(e) => return Err(e.into()),
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir(&path)?,
            Ok(_) => std::fs::remove_file(&path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    std::fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_out_of_the_volume_or_dotdot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("vol");
        std::fs::create_dir_all(vol.join("ok/deeper")).unwrap();
        std::os::unix::fs::symlink("/", vol.join("out")).unwrap();
        std::os::unix::fs::symlink("ok/deeper", vol.join("inside")).unwrap();
        assert!(open_beneath(&vol, "out").is_err());
        assert!(open_beneath(&vol, "out/etc").is_err());
        assert!(open_beneath(&vol, "../vol/ok").is_err());
        assert!(open_beneath(&vol, "ok/deeper").is_ok());
        assert!(
            open_beneath(&vol, "inside").is_ok(),
            "a link that stays inside"
        );
    }
}
