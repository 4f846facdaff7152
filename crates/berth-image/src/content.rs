//! The content store: immutable blobs named by their sha256 under
//! `DATA_ROOT/content/sha256/<hex>`.
//!
//! A write streams into a temp file in the same directory while hashing, checks the
//! expected digest (if one is given), fsyncs, and renames into place; a blob whose bytes do
//! not match is refused and nothing is stored. A reader therefore never sees a partial blob.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::ErrorKind;
use crate::digest::{Digest, HashingWriter};

/// Content store errors.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Creating the store's directory failed.
    #[error("create content directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Creating the temp file failed.
    #[error("create temp blob in {path}")]
    CreateTemp {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Copying the input into the temp file failed.
    #[error("write blob (expected {expected:?})")]
    Write {
        /// The expected digest, if known.
        expected: Option<Digest>,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The bytes do not hash to the expected digest.
    #[error("blob digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What the caller said the digest is.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// fsync or rename into place failed.
    #[error("commit blob {digest}")]
    Commit {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// No such blob.
    #[error("blob {0} not found")]
    NotFound(Digest),
    /// Opening, reading or statting a blob failed.
    #[error("read blob {digest}")]
    Read {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Deleting a blob failed.
    #[error("delete blob {digest}")]
    Delete {
        /// The blob.
        digest: Digest,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl ContentError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ContentError::NotFound(_) => ErrorKind::NotFound,
            ContentError::DigestMismatch { .. } => ErrorKind::InvalidArgument,
            _ => ErrorKind::Internal,
        }
    }
}

/// Buffer size for copying blobs.
const COPY_BUF: usize = 1 << 20;

/// A content-addressed blob store.
#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    /// Opens (creating if needed) the store under `data_root/content/sha256`, removing
    /// temp files left by an interrupted write.
    pub fn open(data_root: &Path) -> Result<Self, ContentError> {
        let dir = data_root.join("content").join("sha256");
        fs::create_dir_all(&dir).map_err(|source| ContentError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(Self { dir })
    }

    /// The path a blob lives at (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    /// Stores everything `reader` yields. With `expected`, refuses (and stores nothing)
    /// unless the bytes hash to it. Returns the digest and size.
    pub fn write(
        &self,
        reader: &mut dyn Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), ContentError> {
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)
            .map_err(|source| ContentError::CreateTemp {
                path: self.dir.clone(),
                source,
            })?;
        let mut w = HashingWriter::new(io::BufWriter::with_capacity(COPY_BUF, tmp));
        let werr = |source| ContentError::Write {
            expected: expected.cloned(),
            source,
        };
        copy_large(reader, &mut w).map_err(werr)?;
        let (digest, size, buf) = w.finish();
        let tmp = buf.into_inner().map_err(|e| werr(e.into_error()))?;
        if let Some(exp) = expected
            && *exp != digest
        {
            // Dropping `tmp` deletes the temp file.
            return Err(ContentError::DigestMismatch {
                expected: exp.clone(),
                actual: digest,
            });
        }
        let target = self.path(&digest);
        if target.exists() {
            return Ok((digest, size));
        }
        let cerr = |source| ContentError::Commit {
            digest: digest.clone(),
            source,
        };
        tmp.as_file().sync_all().map_err(cerr)?;
        tmp.persist(&target).map_err(|e| cerr(e.error))?;
        sync_dir(&self.dir).map_err(cerr)?;
        Ok((digest, size))
    }

    /// Where a resumable partial download of `digest` is kept: outside the blob directory,
    /// so it is never mistaken for the blob, and kept across restarts so a pull resumes.
    pub fn partial_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .parent()
            .unwrap_or(&self.dir)
            .join("partial")
            .join(digest.hex())
    }

    /// Moves a finished partial download into place under its digest. The caller has
    /// hashed every byte and checked it against `digest`.
    pub fn commit_partial(&self, digest: &Digest) -> Result<(), ContentError> {
        let cerr = |source| ContentError::Commit {
            digest: digest.clone(),
            source,
        };
        let partial = self.partial_path(digest);
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(cerr)?;
        fs::rename(&partial, self.path(digest)).map_err(cerr)?;
        sync_dir(&self.dir).map_err(cerr)
    }

    /// Stores `data`, returning its digest.
    pub fn write_bytes(&self, data: &[u8]) -> Result<Digest, ContentError> {
        let expected = Digest::of(data);
        self.write(&mut &data[..], Some(&expected))?;
        Ok(expected)
    }

    /// True when the blob is stored.
    pub fn exists(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// The blob's size in bytes.
    pub fn size(&self, digest: &Digest) -> Result<u64, ContentError> {
        fs::metadata(self.path(digest))
            .map(|m| m.len())
            .map_err(|e| self.read_err(digest, e))
    }

    /// Opens the blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, ContentError> {
        File::open(self.path(digest)).map_err(|e| self.read_err(digest, e))
    }

    /// Reads the whole blob.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, ContentError> {
        fs::read(self.path(digest)).map_err(|e| self.read_err(digest, e))
    }

    /// Deletes the blob (not an error if it is already gone).
    pub fn delete(&self, digest: &Digest) -> Result<(), ContentError> {
        match fs::remove_file(self.path(digest)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ContentError::Delete {
                digest: digest.clone(),
                source,
            }),
        }
    }

    /// Every stored blob's digest.
    pub fn list(&self) -> Result<Vec<Digest>, ContentError> {
        let rd = fs::read_dir(&self.dir).map_err(|source| ContentError::CreateDir {
            path: self.dir.clone(),
            source,
        })?;
        Ok(rd
            .flatten()
            .filter_map(|e| Digest::from_hex(&e.file_name().to_string_lossy()).ok())
            .collect())
    }

    fn read_err(&self, digest: &Digest, source: io::Error) -> ContentError {
        if source.kind() == io::ErrorKind::NotFound {
            ContentError::NotFound(digest.clone())
        } else {
            ContentError::Read {
                digest: digest.clone(),
                source,
            }
        }
    }
}

