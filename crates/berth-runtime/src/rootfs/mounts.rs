//! The spec's `mounts`, each under the rootfs: bind mounts (then remounted with their flags),
//! kernel filesystems, and `cgroup`, which becomes a tmpfs holding each hierarchy.

use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use oci_spec::runtime::Mount;

use std::os::fd::{AsFd, OwnedFd};

use super::options::{self, Options};
use super::path::{fd_path, open_target, secure_join};
use super::{Context, RootfsError, bind};
use crate::sys;

/// Mount each of the spec's mounts, in order. In a cgroup namespace, `cgroup` mounts that no
/// later mount nests in are returned instead, to be mounted by [`mount_deferred`] after
/// pivot_root, once the init is in its cgroup and has unshared the namespace (so the init
/// sets up most of its rootfs while the parent's cgroup attach waits for the kernel); a cgroup
/// mount that must stay in place passes `ctx.gate` first. Without a cgroup namespace they are
/// bind mounts of the host's directories, made in place.
pub fn mount_all<'m>(
    mounts: &'m [Mount],
    ctx: &Context<'_>,
) -> Result<Vec<&'m Mount>, RootfsError> {
    let mut deferred = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        if is_cgroup(m) && ctx.cgroup_ns {
            let nested = mounts[i + 1..]
                .iter()
                .any(|later| later.destination().starts_with(m.destination()));
            if !nested {
                deferred.push(m);
                continue;
            }
            (ctx.gate)()?;
        }
        mount_one(m, ctx)?;
    }
    Ok(deferred)
}

/// Mount the deferred cgroup mounts; `ctx.rootfs` is "/" by now.
pub fn mount_deferred(deferred: &[&Mount], ctx: &Context<'_>) -> Result<(), RootfsError> {
    for m in deferred {
        mount_one(m, ctx)?;
    }
    Ok(())
}

fn is_cgroup(m: &Mount) -> bool {
    let opts = m.options().as_deref().unwrap_or_default();
    matches!(m.typ().as_deref(), Some("cgroup" | "cgroup2"))
        && !opts.iter().any(|o| o == "bind" || o == "rbind")
}

fn mount_one(m: &Mount, ctx: &Context<'_>) -> Result<(), RootfsError> {
    let opts = options::parse(m.options().as_deref().unwrap_or_default());
    let fstype = m.typ().as_deref().unwrap_or("none");
    let resolve_err = |e| RootfsError::Resolve(m.destination().clone(), e);
    if fstype == "cgroup" || fstype == "cgroup2" {
        let dest = secure_join(ctx.rootfs, m.destination()).map_err(resolve_err)?;
        mount_cgroups(&dest, &opts, ctx)?;
        return propagate(&dest, m, &opts);
    }
    if opts.bind || fstype == "bind" {
        let src = m.source().clone().unwrap_or_default();
        let src = if src.is_relative() {
            ctx.bundle.join(src)
        } else {
            src
        };
        let meta = std::fs::metadata(&src).map_err(|e| RootfsError::Resolve(src.clone(), e))?;
        let target =
            open_target(ctx.rootfs, m.destination(), meta.is_dir()).map_err(resolve_err)?;
        bind(&src, &fd_path(&target), opts.flags & MsFlags::MS_REC)?;
        // The new mount is on top now: resolve again (still inside the root) to reach it.
        let top = open_target(ctx.rootfs, m.destination(), meta.is_dir()).map_err(resolve_err)?;
        bind_flags(&src, &top, &opts)?;
        return propagate(&fd_path(&top), m, &opts);
    }
    let target = open_target(ctx.rootfs, m.destination(), true).map_err(resolve_err)?;
    let dest = fd_path(&target);
    let source = m
        .source()
        .as_ref()
        .map_or_else(|| fstype.to_string(), |s| s.display().to_string());
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    match mount(Some(source.as_str()), &dest, Some(fstype), opts.flags, data) {
        Ok(()) => {}
        // Without its own network namespace (or in a user namespace) sysfs cannot be
        // mounted: bind the host's, as runc does.
        Err(nix::Error::EPERM) if fstype == "sysfs" => {
            bind(Path::new("/sys"), &dest, MsFlags::MS_REC)?;
            if opts.flags.contains(MsFlags::MS_RDONLY) {
                let top = open_target(ctx.rootfs, m.destination(), true).map_err(resolve_err)?;
                super::remount_readonly(&fd_path(&top), MsFlags::MS_REC)?;
            }
        }
        Err(nix::Error::EPERM) if fstype == "mqueue" => {
            bind(Path::new("/dev/mqueue"), &dest, MsFlags::empty())?;
        }
        Err(source) => {
            return Err(RootfsError::Mount {
                src: source_name(m),
                dst: m.destination().clone(),
                fstype: Some(fstype.into()),
                source,
            });
        }
    }
    if opts.propagation.is_empty() {
        return Ok(());
    }
    let top = open_target(ctx.rootfs, m.destination(), true).map_err(resolve_err)?;
    propagate(&fd_path(&top), m, &opts)
}

