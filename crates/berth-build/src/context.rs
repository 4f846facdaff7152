//! The build context: a tar body (plain, gzip, bzip2, xz or zstd, told apart by their
//! magic bytes as dockerd does) extracted into a directory, and the Dockerfile and
//! `.dockerignore` found inside it.
//!
//! Extraction is confined to the destination: `..` that would climb out is refused,
//! absolute names are taken relative to the destination (as moby's `Untar` does), no
//! entry is ever written through a symlink (a symlink is content, never a path to
//! follow), hard links must point at an entry already inside, and device nodes are
//! refused. A failed extraction leaves whatever it wrote for the caller to remove with
//! the destination directory.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};

/// Why a context could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Reading the body or writing a file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path (inside the context).
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A name that climbs out of the context (`../x`).
    #[error("refusing to extract {0:?}: it leaves the build context")]
    Escape(String),
    /// An entry whose parent is a symlink.
    #[error("refusing to extract {0:?}: a parent directory is a symbolic link")]
    ThroughSymlink(String),
    /// An entry whose parent is a file.
    #[error("refusing to extract {0:?}: a parent is not a directory")]
    ParentNotDir(String),
    /// A hard link to something outside or missing.
    #[error("refusing to extract {name:?}: invalid hard link target {target:?}")]
    BadHardLink {
        /// The entry.
        name: String,
        /// Its target.
        target: String,
    },
    /// Device nodes and other special files.
    #[error("refusing to extract {0:?}: unsupported file type")]
    Unsupported(String),
    /// `dockerfile=../x` or an absolute path.
    #[error("the Dockerfile ({0}) must be within the build context")]
    DockerfileOutside(String),
    /// The Dockerfile is not in the context.
    #[error("Cannot locate specified Dockerfile: {0}")]
    DockerfileNotFound(String),
}

fn io_err(what: &'static str, path: &str) -> impl FnOnce(io::Error) -> ContextError {
    let path = path.to_string();
    move |source| ContextError::Io { what, path, source }
}

/// A context body's compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip.
    Gzip,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// zstd.
    Zstd,
}

/// Tells the compression from the first bytes (moby's `DetectCompression`).
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Compression::Gzip
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Wraps `body` in the decompressor its magic bytes call for.
pub fn decompress<'a, R: Read + 'a>(body: R) -> io::Result<Box<dyn Read + 'a>> {
    let mut r = BufReader::with_capacity(64 * 1024, body);
    let kind = detect_compression(r.fill_buf()?);
    Ok(match kind {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// Is the file a tar archive (plain or compressed) that ADD unpacks? dockerd's test: it
/// decompresses and its first tar header reads. Unpack it with [`extract_context`], which
/// applies the same confinement rules.
pub fn is_archive(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    let Ok(r) = decompress(f) else {
        return false;
    };
    let mut archive = tar::Archive::new(r);
    let Ok(mut entries) = archive.entries() else {
        return false;
    };
    matches!(entries.next(), Some(Ok(_)))
}

/// Turns a tar name into a path inside the context, or refuses it. `None` is the root.
pub fn safe_relative(name: &Path) -> Result<Option<PathBuf>, ContextError> {
    let mut out = PathBuf::new();
    for c in name.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(ContextError::Escape(name.display().to_string()));
                }
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Creates the parents of `rel` under `root`, refusing to pass through a symlink or a
/// non-directory.
fn prepare_parents(root: &Path, rel: &Path, shown: &str) -> Result<(), ContextError> {
    let mut cur = root.to_path_buf();
    let parent = rel.parent().unwrap_or(Path::new(""));
    for c in parent.components() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ContextError::ThroughSymlink(shown.to_string()));
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(ContextError::ParentNotDir(shown.to_string())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&cur).map_err(io_err("create directory", shown))?;
            }
            Err(e) => return Err(io_err("inspect", shown)(e)),
        }
    }
    Ok(())
}

/// Removes what is at `path` unless it is a directory and `keep_dir`.
fn clear(path: &Path, keep_dir: bool, shown: &str) -> Result<bool, ContextError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() && keep_dir => Ok(true),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path)
            .map(|_| false)
            .map_err(io_err("remove", shown)),
        Ok(_) => fs::remove_file(path)
            .map(|_| false)
            .map_err(io_err("remove", shown)),
        Err(_) => Ok(false),
    }
}

/// What an extraction wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Files, links and directories written.
    pub entries: u64,
    /// Bytes of file content.
    pub bytes: u64,
}

