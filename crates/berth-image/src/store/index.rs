//! The store's own small index (`images.json`), rewritten whole, temp-then-rename.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::content::sync_dir;
use crate::digest::Digest;
use crate::reference::Reference;

/// One image in the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ImageEntry {
    /// Chain IDs, bottom first.
    pub layers: Vec<Digest>,
    /// When it was added.
    pub added: String,
    /// The image it was committed from (docker's `Parent`; only for local commits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Digest>,
}

/// The whole index.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
    /// Images by ID.
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageEntry>,
    /// Normalised reference string → image ID.
    #[serde(default)]
    pub tags: BTreeMap<String, Digest>,
    /// `name@sha256:<manifest digest>` → image ID (docker's RepoDigests).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, Digest>,
}

impl Index {
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        match fs::read(path) {
            Ok(data) => serde_json::from_slice(&data).map_err(|source| StoreError::ParseIndex {
                path: path.to_owned(),
                source,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(StoreError::ReadIndex {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        let err = |source| StoreError::WriteIndex {
            path: path.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let data = serde_json::to_vec_pretty(self).map_err(|e| err(e.into()))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-images-")
            .tempfile_in(dir)
            .map_err(err)?;
        tmp.write_all(&data).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(path).map_err(|e| err(e.error))?;
        sync_dir(dir).map_err(err)
    }

    /// References pointing at `id`, sorted; unparsable keys (never written by us) skipped.
    pub fn references_to(&self, id: &Digest) -> Vec<Reference> {
        let mut v: Vec<Reference> = self
            .tags
            .iter()
            .filter(|(_, v)| *v == id)
            .filter_map(|(k, _)| Reference::parse(k).ok())
            .collect();
        v.sort();
        v
    }
}
