//! A container's filesystem as a whole: `diff` (`/changes`, read from the overlay's upper
//! directory), `export` (a tar of the merged rootfs) and `commit` (the upper directory as a
//! new layer on the image), and image `history`.
//!
//! The upper directory is written by the container, so it is walked through descriptors
//! (`O_NOFOLLOW` below an `O_DIRECTORY` parent), never by path: a symlink swapped in
//! cannot make berthd list or pack a host directory.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_image::config::{ContainerConfig as ImageContainerConfig, History};
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use serde::{Deserialize, Serialize};

use crate::archive::{recv, tarball, with_root_as};
use crate::error::{EngineError, Result};
use crate::table::Engine;

/// One line of `docker diff`: `Kind` 0 changed, 1 added, 2 deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    /// Path in the container.
    pub path: String,
    /// 0 = C, 1 = A, 2 = D.
    pub kind: u8,
}

/// One entry of `GET /images/{name}/history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image ID for the top entry, `<missing>` below.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The command.
    pub created_by: String,
    /// Tags of the image, on its top entry.
    pub tags: Option<Vec<String>>,
    /// Bytes of the entry's layer (0 for an empty layer).
    pub size: i64,
    /// Comment.
    pub comment: String,
}

/// What `POST /commit` takes.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `repo` (optional).
    pub repo: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// Commit message.
    pub comment: String,
    /// Author.
    pub author: String,
    /// Dockerfile instructions applied to the config (`--change`).
    pub changes: Vec<String>,
    /// The config to use instead of the container's.
    pub config: Option<berth_api::container::ContainerConfig>,
    /// Freeze a running container while its upper directory is packed (docker's default).
    pub pause: bool,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn in_lowers(lowers: &[PathBuf], rel: &str) -> bool {
    lowers
        .iter()
        .any(|l| std::fs::symlink_metadata(l.join(rel)).is_ok())
}

fn entries(dir: BorrowedFd<'_>) -> std::io::Result<Vec<String>> {
    let mut v = Vec::new();
    for e in Dir::read_from(dir).map_err(std::io::Error::from)? {
        let e = e.map_err(std::io::Error::from)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            v.push(String::from_utf8_lossy(n).into_owned());
        }
    }
    v.sort();
    Ok(v)
}

fn walk(
    dir: BorrowedFd<'_>,
    rel: &str,
    lowers: &[PathBuf],
    out: &mut Vec<Change>,
) -> std::io::Result<()> {
    for name in entries(dir)? {
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let st = rustix::fs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)?;
        let ft = FileType::from_raw_mode(st.st_mode);
        if ft == FileType::CharacterDevice && st.st_rdev == 0 {
            out.push(Change {
                path: format!("/{child}"),
                kind: 2,
            });
            continue;
        }
        let existed = in_lowers(lowers, &child);
        out.push(Change {
            path: format!("/{child}"),
            kind: if existed { 0 } else { 1 },
        });
        if ft == FileType::Directory {
            let fd = rustix::fs::openat(dir, name.as_str(), DIR_FLAGS, Mode::empty())?;
            if existed && tarball::is_opaque(&fd) {
                // An opaque directory hides what the image had there.
                let upper_names = entries(fd.as_fd())?;
                for l in lowers {
                    for n in std::fs::read_dir(l.join(&child))
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        let n = n.file_name().to_string_lossy().into_owned();
                        let p = format!("/{child}/{n}");
                        if !upper_names.contains(&n) && !out.iter().any(|c| c.path == p) {
                            out.push(Change { path: p, kind: 2 });
                        }
                    }
                }
            }
            walk(fd.as_fd(), &child, lowers, out)?;
        }
    }
    Ok(())
}

