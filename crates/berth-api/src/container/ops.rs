//! Operations on a running container: top, update, rename and prune.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RestartPolicy;
use crate::de::nd;

/// The answer of `GET /containers/{id}/top`: `ps`'s header and rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerTopResponse {
    /// The column titles.
    pub titles: Vec<String>,
    /// One row per process, one string per column.
    pub processes: Vec<Vec<String>>,
}

/// The body of `POST /containers/{id}/update` (docker's `UpdateConfig`): the resources
/// berth can change on a live container and the restart policy. A zero or `null` value
/// leaves the setting as it is; every other field lands in [`other`](Self::other), so that
/// the daemon can refuse a set one by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUpdateBody {
    /// CPU shares (relative weight).
    #[serde(default, deserialize_with = "nd")]
    pub cpu_shares: i64,
    /// Memory limit in bytes.
    #[serde(default, deserialize_with = "nd")]
    pub memory: i64,
    /// CPU quota in units of 1e-9 CPUs.
    #[serde(default, rename = "NanoCpus", deserialize_with = "nd")]
    pub nano_cpus: i64,
    /// CFS period.
    #[serde(default, deserialize_with = "nd")]
    pub cpu_period: i64,
    /// CFS quota.
    #[serde(default, deserialize_with = "nd")]
    pub cpu_quota: i64,
    /// CPUs allowed.
    #[serde(default, deserialize_with = "nd")]
    pub cpuset_cpus: String,
    /// Memory nodes allowed.
    #[serde(default, deserialize_with = "nd")]
    pub cpuset_mems: String,
    /// Memory soft limit.
    #[serde(default, deserialize_with = "nd")]
    pub memory_reservation: i64,
    /// Memory + swap limit; -1 unlimited.
    #[serde(default, deserialize_with = "nd")]
    pub memory_swap: i64,
    /// Pids limit; 0 or -1 unlimited; `null` unchanged.
    #[serde(default)]
    pub pids_limit: Option<i64>,
    /// The new restart policy; an empty name leaves it as it is.
    #[serde(default, deserialize_with = "nd")]
    pub restart_policy: RestartPolicy,
    /// Every other field of docker's `Resources`: kept so the engine can refuse a set one by
    /// name (`berth_engine::options`), never dropped.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The answer of `POST /containers/{id}/update`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUpdateResponse {
    /// Warnings about the update.
    #[serde(default, deserialize_with = "nd")]
    pub warnings: Vec<String>,
}

/// The answer of `POST /containers/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerPruneResponse {
    /// The IDs of the removed containers.
    #[serde(default, deserialize_with = "nd")]
    pub containers_deleted: Vec<String>,
    /// Disk space freed, in bytes.
    #[serde(default)]
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_body_as_the_docker_cli_sends_it() {
        // docker update --memory 64m --pids-limit 50: every Resources field, mostly zero
        let body = r#"{"CpuShares":0,"Memory":67108864,"NanoCpus":0,"CgroupParent":"",
            "BlkioWeight":0,"BlkioWeightDevice":null,"CpuPeriod":0,"CpuQuota":0,
            "CpusetCpus":"","CpusetMems":"","Devices":null,"MemoryReservation":0,
            "MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":50,
            "Ulimits":null,"CpuCount":0,"RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#;
        let b: ContainerUpdateBody = serde_json::from_str(body).unwrap();
        assert_eq!(b.memory, 64 << 20);
        assert_eq!(b.pids_limit, Some(50));
        let b: ContainerUpdateBody =
            serde_json::from_str(r#"{"BlkioWeight":300,"OomKillDisable":true}"#).unwrap();
        assert_eq!(b.other.len(), 2, "kept for the engine to refuse by name");
    }
}
