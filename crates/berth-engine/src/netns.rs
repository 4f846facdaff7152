//! A container's network namespace, prepared by the engine: a fresh namespace with only the
//! loopback interface, brought up (127.0.0.1 works inside, as with docker's `--network
//! none`), kept alive by a bind mount at `EXEC_ROOT/netns/<id>` that the spec names and
//! inspect shows as `SandboxKey`. The bridge network (berth-net) will later add a veth to it.
//!
//! The namespace switch happens on a dedicated OS thread that exits right after (never on a
//! tokio worker): `unshare(CLONE_NEWNET)` affects only the calling thread. Loopback is set up
//! with one netlink `RTM_NEWLINK` message (`IFF_UP` on ifindex 1, always `lo` in a new
//! namespace), so no helper process is run.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, recv, sendto, socket,
};

use crate::error::{EngineError, Result};

const RTM_NEWLINK: u16 = 16;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
const IFF_UP: u32 = 1;

fn nix_err(what: &'static str, path: &Path, e: nix::Error) -> EngineError {
    EngineError::io(what, path, std::io::Error::from(e))
}

/// `ip link set lo up` in the calling thread's network namespace.
fn loopback_up(path: &Path) -> Result<()> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(|e| nix_err("open netlink socket for", path, e))?;
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
    )
    .map_err(|e| nix_err("send RTM_NEWLINK for", path, e))?;
    let mut buf = [0u8; 1024];
    let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())
        .map_err(|e| nix_err("read netlink ack for", path, e))?;
    if n < 20 || u16::from_ne_bytes([buf[4], buf[5]]) != NLMSG_ERROR {
        return Err(EngineError::io(
            "set lo up in",
            path,
            std::io::Error::other("unexpected netlink reply"),
        ));
    }
    let code = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
    if code != 0 {
        return Err(EngineError::io(
            "set lo up in",
            path,
            std::io::Error::from_raw_os_error(-code),
        ));
    }
    Ok(())
}

/// Creates the namespace and pins it at `path`.
pub fn create(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io("create", dir, e))?;
    }
    std::fs::File::create(path).map_err(|e| EngineError::io("create", path, e))?;
    let target: PathBuf = path.to_owned();
    let made = std::thread::Builder::new()
        .name("netns".into())
        .spawn(move || -> Result<()> {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET)
                .map_err(|e| nix_err("unshare a network namespace for", &target, e))?;
            loopback_up(&target)?;
            nix::mount::mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| nix_err("bind the network namespace at", &target, e))
        })
        .map_err(|e| EngineError::io("spawn a thread for", path, e))?
        .join()
        .map_err(|_| EngineError::Task("the netns thread panicked".into()))?;
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

/// Unpins and deletes the namespace; not an error when it is not there.
pub fn remove(path: &Path) -> Result<()> {
    match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(nix_err("unmount", path, e)),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EngineError::io("remove", path, e)),
    }
}
