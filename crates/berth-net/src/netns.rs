//! Persistent network namespaces as files (what `ip netns add` does): a namespace made before a
//! container starts, so the engine can attach it to networks and then hand its path to the
//! runtime (the OCI spec's `linux.namespaces[{type: network, path}]`) — the container's process
//! never runs without its network. The namespace is created on a dedicated thread that
//! `unshare`s, and bind-mounted from `/proc/thread-self/ns/net` onto the file; the thread exits,
//! so no other thread ever changes namespace.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

/// Errors of namespace files.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// Creating the mount-point file failed.
    #[error("create netns file {0}")]
    CreateFile(PathBuf, #[source] std::io::Error),
    /// Spawning the thread failed.
    #[error("spawn netns thread")]
    Thread(#[source] std::io::Error),
    /// The thread panicked.
    #[error("netns thread panicked")]
    Panicked,
    /// `unshare(CLONE_NEWNET)` failed.
    #[error("unshare network namespace")]
    Unshare(#[source] nix::Error),
    /// The bind mount failed.
    #[error("bind mount the network namespace on {0}")]
    Mount(PathBuf, #[source] nix::Error),
    /// Unmounting failed.
    #[error("unmount netns file {0}")]
    Unmount(PathBuf, #[source] nix::Error),
    /// Removing the file failed.
    #[error("remove netns file {0}")]
    Remove(PathBuf, #[source] std::io::Error),
}

/// Creates a new network namespace (only `lo`, down) pinned at `path`.
pub fn create(path: &Path) -> Result<(), NetnsError> {
    File::create(path).map_err(|e| NetnsError::CreateFile(path.to_path_buf(), e))?;
    let target = path.to_path_buf();
    let res = std::thread::Builder::new()
        .name("berth-netns".into())
        .spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(NetnsError::Unshare)?;
            nix::mount::mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| NetnsError::Mount(target.clone(), e))
        })
        .map_err(NetnsError::Thread)?
        .join()
        .map_err(|_| NetnsError::Panicked)
        .and_then(|r| r);
    if res.is_err() {
        let _ = std::fs::remove_file(path);
    }
    res
}

/// Unmounts and removes a namespace file made by [`create`]. The namespace dies with its last
/// user (its veths with it). A missing file is not an error.
pub fn remove(path: &Path) -> Result<(), NetnsError> {
    if !path.exists() {
        return Ok(());
    }
    match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) => {}
        Err(e) => return Err(NetnsError::Unmount(path.to_path_buf(), e)),
    }
    std::fs::remove_file(path).map_err(|e| NetnsError::Remove(path.to_path_buf(), e))
}
