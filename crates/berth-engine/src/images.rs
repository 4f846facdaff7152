//! Images through `berth-image`'s store, in the API's shapes: import (with `--change`),
//! list, tag, delete (refused while containers use the image), inspect.

use std::collections::BTreeMap;
use std::io::Read;

use berth_api::container::{ContainerConfig, EmptyObject, GraphDriverData, HealthConfig};
use berth_api::image::{
    ImageDeleteResponseItem, ImageInspect, ImageMetadata, ImageSummary, RootFs,
};
use berth_image::Reference;
use berth_image::store::{DeleteItem, Image};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::table::Engine;

/// A blocking reader over the chunks of a request body.
pub(crate) struct ChannelReader {
    pub(crate) rx: mpsc::Receiver<std::io::Result<Bytes>>,
    pub(crate) cur: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// `path.Match` for references: `*` matches any run of characters except `/`.
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i) && !tail[..i].contains('/'))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn created_unix(img: &Image) -> i64 {
    img.config
        .created
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map_or(0, |t| t.timestamp())
}

fn api_config(img: &Image) -> Option<ContainerConfig> {
    let ic = img.config.config.as_ref()?;
    let set = |m: &Option<BTreeMap<String, serde_json::Value>>| {
        m.as_ref()
            .map(|m| m.keys().map(|k| (k.clone(), EmptyObject {})).collect())
    };
    Some(ContainerConfig {
        user: ic.user.clone(),
        exposed_ports: set(&ic.exposed_ports),
        env: ic.env.clone(),
        cmd: ic.cmd.clone(),
        healthcheck: ic.healthcheck.as_ref().map(|h| HealthConfig {
            test: Some(h.test.clone()),
            interval: h.interval,
            timeout: h.timeout,
            retries: i64::from(h.retries),
            start_period: h.start_period,
            start_interval: h.start_interval,
        }),
        args_escaped: ic.args_escaped,
        volumes: set(&ic.volumes),
        working_dir: ic.working_dir.clone(),
        entrypoint: ic.entrypoint.clone(),
        on_build: ic.on_build.clone(),
        labels: ic.labels.clone(),
        stop_signal: (!ic.stop_signal.is_empty()).then(|| ic.stop_signal.clone()),
        shell: ic.shell.clone(),
        ..ContainerConfig::default()
    })
}