/// Writes a new image on top of `parent`: the upper directory of the container at
/// `container_dir` packed as one layer (none for `None`: a config-only image), the config
/// edited by `edit`, `history` appended (its time and `empty_layer` filled in here), the
/// parent recorded. Blocking. Commit and build share it.
pub(crate) fn commit_image(
    images: &berth_image::store::ImageStore,
    parent: &berth_image::store::Image,
    container_dir: Option<&Path>,
    mut history: History,
    edit: impl FnOnce(&mut berth_image::config::ImageConfig),
) -> Result<berth_image::Digest> {
    let mut cfg = parent.config.clone();
    if let Some(dir) = container_dir {
        let upper = open_upper(dir)?;
        // The layer goes through a pipe into the store, packed and unpacked at once.
        let (reader, mut writer) = std::io::pipe().map_err(|e| EngineError::io("pipe", dir, e))?;
        let packer = std::thread::spawn(move || tarball::write_layer(&upper, &mut writer));
        let layer = images.add_layer(parent.layers.last(), reader);
        packer
            .join()
            .map_err(|_| EngineError::Task("the layer writer panicked".into()))?
            .map_err(|e| EngineError::io("pack", dir.join("upper"), e))?;
        cfg.rootfs.diff_ids.push(layer?.diff_id);
    }
    let now = berth_image::config::now_rfc3339();
    cfg.created = Some(now.clone());
    edit(&mut cfg);
    history.created = Some(now);
    history.empty_layer = container_dir.is_none();
    cfg.history.push(history);
    let json = cfg
        .to_vec()
        .map_err(|e| EngineError::Invalid(format!("image config: {e}")))?;
    let id = images.add_image(&json)?;
    images.set_parent(&id, &parent.id)?;
    Ok(id)
}

pub(crate) fn open_upper(dir: &Path) -> Result<OwnedFd> {
    let upper = dir.join("upper");
    rustix::fs::open(&upper, DIR_FLAGS, Mode::empty()).map_err(|e| {
        EngineError::Invalid(format!(
            "{}: the container's changes need the overlay2 driver ({e})",
            upper.display()
        ))
    })
}

