//! Replacing a file whole: every state, spec and record file berth writes goes through here.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How [`write_atomic`] creates the new file.
#[derive(Debug, Clone, Copy)]
pub struct AtomicOptions {
    /// Permission bits of the new file (before the umask).
    pub mode: u32,
    /// fsync the data before the rename, for a record that must survive a power cut, not just
    /// a crash of the writer.
    pub sync: bool,
}

impl Default for AtomicOptions {
    fn default() -> Self {
        Self {
            mode: 0o644,
            sync: false,
        }
    }
}

/// Replaces `path` with `data` so that a reader sees the old content or the new, never a
/// part: see [`replace_with`].
pub fn write_atomic(path: &Path, data: &[u8], opts: AtomicOptions) -> io::Result<()> {
    replace_with(path, opts, |f| f.write_all(data))
}

/// Replaces `path` with what `fill` writes: into a temporary file in the same directory (a
/// rename does not cross filesystems), then renamed over `path`. The temporary file is
/// removed on error, and `path` is left as it was.
pub fn replace_with(
    path: &Path,
    opts: AtomicOptions,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(opts.mode)
            .open(&tmp)?;
        fill(&mut f)?;
        if opts.sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.<pid>.<n>.tmp` beside `path`: unique across the processes and threads that may
/// write the same file at once (the daemon and a shim, two requests).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, b"new", AtomicOptions::default()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn honours_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let opts = AtomicOptions {
            mode: 0o600,
            sync: true,
        };
        write_atomic(&path, b"x", opts).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A directory in the way: the rename fails.
        let path = dir.path().join("busy");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"keep").unwrap();
        assert!(write_atomic(&path, b"new", AtomicOptions::default()).is_err());
        assert!(path.join("inside").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