fn propagate(dest: &Path, m: &Mount, opts: &Options) -> Result<(), RootfsError> {
    for p in &opts.propagation {
        mount(None::<&str>, dest, None::<&str>, *p, None::<&str>)
            .map_err(|e| RootfsError::Propagation(m.destination().clone(), e))?;
    }
    Ok(())
}

/// The flags a bind mount ignores at first: `rro` through `mount_setattr(AT_RECURSIVE)`
/// (every submount read-only too), the rest by a remount of the top mount.
fn bind_flags(src: &Path, top: &OwnedFd, opts: &Options) -> Result<(), RootfsError> {
    let dest = fd_path(top);
    let rest = opts.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if opts.recursive_ro {
        let mut attrs = sys::MOUNT_ATTR_RDONLY;
        for (ms, attr) in [
            (MsFlags::MS_NOSUID, sys::MOUNT_ATTR_NOSUID),
            (MsFlags::MS_NODEV, sys::MOUNT_ATTR_NODEV),
            (MsFlags::MS_NOEXEC, sys::MOUNT_ATTR_NOEXEC),
        ] {
            if rest.contains(ms) {
                attrs |= attr;
            }
        }
        return sys::mount_setattr_recursive(top.as_fd(), attrs)
            .map_err(|e| RootfsError::Remount(dest.clone(), e));
    }
    bind_with_flags_top(src, &dest, rest)
}

fn source_name(m: &Mount) -> String {
    m.source()
        .as_ref()
        .map_or_else(|| "none".into(), |s| s.display().to_string())
}

fn mkdir(path: &Path) -> Result<(), RootfsError> {
    std::fs::create_dir_all(path).map_err(|e| RootfsError::Create(path.into(), e))
}

/// Binds `src` on `dest` (recursively with `MS_REC`), then remounts it with the rest of
/// `flags` (a bind mount ignores them at first).
fn bind_with_flags(src: &Path, dest: &Path, flags: MsFlags) -> Result<(), RootfsError> {
    bind(src, dest, flags & MsFlags::MS_REC)?;
    let rest = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    bind_with_flags_top(src, dest, rest)
}

/// Remounts the bind mount on top of `dest` with `rest` (read-only keeps its locked flags).
fn bind_with_flags_top(src: &Path, dest: &Path, rest: MsFlags) -> Result<(), RootfsError> {
    if rest.contains(MsFlags::MS_RDONLY) {
        super::remount_readonly(dest, rest & !MsFlags::MS_RDONLY)?;
    } else if !rest.is_empty() {
        mount(
            None::<&str>,
            dest,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rest,
            None::<&str>,
        )
        .map_err(|source| RootfsError::Mount {
            src: src.display().to_string(),
            dst: dest.into(),
            fstype: Some("bind".into()),
            source,
        })?;
    }
    Ok(())
}

