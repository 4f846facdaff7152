//! `GET /containers/{id}/json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ContainerConfig, EndpointSettings, HostConfig};
use crate::de::nd;

/// Response of `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerInspect {
    /// 64-hex ID.
    #[serde(deserialize_with = "nd")]
    pub id: String,
    /// Creation time, RFC 3339 with nanoseconds.
    #[serde(deserialize_with = "nd")]
    pub created: String,
    /// Path of the command.
    #[serde(deserialize_with = "nd")]
    pub path: String,
    /// Its arguments.
    #[serde(deserialize_with = "nd")]
    pub args: Vec<String>,
    /// Runtime state.
    pub state: Option<ContainerState>,
    /// Image ID (`sha256:...`).
    #[serde(deserialize_with = "nd")]
    pub image: String,
    /// Path of the generated resolv.conf.
    #[serde(deserialize_with = "nd")]
    pub resolv_conf_path: String,
    /// Path of the generated hostname file.
    #[serde(deserialize_with = "nd")]
    pub hostname_path: String,
    /// Path of the generated hosts file.
    #[serde(deserialize_with = "nd")]
    pub hosts_path: String,
    /// Path of the log file.
    #[serde(deserialize_with = "nd")]
    pub log_path: String,
    /// Name with a leading `/`.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Number of restarts by the restart policy.
    #[serde(deserialize_with = "nd")]
    pub restart_count: i64,
    /// Storage driver.
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// Platform (`linux`).
    #[serde(deserialize_with = "nd")]
    pub platform: String,
    /// SELinux mount label.
    #[serde(deserialize_with = "nd")]
    pub mount_label: String,
    /// SELinux process label.
    #[serde(deserialize_with = "nd")]
    pub process_label: String,
    /// AppArmor profile.
    #[serde(deserialize_with = "nd")]
    pub app_armor_profile: String,
    /// IDs of running execs.
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    /// Host configuration.
    pub host_config: Option<HostConfig>,
    /// Storage driver data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_driver: Option<GraphDriverData>,
    /// Size of files changed (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Total size (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// Mount points.
    #[serde(deserialize_with = "nd")]
    pub mounts: Vec<MountPoint>,
    /// Configuration.
    pub config: Option<ContainerConfig>,
    /// Network settings.
    pub network_settings: Option<NetworkSettings>,
}

/// `State` of inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    #[serde(deserialize_with = "nd")]
    pub status: String,
    /// Running (also true while paused).
    #[serde(deserialize_with = "nd")]
    pub running: bool,
    /// Paused.
    #[serde(deserialize_with = "nd")]
    pub paused: bool,
    /// Being restarted by its policy.
    #[serde(deserialize_with = "nd")]
    pub restarting: bool,
    /// Killed by the OOM killer since its last start.
    #[serde(rename = "OOMKilled", deserialize_with = "nd")]
    pub oom_killed: bool,
    /// Dead (removal failed).
    #[serde(deserialize_with = "nd")]
    pub dead: bool,
    /// PID of the container's init on the host; 0 when not running.
    #[serde(deserialize_with = "nd")]
    pub pid: i64,
    /// Last exit code.
    #[serde(deserialize_with = "nd")]
    pub exit_code: i64,
    /// Last start error.
    #[serde(deserialize_with = "nd")]
    pub error: String,
    /// Last start, RFC 3339 nano; `0001-01-01T00:00:00Z` when never.
    #[serde(deserialize_with = "nd")]
    pub started_at: String,
    /// Last exit, RFC 3339 nano; `0001-01-01T00:00:00Z` when never.
    #[serde(deserialize_with = "nd")]
    pub finished_at: String,
    /// Health, when the container has a health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// Health status of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    /// `none`, `starting`, `healthy`, `unhealthy`.
    #[serde(deserialize_with = "nd")]
    pub status: String,
    /// Consecutive failures.
    #[serde(deserialize_with = "nd")]
    pub failing_streak: i64,
    /// Recent results.
    pub log: Option<Vec<HealthcheckResult>>,
}

/// One health check run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthcheckResult {
    /// Start time.
    #[serde(deserialize_with = "nd")]
    pub start: String,
    /// End time.
    #[serde(deserialize_with = "nd")]
    pub end: String,
    /// Exit code.
    #[serde(deserialize_with = "nd")]
    pub exit_code: i64,
    /// Output.
    #[serde(deserialize_with = "nd")]
    pub output: String,
}

/// Storage driver data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GraphDriverData {
    /// Driver name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Driver-specific data (`LowerDir`, `UpperDir`, ...).
    #[serde(deserialize_with = "nd")]
    pub data: BTreeMap<String, String>,
}

/// A mount point of a container (inspect and list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountPoint {
    /// `bind`, `volume`, `tmpfs`.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub r#type: String,
    /// Volume name.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub name: String,
    /// Host path.
    #[serde(deserialize_with = "nd")]
    pub source: String,
    /// Container path.
    #[serde(deserialize_with = "nd")]
    pub destination: String,
    /// Volume driver.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub driver: String,
    /// Mode string (`ro,Z`).
    #[serde(deserialize_with = "nd")]
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW", deserialize_with = "nd")]
    pub rw: bool,
    /// Propagation.
    #[serde(deserialize_with = "nd")]
    pub propagation: String,
}

/// `NetworkSettings` of inspect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSettings {
    /// Bridge name (deprecated).
    #[serde(rename = "Bridge", deserialize_with = "nd")]
    pub bridge: String,
    /// Sandbox ID.
    #[serde(rename = "SandboxID", deserialize_with = "nd")]
    pub sandbox_id: String,
    /// Published ports: `"80/tcp": [{"HostIp":..., "HostPort":...}]` or `null`.
    #[serde(rename = "Ports")]
    pub ports: Option<BTreeMap<String, Option<Vec<super::PortBinding>>>>,
    /// Path of the network namespace.
    #[serde(rename = "SandboxKey", deserialize_with = "nd")]
    pub sandbox_key: String,
    /// Endpoints per network.
    #[serde(rename = "Networks")]
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
    /// Default network's endpoint ID (deprecated).
    #[serde(rename = "EndpointID", deserialize_with = "nd")]
    pub endpoint_id: String,
    /// Default network's gateway (deprecated).
    #[serde(rename = "Gateway", deserialize_with = "nd")]
    pub gateway: String,
    /// Default network's address (deprecated).
    #[serde(rename = "IPAddress", deserialize_with = "nd")]
    pub ip_address: String,
    /// Default network's prefix length (deprecated).
    #[serde(rename = "IPPrefixLen", deserialize_with = "nd")]
    pub ip_prefix_len: i64,
    /// Default network's MAC address (deprecated).
    #[serde(rename = "MacAddress", deserialize_with = "nd")]
    pub mac_address: String,
}
