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

mod blobs;
mod index;

pub use blobs::{LayerBlob, PreparedBlobLayer};

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::ErrorKind;
use crate::config::{self, ChangeError, ContainerConfig, History, ImageConfig, RootFs};
use crate::content::{ContentError, ContentStore, sync_dir};
use crate::digest::Digest;
use crate::layer::{self, LayerError};
use crate::reference::{IdSpec, Reference, ReferenceError};
use index::{ImageEntry, Index};

/// Image store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Creating a store directory failed.
    #[error("create directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Reading the index failed.
    #[error("read image index {path}")]
    ReadIndex {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The index is not valid JSON.
    #[error("parse image index {path}")]
    ParseIndex {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the index failed.
    #[error("write image index {path}")]
    WriteIndex {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Unpacking a layer failed.
    #[error("apply layer")]
    ApplyLayer(#[source] LayerError),
    /// Making the temp dir for a layer, syncing or renaming it failed.
    #[error("commit layer {path}")]
    CommitLayer {
        /// The layer directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Removing a layer failed.
    #[error("remove layer {chain_id}")]
    RemoveLayer {
        /// The layer.
        chain_id: Digest,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Storing or reading a layer's blob failed.
    #[error("layer blob {digest}")]
    LayerBlob {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: ContentError,
    },
    /// A layer's content is not what the image config says.
    #[error("layer diff ID mismatch: expected {expected}, got {actual}")]
    DiffIdMismatch {
        /// The diff ID the config names.
        expected: Digest,
        /// What the layer hashes to.
        actual: Digest,
    },
    /// A layer an image needs is not in the store.
    #[error("layer {0} not found")]
    LayerNotFound(Digest),
    /// Storing, reading or deleting a config blob failed.
    #[error("config blob of image {id}")]
    ConfigBlob {
        /// The image (or the digest it would have).
        id: String,
        /// The cause.
        #[source]
        source: ContentError,
    },
    /// A config blob is not a valid image config.
    #[error("parse config of image {id}")]
    ParseConfig {
        /// The image.
        id: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A `--change` was refused.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// A reference does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// No image by that name or ID (docker: "No such image: x").
    #[error("no such image: {0}")]
    NotFound(String),
    /// No such tag to remove.
    #[error("no such reference: {0}")]
    ReferenceNotFound(String),
    /// An ID prefix names more than one image.
    #[error("multiple images match the ID prefix {0}")]
    Ambiguous(String),
    /// Tags may not carry digests.
    #[error("refusing to create a tag with a digest reference")]
    DigestTag,
    /// Deleting by ID an image tagged in several repositories needs force.
    #[error(
        "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
    )]
    MultipleRepositories {
        /// The image's short ID.
        short: String,
    },
}

impl StoreError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        use StoreError as E;
        match self {
            E::NotFound(_) | E::ReferenceNotFound(_) | E::LayerNotFound(_) => ErrorKind::NotFound,
            E::Ambiguous(_) | E::Change(_) | E::Reference(_) | E::DigestTag => {
                ErrorKind::InvalidArgument
            }
            E::ApplyLayer(e) => e.kind(),
            E::ConfigBlob { source, .. } | E::LayerBlob { source, .. } => source.kind(),
            E::DiffIdMismatch { .. } => ErrorKind::InvalidArgument,
            E::ParseConfig { .. } => ErrorKind::InvalidArgument,
            E::MultipleRepositories { .. } => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }
}

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

/// One step of a delete, in docker's response order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteItem {
    /// A reference was removed (familiar form, as docker reports it).
    Untagged(String),
    /// The image was deleted.
    Deleted(Digest),
    /// A layer no other image uses was deleted (its chain ID).
    DeletedLayer(Digest),
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
    /// blob in the content store (see [`LayerBlob`]) so push and save can emit them.
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

    /// Resolves a reference, full ID or unique ID prefix (`sha256:` optional) to an image ID,
    /// in docker's order: full ID, then reference, then ID prefix.
    pub fn resolve(&self, name: &str) -> Result<Digest, StoreError> {
        let idx = self.lock();
        Self::resolve_in(&idx, name).map(|(id, _)| id)
    }

    /// The ID and, when found by reference, the reference.
    fn resolve_in(idx: &Index, name: &str) -> Result<(Digest, Option<Reference>), StoreError> {
        let spec = IdSpec::parse(name);
        if let Some(IdSpec::Full(d)) = &spec {
            return idx
                .images
                .contains_key(d)
                .then(|| (d.clone(), None))
                .ok_or_else(|| StoreError::NotFound(name.to_owned()));
        }
        let parsed = Reference::parse(name);
        if let Ok(r) = &parsed
            && let Some(id) = idx.tags.get(&r.to_string())
        {
            return Ok((id.clone(), Some(r.clone())));
        }
        if let Ok(r) = &parsed
            && let Some(d) = r.digest()
            && let Some(id) = idx.digests.get(&format!("{}@{d}", r.name()))
        {
            return Ok((id.clone(), None));
        }
        if let Some(spec) = spec {
            let mut hits = idx.images.keys().filter(|id| spec.matches(id));
            return match (hits.next(), hits.next()) {
                (Some(id), None) => Ok((id.clone(), None)),
                (Some(_), Some(_)) => Err(StoreError::Ambiguous(name.to_owned())),
                (None, _) => Err(StoreError::NotFound(name.to_owned())),
            };
        }
        match parsed {
            Ok(r) => Err(StoreError::NotFound(r.familiar())),
            Err(e) => Err(e.into()),
        }
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

    /// Points `target` at the image `source` names (`docker tag`).
    pub fn tag(&self, source: &str, target: &Reference) -> Result<(), StoreError> {
        let id = self.resolve(source)?;
        self.tag_id(&id, target)
    }

    fn tag_id(&self, id: &Digest, target: &Reference) -> Result<(), StoreError> {
        if target.digest().is_some() {
            return Err(StoreError::DigestTag);
        }
        let target = target.clone().with_default_tag();
        let mut idx = self.lock();
        if !idx.images.contains_key(id) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        idx.tags.insert(target.to_string(), id.clone());
        idx.save(&self.index_path)
    }

    /// Records that `name` (a repository) serves the image under the manifest `digest`
    /// (docker's `RepoDigests`; set by pull and push).
    pub fn add_repo_digest(
        &self,
        id: &Digest,
        name: &str,
        digest: &Digest,
    ) -> Result<(), StoreError> {
        let mut idx = self.lock();
        if !idx.images.contains_key(id) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        idx.digests.insert(format!("{name}@{digest}"), id.clone());
        idx.save(&self.index_path)
    }

    /// The image's `RepoDigests` (`name@sha256:...`), sorted.
    pub fn repo_digests(&self, id: &Digest) -> Vec<String> {
        let idx = self.lock();
        idx.digests
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Removes a reference; the image stays (possibly untagged).
    pub fn untag(&self, reference: &Reference) -> Result<Digest, StoreError> {
        let mut idx = self.lock();
        let id = idx
            .tags
            .remove(&reference.to_string())
            .ok_or_else(|| StoreError::ReferenceNotFound(reference.familiar()))?;
        idx.save(&self.index_path)?;
        Ok(id)
    }

    /// `docker rmi`: by reference (forced or not), untags it and deletes the image when no
    /// reference is left; by ID, refuses an image referenced in several repositories unless `force`, else
    /// untags it everywhere and deletes it. Layers no other image uses are removed.
    pub fn delete(&self, name: &str, force: bool) -> Result<Vec<DeleteItem>, StoreError> {
        let mut out = Vec::new();
        let (id, doomed) = {
            let mut idx = self.lock();
            let (id, by_ref) = Self::resolve_in(&idx, name)?;
            let refs = idx.references_to(&id);
            let to_untag: Vec<Reference> = match by_ref {
                // By reference, forced or not, only that reference goes while others
                // remain (docker's `rmi -f TAG`): a lost tag is lost data.
                Some(r) if refs.len() > 1 => vec![r],
                Some(_) => refs,
                None => {
                    let repos: BTreeSet<String> = refs.iter().map(Reference::name).collect();
                    if repos.len() > 1 && !force {
                        return Err(StoreError::MultipleRepositories {
                            short: id.short().to_owned(),
                        });
                    }
                    refs
                }
            };
            for r in &to_untag {
                idx.tags.remove(&r.to_string());
                out.push(DeleteItem::Untagged(r.familiar()));
            }
            let remaining = idx.references_to(&id);
            if !remaining.is_empty() {
                idx.save(&self.index_path)?;
                return Ok(out);
            }
            let entry = idx.images.remove(&id);
            idx.digests.retain(|_, v| *v != id);
            idx.save(&self.index_path)?;
            let in_use: BTreeSet<&Digest> =
                idx.images.values().flat_map(|e| e.layers.iter()).collect();
            let doomed: Vec<Digest> = entry
                .map(|e| e.layers)
                .unwrap_or_default()
                .into_iter()
                .filter(|c| !in_use.contains(c))
                .collect();
            // Move doomed layers aside under the lock, so no concurrent add_layer sees them.
            let mut trashed = Vec::new();
            for c in doomed.iter().rev() {
                let trash = self.layers_dir.join(format!(".trash-{}", c.hex()));
                match fs::rename(self.layer_path(c), &trash) {
                    Ok(()) => trashed.push((c.clone(), trash)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(StoreError::RemoveLayer {
                            chain_id: c.clone(),
                            source,
                        });
                    }
                }
            }
            (id, trashed)
        };
        out.push(DeleteItem::Deleted(id.clone()));
        self.content
            .delete(&id)
            .map_err(|source| StoreError::ConfigBlob {
                id: id.to_string(),
                source,
            })?;
        for (c, trash) in doomed {
            let diff_id = fs::read(trash.join("layer.json"))
                .ok()
                .and_then(|d| serde_json::from_slice::<LayerInfo>(&d).ok())
                .map(|l| l.diff_id);
            fs::remove_dir_all(&trash).map_err(|source| StoreError::RemoveLayer {
                chain_id: c.clone(),
                source,
            })?;
            out.push(DeleteItem::DeletedLayer(c));
            if let Some(d) = diff_id {
                self.forget_layer_blob(&d);
            }
        }
        Ok(out)
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

#[cfg(test)]
mod tests;
