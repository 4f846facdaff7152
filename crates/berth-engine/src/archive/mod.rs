//! The archive API (`docker cp`): `HEAD`, `GET` and `PUT /containers/{id}/archive`.
//!
//! Every path is resolved in the container's root with `openat2(RESOLVE_IN_ROOT)`, then
//! every entry below it is opened relative to its parent's descriptor with `O_NOFOLLOW`,
//! and every entry of an uploaded tar is made relative to a parent opened the same way. A
//! symlink in the container, even one swapped in while the copy runs
//! (`renameat2(RENAME_EXCHANGE)`), is resolved inside the container's root and never makes
//! berthd read or write a host file (the CVE-2018-15664 class).
//!
//! The root is, for a running container, `/proc/<pid>/root` (its own mount namespace, so its
//! volumes and binds are seen exactly as the container sees them); for a stopped one, its
//! rootfs mounted with its volumes and binds in a private mount namespace of a dedicated
//! thread, which vanishes with the thread. The work runs on that thread (never on a tokio
//! worker); tar is the sync `tar` crate.

mod put;
pub(crate) mod tarball;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use nix::mount::MsFlags;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::error::{EngineError, Result};
use crate::model::ContainerRecord;
use crate::mounts::MountKind;
use crate::table::{Container, Engine};

pub use put::PutOptions;
pub(crate) use put::clean_name;

/// docker's `ContainerPathStat` (the `X-Docker-Container-Path-Stat` header, base64 JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStat {
    /// Base name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Go's `os.FileMode` bits.
    pub mode: u32,
    /// RFC 3339.
    pub mtime: String,
    /// For a symlink: the path it resolves to in the container.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// Go `os.FileMode` of a `stat` mode.
pub fn go_mode(st_mode: u32) -> u32 {
    let mut m = st_mode & 0o777;
    if st_mode & 0o4000 != 0 {
        m |= 1 << 23;
    }
    if st_mode & 0o2000 != 0 {
        m |= 1 << 22;
    }
    if st_mode & 0o1000 != 0 {
        m |= 1 << 20;
    }
    m | match FileType::from_raw_mode(st_mode) {
        FileType::Directory => 1 << 31,
        FileType::Symlink => 1 << 27,
        FileType::Fifo => 1 << 25,
        FileType::Socket => 1 << 24,
        FileType::CharacterDevice => (1 << 26) | (1 << 21),
        FileType::BlockDevice => 1 << 26,
        _ => 0,
    }
}

fn not_found(path: &str, id: &str) -> EngineError {
    EngineError::NoSuchPath {
        path: path.to_owned(),
        id: id.to_owned(),
    }
}

/// `path` relative to the root (`.` for `/`).
fn rel(path: &str) -> &str {
    let r = path.trim_start_matches('/');
    if r.is_empty() { "." } else { r }
}

