//! Persistent network namespaces as files (what `ip netns add` does): a namespace made before a
//! container starts, so the engine can attach it to networks and then hand its path to the
//! runtime (the OCI spec's `linux.namespaces[{type: network, path}]`) — the container's process
//! never runs without its network. The namespace is created on a dedicated thread that
//! `unshare`s, brings `lo` up (127.0.0.1 works inside even with `--network none`, as with
//! docker) and bind-mounts `/proc/thread-self/ns/net` onto the file; the thread exits, so no
//! other thread ever changes namespace. Loopback is set up with one raw netlink `RTM_NEWLINK`
//! (`IFF_UP` on ifindex 1, always `lo` in a new namespace): no runtime or helper process.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

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
    /// Creating the directory holding the file failed.
    #[error("create netns directory {0}")]
    CreateDir(PathBuf, #[source] std::io::Error),
    /// Bringing `lo` up in the new namespace failed.
    #[error("set lo up in the network namespace for {0}")]
    Loopback(PathBuf, #[source] std::io::Error),
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

const RTM_NEWLINK: u16 = 16;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
const IFF_UP: u32 = 1;

/// `ip link set lo up` in the calling thread's network namespace.
fn loopback_up() -> std::io::Result<()> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )?;
    let mut msg = [0u8; 32];
    msg[0..4].copy_from_slice(&32u32.to_ne_bytes());
    msg[4..6].copy_from_slice(&RTM_NEWLINK.to_ne_bytes());
    msg[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // ifinfomsg: family 0, type 0, index 1 (lo), flags and change mask IFF_UP.
    msg[20..24].copy_from_slice(&1i32.to_ne_bytes());
    msg[24..28].copy_from_slice(&IFF_UP.to_ne_bytes());
    msg[28..32].copy_from_slice(&IFF_UP.to_ne_bytes());
    sendto(
        fd.as_raw_fd(),
        &msg,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )?;
    let mut buf = [0u8; 1024];
    let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
    if n < 20 || u16::from_ne_bytes([buf[4], buf[5]]) != NLMSG_ERROR {
        return Err(std::io::Error::other("unexpected netlink reply"));
    }
    match i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]) {
        0 => Ok(()),
        code => Err(std::io::Error::from_raw_os_error(-code)),
    }
}

/// Creates a new network namespace (only `lo`, up) pinned at `path` (its directory is made
/// when missing).
pub fn create(path: &Path) -> Result<(), NetnsError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| NetnsError::CreateDir(dir.to_path_buf(), e))?;
    }
    File::create(path).map_err(|e| NetnsError::CreateFile(path.to_path_buf(), e))?;
    let target = path.to_path_buf();
    let res = std::thread::Builder::new()
        .name("berth-netns".into())
        .spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(NetnsError::Unshare)?;
            loopback_up().map_err(|e| NetnsError::Loopback(target.clone(), e))?;
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
    match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL | nix::Error::ENOENT) => {}
        Err(e) => return Err(NetnsError::Unmount(path.to_path_buf(), e)),
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(NetnsError::Remove(path.to_path_buf(), e))
        }
        _ => Ok(()),
    }
}