/// Paths the runtime makes as mount points (docker keeps them in an init layer, so its
/// diff never shows them), with the container's own mount destinations.
fn mount_points(rec: &crate::model::ContainerRecord) -> Vec<String> {
    let mut v: Vec<String> = [
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/dev",
        "/proc",
        "/sys",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.extend(rec.mounts.iter().map(|m| m.destination.clone()));
    v.extend(
        rec.host_config
            .tmpfs
            .iter()
            .flatten()
            .map(|(d, _)| d.clone()),
    );
    v
}

/// Drops the mount points (and what is below them), then the directories that are only
/// "changed" because a mount point was made in them.
fn hide_mount_points(changes: Vec<Change>, hidden: &[String]) -> Vec<Change> {
    let under = |p: &str, h: &str| p == h || p.starts_with(&format!("{h}/"));
    let kept: Vec<Change> = changes
        .iter()
        .filter(|c| !hidden.iter().any(|h| under(&c.path, h)))
        .cloned()
        .collect();
    kept.iter()
        .filter(|c| {
            let only_for_mounts = c.kind == 0
                && hidden.iter().any(|h| under(h, &c.path))
                && !kept
                    .iter()
                    .any(|o| o.path != c.path && under(&o.path, &c.path));
            !only_for_mounts
        })
        .cloned()
        .collect()
}

impl Engine {
    /// `GET /containers/{id}/changes`.
    pub async fn changes(&self, name: &str) -> Result<Vec<Change>> {
        let c = self.lookup(name)?;
        let rec = c.record();
        let dir = self.dir(&rec.id);
        let hidden = mount_points(&rec);
        tokio::task::spawn_blocking(move || {
            let upper = open_upper(&dir)?;
            let mut out = Vec::new();
            walk(upper.as_fd(), "", &rec.lowers, &mut out)
                .map_err(|e| EngineError::io("read", dir.join("upper"), e))?;
            out.sort_by(|a, b| a.path.cmp(&b.path));
            Ok(hide_mount_points(out, &hidden))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
    }

    /// `GET /containers/{id}/export`: the merged rootfs (without volumes) as a tar stream.
    pub async fn export(
        &self,
        name: &str,
    ) -> Result<tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>> {
        let c = self.lookup(name)?;
        let rec = c.record();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let id = rec.id.clone();
        let done = with_root_as(self, &rec, false, move |root| {
            let _ = ready_tx.send(());
            let mut w = crate::distribution::ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(crate::distribution::CHUNK),
            };
            if let Err(e) = tarball::write(root, "/", &mut w) {
                tracing::warn!("export {id}: {e}");
                let _ = tx.blocking_send(Err(e));
            }
            Ok(())
        });
        if ready_rx.await.is_err() {
            recv(done).await?;
            return Err(EngineError::Task("the export thread ended early".into()));
        }
        Ok(rx)
    }

    /// `POST /commit`: the container's upper directory becomes a layer on its image, with
    /// the container's config (or the one given), `--change` instructions, author and
    /// comment; tagged `repo:tag` when given. Returns the new image ID.
    pub async fn commit(&self, name: &str, opts: CommitOptions) -> Result<String> {
        let c = self.lookup(name)?;
        let rec = c.record();
        let reference = match &opts.repo {
            Some(r) if !r.is_empty() => {
                let tag = opts.tag.clone().filter(|t| !t.is_empty());
                let full = match tag {
                    Some(t) => format!("{r}:{t}"),
                    None => r.clone(),
                };
                Some(
                    berth_image::Reference::parse(&full)
                        .map_err(|e| {
                            EngineError::Invalid(format!("invalid reference format: {e}"))
                        })?
                        .with_default_tag(),
                )
            }
            _ => None,
        };
        let images = self.inner.images.clone();
        let parent = images.get(&rec.image_id)?;
        let dir = self.dir(&rec.id);
        // The container's config as the image's (the same docker field names).
        let api_cfg = opts.config.clone().unwrap_or_else(|| rec.config.clone());
        let mut cc: ImageContainerConfig = serde_json::to_value(&api_cfg)
            .and_then(serde_json::from_value)
            .map_err(|e| EngineError::Invalid(format!("container config: {e}")))?;
        berth_image::config::apply_changes(&mut cc, &opts.changes)
            .map_err(|e| EngineError::Invalid(crate::error::full_message(&e)))?;
        let created_by = {
            let mut argv = vec![rec.path.clone()];
            argv.extend(rec.args.iter().cloned());
            argv.join(" ")
        };
        let (author, comment) = (opts.author.clone(), opts.comment.clone());
        // A running container is frozen while its files are packed, so the layer is one
        // moment of it; it is thawed whatever the packing gives.
        let mut paused_here = false;
        if opts.pause && c.status() == crate::model::Status::Running {
            // A process that has just exited leaves a cgroup that cannot be frozen before
            // the monitor has seen the exit: its files no longer change, so commit as is.
            match self.pause(&c.id).await {
                Ok(()) => paused_here = true,
                Err(e) => tracing::warn!("commit {} without freezing it: {e}", c.id),
            }
        }
        let packed = tokio::task::spawn_blocking(move || -> Result<berth_image::Digest> {
            let history = History {
                created_by,
                author: author.clone(),
                comment,
                ..Default::default()
            };
            let id = commit_image(&images, &parent, Some(&dir), history, |cfg| {
                cfg.author = author;
                cfg.config = Some(cc);
            })?;
            if let Some(r) = &reference {
                images.tag(&id.to_string(), r)?;
            }
            Ok(id)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()));
        if paused_here && let Err(e) = self.unpause(&c.id).await {
            tracing::warn!("unpause {} after commit: {e}", c.id);
        }
        let id = packed??;
        let mut a = std::collections::BTreeMap::new();
        a.insert("comment".to_owned(), opts.comment.clone());
        self.inner.events.emit("container", "commit", &rec.id, a);
        Ok(id.to_string())
    }

    /// `GET /images/{name}/history`, newest first, as docker shows it.
    pub fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>> {
        let img = self.inner.images.get(name)?;
        let mut layers = img.layers.iter();
        let mut items: Vec<HistoryItem> = Vec::new();
        let history = if img.config.history.is_empty() {
            // An image without history: one line per layer.
            img.layers.iter().map(|_| History::default()).collect()
        } else {
            img.config.history.clone()
        };
        for h in &history {
            let size = if h.empty_layer {
                0
            } else {
                layers
                    .next()
                    .and_then(|l| self.inner.images.layer(l).ok())
                    .map_or(0, |i| i.size as i64)
            };
            let created = h
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map_or(0, |t| t.timestamp());
            items.push(HistoryItem {
                id: "<missing>".into(),
                created,
                created_by: h.created_by.clone(),
                tags: None,
                size,
                comment: h.comment.clone(),
            });
        }
        items.reverse();
        if let Some(top) = items.first_mut() {
            top.id = img.id.to_string();
            let tags: Vec<String> = img.references.iter().map(|r| r.familiar()).collect();
            top.tags = Some(tags);
        }
        Ok(items)
    }
}