/// A `cgroup` mount: a tmpfs with one directory per hierarchy (or cgroup2 directly on a
/// pure v2 host). Outside a cgroup namespace each hierarchy is the host's directory of the
/// container's own cgroup, bind-mounted (so the container never sees the host's tree, and no
/// new cgroup filesystem is mounted: mounting one waits for the kernel to finish releasing
/// the cgroups of containers removed just before, up to tens of milliseconds).
fn mount_cgroups(dest: &Path, opts: &Options, ctx: &Context<'_>) -> Result<(), RootfsError> {
    let ro = opts.flags.contains(MsFlags::MS_RDONLY);
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    // In a cgroup namespace /proc/self/cgroup is relative to its root: each fresh mount is
    // narrowed to that (usually "/", so nothing to narrow).
    let own = if ctx.cgroup_ns {
        own_cgroups()?
    } else {
        Vec::new()
    };
    let mount_one_hierarchy = |cg: &crate::cgroups::CgroupMount, dir: &Path| {
        if ctx.cgroup_ns {
            mount_hierarchy(cg.fstype, &cg.data, dir, flags | opts.flags, &own)
        } else {
            bind_with_flags(&cg.host_dir, dir, (flags | opts.flags) & !MsFlags::MS_REC)
        }
    };
    mkdir(dest)?;
    if let [single] = ctx.cgroup_mounts
        && single.subdir.is_empty()
    {
        return mount_one_hierarchy(single, dest);
    }
    let tmpfs_flags = flags | (opts.flags & !MsFlags::MS_RDONLY);
    mount(
        Some("tmpfs"),
        dest,
        Some("tmpfs"),
        tmpfs_flags,
        Some("mode=755"),
    )
    .map_err(|source| RootfsError::Mount {
        src: "tmpfs".into(),
        dst: dest.into(),
        fstype: Some("tmpfs".into()),
        source,
    })?;
    for cg in ctx.cgroup_mounts {
        let dir = dest.join(&cg.subdir);
        mkdir(&dir)?;
        mount_one_hierarchy(cg, &dir)?;
        // cpu,cpuacct is also reachable as cpu and cpuacct.
        if cg.fstype == "cgroup" && cg.subdir.contains(',') {
            for name in cg.subdir.split(',') {
                let link = dest.join(name);
                std::os::unix::fs::symlink(&cg.subdir, &link)
                    .map_err(|e| RootfsError::Symlink(link.clone(), e))?;
            }
        }
    }
    if ro {
        super::remount_readonly(dest, MsFlags::empty())?;
    }
    Ok(())
}

fn mount_hierarchy(
    fstype: &str,
    data: &str,
    dir: &Path,
    flags: MsFlags,
    own: &[(String, String)],
) -> Result<(), RootfsError> {
    let data_opt = (!data.is_empty()).then_some(data);
    mount(Some(fstype), dir, Some(fstype), flags, data_opt).map_err(|source| {
        RootfsError::Mount {
            src: fstype.into(),
            dst: dir.into(),
            fstype: Some(fstype.into()),
            source,
        }
    })?;
    let key = if fstype == "cgroup2" { "" } else { data };
    if let Some((_, path)) = own.iter().find(|(c, _)| c == key)
        && path != "/"
    {
        let sub: PathBuf = dir.join(path.trim_start_matches('/'));
        bind(&sub, dir, MsFlags::empty())?;
        if flags.contains(MsFlags::MS_RDONLY) {
            super::remount_readonly(dir, MsFlags::empty())?;
        }
    }
    Ok(())
}

/// This process's cgroups: (controllers, path) from /proc/self/cgroup.
fn own_cgroups() -> Result<Vec<(String, String)>, RootfsError> {
    let text = std::fs::read_to_string("/proc/self/cgroup").map_err(RootfsError::OwnCgroup)?;
    Ok(parse_proc_cgroup(&text))
}

fn parse_proc_cgroup(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some((controllers.to_string(), path.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_self_cgroup_is_parsed() {
        let text = "12:pids:/berth/a\n4:cpu,cpuacct:/berth/a\n1:name=systemd:/x\n0::/\n";
        let own = parse_proc_cgroup(text);
        assert_eq!(own[1], ("cpu,cpuacct".into(), "/berth/a".into()));
        assert_eq!(own[3], ("".into(), "/".into()));
    }
}