pub(crate) fn in_root(
    root: &OwnedFd,
    path: &str,
    flags: OFlags,
) -> std::result::Result<OwnedFd, Errno> {
    rustix::fs::openat2(
        root,
        rel(path),
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Splits a clean absolute path into its parent and its last component (`/` → `/`, `.`).
pub(crate) fn split(path: &str) -> (String, String) {
    let clean = crate::mounts::parse::clean(path);
    match clean.rsplit_once('/') {
        Some((_, "")) | None => ("/".into(), ".".into()),
        Some(("", base)) => ("/".into(), base.into()),
        Some((dir, base)) => (dir.into(), base.into()),
    }
}

/// Stats `path` in the root without following its last component.
fn stat_path(root: &OwnedFd, path: &str, id: &str) -> Result<(PathStat, Stat)> {
    let (dir, base) = split(path);
    let parent = in_root(root, &dir, OFlags::PATH | OFlags::DIRECTORY).map_err(|e| match e {
        Errno::NOENT | Errno::NOTDIR => not_found(path, id),
        e => EngineError::io("resolve", path, e.into()),
    })?;
    let st = if base == "." {
        rustix::fs::fstat(&parent)
    } else {
        rustix::fs::statat(&parent, base.as_str(), AtFlags::SYMLINK_NOFOLLOW)
    }
    .map_err(|e| match e {
        Errno::NOENT => not_found(path, id),
        e => EngineError::io("stat", path, e.into()),
    })?;
    let mut link_target = String::new();
    if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
        // Where it leads inside the container: resolve it there and ask the kernel.
        if let Ok(fd) = in_root(root, path, OFlags::PATH)
            && let Ok(real) = std::fs::read_link(format!(
                "/proc/self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(&fd)
            ))
            && let Ok(root_real) = std::fs::read_link(format!(
                "/proc/self/fd/{}",
                std::os::fd::AsRawFd::as_raw_fd(root)
            ))
        {
            let inner = real
                .strip_prefix(&root_real)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            link_target = format!("/{}", inner.display());
        }
    }
    let mtime = chrono::DateTime::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default();
    let name = if base == "." { "/".into() } else { base };
    Ok((
        PathStat {
            name,
            size: st.st_size,
            mode: go_mode(st.st_mode),
            mtime,
            link_target,
        },
        st,
    ))
}

/// Runs `f` with the container's root on a thread of its own (see the module docs).
pub(crate) fn with_root<T: Send + 'static>(
    engine: &Engine,
    rec: &ContainerRecord,
    f: impl FnOnce(&OwnedFd) -> Result<T> + Send + 'static,
) -> oneshot::Receiver<Result<T>> {
    with_root_as(engine, rec, true, f)
}

/// [`with_root`]; without `with_mounts`, the bare rootfs (for export): a running
/// container's overlay as the daemon sees it, without the container's mounts.
pub(crate) fn with_root_as<T: Send + 'static>(
    engine: &Engine,
    rec: &ContainerRecord,
    with_mounts: bool,
    f: impl FnOnce(&OwnedFd) -> Result<T> + Send + 'static,
) -> oneshot::Receiver<Result<T>> {
    let (tx, rx) = oneshot::channel();
    let running = rec.state.status.has_process() && rec.state.pid > 0;
    let pid = rec.state.pid;
    let dir = engine.dir(&rec.id);
    let lowers = rec.lowers.clone();
    let engine = engine.clone();
    let mounts = if with_mounts {
        rec.mounts.clone()
    } else {
        Vec::new()
    };
    let spawned = std::thread::Builder::new()
        .name("berth-archive".into())
        .spawn(move || {
            let root = if running && !with_mounts {
                let rootfs = dir.join("rootfs");
                rustix::fs::open(
                    &rootfs,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| EngineError::io("open", &rootfs, e.into()))
            } else if running {
                rustix::fs::open(
                    format!("/proc/{pid}/root"),
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| EngineError::io("open", format!("/proc/{pid}/root"), e.into()))
            } else {
                private_root(&engine, &dir, &lowers, &mounts)
            };
            let _ = tx.send(root.and_then(|r| f(&r)));
        });
    if let Err(e) = spawned {
        tracing::error!("spawn the archive thread: {e}");
    }
    rx
}

/// In this thread's own mount namespace (private, so nothing reaches the host): the
/// stopped container's rootfs with its binds and volumes on it.
fn private_root(
    engine: &Engine,
    dir: &Path,
    lowers: &[PathBuf],
    mounts: &[crate::mounts::MountRecord],
) -> Result<OwnedFd> {
    use berth_image::snapshot::Snapshotter;
    let ns_err =
        |what: &'static str, e: nix::Error| EngineError::io(what, "mount namespace", e.into());
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| ns_err("unshare", e))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| ns_err("make private", e))?;
    let rootfs = engine.inner.snap.mount(dir, lowers)?;
    let mut sorted: Vec<_> = mounts
        .iter()
        .filter(|m| m.kind != MountKind::Tmpfs)
        .collect();
    sorted.sort_by_key(|m| Path::new(&m.destination).components().count());
    for m in sorted {
        let src = if m.kind == MountKind::Volume {
            let data = engine.volume_mount(&m.name)?;
            if m.subpath.is_empty() {
                data
            } else {
                data.join(&m.subpath)
            }
        } else {
            PathBuf::from(&m.source)
        };
        let Ok(meta) = std::fs::metadata(&src) else {
            continue;
        };
        let bind_err = |e: std::io::Error| EngineError::io("mount", &m.destination, e);
        let target = berth_runtime::rootfs::path::open_target(
            &rootfs,
            Path::new(&m.destination),
            meta.is_dir(),
        )
        .map_err(bind_err)?;
        let fd_path = berth_runtime::rootfs::path::fd_path(&target);
        nix::mount::mount(
            Some(&src),
            &fd_path,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| bind_err(e.into()))?;
        if !m.rw {
            let top = berth_runtime::rootfs::path::open_target(
                &rootfs,
                Path::new(&m.destination),
                meta.is_dir(),
            )
            .map_err(bind_err)?;
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            nix::mount::mount(
                None::<&str>,
                &berth_runtime::rootfs::path::fd_path(&top),
                None::<&str>,
                flags,
                None::<&str>,
            )
            .map_err(|e| bind_err(e.into()))?;
        }
    }
    rustix::fs::open(
        &rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| EngineError::io("open", &rootfs, e.into()))
}

