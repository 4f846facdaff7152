//! Why a store operation failed, and its category.

use std::io;
use std::path::PathBuf;

use crate::ErrorKind;
use crate::config::ChangeError;
use crate::content::ContentError;
use crate::digest::Digest;
use crate::layer::LayerError;
use crate::reference::ReferenceError;

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
