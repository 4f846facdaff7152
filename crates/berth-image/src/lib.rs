//! berth's images: references, the content store, image configs, layers, the image store
//! and container snapshots.
//!
//! Design, bottom up:
//! - [`digest`] and [`reference`] validate names once at the edge: a [`Digest`] is always
//!   `sha256:<64 hex>`, a [`Reference`] is always normalised as docker normalises it.
//! - [`content`] holds immutable blobs (configs, later manifests and compressed layers) by
//!   digest; a blob is written to a temp file, verified and renamed, so it is whole or absent.
//! - [`layer`] applies a layer tar into a directory in one streaming pass (decompress, hash
//!   for the diff ID, extract), confined to that directory with `openat2(RESOLVE_IN_ROOT)`;
//!   whiteouts are stored in overlayfs form so an unpacked layer is directly a lowerdir.
//! - [`config`] is docker's image config JSON (round-tripped, unknown fields kept) and the
//!   `--change` instructions of `docker import`.
//! - [`store`] ties them together: layers by chain ID, unpacked once and shared; images by
//!   config digest; tags in one small JSON index written temp-then-rename.
//! - [`manifest`] reads OCI and Docker schema2 manifests and indexes and picks a platform.
//! - [`registry`] pulls and pushes over the OCI distribution API: blobs are downloaded
//!   into resumable partial files, verified, stored under their digest, unpacked in
//!   parallel and committed by chain ID in order; the layer blobs are kept (mapped from
//!   diff IDs) so push and [`archive`] emit the exact bytes without re-tarring.
//! - [`archive`] is `docker save`/`docker load`: docker's `manifest.json` plus an OCI
//!   layout in one tar.
//! - [`snapshot`] turns an image's layers into a container rootfs: an overlay mount, or a
//!   copying fallback, behind one small trait with one conformance suite.
//!
//! Unpack throughput can be measured with `cargo run --release -p berth-image --example
//! unpack_bench` (about 580–870 MB/s plain and 460–540 MB/s gzip on the 2-core dev machine).
//!
//! The crate knows nothing of containers' lifecycle or HTTP; each module has its own error
//! enum with a [`ErrorKind`] the engine maps to HTTP statuses.

pub mod archive;
pub mod config;
pub mod content;
pub mod digest;
pub mod layer;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod snapshot;
pub mod store;

pub use digest::Digest;
pub use reference::Reference;

/// The category of a failure, for the engine to map to an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The named object does not exist (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The input is malformed (400).
    InvalidArgument,
    /// A system call or the disk failed (500).
    Internal,
}
