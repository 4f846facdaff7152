//! The exit status the shim records in its state directory when a process exits.
//!
//! `STATE_DIR/exit.json` ([`EXIT_FILE`]) is written temp-then-rename, so a reader (the engine
//! after a daemon restart, when the shim may be gone) sees either no file or a whole one.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The exit status file's name inside the shim's state directory.
pub const EXIT_FILE: &str = "exit.json";

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal number when a signal killed it (docker's convention).
    pub exit_code: i32,
    /// The signal that killed it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Whether the OOM killer struck in the container's cgroup.
    #[serde(default)]
    pub oom_killed: bool,
    /// When the shim saw it exit (RFC 3339, UTC, nanoseconds).
    pub finished_at: String,
}

impl ExitStatus {
    /// A normal exit with `code`.
    pub fn exited(code: i32, finished_at: String) -> Self {
        ExitStatus {
            exit_code: code,
            signal: None,
            oom_killed: false,
            finished_at,
        }
    }

    /// Killed by `signal`: the exit code is 128 + signal.
    pub fn signaled(signal: i32, finished_at: String) -> Self {
        ExitStatus {
            exit_code: 128 + signal,
            signal: Some(signal),
            oom_killed: false,
            finished_at,
        }
    }
}

/// Errors reading or writing the exit status file.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Writing the temporary file or renaming it failed.
    #[error("write exit status {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading the file failed.
    #[error("read exit status {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an exit status.
    #[error("parse exit status {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Write `status` to `dir/exit.json` atomically (temp file, fsync, rename).
pub fn write(dir: &Path, status: &ExitStatus) -> Result<(), StatusError> {
    let path = dir.join(EXIT_FILE);
    let werr = |source| StatusError::Write {
        path: path.clone(),
        source,
    };
    let body = serde_json::to_vec(status).map_err(|e| werr(e.into()))?;
    // Synced: the exit status is the one record a daemon that restarts after a power cut
    // cannot learn again.
    let opts = berth_runtime::fsutil::AtomicOptions {
        sync: true,
        ..Default::default()
    };
    berth_runtime::fsutil::write_atomic(&path, &body, opts).map_err(werr)
}

/// Read `dir/exit.json`; `Ok(None)` when the process has not exited (no file).
pub fn read(dir: &Path) -> Result<Option<ExitStatus>, StatusError> {
    let path = dir.join(EXIT_FILE);
    match fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|source| StatusError::Parse { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StatusError::Read { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        let mut s = ExitStatus::signaled(9, "2026-11-30T14:55:01.000000000Z".into());
        s.oom_killed = true;
        write(dir.path(), &s).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(s));
        assert_eq!(
            fs::read_to_string(dir.path().join(EXIT_FILE)).unwrap(),
            r#"{"exit_code":137,"signal":9,"oom_killed":true,"finished_at":"2026-11-30T14:55:01.000000000Z"}"#
        );
        assert!(!dir.path().join(".exit.json.tmp").exists());
    }

    #[test]
    fn garbage_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(EXIT_FILE), "{").unwrap();
        assert!(matches!(read(dir.path()), Err(StatusError::Parse { .. })));
    }
}
