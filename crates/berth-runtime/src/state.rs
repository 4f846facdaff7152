//! A container's record on disk (`<root>/<id>/state.json`, written to a temp file and renamed)
//! and its OCI state, whose status is worked out from the record and the live process:
//! `created` while exec.fifo exists, `running` after, `paused` when frozen, `stopped` once the
//! init is gone (or a zombie, or its pid reused).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// The OCI state's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created.
    Creating,
    /// Created; the init waits for `start`.
    Created,
    /// The process runs.
    Running,
    /// Frozen (not in the OCI spec; runc's).
    Paused,
    /// The init has exited.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// The OCI runtime state of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The OCI version of the spec the container runs.
    pub oci_version: String,
    /// The container's id.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// The init's pid (host view), absent once stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The spec's annotations.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// When it was created (RFC 3339, UTC), as runc reports it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
}

/// What the runtime remembers of a container between invocations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The OCI version of its spec.
    pub oci_version: String,
    /// The id.
    pub id: String,
    /// The init's pid.
    pub pid: i32,
    /// The init's start time (clock ticks since boot, /proc/<pid>/stat field 22), telling a
    /// reused pid from ours.
    pub start_time: u64,
    /// The bundle.
    pub bundle: PathBuf,
    /// The rootfs.
    pub rootfs: PathBuf,
    /// The spec's linux.cgroupsPath.
    #[serde(default)]
    pub cgroups_path: Option<PathBuf>,
    /// The spec's annotations.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// Creation time, RFC 3339.
    pub created: String,
}

/// Reading or writing the record failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading state.json failed.
    #[error("read {0}")]
    Read(PathBuf, #[source] std::io::Error),
    /// state.json is not a record.
    #[error("parse {0}")]
    Parse(PathBuf, #[source] serde_json::Error),
    /// Writing state.json failed.
    #[error("write {0}")]
    Write(PathBuf, #[source] std::io::Error),
}

/// The record's file in a container's state directory.
pub fn record_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

impl Record {
    /// Load a container's record.
    pub fn load(dir: &Path) -> Result<Record, StateError> {
        let path = record_path(dir);
        let bytes = std::fs::read(&path).map_err(|e| StateError::Read(path.clone(), e))?;
        serde_json::from_slice(&bytes).map_err(|e| StateError::Parse(path, e))
    }

    /// Save the record (replacing state.json atomically).
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let path = record_path(dir);
        let bytes = serde_json::to_vec(self)
            .map_err(|e| StateError::Write(path.clone(), std::io::Error::other(e)))?;
        crate::fsutil::write_atomic(&path, &bytes, Default::default())
            .map_err(|e| StateError::Write(path, e))
    }

    /// The OCI state now.
    pub fn state(&self, dir: &Path) -> State {
        let status = self.status(dir);
        State {
            oci_version: self.oci_version.clone(),
            id: self.id.clone(),
            status,
            pid: (status != Status::Stopped).then_some(self.pid),
            bundle: self.bundle.clone(),
            annotations: self.annotations.clone(),
            created: self.created.clone(),
        }
    }

    /// Whether the init still runs (not exited, not a zombie, not a reused pid).
    pub fn alive(&self) -> bool {
        matches!(proc_stat(Pid::from_raw(self.pid)), Some((state, start)) if state != 'Z' && state != 'X' && start == self.start_time)
    }

    /// The status from the live process and exec.fifo.
    pub fn status(&self, dir: &Path) -> Status {
        if !self.alive() {
            Status::Stopped
        } else if dir.join("exec.fifo").exists() {
            Status::Created
        } else if dir.join(PAUSED).exists() {
            Status::Paused
        } else {
            Status::Running
        }
    }
}

/// The marker file of a paused container.
const PAUSED: &str = "paused";

/// Mark a container paused (or not).
pub fn set_paused(dir: &Path, paused: bool) -> Result<(), StateError> {
    let path = dir.join(PAUSED);
    let res = if paused {
        std::fs::write(&path, b"")
    } else {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    };
    res.map_err(|e| StateError::Write(path, e))
}

/// A process's state letter and start time from /proc/<pid>/stat.
pub fn proc_stat(pid: Pid) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<(char, u64)> {
    // The command name may hold spaces and parentheses: split after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    // After the state come fields 4..; start time is field 22, i.e. 19 further on.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Now as RFC 3339 UTC with nanoseconds.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_command_names_parses() {
        let text = "42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 10";
        assert_eq!(parse_stat(text), Some(('S', 12345)));
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let pid = nix::unistd::getpid();
        let (_, start) = proc_stat(pid).unwrap();
        let mut rec = Record {
            oci_version: "1.0.2".into(),
            id: "x".into(),
            pid: pid.as_raw(),
            start_time: start,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            cgroups_path: None,
            annotations: HashMap::new(),
            created: now_rfc3339(),
        };
        assert!(rec.alive());
        rec.start_time += 1;
        assert!(!rec.alive());
    }

    #[test]
    fn record_round_trips_and_state_serializes_as_oci() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Record {
            oci_version: "1.0.2".into(),
            id: "c1".into(),
            pid: i32::MAX,
            start_time: 1,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            cgroups_path: None,
            annotations: HashMap::new(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
        };
        rec.save(dir.path()).unwrap();
        let back = Record::load(dir.path()).unwrap();
        let state = back.state(dir.path());
        assert_eq!(state.status, Status::Stopped);
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["ociVersion"], "1.0.2");
        assert_eq!(json["status"], "stopped");
        assert!(json.get("pid").is_none());
    }

    #[test]
    fn rfc3339_has_the_right_shape() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 30, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
