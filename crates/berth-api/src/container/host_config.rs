//! [`HostConfig`]: the non-portable part of a container's configuration (resources, mounts,
//! restart policy, logging, devices, security), and the types its fields hold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::is_zero;
use crate::de::nd;

/// The non-portable part of a container's configuration: resources, mounts, networking,
/// security. Fields berth does not model are kept in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// Bind mounts, `src:dst[:opts]`.
    pub binds: Option<Vec<String>>,
    /// Where to write the container ID (CLI-side; kept for inspect).
    #[serde(rename = "ContainerIDFile", deserialize_with = "nd")]
    pub container_id_file: String,
    /// Logging driver and options.
    #[serde(deserialize_with = "nd")]
    pub log_config: LogConfig,
    /// Network mode (`bridge`, `host`, `none`, `container:<id>`, a network name).
    #[serde(deserialize_with = "nd")]
    pub network_mode: String,
    /// Port bindings: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`.
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    /// Restart policy.
    #[serde(deserialize_with = "nd")]
    pub restart_policy: RestartPolicy,
    /// Remove the container when it exits (`--rm`).
    #[serde(deserialize_with = "nd")]
    pub auto_remove: bool,
    /// Volume driver.
    #[serde(deserialize_with = "nd")]
    pub volume_driver: String,
    /// Containers whose volumes to mount.
    pub volumes_from: Option<Vec<String>>,
    /// Structured mounts (`--mount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<MountSpec>>,
    /// Capabilities to add.
    pub cap_add: Option<Vec<String>>,
    /// Capabilities to drop.
    pub cap_drop: Option<Vec<String>>,
    /// Cgroup namespace mode (`private` or `host`).
    #[serde(deserialize_with = "nd")]
    pub cgroupns_mode: String,
    /// DNS servers.
    pub dns: Option<Vec<String>>,
    /// DNS options.
    pub dns_options: Option<Vec<String>>,
    /// DNS search domains.
    pub dns_search: Option<Vec<String>>,
    /// Extra `/etc/hosts` lines, `host:ip`.
    pub extra_hosts: Option<Vec<String>>,
    /// Additional groups for the process.
    pub group_add: Option<Vec<String>>,
    /// IPC namespace mode.
    #[serde(deserialize_with = "nd")]
    pub ipc_mode: String,
    /// Cgroup parent.
    #[serde(deserialize_with = "nd")]
    pub cgroup: String,
    /// Legacy links.
    pub links: Option<Vec<String>>,
    /// OOM score adjustment.
    #[serde(deserialize_with = "nd")]
    pub oom_score_adj: i64,
    /// PID namespace mode.
    #[serde(deserialize_with = "nd")]
    pub pid_mode: String,
    /// Privileged container.
    #[serde(deserialize_with = "nd")]
    pub privileged: bool,
    /// Publish all exposed ports.
    #[serde(deserialize_with = "nd")]
    pub publish_all_ports: bool,
    /// Read-only root filesystem.
    #[serde(deserialize_with = "nd")]
    pub readonly_rootfs: bool,
    /// Security options (`seccomp=...`, `no-new-privileges`, ...).
    pub security_opt: Option<Vec<String>>,
    /// Tmpfs mounts: path → options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// UTS namespace mode.
    #[serde(rename = "UTSMode", deserialize_with = "nd")]
    pub uts_mode: String,
    /// User namespace mode.
    #[serde(deserialize_with = "nd")]
    pub userns_mode: String,
    /// Size of `/dev/shm` in bytes.
    #[serde(deserialize_with = "nd")]
    pub shm_size: i64,
    /// Namespaced sysctls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    /// Runtime name.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub runtime: String,
    /// Isolation technology (Windows).
    #[serde(deserialize_with = "nd")]
    pub isolation: String,
    /// CPU shares (relative weight).
    #[serde(deserialize_with = "nd")]
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    #[serde(deserialize_with = "nd")]
    pub memory: i64,
    /// CPU quota in units of 1e-9 CPUs.
    #[serde(rename = "NanoCpus", deserialize_with = "nd")]
    pub nano_cpus: i64,
    /// Parent cgroup.
    #[serde(deserialize_with = "nd")]
    pub cgroup_parent: String,
    /// Block IO weight.
    #[serde(deserialize_with = "nd")]
    pub blkio_weight: u16,
    /// Per-device block IO weights.
    pub blkio_weight_device: Option<Vec<WeightDevice>>,
    /// Per-device read limits, bytes per second.
    #[serde(rename = "BlkioDeviceReadBps")]
    pub blkio_device_read_bps: Option<Vec<ThrottleDevice>>,
    /// Per-device write limits, bytes per second.
    #[serde(rename = "BlkioDeviceWriteBps")]
    pub blkio_device_write_bps: Option<Vec<ThrottleDevice>>,
    /// Per-device read limits, operations per second.
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Option<Vec<ThrottleDevice>>,
    /// Per-device write limits, operations per second.
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Option<Vec<ThrottleDevice>>,
    /// CFS period.
    #[serde(deserialize_with = "nd")]
    pub cpu_period: i64,
    /// CFS quota.
    #[serde(deserialize_with = "nd")]
    pub cpu_quota: i64,
    /// CPUs allowed.
    #[serde(deserialize_with = "nd")]
    pub cpuset_cpus: String,
    /// Memory nodes allowed.
    #[serde(deserialize_with = "nd")]
    pub cpuset_mems: String,
    /// Devices to add.
    pub devices: Option<Vec<DeviceMapping>>,
    /// Device cgroup rules to add (`c 1:3 mr`).
    pub device_cgroup_rules: Option<Vec<String>>,
    /// Memory soft limit.
    #[serde(deserialize_with = "nd")]
    pub memory_reservation: i64,
    /// Memory + swap limit; -1 unlimited.
    #[serde(deserialize_with = "nd")]
    pub memory_swap: i64,
    /// Swappiness (0-100).
    pub memory_swappiness: Option<i64>,
    /// Disable the OOM killer.
    pub oom_kill_disable: Option<bool>,
    /// Pids limit; 0 or -1 unlimited.
    pub pids_limit: Option<i64>,
    /// Resource limits.
    pub ulimits: Option<Vec<Ulimit>>,
    /// Run an init process (`--init`).
    pub init: Option<bool>,
    /// Paths masked inside the container (set by the daemon on inspect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_paths: Option<Vec<String>>,
    /// Paths read-only inside the container (set by the daemon on inspect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly_paths: Option<Vec<String>>,
    /// Initial size of the TTY, `[height, width]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<Vec<u64>>,
    /// OCI annotations for the runtime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields berth does not model, kept as sent (see [`ContainerConfig::other`]).
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// Logging driver configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    /// Driver name (`json-file`, `none`, ...).
    #[serde(deserialize_with = "nd")]
    pub r#type: String,
    /// Driver options.
    pub config: Option<BTreeMap<String, String>>,
}