/// Copies with a 1 MiB buffer (std's default is 8 KiB).
pub(crate) fn copy_large(r: &mut dyn Read, w: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_BUF];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// fsyncs a directory so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_exists_size_delete() {
        let root = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(root.path()).unwrap();
        let (d, n) = cs.write(&mut &b"hello world"[..], None).unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of(b"hello world"));
        assert!(cs.exists(&d));
        assert_eq!(cs.size(&d).unwrap(), 11);
        assert_eq!(cs.read(&d).unwrap(), b"hello world");
        assert_eq!(
            cs.path(&d),
            root.path().join("content/sha256").join(d.hex())
        );
        assert_eq!(cs.list().unwrap(), vec![d.clone()]);
        // Writing again is idempotent.
        assert_eq!(cs.write_bytes(b"hello world").unwrap(), d);
        cs.delete(&d).unwrap();
        assert!(!cs.exists(&d));
        assert!(matches!(cs.read(&d), Err(ContentError::NotFound(_))));
        assert_eq!(cs.size(&d).unwrap_err().kind(), ErrorKind::NotFound);
        cs.delete(&d).unwrap();
    }

    #[test]
    fn mismatched_blob_is_refused_and_nothing_stored() {
        let root = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(root.path()).unwrap();
        let wrong = Digest::of(b"something else");
        let err = cs.write(&mut &b"hello"[..], Some(&wrong)).unwrap_err();
        assert!(matches!(err, ContentError::DigestMismatch { .. }));
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(!cs.exists(&wrong));
        assert!(!cs.exists(&Digest::of(b"hello")));
        let left: Vec<_> = fs::read_dir(cs.path(&wrong).parent().unwrap())
            .unwrap()
            .collect();
        assert!(left.is_empty(), "temp file left behind: {left:?}");
    }

    #[test]
    fn open_removes_stale_temp_files() {
        let root = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(root.path()).unwrap();
        let stale = cs.dir.join(".tmp-stale");
        fs::write(&stale, b"x").unwrap();
        ContentStore::open(root.path()).unwrap();
        assert!(!stale.exists());
    }
}