pub(crate) async fn recv<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await
        .map_err(|_| EngineError::Task("the archive thread ended early".into()))?
}

impl Engine {
    fn archive_target(&self, name: &str) -> Result<(Arc<Container>, ContainerRecord)> {
        let c = self.lookup(name)?;
        let rec = c.record();
        Ok((c, rec))
    }

    /// `HEAD /containers/{id}/archive?path=`.
    pub async fn archive_stat(&self, name: &str, path: &str) -> Result<PathStat> {
        let (_, rec) = self.archive_target(name)?;
        let (path, id) = (path.to_owned(), rec.id.clone());
        recv(with_root(self, &rec, move |root| {
            Ok(stat_path(root, &path, &id)?.0)
        }))
        .await
    }

    /// `GET /containers/{id}/archive?path=`: the stat, and the tar of the path (named by
    /// its base name) streamed from the archive thread.
    pub async fn archive_get(
        &self,
        name: &str,
        path: &str,
    ) -> Result<(PathStat, mpsc::Receiver<std::io::Result<Bytes>>)> {
        let (_, rec) = self.archive_target(name)?;
        let (path, id) = (path.to_owned(), rec.id.clone());
        let (stat_tx, stat_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(4);
        let done = with_root(self, &rec, move |root| {
            let (stat, _) = match stat_path(root, &path, &id) {
                Ok(s) => s,
                Err(e) => {
                    let _ = stat_tx.send(Err(e));
                    return Ok(());
                }
            };
            let _ = stat_tx.send(Ok(stat.clone()));
            let mut w = crate::distribution::ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(crate::distribution::CHUNK),
            };
            if let Err(e) = tarball::write(root, &path, &mut w) {
                tracing::warn!("archive of {path} in {id}: {e}");
                let _ = tx.blocking_send(Err(e));
            }
            Ok(())
        });
        match stat_rx.await {
            Ok(r) => Ok((r?, rx)),
            Err(_) => {
                recv(done).await?;
                Err(EngineError::Task("the archive thread ended early".into()))
            }
        }
    }

    /// `PUT /containers/{id}/archive?path=`: extracts the tar in `body` into the directory
    /// `path` of the container.
    pub async fn archive_put(
        &self,
        name: &str,
        path: &str,
        body: mpsc::Receiver<std::io::Result<Bytes>>,
        opts: PutOptions,
    ) -> Result<()> {
        let (_, rec) = self.archive_target(name)?;
        if rec.host_config.readonly_rootfs {
            return Err(EngineError::Forbidden(
                "container rootfs is marked read-only".into(),
            ));
        }
        let (path, id) = (path.to_owned(), rec.id.clone());
        recv(with_root(self, &rec, move |root| {
            let (_, st) = stat_path(root, &path, &id)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                // A symlink to a directory is followed, as docker does.
                let followed = in_root(root, &path, OFlags::PATH | OFlags::DIRECTORY);
                if followed.is_err() {
                    return Err(EngineError::Invalid(
                        "extraction point is not a directory".into(),
                    ));
                }
            }
            let reader = crate::images::ChannelReader {
                rx: body,
                cur: Bytes::new(),
            };
            put::extract(root, &path, reader, &opts)
        }))
        .await
    }
}
