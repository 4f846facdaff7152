//! The image store: layers by chain ID, images by config digest, tags in one JSON index.
//!
//! ```text
//! DATA_ROOT/content/sha256/<hex>        config blobs (and later manifests, layer blobs)
//! DATA_ROOT/layers/<chain-hex>/diff/    an unpacked layer, overlay whiteouts, a lowerdir
//! DATA_ROOT/layers/<chain-hex>/layer.json   {chain_id, diff_id, parent, size}
//! DATA_ROOT/images.json                 {images: {id: {layers, ...}}, tags: {ref: id}}
//! ```
//! A layer is unpacked into `layers/.tmp-*`, synced once (`syncfs`) and renamed to its
//! chain ID, so a layer directory under its name is always complete; a layer already present
//! is not unpacked again (images share it). The index is rewritten temp-then-rename under a
//! mutex; layers and blobs are written before the index names them and removed after it
//! stops naming them, so a crash leaves at worst an orphan, which [`ImageStore::open`] sweeps.
//!
//! Here: the store itself, opening it and its lock; `error` holds [`StoreError`], `layers`
//! the unpacked layers and chain IDs, `blobs` the layers' original bytes, `images` images by
//! config, `references` names (tags, repo digests) and their resolution, `delete` `rmi`,
//! `index` the JSON index.

mod blobs;
mod delete;
mod error;
mod images;
mod index;
mod layers;
mod references;

pub use blobs::{LayerBlob, PreparedBlobLayer};
pub use delete::DeleteItem;
pub use error::StoreError;
pub use images::Image;
pub use layers::{LayerInfo, PreparedLayer, chain_id, chain_ids};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::content::{ContentError, ContentStore};
use index::Index;

/// The image store. Methods take `&self`; the index is guarded by a mutex.
#[derive(Debug)]
pub struct ImageStore {
    content: ContentStore,
    layers_dir: PathBuf,
    index_path: PathBuf,
    index: Mutex<Index>,
}

impl ImageStore {
    /// Opens (creating if needed) the store under `data_root`, sweeping temp files and
    /// layer directories left by an interrupted write.
    pub fn open(data_root: &Path) -> Result<Self, StoreError> {
        let content = ContentStore::open(data_root).map_err(|e| match e {
            ContentError::CreateDir { path, source } => StoreError::CreateDir { path, source },
            other => StoreError::CreateDir {
                path: data_root.to_owned(),
                source: io::Error::other(other.to_string()),
            },
        })?;
        let layers_dir = data_root.join("layers");
        fs::create_dir_all(&layers_dir).map_err(|source| StoreError::CreateDir {
            path: layers_dir.clone(),
            source,
        })?;
        if let Ok(rd) = fs::read_dir(&layers_dir) {
            for e in rd.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if n.starts_with(".tmp-") || n.starts_with(".trash-") {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        if let Ok(rd) = fs::read_dir(data_root) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-images-") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let index_path = data_root.join("images.json");
        let index = Index::load(&index_path)?;
        Ok(Self {
            content,
            layers_dir,
            index_path,
            index: Mutex::new(index),
        })
    }

    /// The content store holding config blobs.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        // A panic while holding the lock cannot leave the index half-updated on disk (it is
        // written whole), so a poisoned lock is still usable.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
