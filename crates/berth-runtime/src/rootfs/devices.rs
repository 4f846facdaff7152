//! /dev's nodes and links: the default devices (null, zero, full, random, urandom, tty) and
//! the spec's `linux.devices`, made with mknod, or bind-mounted from the host inside a user
//! namespace (where mknod is refused); then /dev/fd, stdin, stdout, stderr and ptmx.

use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, SFlag, makedev, mknod};
use nix::unistd::{Gid, Uid, chown};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use super::path::secure_join;
use super::{Context, RootfsError, bind};

/// A device to create.
struct Device {
    path: PathBuf,
    kind: SFlag,
    major: u64,
    minor: u64,
    mode: u32,
    uid: u32,
    gid: u32,
}

const DEFAULTS: [(&str, u64, u64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

const LINKS: [(&str, &str); 5] = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),
];

/// Create the devices (the defaults only when /dev is the container's own tmpfs) and links.
pub fn create_devices(
    ctx: &Context<'_>,
    spec_devices: &[LinuxDevice],
    dev_is_tmpfs: bool,
) -> Result<(), RootfsError> {
    let mut list: Vec<Device> = Vec::new();
    if dev_is_tmpfs {
        for (path, major, minor) in DEFAULTS {
            list.push(Device {
                path: path.into(),
                kind: SFlag::S_IFCHR,
                major,
                minor,
                mode: 0o666,
                uid: 0,
                gid: 0,
            });
        }
    }
    for d in spec_devices {
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
            LinuxDeviceType::B => SFlag::S_IFBLK,
            LinuxDeviceType::P => SFlag::S_IFIFO,
            _ => return Err(RootfsError::DeviceType(d.path().clone())),
        };
        list.retain(|x| x.path != *d.path());
        list.push(Device {
            path: d.path().clone(),
            kind,
            major: u64::try_from(d.major()).unwrap_or(0),
            minor: u64::try_from(d.minor()).unwrap_or(0),
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        });
    }
    for d in &list {
        create(ctx, d)?;
    }
    if dev_is_tmpfs {
        for (target, link) in LINKS {
            let at = ctx.rootfs.join(link.trim_start_matches('/'));
            if link == "/dev/ptmx" {
                let _ = std::fs::remove_file(&at);
            }
            match std::os::unix::fs::symlink(target, &at) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(RootfsError::Symlink(link.into(), e)),
            }
        }
    }
    Ok(())
}

fn create(ctx: &Context<'_>, d: &Device) -> Result<(), RootfsError> {
    let dest =
        secure_join(ctx.rootfs, &d.path).map_err(|e| RootfsError::Resolve(d.path.clone(), e))?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| RootfsError::Create(parent.into(), e))?;
    }
    if ctx.user_ns {
        if std::fs::symlink_metadata(&dest).is_err() {
            std::fs::File::create(&dest).map_err(|e| RootfsError::Create(dest.clone(), e))?;
        }
        return bind(Path::new(&d.path), &dest, nix::mount::MsFlags::empty());
    }
    let _ = std::fs::remove_file(&dest);
    mknod(
        &dest,
        d.kind,
        Mode::from_bits_truncate(d.mode),
        makedev(d.major, d.minor),
    )
    .map_err(|e| RootfsError::Mknod(d.path.clone(), e))?;
    chown(
        &dest,
        Some(Uid::from_raw(d.uid)),
        Some(Gid::from_raw(d.gid)),
    )
    .map_err(|e| RootfsError::Chown(d.path.clone(), e))?;
    Ok(())
}
