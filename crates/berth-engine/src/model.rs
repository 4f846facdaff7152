//! The container record (what the database holds, one JSON value per container) and docker's
//! state machine.
//!
//! ```text
//!            start                 exit / kill / stop
//! created ─────────► running ───────────────────────► exited ──┐
//!    │                 ▲  │ pause ▲ unpause                │     │ start
//!    │                 │  └──► paused                      │     │
//!    │                 └───────────────────────────────────┼─────┘
//!    └──────────────────────► removing ◄───────────────────┘
//!                                │ failure
//!                                ▼
//!                              dead
//! ```
//! `restarting` is the state between an exit and the restart a restart policy asks for.

use std::path::PathBuf;

use berth_api::container::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

/// docker's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started.
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Frozen.
    Paused,
    /// Waiting for a restart by its policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Its process has exited.
    Exited,
    /// Removal failed half-way.
    Dead,
}

impl Status {
    /// The name docker uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// A shim holds a process for the container.
    pub fn has_process(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }

    /// Running, paused, or about to run again (what `docker ps` lists without `-a`).
    pub fn is_active(self) -> bool {
        self.has_process() || self == Status::Restarting
    }

    /// Whether `start` may move the container from this state.
    pub fn can_start(self) -> bool {
        matches!(self, Status::Created | Status::Exited | Status::Restarting)
    }
}

/// The zero time docker prints for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The runtime state of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRecord {
    /// Where it is in the state machine.
    pub status: Status,
    /// PID of its init on the host; 0 when not running.
    pub pid: i64,
    /// Last exit code.
    pub exit_code: i64,
    /// Whether the OOM killer struck during the last run.
    pub oom_killed: bool,
    /// Last start error.
    pub error: String,
    /// RFC 3339 nano, or [`ZERO_TIME`].
    pub started_at: String,
    /// RFC 3339 nano, or [`ZERO_TIME`].
    pub finished_at: String,
}

impl Default for StateRecord {
    fn default() -> Self {
        Self {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            started_at: ZERO_TIME.to_owned(),
            finished_at: ZERO_TIME.to_owned(),
        }
    }
}

/// Everything the engine knows about a container; stored as JSON under its ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// 64-hex ID.
    pub id: String,
    /// Name with its leading `/`.
    pub name: String,
    /// Creation time, RFC 3339 nano.
    pub created: String,
    /// The image as the user named it.
    pub image_name: String,
    /// The image ID (`sha256:...`).
    pub image_id: String,
    /// The image's layer directories, top first (overlay lowerdirs).
    pub lowers: Vec<PathBuf>,
    /// The command's path (first word).
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The configuration, merged with the image's defaults.
    pub config: ContainerConfig,
    /// The host configuration as requested.
    pub host_config: HostConfig,
    /// Runtime state.
    pub state: StateRecord,
    /// Restarts by the restart policy.
    pub restart_count: i64,
    /// Storage driver name.
    pub driver: String,
    /// Incremented at every start, so the monitor of an old run cannot touch a new one.
    pub generation: u64,
    /// Stopped by a user (stop, kill): the restart policy leaves it alone.
    #[serde(default)]
    pub manually_stopped: bool,
    /// Bind mounts, volumes and tmpfs mounts, resolved at create.
    #[serde(default)]
    pub mounts: Vec<crate::mounts::MountRecord>,
}

impl ContainerRecord {
    /// The stop signal (the container's, else `SIGTERM`).
    pub fn stop_signal(&self) -> &str {
        self.config
            .stop_signal
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("SIGTERM")
    }

    /// Seconds between the stop signal and SIGKILL (the container's, else 10).
    pub fn stop_timeout(&self) -> i64 {
        self.config.stop_timeout.unwrap_or(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serialises_as_docker_names() {
        for s in [
            Status::Created,
            Status::Running,
            Status::Paused,
            Status::Restarting,
            Status::Removing,
            Status::Exited,
            Status::Dead,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!(Status::Exited.can_start() && !Status::Running.can_start());
        assert!(Status::Paused.has_process() && !Status::Created.has_process());
        assert!(Status::Restarting.is_active() && !Status::Restarting.has_process());
    }
}
