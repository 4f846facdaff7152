//! Image archives: `docker save`/`docker load`.
//!
//! [`save`] writes what docker 25+ writes: the legacy `manifest.json` and `repositories`
//! beside an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`), with every
//! layer as an uncompressed tar named by its diff ID, so `docker load`, `skopeo`'s
//! `docker-archive:` and `oci-archive:` all read the same file. Layers are streamed from
//! the blobs the store kept at pull/import time (decompressed on the fly, re-hashed and
//! checked against the diff ID), never re-tarred from the unpacked directory.
//!
//! [`load`] reads docker archives (both the `<id>/layer.tar` and the `blobs/` layouts,
//! symlinked layers included) and OCI layouts, plain, gzip or zstd. It unpacks the archive
//! into a temp directory first, so a truncated or corrupt archive fails before anything is
//! stored; blobs are verified against their digests and layers against the config's diff
//! IDs, and the image is registered only when all its layers are in.

mod load;
mod save;

use std::io;
use std::path::PathBuf;

pub use load::{LoadedImage, load};
pub use save::save;

use crate::ErrorKind;
use crate::content::ContentError;
use crate::digest::Digest;
use crate::layer::LayerError;
use crate::store::StoreError;

/// Archive errors.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading the archive failed (truncated, not a tar, bad compression).
    #[error("read image archive")]
    Read(#[source] io::Error),
    /// The archive's compression is not supported.
    #[error("read image archive")]
    Compression(#[source] LayerError),
    /// An entry's path leaves the archive root.
    #[error("invalid path {0:?} in image archive")]
    BadPath(String),
    /// A file the archive's index names is not in it.
    #[error("invalid image archive: {0} not found in the archive")]
    MissingFile(String),
    /// Neither `manifest.json` nor `index.json`.
    #[error(
        "invalid image archive: no manifest.json or index.json (is this a docker save or OCI layout archive?)"
    )]
    UnknownFormat,
    /// A JSON file of the archive does not parse.
    #[error("invalid image archive: parse {path}")]
    Parse {
        /// The file in the archive.
        path: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The archive's structure is inconsistent.
    #[error("invalid image archive: {0}")]
    Invalid(String),
    /// Writing the temp copy or the output failed.
    #[error("{op} {path}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the output archive failed.
    #[error("write image archive")]
    Write(#[source] io::Error),
    /// The content store failed (a blob did not match its digest, the disk failed).
    #[error(transparent)]
    Content(#[from] ContentError),
    /// The image store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An image to save has a layer whose blob was not kept.
    #[error("layer {0} has no stored blob to save")]
    MissingLayerBlob(Digest),
    /// A stored layer blob does not decompress to its diff ID.
    #[error("stored layer blob for {expected} is corrupt (hashes to {actual})")]
    CorruptLayerBlob {
        /// The diff ID.
        expected: Digest,
        /// What it hashed to.
        actual: Digest,
    },
}

impl ArchiveError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        use ArchiveError as E;
        match self {
            E::Read(_)
            | E::Compression(_)
            | E::BadPath(_)
            | E::MissingFile(_)
            | E::UnknownFormat
            | E::Parse { .. }
            | E::Invalid(_) => ErrorKind::InvalidArgument,
            E::Content(e) => e.kind(),
            E::Store(e) => e.kind(),
            E::MissingLayerBlob(_) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }
}
