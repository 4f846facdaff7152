//! System bodies: `/version` and `/info`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::nd;

/// Response of `GET /version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemVersion {
    /// Product name.
    #[serde(rename = "Platform")]
    pub platform: Platform,
    /// Components of the server.
    #[serde(rename = "Components", deserialize_with = "nd")]
    pub components: Vec<ComponentVersion>,
    /// Server version.
    #[serde(rename = "Version", deserialize_with = "nd")]
    pub version: String,
    /// Highest API version.
    #[serde(rename = "ApiVersion", deserialize_with = "nd")]
    pub api_version: String,
    /// Lowest API version.
    #[serde(rename = "MinAPIVersion", deserialize_with = "nd")]
    pub min_api_version: String,
    /// Source revision.
    #[serde(rename = "GitCommit", deserialize_with = "nd")]
    pub git_commit: String,
    /// Compiler version (docker: Go's; berth: rustc's).
    #[serde(rename = "GoVersion", deserialize_with = "nd")]
    pub go_version: String,
    /// `linux`.
    #[serde(rename = "Os", deserialize_with = "nd")]
    pub os: String,
    /// `amd64`, `arm64`, ...
    #[serde(rename = "Arch", deserialize_with = "nd")]
    pub arch: String,
    /// Host kernel.
    #[serde(rename = "KernelVersion", deserialize_with = "nd")]
    pub kernel_version: String,
    /// Experimental features enabled.
    #[serde(
        rename = "Experimental",
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "nd"
    )]
    pub experimental: bool,
    /// Build time, RFC 3339.
    #[serde(
        rename = "BuildTime",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nd"
    )]
    pub build_time: String,
}

/// `Platform` of `/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Platform {
    /// Product name, e.g. `berth`.
    #[serde(rename = "Name", deserialize_with = "nd")]
    pub name: String,
}

/// One component of `/version`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComponentVersion {
    /// Name (`Engine`).
    #[serde(rename = "Name", deserialize_with = "nd")]
    pub name: String,
    /// Version.
    #[serde(rename = "Version", deserialize_with = "nd")]
    pub version: String,
    /// Key/value details.
    #[serde(rename = "Details", skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

