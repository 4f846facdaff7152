//! Container root filesystems made from an image's layers.
//!
//! Lifecycle of a snapshot (one per container, in a directory the engine owns, e.g.
//! `DATA_ROOT/containers/<id>/`):
//!
//! 1. [`Snapshotter::prepare`] creates the writable state under `dir` on top of the image's
//!    layers and makes the root filesystem available at `dir/rootfs`.
//! 2. [`Snapshotter::mount`] makes an already-prepared snapshot available again (after a
//!    reboot or [`Snapshotter::unmount`]); the writes made before are still there.
//! 3. [`Snapshotter::unmount`] takes the root filesystem away but keeps the writes.
//! 4. [`Snapshotter::remove`] unmounts and deletes everything under `dir`.
//!
//! Lower layers are never written: with overlayfs they are lowerdirs, and the copy fallback
//! copies them. Both read layers in the store's overlay form (whiteouts as 0:0 character
//! devices, opaque directories marked with `trusted.overlay.opaque=y`). One conformance
//! suite (`snapshot/tests.rs`) runs against both.

mod copy;
mod overlay;

use std::io;
use std::path::{Path, PathBuf};

pub use copy::CopySnapshotter;
pub use overlay::OverlaySnapshotter;

use crate::ErrorKind;

/// Snapshot errors.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Creating the snapshot's directories failed.
    #[error("create snapshot directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The overlay mount failed.
    #[error("mount overlay on {target}")]
    Mount {
        /// The mount point.
        target: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Unmounting failed.
    #[error("unmount {target}")]
    Unmount {
        /// The mount point.
        target: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Copying a layer failed.
    #[error("copy layer {layer} into {target}")]
    Copy {
        /// The layer's directory.
        layer: PathBuf,
        /// The destination.
        target: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Removing the snapshot directory failed.
    #[error("remove snapshot {path}")]
    Remove {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `mount` on a snapshot that was never prepared.
    #[error("snapshot {0} not found")]
    NotFound(PathBuf),
}

impl SnapshotError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SnapshotError::NotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        }
    }
}

/// Makes container root filesystems from layer directories. `lowers` are the layers' diff
/// directories, top layer first (as [`crate::store::ImageStore::lowerdirs`] returns them).
pub trait Snapshotter {
    /// Creates the snapshot under `dir` and returns the root filesystem path (`dir/rootfs`).
    fn prepare(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError>;
    /// Makes a prepared snapshot available again; idempotent.
    fn mount(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError>;
    /// Takes the root filesystem away, keeping the writes; not an error when not mounted.
    fn unmount(&self, dir: &Path) -> Result<(), SnapshotError>;
    /// Unmounts and deletes the snapshot; not an error when it does not exist.
    fn remove(&self, dir: &Path) -> Result<(), SnapshotError>;
}

/// The snapshotters berth has; a closed set, chosen by [`AnySnapshotter::detect`].
#[derive(Debug, Clone)]
pub enum AnySnapshotter {
    /// overlayfs.
    Overlay(OverlaySnapshotter),
    /// Plain copies.
    Copy(CopySnapshotter),
}

impl AnySnapshotter {
    /// overlayfs when the kernel has it, else the copy fallback.
    pub fn detect() -> Self {
        if overlay::supported() {
            AnySnapshotter::Overlay(OverlaySnapshotter)
        } else {
            AnySnapshotter::Copy(CopySnapshotter)
        }
    }

    /// The driver's name, as `docker info` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            AnySnapshotter::Overlay(_) => "overlay2",
            AnySnapshotter::Copy(_) => "vfs",
        }
    }
}

impl Snapshotter for AnySnapshotter {
    fn prepare(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        match self {
            AnySnapshotter::Overlay(s) => s.prepare(dir, lowers),
            AnySnapshotter::Copy(s) => s.prepare(dir, lowers),
        }
    }

    fn mount(&self, dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf, SnapshotError> {
        match self {
            AnySnapshotter::Overlay(s) => s.mount(dir, lowers),
            AnySnapshotter::Copy(s) => s.mount(dir, lowers),
        }
    }

    fn unmount(&self, dir: &Path) -> Result<(), SnapshotError> {
        match self {
            AnySnapshotter::Overlay(s) => s.unmount(dir),
            AnySnapshotter::Copy(s) => s.unmount(dir),
        }
    }

    fn remove(&self, dir: &Path) -> Result<(), SnapshotError> {
        match self {
            AnySnapshotter::Overlay(s) => s.remove(dir),
            AnySnapshotter::Copy(s) => s.remove(dir),
        }
    }
}

fn create_dir(path: &Path) -> Result<(), SnapshotError> {
    std::fs::create_dir_all(path).map_err(|source| SnapshotError::CreateDir {
        path: path.to_owned(),
        source,
    })
}

fn remove_dir(path: &Path) -> Result<(), SnapshotError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SnapshotError::Remove {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests;
