//! `GET /containers/{id}/stats`: docker's `StatsResponse`, the same shape on cgroup v1 and
//! v2 (fields a cgroup version lacks are left out, as dockerd leaves them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One sample of a container's resource usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerStats {
    /// The container's name, with its `/`.
    #[serde(default)]
    pub name: String,
    /// The container's ID.
    #[serde(default)]
    pub id: String,
    /// When this sample was read (RFC 3339 nano).
    pub read: String,
    /// When the previous sample was read (the zero time when there is none).
    pub preread: String,
    /// Processes.
    pub pids_stats: PidsStats,
    /// Block I/O.
    pub blkio_stats: BlkioStats,
    /// Number of processors (Windows only; 0).
    pub num_procs: u32,
    /// Storage (Windows only; empty).
    pub storage_stats: BTreeMap<String, u64>,
    /// CPU now.
    pub cpu_stats: CpuStats,
    /// CPU at the previous sample.
    pub precpu_stats: CpuStats,
    /// Memory.
    pub memory_stats: MemoryStats,
    /// Network interfaces of the container's namespace, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

/// Processes in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidsStats {
    /// Tasks now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    /// The limit (absent when unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// Block I/O counters, per device and operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioStats {
    /// Bytes read and written.
    pub io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
    /// I/O operations.
    pub io_serviced_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub io_queue_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub io_service_time_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub io_wait_time_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub io_merged_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub io_time_recursive: Option<Vec<BlkioEntry>>,
    /// v1 only.
    pub sectors_recursive: Option<Vec<BlkioEntry>>,
}

/// One block I/O counter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioEntry {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// `read`, `write`, ... (docker's capitalisation on v1: `Read`, `Write`).
    pub op: String,
    /// The count.
    pub value: u64,
}

/// CPU usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuStats {
    /// The container's CPU time.
    pub cpu_usage: CpuUsage,
    /// The host's CPU time, in nanoseconds (absent in an empty previous sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_cpu_usage: Option<u64>,
    /// Online CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_cpus: Option<u32>,
    /// CFS throttling.
    pub throttling_data: ThrottlingData,
}

/// The container's CPU time, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// Total.
    pub total_usage: u64,
    /// Per CPU (v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percpu_usage: Option<Vec<u64>>,
    /// In kernel mode.
    pub usage_in_kernelmode: u64,
    /// In user mode.
    pub usage_in_usermode: u64,
}

/// CFS throttling counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlingData {
    /// Periods elapsed.
    pub periods: u64,
    /// Periods throttled.
    pub throttled_periods: u64,
    /// Time throttled, in nanoseconds.
    pub throttled_time: u64,
}

/// Memory usage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryStats {
    /// Bytes in use (page cache included; clients subtract the inactive file pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<u64>,
    /// Highest usage (v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_usage: Option<u64>,
    /// The raw `memory.stat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<BTreeMap<String, u64>>,
    /// The limit; the host's memory when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// Counters of one network interface.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStats {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Sent packets dropped.
    pub tx_dropped: u64,
}