impl Engine {
    /// Imports a root filesystem tar read from `body`, tagged `reference` when given;
    /// returns the image ID.
    pub async fn image_import(
        &self,
        body: mpsc::Receiver<std::io::Result<Bytes>>,
        reference: Option<String>,
        changes: Vec<String>,
    ) -> Result<String> {
        let reference = reference
            .map(|r| Reference::parse(&r))
            .transpose()
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let engine = self.clone();
        let id = tokio::task::spawn_blocking(move || {
            let reader = ChannelReader {
                rx: body,
                cur: Bytes::new(),
            };
            engine
                .inner
                .images
                .import(reader, reference.as_ref(), &changes, "-")
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        let id = id.to_string();
        self.inner
            .events
            .emit("image", "import", &id, BTreeMap::new());
        Ok(id)
    }

    /// `GET /images/json` with docker's filters `reference`, `dangling` and `label`.
    pub async fn image_list(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<ImageSummary>> {
        let mut images = self.inner.images.list()?;
        for (k, values) in filters {
            if values.is_empty() {
                continue;
            }
            match k.as_str() {
                "reference" => images.retain(|img| {
                    img.references.iter().any(|r| {
                        let name = r.familiar_name();
                        let full = r.familiar();
                        values.iter().any(|v| glob(v, &name) || glob(v, &full))
                    })
                }),
                "dangling" => {
                    let want = values.iter().any(|v| v == "true" || v == "1");
                    images.retain(|img| img.references.is_empty() == want);
                }
                "label" => images.retain(|img| {
                    let labels = img
                        .config
                        .config
                        .as_ref()
                        .and_then(|c| c.labels.clone())
                        .unwrap_or_default();
                    values
                        .iter()
                        .all(|v| crate::filters::label_matches(&labels, v))
                }),
                other => {
                    return Err(EngineError::Invalid(format!("invalid filter '{other}'")));
                }
            }
        }
        // With a reference filter docker lists only the matching tags of each image.
        let patterns = filters.get("reference").filter(|v| !v.is_empty());
        let shown = |r: &Reference| {
            patterns.is_none_or(|p| {
                p.iter()
                    .any(|v| glob(v, &r.familiar_name()) || glob(v, &r.familiar()))
            })
        };
        let mut out: Vec<ImageSummary> = images
            .iter()
            .map(|img| ImageSummary {
                id: img.id.to_string(),
                parent_id: img
                    .parent
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                repo_tags: img
                    .references
                    .iter()
                    .filter(|r| shown(r))
                    .map(Reference::familiar)
                    .collect(),
                repo_digests: self.repo_digests(&img.id),
                created: created_unix(img),
                size: img.size as i64,
                shared_size: -1,
                labels: img.config.config.as_ref().and_then(|c| c.labels.clone()),
                containers: -1,
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.created));
        Ok(out)
    }

    /// `GET /images/{name}/json`.
    pub async fn image_inspect(&self, name: &str) -> Result<ImageInspect> {
        let img = self.inner.images.get(name)?;
        let lowers = self.inner.images.lowerdirs(&img.id)?;
        let mut gd = BTreeMap::new();
        let lowers: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
        gd.insert("LowerDir".to_owned(), lowers.join(":"));
        Ok(ImageInspect {
            id: img.id.to_string(),
            repo_tags: img.references.iter().map(Reference::familiar).collect(),
            repo_digests: self.repo_digests(&img.id),
            parent: img
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            comment: img
                .config
                .history
                .last()
                .map(|h| h.comment.clone())
                .unwrap_or_default(),
            created: img.config.created.clone().unwrap_or_default(),
            docker_version: String::new(),
            author: img.config.author.clone(),
            config: api_config(&img),
            architecture: img.config.architecture.clone(),
            variant: img.config.variant.clone(),
            os: img.config.os.clone(),
            os_version: String::new(),
            size: img.size as i64,
            graph_driver: Some(GraphDriverData {
                name: self.inner.snap.name().to_owned(),
                data: gd,
            }),
            root_fs: Some(RootFs {
                r#type: "layers".into(),
                layers: img
                    .config
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }),
            metadata: Some(ImageMetadata::default()),
        })
    }

    /// `POST /images/{name}/tag`.
    pub async fn image_tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        let target = match tag.filter(|t| !t.is_empty()) {
            Some(t) => format!("{repo}:{t}"),
            None => repo.to_owned(),
        };
        let target = Reference::parse(&target).map_err(|e| EngineError::Invalid(e.to_string()))?;
        self.inner.images.tag(name, &target)?;
        let id = self.inner.images.resolve(name)?;
        let mut a = BTreeMap::new();
        a.insert("name".to_owned(), target.familiar());
        self.inner.events.emit("image", "tag", &id.to_string(), a);
        Ok(())
    }

    /// `DELETE /images/{name}`: refused while a container uses the image (a stopped one
    /// unless `force`).
    pub async fn image_remove(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Vec<ImageDeleteResponseItem>> {
        let id = self.inner.images.resolve(name)?.to_string();
        let users: Vec<(String, bool)> = self
            .table()
            .by_id
            .values()
            .map(|c| c.record())
            .filter(|r| r.image_id == id)
            .map(|r| (r.id.clone(), r.state.status.has_process()))
            .collect();
        let by_id = name.trim_start_matches("sha256:").len() < 64
            && id
                .trim_start_matches("sha256:")
                .starts_with(name.trim_start_matches("sha256:"));
        let img = self.inner.images.get(name)?;
        // Untagging one of several references never touches containers.
        let untag_only = !by_id && img.references.len() > 1;
        if !untag_only && let Some((cid, running)) = users.iter().find(|(_, r)| *r || !force) {
            if !by_id && !force {
                return Err(EngineError::ReferenceInUse {
                    reference: name.to_owned(),
                    container: crate::names::short(cid).to_owned(),
                    image: id.trim_start_matches("sha256:")[..12].to_owned(),
                });
            }
            return Err(EngineError::ImageInUse {
                image: id.trim_start_matches("sha256:")[..12].to_owned(),
                state: if *running { "running" } else { "stopped" },
                container: crate::names::short(cid).to_owned(),
            });
        }
        let items = if !untag_only && !users.is_empty() {
            // Forced, with stopped containers on it: docker untags the image but keeps it
            // (the containers' rootfs stands on its layers).
            let mut items = Vec::new();
            for r in &img.references {
                self.inner.images.untag(r)?;
                items.push(DeleteItem::Untagged(r.familiar()));
            }
            items
        } else {
            self.inner.images.delete(name, force)?
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                DeleteItem::Untagged(r) => {
                    let mut a = BTreeMap::new();
                    a.insert("name".to_owned(), r.clone());
                    self.inner.events.emit("image", "untag", &id, a);
                    out.push(ImageDeleteResponseItem {
                        untagged: Some(r),
                        deleted: None,
                    });
                }
                DeleteItem::Deleted(d) => {
                    self.inner
                        .events
                        .emit("image", "delete", &d.to_string(), BTreeMap::new());
                    out.push(ImageDeleteResponseItem {
                        untagged: None,
                        deleted: Some(d.to_string()),
                    });
                }
                DeleteItem::DeletedLayer(d) => out.push(ImageDeleteResponseItem {
                    untagged: None,
                    deleted: Some(d.to_string()),
                }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn reference_globs() {
        assert!(glob("busybox", "busybox"));
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:*", "busybox:latest"));
        assert!(!glob("busy*", "library/busybox"));
        assert!(!glob("alpine", "busybox"));
    }
}