/// One host address a container port is published on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    /// Host IP; empty means all.
    #[serde(deserialize_with = "nd")]
    pub host_ip: String,
    /// Host port; empty means ephemeral.
    #[serde(deserialize_with = "nd")]
    pub host_port: String,
}

/// Restart policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `""`, `no`, `always`, `unless-stopped`, `on-failure`.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Retries for `on-failure`.
    #[serde(deserialize_with = "nd")]
    pub maximum_retry_count: i64,
}

/// A device made available in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    /// Host path.
    #[serde(deserialize_with = "nd")]
    pub path_on_host: String,
    /// Container path.
    #[serde(deserialize_with = "nd")]
    pub path_in_container: String,
    /// `rwm` subset.
    #[serde(deserialize_with = "nd")]
    pub cgroup_permissions: String,
}

/// A block device's IO weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightDevice {
    /// The device node on the host.
    #[serde(deserialize_with = "nd")]
    pub path: String,
    /// Its weight (10..1000).
    #[serde(deserialize_with = "nd")]
    pub weight: u16,
}

/// A block device's IO rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ThrottleDevice {
    /// The device node on the host.
    #[serde(deserialize_with = "nd")]
    pub path: String,
    /// Bytes or operations per second.
    #[serde(deserialize_with = "nd")]
    pub rate: u64,
}

/// A resource limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    /// Name (`nofile`, ...).
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Soft limit.
    #[serde(deserialize_with = "nd")]
    pub soft: i64,
    /// Hard limit.
    #[serde(deserialize_with = "nd")]
    pub hard: i64,
}

/// A `--mount` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountSpec {
    /// Container path.
    #[serde(deserialize_with = "nd")]
    pub target: String,
    /// Host path or volume name.
    #[serde(deserialize_with = "nd")]
    pub source: String,
    /// `bind`, `volume`, `tmpfs`, `npipe`, `cluster`.
    #[serde(deserialize_with = "nd")]
    pub r#type: String,
    /// Read-only.
    #[serde(deserialize_with = "nd")]
    pub read_only: bool,
    /// Consistency (ignored on Linux).
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub consistency: String,
    /// Options of a `bind` mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    /// Options of a `volume` mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    /// Options of a `tmpfs` mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
}

/// `BindOptions` of a `--mount type=bind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    /// `private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave`.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub propagation: String,
    /// Do not bind submounts (`bind-nonrecursive`).
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub non_recursive: bool,
    /// Create the source when missing.
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub create_mountpoint: bool,
    /// Read-only only at the top (`bind-recursive=writable`).
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub read_only_non_recursive: bool,
    /// Read-only all the way down, or fail (`bind-recursive=readonly`).
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub read_only_force_recursive: bool,
}

/// `VolumeOptions` of a `--mount type=volume`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    /// Do not copy the image's content into a new volume.
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub no_copy: bool,
    /// Labels of a volume made for this mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Driver and its options for a volume made for this mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<DriverConfig>,
    /// A path inside the volume to mount instead of its root.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub subpath: String,
}

/// A volume driver and its options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverConfig {
    /// Driver name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Driver options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
}

/// `TmpfsOptions` of a `--mount type=tmpfs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    /// Size in bytes (0: unlimited).
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub size_bytes: i64,
    /// Permission bits.
    #[serde(skip_serializing_if = "is_zero_u32", deserialize_with = "nd")]
    pub mode: u32,
    /// Extra options, `[["noexec"], ["nr_inodes", "1k"]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Vec<String>>>,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}
