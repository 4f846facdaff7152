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

use super::{ImageStore, LayerInfo, PreparedLayer, StoreError};
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

/// A layer unpacked from a content-store blob, not yet committed.
#[derive(Debug)]
pub struct PreparedBlobLayer {
    layer: PreparedLayer,
    blob: Digest,
    size: u64,
}

impl PreparedBlobLayer {
    /// The diff ID the unpack measured.
    pub fn diff_id(&self) -> &Digest {
        &self.layer.applied().diff_id
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
    /// content hashes otherwise is refused and nothing is kept.
    pub fn add_layer_from_blob(
        &self,
        parent: Option<&Digest>,
        blob: &Digest,
        expected_diff_id: Option<&Digest>,
    ) -> Result<LayerInfo, StoreError> {
        if let Some(exp) = expected_diff_id {
            let chain = super::chain_id(parent, exp);
            if self.layer_path(&chain).is_dir() && self.layer_blob(exp).is_some() {
                return self.layer(&chain);
            }
        }
        if let Some(p) = parent
            && !self.layer_path(p).is_dir()
        {
            return Err(StoreError::LayerNotFound(p.clone()));
        }
        let prepared = self.prepare_layer_from_blob(blob)?;
        self.commit_layer_from_blob(parent, prepared, expected_diff_id)
    }

    /// Unpacks a blob of the content store into a temp directory (see
    /// [`prepare_layer`](Self::prepare_layer)); commit it with
    /// [`commit_layer_from_blob`](Self::commit_layer_from_blob).
    pub fn prepare_layer_from_blob(&self, blob: &Digest) -> Result<PreparedBlobLayer, StoreError> {
        let berr = |source| StoreError::LayerBlob {
            digest: blob.clone(),
            source,
        };
        let file = self.content.open_blob(blob).map_err(berr)?;
        let size = self.content.size(blob).map_err(berr)?;
        Ok(PreparedBlobLayer {
            layer: self.prepare_layer(file)?,
            blob: blob.clone(),
            size,
        })
    }

    /// Commits a prepared blob layer on top of `parent` and records its blob; refused
    /// (and the temp directory dropped) when its diff ID is not `expected_diff_id`.
    pub fn commit_layer_from_blob(
        &self,
        parent: Option<&Digest>,
        prepared: PreparedBlobLayer,
        expected_diff_id: Option<&Digest>,
    ) -> Result<LayerInfo, StoreError> {
        let applied = prepared.layer.applied().clone();
        if let Some(exp) = expected_diff_id
            && *exp != applied.diff_id
        {
            return Err(StoreError::DiffIdMismatch {
                expected: exp.clone(),
                actual: applied.diff_id,
            });
        }
        let info = self.commit_layer(parent, prepared.layer)?;
        let lb = LayerBlob {
            diff_id: info.diff_id.clone(),
            digest: prepared.blob,
            size: prepared.size,
            media_type: layer_media_type(applied.compression).to_owned(),
            tar_size: applied.tar_size,
        };
        self.record_layer_blob(&lb)?;
        Ok(info)
    }

    /// Stores `reader` (a layer tar, plain, gzip or zstd) as a blob, then unpacks it as
    /// [`add_layer_from_blob`](Self::add_layer_from_blob) does. [`add_layer`](Self::add_layer)
    /// is this with the parent checked first.
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

    /// Drops the blob kept for `diff_id` once no stored layer has that diff ID any more
    /// (best effort: a blob left behind is a whole orphan, never a broken layer).
    pub(crate) fn forget_layer_blob(&self, diff_id: &Digest) {
        let _guard = self.lock();
        let in_use = fs::read_dir(&self.layers_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                fs::read(e.path().join("layer.json"))
                    .ok()
                    .and_then(|d| serde_json::from_slice::<LayerInfo>(&d).ok())
                    .is_some_and(|l| l.diff_id == *diff_id)
            });
        if in_use {
            return;
        }
        if let Some(lb) = self.layer_blob(diff_id) {
            let _ = fs::remove_file(
                self.layerblobs_dir()
                    .join(format!("{}.json", diff_id.hex())),
            );
            let _ = self.content.delete(&lb.digest);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ImageConfig, RootFs};

    fn tar_with(name: &str, data: &[u8]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
        b.into_inner().unwrap()
    }

    fn image(s: &ImageStore, diff_ids: Vec<Digest>, tag: &str) -> Digest {
        let cfg = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs {
                diff_ids,
                ..RootFs::default()
            },
            ..ImageConfig::default()
        };
        let id = s.add_image(&cfg.to_vec().unwrap()).unwrap();
        s.tag(&id.to_string(), &tag.parse().unwrap()).unwrap();
        id
    }

    #[test]
    fn layers_keep_their_blob_until_no_layer_needs_it() {
        let root = tempfile::tempdir().unwrap();
        let s = ImageStore::open(root.path()).unwrap();
        let t = tar_with("a", b"shared");
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&tar_with("b", b"top")).unwrap();
            e.finish().unwrap()
        };
        let base = s.add_layer(None, &t[..]).unwrap();
        let top = s.add_layer(Some(&base.chain_id), &gz[..]).unwrap();
        let lb = s.layer_blob(&base.diff_id).unwrap();
        assert_eq!(lb.digest, Digest::of(&t));
        assert_eq!(lb.media_type, manifest::OCI_LAYER_TAR);
        assert_eq!(lb.tar_size, t.len() as u64);
        let top_blob = s.layer_blob(&top.diff_id).unwrap();
        assert_eq!(top_blob.digest, Digest::of(&gz));
        assert_eq!(top_blob.media_type, manifest::OCI_LAYER_GZIP);
        let a = image(&s, vec![base.diff_id.clone(), top.diff_id.clone()], "a:1");
        image(&s, vec![base.diff_id.clone()], "b:1");
        s.delete(&a.to_string(), false).unwrap();
        // The top layer's blob went with it; the shared base is still needed by b.
        assert!(s.layer_blob(&top.diff_id).is_none());
        assert!(!s.content().exists(&top_blob.digest));
        assert!(s.layer_blob(&base.diff_id).is_some());
        s.delete("b:1", false).unwrap();
        assert!(s.layer_blob(&base.diff_id).is_none());
        assert!(!s.content().exists(&lb.digest));
    }

    #[test]
    fn a_layer_whose_diff_id_does_not_match_is_refused_and_not_kept() {
        let root = tempfile::tempdir().unwrap();
        let s = ImageStore::open(root.path()).unwrap();
        let blob = s.content().write_bytes(&tar_with("a", b"x")).unwrap();
        let wrong = Digest::of(b"wrong");
        let err = s
            .add_layer_from_blob(None, &blob, Some(&wrong))
            .unwrap_err();
        assert!(matches!(err, StoreError::DiffIdMismatch { .. }), "{err:?}");
        let left: Vec<_> = fs::read_dir(root.path().join("layers")).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