/// Extracts a (possibly compressed) context tar into `dest`, which must exist.
pub fn extract_context<R: Read>(body: R, dest: &Path) -> Result<Extracted, ContextError> {
    let reader = decompress(body).map_err(io_err("read", "context"))?;
    let mut archive = tar::Archive::new(reader);
    let mut stats = Extracted::default();
    let mut dir_modes = Vec::new();
    let entries = archive.entries().map_err(io_err("read", "context"))?;
    for entry in entries {
        let mut entry = entry.map_err(io_err("read", "context"))?;
        let raw = entry.path_bytes().into_owned();
        let name = Path::new(std::ffi::OsStr::from_bytes(&raw)).to_path_buf();
        let shown = name.display().to_string();
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName
        ) {
            continue;
        }
        let Some(rel) = safe_relative(&name)? else {
            continue; // the root itself
        };
        prepare_parents(dest, &rel, &shown)?;
        let path = dest.join(&rel);
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        match kind {
            tar::EntryType::Directory => {
                if !clear(&path, true, &shown)? {
                    fs::create_dir(&path).map_err(io_err("create directory", &shown))?;
                }
                dir_modes.push((path, mode));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                clear(&path, false, &shown)?;
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(io_err("create", &shown))?;
                stats.bytes += io::copy(&mut entry, &mut f).map_err(io_err("write", &shown))?;
                f.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(io_err("chmod", &shown))?;
                if let Ok(mtime) = entry.header().mtime() {
                    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                    f.set_modified(t).map_err(io_err("set mtime", &shown))?;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| std::ffi::OsStr::from_bytes(&b).to_owned())
                    .unwrap_or_default();
                clear(&path, false, &shown)?;
                symlink(&target, &path).map_err(io_err("symlink", &shown))?;
            }
            tar::EntryType::Link => {
                let target_raw = entry
                    .link_name_bytes()
                    .map(|b| b.into_owned())
                    .unwrap_or_default();
                let target = Path::new(std::ffi::OsStr::from_bytes(&target_raw)).to_path_buf();
                let bad = || ContextError::BadHardLink {
                    name: shown.clone(),
                    target: target.display().to_string(),
                };
                let trel = safe_relative(&target).map_err(|_| bad())?.ok_or_else(bad)?;
                prepare_parents(dest, &trel, &shown).map_err(|_| bad())?;
                let tpath = dest.join(&trel);
                if !fs::symlink_metadata(&tpath).is_ok_and(|m| !m.is_dir()) {
                    return Err(bad());
                }
                clear(&path, false, &shown)?;
                fs::hard_link(&tpath, &path).map_err(io_err("link", &shown))?;
            }
            _ => return Err(ContextError::Unsupported(shown)),
        }
        stats.entries += 1;
    }
    // Directory modes last, so a read-only directory does not block its children.
    for (path, mode) in dir_modes.into_iter().rev() {
        let shown = path.display().to_string();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .map_err(io_err("chmod", &shown))?;
    }
    Ok(stats)
}

/// Finds the Dockerfile named by the `dockerfile` query parameter (default `Dockerfile`,
/// then `dockerfile`, as dockerd tries) inside the extracted context. Symlinks are
/// followed only while they stay inside the context.
pub fn locate_dockerfile(root: &Path, name: Option<&str>) -> Result<PathBuf, ContextError> {
    let candidates: Vec<&str> = match name {
        Some(n) if !n.is_empty() => vec![n],
        _ => vec!["Dockerfile", "dockerfile"],
    };
    let root_real = fs::canonicalize(root).map_err(io_err("open", "context"))?;
    for n in &candidates {
        let rel = match safe_relative(Path::new(n)) {
            Ok(Some(rel)) if !n.starts_with('/') => rel,
            _ => return Err(ContextError::DockerfileOutside(n.to_string())),
        };
        let Ok(real) = fs::canonicalize(root.join(&rel)) else {
            continue;
        };
        if !real.starts_with(&root_real) {
            return Err(ContextError::DockerfileOutside(n.to_string()));
        }
        if real.is_file() {
            return Ok(real);
        }
    }
    Err(ContextError::DockerfileNotFound(candidates[0].to_string()))
}

/// The context's `.dockerignore` patterns (none when it has no such file).
pub fn read_dockerignore(root: &Path) -> Result<Vec<String>, ContextError> {
    let p = root.join(".dockerignore");
    match fs::symlink_metadata(&p) {
        Ok(m) if m.is_file() => {
            let b = fs::read(&p).map_err(io_err("read", ".dockerignore"))?;
            Ok(crate::dockerignore::read_ignore_file(
                &String::from_utf8_lossy(&b),
            ))
        }
        _ => Ok(Vec::new()),
    }
}

/// Removes from the extracted context everything `.dockerignore` excludes (read the
/// Dockerfile first: dockerd also drops the Dockerfile and `.dockerignore` themselves when
/// they are excluded). Clients such as the docker CLI filter before sending, which makes
/// this a no-op for them; it matters for clients that send everything. An excluded
/// directory is still walked when an exception could re-include something under it.
/// Returns how many entries were removed.
pub fn prune_context(
    root: &Path,
    matcher: &crate::dockerignore::PatternMatcher,
) -> Result<u64, ContextError> {
    // An explicit stack of (directory, its match results): contexts can be deep.
    let mut removed = 0;
    let mut stack = vec![(PathBuf::new(), crate::dockerignore::MatchInfo::default())];
    while let Some((rel, parent)) = stack.pop() {
        let shown = rel.display().to_string();
        let mut names: Vec<_> = fs::read_dir(root.join(&rel))
            .map_err(io_err("read directory", &shown))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for name in names {
            let child = rel.join(&name);
            let shown = child.display().to_string();
            let (excluded, info) = matcher
                .matches_using_parent_results(&shown, &parent)
                .map_err(|e| io_err("match", &shown)(io::Error::other(e)))?;
            let path = root.join(&child);
            let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if is_dir && (!excluded || matcher.could_reinclude_under(&shown)) {
                stack.push((child, info));
            } else if excluded {
                if is_dir {
                    fs::remove_dir_all(&path).map_err(io_err("remove", &shown))?;
                } else {
                    fs::remove_file(&path).map_err(io_err("remove", &shown))?;
                }
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
