//! Images by config digest: registered from a config blob whose layers are stored, made
//! by `docker import`, read back with their references and size.

use std::io::Read;
use std::path::PathBuf;

use super::index::ImageEntry;
use super::{ImageStore, StoreError, chain_ids};
use crate::config::{self, ContainerConfig, History, ImageConfig, RootFs};
use crate::digest::Digest;
use crate::reference::Reference;

/// An image as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The image ID (digest of the config blob).
    pub id: Digest,
    /// The parsed config.
    pub config: ImageConfig,
    /// References pointing at it, sorted.
    pub references: Vec<Reference>,
    /// Chain IDs, bottom first.
    pub layers: Vec<Digest>,
    /// Sum of its layers' sizes.
    pub size: u64,
    /// The image it was committed from, if it was committed here.
    pub parent: Option<Digest>,
}

impl ImageStore {
    /// Registers an image from its config blob; every layer it names must be stored.
    pub fn add_image(&self, config_json: &[u8]) -> Result<Digest, StoreError> {
        let id = Digest::of(config_json);
        let config =
            ImageConfig::from_slice(config_json).map_err(|source| StoreError::ParseConfig {
                id: id.to_string(),
                source,
            })?;
        let layers = chain_ids(&config.rootfs.diff_ids);
        self.content
            .write_bytes(config_json)
            .map_err(|source| StoreError::ConfigBlob {
                id: id.to_string(),
                source,
            })?;
        // Checked under the lock, so a concurrent delete cannot take a layer away between
        // the check and the registration.
        let mut idx = self.lock();
        if let Some(c) = layers.iter().find(|c| !self.layer_path(c).is_dir()) {
            return Err(StoreError::LayerNotFound(c.clone()));
        }
        if !idx.images.contains_key(&id) {
            idx.images.insert(
                id.clone(),
                ImageEntry {
                    layers,
                    added: config::now_rfc3339(),
                    parent: None,
                },
            );
            idx.save(&self.index_path)?;
        }
        Ok(id)
    }

    /// `docker import`: a root filesystem tar (plain, gzip or zstd) becomes a one-layer
    /// image whose config is built from `changes`; tagged `reference` when given.
    /// `source` is what the history comment names (`-` for stdin).
    pub fn import(
        &self,
        reader: impl Read,
        reference: Option<&Reference>,
        changes: &[String],
        source: &str,
    ) -> Result<Digest, StoreError> {
        if reference.is_some_and(|r| r.digest().is_some()) {
            return Err(StoreError::DigestTag);
        }
        let mut cc = ContainerConfig::default();
        config::apply_changes(&mut cc, changes)?;
        let layer = self.add_layer_keep_blob(None, reader)?;
        let created = config::now_rfc3339();
        let cfg = ImageConfig {
            created: Some(created.clone()),
            architecture: config::host_architecture().to_owned(),
            os: "linux".to_owned(),
            config: Some(cc),
            rootfs: RootFs {
                diff_ids: vec![layer.diff_id],
                ..RootFs::default()
            },
            history: vec![History {
                created: Some(created),
                comment: format!("Imported from {source}"),
                ..History::default()
            }],
            ..ImageConfig::default()
        };
        let json = cfg.to_vec().map_err(|source| StoreError::ParseConfig {
            id: "(new)".to_owned(),
            source,
        })?;
        let id = self.add_image(&json)?;
        if let Some(r) = reference {
            self.tag_id(&id, r)?;
        }
        Ok(id)
    }

    /// An image by reference, full ID or unique ID prefix.
    pub fn get(&self, name: &str) -> Result<Image, StoreError> {
        let id = self.resolve(name)?;
        self.image(&id)
    }

    /// Records `parent` as the image `id` was committed from (`docker commit`).
    pub fn set_parent(&self, id: &Digest, parent: &Digest) -> Result<(), StoreError> {
        let mut idx = self.lock();
        if let Some(e) = idx.images.get_mut(id)
            && e.parent.is_none()
        {
            e.parent = Some(parent.clone());
            idx.save(&self.index_path)?;
        }
        Ok(())
    }

    fn image(&self, id: &Digest) -> Result<Image, StoreError> {
        let (layers, references, parent) = {
            let idx = self.lock();
            let entry = idx
                .images
                .get(id)
                .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
            (
                entry.layers.clone(),
                idx.references_to(id),
                entry.parent.clone(),
            )
        };
        let blob = self
            .content
            .read(id)
            .map_err(|source| StoreError::ConfigBlob {
                id: id.to_string(),
                source,
            })?;
        let config = ImageConfig::from_slice(&blob).map_err(|source| StoreError::ParseConfig {
            id: id.to_string(),
            source,
        })?;
        let size = layers
            .iter()
            .map(|c| self.layer(c).map(|l| l.size).unwrap_or(0))
            .sum();
        Ok(Image {
            id: id.clone(),
            config,
            references,
            layers,
            size,
            parent,
        })
    }

    /// Every image, sorted by ID.
    pub fn list(&self) -> Result<Vec<Image>, StoreError> {
        let ids: Vec<Digest> = self.lock().images.keys().cloned().collect();
        ids.iter().map(|id| self.image(id)).collect()
    }

    /// The layers' diff directories of an image, top layer first (overlay's lowerdir order).
    pub fn lowerdirs(&self, id: &Digest) -> Result<Vec<PathBuf>, StoreError> {
        let idx = self.lock();
        let entry = idx
            .images
            .get(id)
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(entry
            .layers
            .iter()
            .rev()
            .map(|c| self.layer_diff_dir(c))
            .collect())
    }
}
