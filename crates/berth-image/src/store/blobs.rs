//! Layer blobs kept beside the unpacked layers, so push and save emit the exact bytes a
//! layer came as without re-tarring its directory.
//!
//! A blob (compressed or not) lives in the content store under its own digest; the mapping
//! from the layer's diff ID to it is one small JSON file per diff ID,
//! `DATA_ROOT/layerblobs/<diff-hex>.json`, written temp-then-rename after the blob is stored
//! and the layer unpacked, so a mapping always names a whole blob.

use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ImageStore, LayerInfo, StoreError};
use crate::content::sync_dir;
use crate::digest::Digest;
use crate::layer::Compression;
use crate::manifest;

/// Where the bytes of a layer live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerBlob {
    /// The layer's diff ID (sha256 of the uncompressed tar).
    pub diff_id: Digest,
    /// The blob's digest in the content store.
    pub digest: Digest,
    /// The blob's size.
    pub size: u64,
    /// The blob's OCI media type (tar, tar+gzip or tar+zstd).
    pub media_type: String,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
}

/// The OCI layer media type for a compression.
pub fn layer_media_type(c: Compression) -> &'static str {
    match c {
        Compression::None => manifest::OCI_LAYER_TAR,
        Compression::Gzip => manifest::OCI_LAYER_GZIP,
        Compression::Zstd => manifest::OCI_LAYER_ZSTD,
    }
}

impl ImageStore {
    fn layerblobs_dir(&self) -> PathBuf {
        self.layers_dir
            .parent()
            .map(|p| p.join("layerblobs"))
            .unwrap_or_else(|| PathBuf::from("layerblobs"))
    }

    /// The blob recorded for a diff ID, if any (and still in the content store).
    pub fn layer_blob(&self, diff_id: &Digest) -> Option<LayerBlob> {
        let p = self
            .layerblobs_dir()
            .join(format!("{}.json", diff_id.hex()));
        let lb: LayerBlob = serde_json::from_slice(&fs::read(p).ok()?).ok()?;
        self.content.exists(&lb.digest).then_some(lb)
    }

    /// Unpacks a layer from a blob already in the content store on top of `parent`, and
    /// records the blob as the layer's bytes. With `expected_diff_id`, a layer whose
    /// content hashes otherwise is refused (its unpacked directory is left only if some
    /// other image already had it).
    pub fn add_layer_from_blob(
        &self,
        parent: Option<&Digest>,
        blob: &Digest,
        expected_diff_id: Option<&Digest>,
    ) -> Result<LayerInfo, StoreError> {
        let berr = |source| StoreError::LayerBlob {
            digest: blob.clone(),
            source,
        };
        let file = self.content.open_blob(blob).map_err(berr)?;
        let size = self.content.size(blob).map_err(berr)?;
        if let Some(exp) = expected_diff_id {
            let chain = super::chain_id(parent, exp);
            if self.layer_path(&chain).is_dir() && self.layer_blob(exp).is_some() {
                return self.layer(&chain);
            }
        }
        let (info, applied) = self.add_layer_applied(parent, file)?;
        if let Some(exp) = expected_diff_id
            && *exp != info.diff_id
        {
            self.remove_unreferenced_layer(&info.chain_id);
            return Err(StoreError::DiffIdMismatch {
                expected: exp.clone(),
                actual: info.diff_id,
            });
        }
        let lb = LayerBlob {
            diff_id: info.diff_id.clone(),
            digest: blob.clone(),
            size,
            media_type: layer_media_type(applied.compression).to_owned(),
            tar_size: applied.tar_size,
        };
        self.record_layer_blob(&lb)?;
        Ok(info)
    }

    /// Stores `reader` (a layer tar, plain, gzip or zstd) as a blob, then unpacks it as
    /// [`add_layer_from_blob`](Self::add_layer_from_blob) does.
    pub fn add_layer_keep_blob(
        &self,
        parent: Option<&Digest>,
        mut reader: impl Read,
    ) -> Result<LayerInfo, StoreError> {
        let (digest, _) =
            self.content
                .write(&mut reader, None)
                .map_err(|source| StoreError::LayerBlob {
                    digest: Digest::of(b""),
                    source,
                })?;
        self.add_layer_from_blob(parent, &digest, None)
    }

    /// Removes a layer no image names (best effort: it is an orphan either way, which
    /// the next delete or sweep can take).
    pub(crate) fn remove_unreferenced_layer(&self, chain: &Digest) {
        let idx = self.lock();
        if idx.images.values().any(|e| e.layers.contains(chain)) {
            return;
        }
        let trash = self.layers_dir.join(format!(".trash-{}", chain.hex()));
        if fs::rename(self.layer_path(chain), &trash).is_ok() {
            drop(idx);
            let _ = fs::remove_dir_all(&trash);
        }
    }

    /// Records (temp-then-rename) which blob holds a diff ID.
    pub fn record_layer_blob(&self, lb: &LayerBlob) -> Result<(), StoreError> {
        let dir = self.layerblobs_dir();
        let err = |source: io::Error| StoreError::WriteIndex {
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(err)?;
        let data = serde_json::to_vec(lb).map_err(|e| err(e.into()))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(err)?;
        tmp.write_all(&data).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(dir.join(format!("{}.json", lb.diff_id.hex())))
            .map_err(|e| err(e.error))?;
        sync_dir(&dir).map_err(err)
    }
}
