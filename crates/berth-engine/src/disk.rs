//! Disk usage: `image prune` and `system df`, and [`dir_size`] for every directory's size
//! (volumes, upper directories, build caches). Sizes are the layers' (each stored once by
//! chain ID), so an image's shared size is what its layers that other images also use
//! take, and what a prune reclaims is the layers it removed.

use std::collections::{BTreeMap, BTreeSet};

use berth_api::container::ContainerSummary;
use berth_api::image::{ImageDeleteResponseItem, ImageSummary};
use berth_image::{Digest, Reference};

use crate::error::Result;
use crate::table::{Engine, ListOptions};

/// What `POST /images/prune` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Untagged references and deleted images and layers, in order.
    pub deleted: Vec<ImageDeleteResponseItem>,
    /// Bytes of the layers removed.
    pub space_reclaimed: u64,
}

/// What `GET /system/df` reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskUsage {
    /// All unique layers.
    pub layers_size: u64,
    /// Images, with `SharedSize` and `Containers` filled in.
    pub images: Vec<ImageSummary>,
    /// Every container.
    pub containers: Vec<ContainerSummary>,
}

impl Engine {
    /// Image IDs that containers (any state) use.
    fn images_in_use(&self) -> BTreeSet<String> {
        self.table()
            .by_id
            .values()
            .map(|c| c.record().image_id.clone())
            .collect()
    }

    fn layer_sizes(&self, layers: impl Iterator<Item = Digest>) -> BTreeMap<Digest, u64> {
        layers
            .map(|l| {
                let size = self.inner.images.layer(&l).map_or(0, |i| i.size);
                (l, size)
            })
            .collect()
    }

    /// `docker image prune [-a]`: removes dangling images (every image without a
    /// container with `all`) that no container uses.
    pub async fn image_prune(&self, all: bool) -> Result<PruneReport> {
        let used = self.images_in_use();
        let images = self.inner.images.list()?;
        let sizes = self.layer_sizes(images.iter().flat_map(|i| i.layers.clone()));
        let mut report = PruneReport::default();
        for img in images {
            let id = img.id.to_string();
            if used.contains(&id) || (!all && !img.references.is_empty()) {
                continue;
            }
            let items = match self.image_remove(&id, true).await {
                Ok(items) => items,
                // Removed meanwhile with another image, or in use since: not an error.
                Err(e) => {
                    tracing::debug!("prune {id}: {}", e.message());
                    continue;
                }
            };
            for item in items {
                if let Some(d) = item.deleted.as_deref()
                    && let Ok(d) = d.parse::<Digest>()
                {
                    report.space_reclaimed += sizes.get(&d).copied().unwrap_or(0);
                }
                report.deleted.push(item);
            }
        }
        Ok(report)
    }

    /// `GET /system/df`.
    pub async fn system_df(&self) -> Result<DiskUsage> {
        let containers = self
            .list(ListOptions {
                all: true,
                ..ListOptions::default()
            })
            .await?;
        let mut per_image: BTreeMap<String, i64> = BTreeMap::new();
        for c in self.table().by_id.values() {
            *per_image.entry(c.record().image_id.clone()).or_default() += 1;
        }
        let images = self.inner.images.list()?;
        let sizes = self.layer_sizes(images.iter().flat_map(|i| i.layers.clone()));
        let mut users: BTreeMap<&Digest, usize> = BTreeMap::new();
        for img in &images {
            for l in img.layers.iter().collect::<BTreeSet<_>>() {
                *users.entry(l).or_default() += 1;
            }
        }
        let summaries = images
            .iter()
            .map(|img| {
                let shared: u64 = img
                    .layers
                    .iter()
                    .filter(|l| users.get(l).copied().unwrap_or(0) > 1)
                    .map(|l| sizes.get(l).copied().unwrap_or(0))
                    .sum();
                ImageSummary {
                    id: img.id.to_string(),
                    parent_id: String::new(),
                    repo_tags: img.references.iter().map(Reference::familiar).collect(),
                    repo_digests: self.repo_digests(&img.id),
                    created: img
                        .config
                        .created
                        .as_deref()
                        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                        .map_or(0, |t| t.timestamp()),
                    size: img.size as i64,
                    shared_size: shared as i64,
                    labels: img.config.config.as_ref().and_then(|c| c.labels.clone()),
                    containers: per_image.get(&img.id.to_string()).copied().unwrap_or(0),
                }
            })
            .collect();
        Ok(DiskUsage {
            layers_size: sizes.values().sum(),
            images: summaries,
            containers,
        })
    }
}

/// Bytes of the regular files under `dir` (hard links once), as docker's `directory.Size`.
pub(crate) fn dir_size(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() && (m.nlink() == 1 || seen.insert((m.dev(), m.ino()))) {
                total += m.len();
            }
        }
    }
    total
}
