//! The container's root filesystem, set up by its init inside its new mount namespace: make
//! the host's mounts slaves, bind the rootfs onto itself, mount the spec's `mounts` (and the
//! cgroup hierarchies), create `/dev`'s nodes and links, `pivot_root` into it and detach the
//! old root; then, after the hostname and sysctls, the masked and read-only paths and a
//! read-only root.

mod devices;
mod mounts;
pub mod options;
pub mod path;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::Mode;
use nix::unistd::{fchdir, pivot_root};
use oci_spec::runtime::{Mount, Spec};

use crate::cgroups::CgroupMount;

pub use devices::create_devices;
pub use mounts::{mount_all, mount_deferred};

/// Setting up the root filesystem failed.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// mount(2) failed.
    #[error("mount {src} on {dst}{}", fstype.as_ref().map(|t| format!(" (type {t})")).unwrap_or_default())]
    Mount {
        /// The source.
        src: String,
        /// The target.
        dst: PathBuf,
        /// The filesystem type, if any.
        fstype: Option<String>,
        /// The cause.
        #[source]
        source: nix::Error,
    },
    /// Changing a mount's propagation failed.
    #[error("set propagation of {0}")]
    Propagation(PathBuf, #[source] nix::Error),
    /// Remounting (e.g. read-only) failed.
    #[error("remount {0} read-only")]
    Remount(PathBuf, #[source] nix::Error),
    /// Resolving a path inside the rootfs failed.
    #[error("resolve {0} in the rootfs")]
    Resolve(PathBuf, #[source] std::io::Error),
    /// Creating a mount point or file failed.
    #[error("create {0}")]
    Create(PathBuf, #[source] std::io::Error),
    /// mknod(2) failed.
    #[error("create device {0}")]
    Mknod(PathBuf, #[source] nix::Error),
    /// chown(2) failed.
    #[error("chown {0}")]
    Chown(PathBuf, #[source] nix::Error),
    /// A symlink could not be made.
    #[error("symlink {0}")]
    Symlink(PathBuf, #[source] std::io::Error),
    /// Opening a directory for pivot_root failed.
    #[error("open {0}")]
    Open(PathBuf, #[source] nix::Error),
    /// pivot_root(2) failed.
    #[error("pivot_root into {0}")]
    Pivot(PathBuf, #[source] nix::Error),
    /// Changing directory failed.
    #[error("chdir to {0}")]
    Chdir(PathBuf, #[source] nix::Error),
    /// Unmounting the old root failed.
    #[error("unmount the old root")]
    UnmountOld(#[source] nix::Error),
    /// Waiting for the parent (cgroup joined) failed.
    #[error("wait for the cgroup")]
    Gate(#[source] Box<dyn std::error::Error>),
    /// Reading /proc/self/mountinfo failed.
    #[error("read /proc/self/mountinfo")]
    MountInfo(#[source] std::io::Error),
    /// Reading /proc/self/cgroup failed.
    #[error("read /proc/self/cgroup")]
    OwnCgroup(#[source] std::io::Error),
    /// Masking a path failed.
    #[error("mask {0}")]
    Mask(PathBuf, #[source] nix::Error),
    /// A propagation name that is none.
    #[error("linux.rootfsPropagation: unknown propagation {0:?}")]
    UnknownPropagation(String),
    /// A device type that cannot be created.
    #[error("linux.devices: {0}: unsupported device type")]
    DeviceType(PathBuf),
}

/// What the rootfs set-up needs besides the spec.
pub struct Context<'a> {
    /// The rootfs, absolute (on the host).
    pub rootfs: &'a Path,
    /// The bundle, for relative bind sources.
    pub bundle: &'a Path,
    /// The cgroup hierarchies to mount for a `cgroup` mount.
    pub cgroup_mounts: &'a [CgroupMount],
    /// The container has its own user namespace (devices are bind-mounted, not made).
    pub user_ns: bool,
    /// The container gets its own cgroup namespace: its cgroup filesystems are mounted anew
    /// after it unshares one. Without, the host's cgroup directories of the container are
    /// bind-mounted before pivot_root.
    pub cgroup_ns: bool,
    /// Called (once is enough; it must be idempotent) before anything that needs the init in
    /// its cgroup: waits for the parent and unshares the cgroup namespace.
    pub gate: &'a dyn Fn() -> Result<(), RootfsError>,
}

/// Before pivot_root: propagation, the rootfs bind, the spec's mounts and /dev. Returns the
/// cgroup mounts deferred until after pivot_root (see [`mount_all`]).
pub fn prepare<'s>(spec: &'s Spec, ctx: &Context<'_>) -> Result<Vec<&'s Mount>, RootfsError> {
    let linux = spec.linux().as_ref();
    let prop = root_propagation(spec)?.unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    mount(None::<&str>, "/", None::<&str>, prop, None::<&str>)
        .map_err(|e| RootfsError::Propagation("/".into(), e))?;
    if prop.contains(MsFlags::MS_SHARED) {
        // pivot_root refuses a new root whose parent mount is shared.
        let parent = parent_mount(ctx.rootfs)?;
        mount(
            None::<&str>,
            &parent,
            None::<&str>,
            MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| RootfsError::Propagation(parent.clone(), e))?;
    }
    bind(ctx.rootfs, ctx.rootfs, MsFlags::MS_REC)?;
    let mounts = spec.mounts().as_deref().unwrap_or_default();
    let deferred = mount_all(mounts, ctx)?;
    let dev_is_tmpfs = mounts
        .iter()
        .any(|m| m.destination() == Path::new("/dev") && m.typ().as_deref() != Some("bind"));
    let devices = linux
        .and_then(|l| l.devices().as_deref())
        .unwrap_or_default();
    create_devices(ctx, devices, dev_is_tmpfs)?;
    Ok(deferred)
}

/// The spec's rootfsPropagation, if it names one.
pub fn root_propagation(spec: &Spec) -> Result<Option<MsFlags>, RootfsError> {
    match spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().as_deref())
    {
        None | Some("") => Ok(None),
        Some(name) => options::propagation(name)
            .map(Some)
            .ok_or_else(|| RootfsError::UnknownPropagation(name.into())),
    }
}

/// The mount point of the mount holding `path` (the longest mount point that is a prefix).
fn parent_mount(path: &Path) -> Result<PathBuf, RootfsError> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(RootfsError::MountInfo)?;
    let mut best = PathBuf::from("/");
    for line in text.lines() {
        if let Some(mp) = line.split(' ').nth(4) {
            let mp = Path::new(mp);
            if path.starts_with(mp) && mp.components().count() > best.components().count() {
                best = mp.to_path_buf();
            }
        }
    }
    Ok(best)
}

pub(crate) fn bind(src: &Path, dst: &Path, extra: MsFlags) -> Result<(), RootfsError> {
    mount(
        Some(src),
        dst,
        None::<&str>,
        MsFlags::MS_BIND | extra,
        None::<&str>,
    )
    .map_err(|source| RootfsError::Mount {
        src: src.display().to_string(),
        dst: dst.into(),
        fstype: Some("bind".into()),
        source,
    })
}

/// `pivot_root` into `rootfs` and detach the old root, as runc does: `pivot_root(".", ".")`
/// stacks the old root on the new one, which is then unmounted lazily.
pub fn pivot(rootfs: &Path) -> Result<(), RootfsError> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let old = open("/", flags, Mode::empty()).map_err(|e| RootfsError::Open("/".into(), e))?;
    let new =
        open(rootfs, flags, Mode::empty()).map_err(|e| RootfsError::Open(rootfs.into(), e))?;
    fchdir(new.as_fd()).map_err(|e| RootfsError::Chdir(rootfs.into(), e))?;
    pivot_root(".", ".").map_err(|e| RootfsError::Pivot(rootfs.into(), e))?;
    fchdir(old.as_fd()).map_err(|e| RootfsError::Chdir("old root".into(), e))?;
    // Keep the unmount from propagating to the host.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| RootfsError::Propagation("old root".into(), e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(RootfsError::UnmountOld)?;
    nix::unistd::chdir("/").map_err(|e| RootfsError::Chdir("/".into(), e))?;
    Ok(())
}

/// After pivot_root (and after sysctls): read-only paths, masked paths and the read-only root.
pub fn finish(spec: &Spec) -> Result<(), RootfsError> {
    // As runc: the requested propagation applies to the new root too.
    if let Some(prop) = root_propagation(spec)? {
        mount(None::<&str>, "/", None::<&str>, prop, None::<&str>)
            .map_err(|e| RootfsError::Propagation("/".into(), e))?;
    }
    if let Some(linux) = spec.linux() {
        for p in linux.readonly_paths().iter().flatten() {
            readonly_path(Path::new(p))?;
        }
        for p in linux.masked_paths().iter().flatten() {
            mask_path(Path::new(p))?;
        }
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        remount_readonly(Path::new("/"), MsFlags::empty())?;
    }
    Ok(())
}

/// Bind `path` onto itself and remount it read-only; a missing path is fine.
fn readonly_path(path: &Path) -> Result<(), RootfsError> {
    match mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    ) {
        Ok(()) => {}
        Err(nix::Error::ENOENT) => return Ok(()),
        Err(source) => {
            return Err(RootfsError::Mount {
                src: path.display().to_string(),
                dst: path.into(),
                fstype: Some("bind".into()),
                source,
            });
        }
    }
    remount_readonly(path, MsFlags::MS_REC)
}

/// Remount a bind mount read-only, keeping the flags it has (locked ones in a user namespace
/// cannot be cleared).
pub(crate) fn remount_readonly(path: &Path, extra: MsFlags) -> Result<(), RootfsError> {
    let current =
        nix::sys::statvfs::statvfs(path).map_err(|e| RootfsError::Remount(path.into(), e))?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | extra;
    use nix::sys::statvfs::FsFlags;
    let f = current.flags();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(fs) {
            flags |= ms;
        }
    }
    mount(None::<&str>, path, None::<&str>, flags, None::<&str>)
        .map_err(|e| RootfsError::Remount(path.into(), e))
}

/// Hide `path`: /dev/null over a file, an empty read-only tmpfs over a directory.
fn mask_path(path: &Path) -> Result<(), RootfsError> {
    match mount(
        Some("/dev/null"),
        path,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        Ok(()) | Err(nix::Error::ENOENT) => Ok(()),
        Err(nix::Error::ENOTDIR) => mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(|e| RootfsError::Mask(path.into(), e)),
        Err(e) => Err(RootfsError::Mask(path.into(), e)),
    }
}
