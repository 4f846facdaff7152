//! Layers: unpacked into a temp directory, synced and renamed to their chain ID, so a layer
//! directory under its name is always complete; an already stored layer is not unpacked
//! again.

use std::fs;
use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ImageStore, StoreError};
use crate::content::sync_dir;
use crate::digest::Digest;
use crate::layer;

/// A stored layer (`layers/<chain-hex>/layer.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The layer's ID in the stack: its diff ID for a bottom layer, else
    /// `sha256(parent_chain_id + " " + diff_id)`.
    pub chain_id: Digest,
    /// sha256 of the uncompressed layer tar.
    pub diff_id: Digest,
    /// The chain ID of the layer below.
    pub parent: Option<Digest>,
    /// Sum of the regular files' sizes.
    pub size: u64,
}

/// A layer unpacked into a temp directory of the store, not yet committed.
#[derive(Debug)]
pub struct PreparedLayer {
    tmp: tempfile::TempDir,
    applied: layer::Applied,
}

impl PreparedLayer {
    /// What the unpack measured (diff ID, sizes, compression).
    pub fn applied(&self) -> &layer::Applied {
        &self.applied
    }
}

/// The chain ID of `diff_id` on top of `parent`.
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => Digest::of(format!("{p} {diff_id}").as_bytes()),
    }
}

/// Chain IDs for a stack of diff IDs, bottom first.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let c = chain_id(out.last(), d);
        out.push(c);
    }
    out
}

impl ImageStore {
    /// The directory of a layer (whether or not it exists).
    pub fn layer_path(&self, chain_id: &Digest) -> PathBuf {
        self.layers_dir.join(chain_id.hex())
    }

    /// The unpacked contents of a layer: the overlay lowerdir.
    pub fn layer_diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layer_path(chain_id).join("diff")
    }

    /// A stored layer's metadata.
    pub fn layer(&self, chain_id: &Digest) -> Result<LayerInfo, StoreError> {
        let p = self.layer_path(chain_id).join("layer.json");
        let data = fs::read(&p).map_err(|_| StoreError::LayerNotFound(chain_id.clone()))?;
        serde_json::from_slice(&data).map_err(|source| StoreError::ParseIndex { path: p, source })
    }

    /// Unpacks a layer tar (plain, gzip or zstd) on top of `parent` (a chain ID), unless a
    /// layer with the resulting chain ID is already stored. The tar's bytes are kept as a
    /// blob in the content store (see [`LayerBlob`](super::LayerBlob)) so push and save can emit them.
    pub fn add_layer(
        &self,
        parent: Option<&Digest>,
        reader: impl Read,
    ) -> Result<LayerInfo, StoreError> {
        if let Some(p) = parent
            && !self.layer_path(p).is_dir()
        {
            return Err(StoreError::LayerNotFound(p.clone()));
        }
        self.add_layer_keep_blob(parent, reader)
    }

    /// Unpacks a layer tar (plain, gzip or zstd) into a temp directory of the store,
    /// without naming it yet: a layer's content does not depend on its parent, so layers
    /// can be prepared in parallel and committed in order with
    /// [`commit_layer`](Self::commit_layer). Dropping it removes the directory.
    pub fn prepare_layer(&self, reader: impl Read) -> Result<PreparedLayer, StoreError> {
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&self.layers_dir)
            .map_err(|source| StoreError::CommitLayer {
                path: self.layers_dir.clone(),
                source,
            })?;
        let diff = tmp.path().join("diff");
        let cerr = |source| StoreError::CommitLayer {
            path: tmp.path().to_owned(),
            source,
        };
        fs::create_dir(&diff).map_err(cerr)?;
        fs::set_permissions(&diff, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(cerr)?;
        let applied = layer::apply(reader, &diff).map_err(StoreError::ApplyLayer)?;
        Ok(PreparedLayer { tmp, applied })
    }

    /// Names a prepared layer by its chain ID on top of `parent` (which must be stored),
    /// unless that layer is already stored.
    pub fn commit_layer(
        &self,
        parent: Option<&Digest>,
        prepared: PreparedLayer,
    ) -> Result<LayerInfo, StoreError> {
        if let Some(p) = parent
            && !self.layer_path(p).is_dir()
        {
            return Err(StoreError::LayerNotFound(p.clone()));
        }
        let PreparedLayer { tmp, applied } = prepared;
        let cerr = |source| StoreError::CommitLayer {
            path: tmp.path().to_owned(),
            source,
        };
        let info = LayerInfo {
            chain_id: chain_id(parent, &applied.diff_id),
            diff_id: applied.diff_id.clone(),
            parent: parent.cloned(),
            size: applied.size,
        };
        let target = self.layer_path(&info.chain_id);
        if target.is_dir() {
            return Ok(info);
        }
        let meta = serde_json::to_vec_pretty(&info).map_err(|e| cerr(e.into()))?;
        fs::write(tmp.path().join("layer.json"), meta).map_err(cerr)?;
        // One flush of the filesystem instead of an fsync per file.
        let dirfd = fs::File::open(tmp.path()).map_err(cerr)?;
        rustix::fs::syncfs(&dirfd).map_err(|e| cerr(e.into()))?;
        let _guard = self.lock();
        match fs::rename(tmp.path(), &target) {
            Ok(()) => {
                // The temp dir is gone; TempDir's drop ignores the missing path.
                sync_dir(&self.layers_dir).map_err(cerr)?;
                Ok(info)
            }
            // Another writer committed the same layer first.
            Err(_) if target.is_dir() => Ok(info),
            Err(e) => Err(cerr(e)),
        }
    }
}
