//! Resolve a path inside the container's root filesystem the way the container would: symlinks
//! and `..` never lead out of the root.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Most symlinks followed while resolving one path.
const MAX_LINKS: usize = 40;

/// `root` joined with `unsafe_path`, each symlink on the way resolved relative to `root`.
/// Missing components are kept as they are (the caller creates them).
pub fn secure_join(root: &Path, unsafe_path: &Path) -> std::io::Result<PathBuf> {
    let mut pending: Vec<PathBuf> = vec![unsafe_path.to_path_buf()];
    let mut resolved = PathBuf::new(); // relative to root
    let mut links = 0;
    while let Some(path) = pending.pop() {
        let mut comps = path.components().peekable();
        while let Some(c) = comps.next() {
            match c {
                Component::RootDir | Component::Prefix(_) => resolved = PathBuf::new(),
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => {
                    let candidate = resolved.join(name);
                    let full = root.join(&candidate);
                    match std::fs::symlink_metadata(&full) {
                        Ok(m) if m.file_type().is_symlink() => {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(std::io::Error::from_raw_os_error(libc::ELOOP));
                            }
                            let target = std::fs::read_link(&full)?;
                            let rest: PathBuf = comps.collect();
                            if !rest.as_os_str().is_empty() {
                                pending.push(rest);
                            }
                            pending.push(target);
                            break;
                        }
                        _ => resolved = candidate,
                    }
                }
            }
        }
    }
    Ok(root.join(strip(&resolved)))
}

fn strip(p: &Path) -> &Path {
    let bytes = p.as_os_str().as_bytes();
    let trimmed = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
    Path::new(OsStr::from_bytes(&bytes[trimmed..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::os::unix::fs::symlink("/usr/lib", root.join("lib")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("escape")).unwrap();
        assert_eq!(
            secure_join(root, Path::new("/lib/x")).unwrap(),
            root.join("usr/lib/x")
        );
        assert_eq!(
            secure_join(root, Path::new("/escape/passwd")).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            secure_join(root, Path::new("/../../a/./b")).unwrap(),
            root.join("a/b")
        );
    }

    #[test]
    fn symlink_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/loop", dir.path().join("loop")).unwrap();
        assert!(secure_join(dir.path(), Path::new("/loop/x")).is_err());
    }
}