/// Response of `GET /info`: the fields `docker info` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemInfo {
    /// Daemon instance ID.
    #[serde(rename = "ID", deserialize_with = "nd")]
    pub id: String,
    /// Number of containers.
    #[serde(rename = "Containers", deserialize_with = "nd")]
    pub containers: i64,
    /// Running containers.
    #[serde(rename = "ContainersRunning", deserialize_with = "nd")]
    pub containers_running: i64,
    /// Paused containers.
    #[serde(rename = "ContainersPaused", deserialize_with = "nd")]
    pub containers_paused: i64,
    /// Stopped containers.
    #[serde(rename = "ContainersStopped", deserialize_with = "nd")]
    pub containers_stopped: i64,
    /// Number of images.
    #[serde(rename = "Images", deserialize_with = "nd")]
    pub images: i64,
    /// Storage driver.
    #[serde(rename = "Driver", deserialize_with = "nd")]
    pub driver: String,
    /// Storage driver key/value pairs.
    #[serde(rename = "DriverStatus")]
    pub driver_status: Option<Vec<[String; 2]>>,
    /// Plugins by kind.
    #[serde(rename = "Plugins", deserialize_with = "nd")]
    pub plugins: PluginsInfo,
    /// Memory limit support.
    #[serde(rename = "MemoryLimit", deserialize_with = "nd")]
    pub memory_limit: bool,
    /// Swap limit support.
    #[serde(rename = "SwapLimit", deserialize_with = "nd")]
    pub swap_limit: bool,
    /// CFS period support.
    #[serde(rename = "CpuCfsPeriod", deserialize_with = "nd")]
    pub cpu_cfs_period: bool,
    /// CFS quota support.
    #[serde(rename = "CpuCfsQuota", deserialize_with = "nd")]
    pub cpu_cfs_quota: bool,
    /// CPU shares support.
    #[serde(rename = "CPUShares", deserialize_with = "nd")]
    pub cpu_shares: bool,
    /// Cpuset support.
    #[serde(rename = "CPUSet", deserialize_with = "nd")]
    pub cpu_set: bool,
    /// Pids limit support.
    #[serde(rename = "PidsLimit", deserialize_with = "nd")]
    pub pids_limit: bool,
    /// OOM-kill disable support.
    #[serde(rename = "OomKillDisable", deserialize_with = "nd")]
    pub oom_kill_disable: bool,
    /// IPv4 forwarding enabled.
    #[serde(rename = "IPv4Forwarding", deserialize_with = "nd")]
    pub ipv4_forwarding: bool,
    /// Debug mode.
    #[serde(rename = "Debug", deserialize_with = "nd")]
    pub debug: bool,
    /// Open file descriptors of the daemon.
    #[serde(rename = "NFd", deserialize_with = "nd")]
    pub nfd: i64,
    /// Goroutines (berth: the daemon's threads).
    #[serde(rename = "NGoroutines", deserialize_with = "nd")]
    pub ngoroutines: i64,
    /// Current time, RFC 3339 nano.
    #[serde(rename = "SystemTime", deserialize_with = "nd")]
    pub system_time: String,
    /// Default logging driver.
    #[serde(rename = "LoggingDriver", deserialize_with = "nd")]
    pub logging_driver: String,
    /// `cgroupfs` or `systemd`.
    #[serde(rename = "CgroupDriver", deserialize_with = "nd")]
    pub cgroup_driver: String,
    /// `1` or `2`.
    #[serde(rename = "CgroupVersion", deserialize_with = "nd")]
    pub cgroup_version: String,
    /// Event listeners.
    #[serde(rename = "NEventsListener", deserialize_with = "nd")]
    pub nevents_listener: i64,
    /// Host kernel.
    #[serde(rename = "KernelVersion", deserialize_with = "nd")]
    pub kernel_version: String,
    /// Host OS name.
    #[serde(rename = "OperatingSystem", deserialize_with = "nd")]
    pub operating_system: String,
    /// Host OS version.
    #[serde(rename = "OSVersion", deserialize_with = "nd")]
    pub os_version: String,
    /// `linux`.
    #[serde(rename = "OSType", deserialize_with = "nd")]
    pub os_type: String,
    /// `x86_64`, `aarch64`, ... (uname -m).
    #[serde(rename = "Architecture", deserialize_with = "nd")]
    pub architecture: String,
    /// Default registry.
    #[serde(rename = "IndexServerAddress", deserialize_with = "nd")]
    pub index_server_address: String,
    /// Registry configuration.
    #[serde(rename = "RegistryConfig", skip_serializing_if = "Option::is_none")]
    pub registry_config: Option<serde_json::Value>,
    /// Usable CPUs.
    #[serde(rename = "NCPU", deserialize_with = "nd")]
    pub ncpu: i64,
    /// Host memory in bytes.
    #[serde(rename = "MemTotal", deserialize_with = "nd")]
    pub mem_total: i64,
    /// Data root.
    #[serde(rename = "DockerRootDir", deserialize_with = "nd")]
    pub docker_root_dir: String,
    /// HTTP proxy.
    #[serde(rename = "HttpProxy", deserialize_with = "nd")]
    pub http_proxy: String,
    /// HTTPS proxy.
    #[serde(rename = "HttpsProxy", deserialize_with = "nd")]
    pub https_proxy: String,
    /// No-proxy list.
    #[serde(rename = "NoProxy", deserialize_with = "nd")]
    pub no_proxy: String,
    /// Host name.
    #[serde(rename = "Name", deserialize_with = "nd")]
    pub name: String,
    /// Daemon labels.
    #[serde(rename = "Labels", deserialize_with = "nd")]
    pub labels: Vec<String>,
    /// Experimental build.
    #[serde(rename = "ExperimentalBuild", deserialize_with = "nd")]
    pub experimental_build: bool,
    /// Server version.
    #[serde(rename = "ServerVersion", deserialize_with = "nd")]
    pub server_version: String,
    /// OCI runtimes: name → `{"path": ...}`.
    #[serde(rename = "Runtimes", deserialize_with = "nd")]
    pub runtimes: BTreeMap<String, serde_json::Value>,
    /// Default runtime.
    #[serde(rename = "DefaultRuntime", deserialize_with = "nd")]
    pub default_runtime: String,
    /// Swarm state (berth: always `{"LocalNodeState": "inactive"}`).
    #[serde(rename = "Swarm", deserialize_with = "nd")]
    pub swarm: serde_json::Value,
    /// Live restore: containers survive a daemon restart.
    #[serde(rename = "LiveRestoreEnabled", deserialize_with = "nd")]
    pub live_restore_enabled: bool,
    /// Isolation (Windows).
    #[serde(rename = "Isolation", deserialize_with = "nd")]
    pub isolation: String,
    /// Init binary name.
    #[serde(rename = "InitBinary", deserialize_with = "nd")]
    pub init_binary: String,
    /// containerd commit (berth: none).
    #[serde(rename = "ContainerdCommit", deserialize_with = "nd")]
    pub containerd_commit: Commit,
    /// Runtime commit.
    #[serde(rename = "RuncCommit", deserialize_with = "nd")]
    pub runc_commit: Commit,
    /// Init commit.
    #[serde(rename = "InitCommit", deserialize_with = "nd")]
    pub init_commit: Commit,
    /// Security options (`name=seccomp,profile=builtin`).
    #[serde(rename = "SecurityOptions", deserialize_with = "nd")]
    pub security_options: Vec<String>,
    /// Warnings about the host.
    #[serde(rename = "Warnings")]
    pub warnings: Option<Vec<String>>,
}

/// `Plugins` of `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginsInfo {
    /// Volume drivers.
    #[serde(rename = "Volume")]
    pub volume: Option<Vec<String>>,
    /// Network drivers.
    #[serde(rename = "Network")]
    pub network: Option<Vec<String>>,
    /// Authorization plugins.
    #[serde(rename = "Authorization")]
    pub authorization: Option<Vec<String>>,
    /// Logging drivers.
    #[serde(rename = "Log")]
    pub log: Option<Vec<String>>,
}

/// A component's commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Commit {
    /// Commit ID.
    #[serde(rename = "ID", deserialize_with = "nd")]
    pub id: String,
}
