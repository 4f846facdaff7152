//! Cache keys: a step is reused when its parent image, its instruction after expansion
//! and, for COPY/ADD, the content it copies are the same. The content digest covers each
//! copied entry's path (relative to the copy root), type, permission bits, owner, size and
//! bytes (or link target), walking directories in name order; timestamps are left out, as
//! dockerd's classic builder leaves them out, so a fresh checkout still hits the cache.

use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::executor::CacheKey;

/// A file that could not be read while hashing.
#[derive(Debug, thiserror::Error)]
#[error("hash {path}: {source}")]
pub struct HashError {
    /// The file.
    pub path: String,
    /// The cause.
    #[source]
    pub source: io::Error,
}

impl CacheKey {
    /// A key from its parts.
    pub fn new(parent: &str, instruction: &str, content: Option<String>) -> Self {
        CacheKey {
            parent: parent.to_string(),
            instruction: instruction.to_string(),
            content,
        }
    }

    /// One `sha256:` digest of the key, for storing and looking it up.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.parent.as_str(),
            self.instruction.as_str(),
            self.content.as_deref().unwrap_or(""),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("sha256:{}", hex::encode(h.finalize()))
    }
}

fn field(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u64).to_le_bytes());
    h.update(b);
}

/// Hashes `rel` and, for a directory, everything under it in name order (pre-order,
/// with an explicit stack: a context can be as deep as PATH_MAX allows).
fn hash_entry(h: &mut Sha256, root: &Path, rel: &Path) -> Result<(), HashError> {
    let mut stack = vec![rel.to_path_buf()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        let err = |source| HashError {
            path: rel.display().to_string(),
            source,
        };
        let m = fs::symlink_metadata(&path).map_err(err)?;
        let ft = m.file_type();
        let kind: &[u8] = if ft.is_dir() {
            b"d"
        } else if ft.is_symlink() {
            b"l"
        } else if ft.is_file() {
            b"f"
        } else {
            b"o"
        };
        field(h, rel.as_os_str().as_bytes());
        field(h, kind);
        field(h, &(m.mode() & 0o7777).to_le_bytes());
        field(h, &m.uid().to_le_bytes());
        field(h, &m.gid().to_le_bytes());
        if ft.is_file() {
            field(h, &m.len().to_le_bytes());
            let mut f = fs::File::open(&path).map_err(err)?;
            let mut content = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = f.read(&mut buf).map_err(err)?;
                if n == 0 {
                    break;
                }
                content.update(&buf[..n]);
            }
            field(h, &content.finalize());
        } else if ft.is_symlink() {
            let t = fs::read_link(&path).map_err(err)?;
            field(h, t.as_os_str().as_bytes());
        } else if ft.is_dir() {
            let mut names: Vec<PathBuf> = fs::read_dir(&path)
                .map_err(err)?
                .map(|e| e.map(|e| rel.join(e.file_name())))
                .collect::<Result<_, _>>()
                .map_err(err)?;
            names.sort();
            stack.extend(names.into_iter().rev());
        }
    }
    Ok(())
}

/// The `sha256:` digest of the entries COPY/ADD copies: `sources` are paths relative to
/// `root` (globs already resolved), each hashed with everything under it.
pub fn content_digest(root: &Path, sources: &[PathBuf]) -> Result<String, HashError> {
    let mut h = Sha256::new();
    for s in sources {
        hash_entry(&mut h, root, s)?;
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

/// Heredoc sources take part in the digest by name and body.
pub fn inline_digest(files: &[crate::instructions::InlineFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        field(&mut h, f.name.as_bytes());
        field(&mut h, f.data.as_bytes());
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src/sub")).unwrap();
        fs::write(d.path().join("src/a.txt"), "alpha").unwrap();
        fs::write(d.path().join("src/sub/b.txt"), "beta").unwrap();
        symlink("a.txt", d.path().join("src/link")).unwrap();
        d
    }

    #[test]
    fn content_digest_tracks_content_modes_and_links_not_mtime() {
        let d = tree();
        let src = [PathBuf::from("src")];
        let base = content_digest(d.path(), &src).unwrap();
        assert_eq!(base, content_digest(d.path(), &src).unwrap());
        // mtime alone does not change it.
        let f = fs::File::options()
            .write(true)
            .open(d.path().join("src/a.txt"))
            .unwrap();
        f.set_modified(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(base, content_digest(d.path(), &src).unwrap());
        // content does.
        fs::write(d.path().join("src/sub/b.txt"), "BETA").unwrap();
        let changed = content_digest(d.path(), &src).unwrap();
        assert_ne!(base, changed);
        // so does a mode.
        fs::set_permissions(
            d.path().join("src/a.txt"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let moded = content_digest(d.path(), &src).unwrap();
        assert_ne!(changed, moded);
        // and a link target.
        fs::remove_file(d.path().join("src/link")).unwrap();
        symlink("sub", d.path().join("src/link")).unwrap();
        let relinked = content_digest(d.path(), &src).unwrap();
        assert_ne!(moded, relinked);
        // a new (even empty) file too.
        fs::write(d.path().join("src/new"), "").unwrap();
        assert_ne!(relinked, content_digest(d.path(), &src).unwrap());
        assert!(content_digest(d.path(), &[PathBuf::from("missing")]).is_err());
    }

    #[test]
    fn key_digest_separates_fields() {
        let a = CacheKey::new("sha256:p", "RUN ab", None).digest();
        let b = CacheKey::new("sha256:pR", "UN ab", None).digest();
        let c = CacheKey::new("sha256:p", "RUN ab", Some("x".into())).digest();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert!(a.starts_with("sha256:") && a.len() == 71);
    }
}
