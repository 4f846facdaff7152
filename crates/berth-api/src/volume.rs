//! Volume bodies: create, list, inspect, prune.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::nd;

/// A volume (`GET /volumes/{name}`, elements of list and `system df`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    /// Name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Driver (`local`).
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// Where its data is on the host.
    #[serde(deserialize_with = "nd")]
    pub mountpoint: String,
    /// Creation time, RFC 3339.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub created_at: String,
    /// Driver status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, serde_json::Value>>,
    /// Labels (`null` when none, as docker prints).
    pub labels: Option<BTreeMap<String, String>>,
    /// `local`.
    #[serde(deserialize_with = "nd")]
    pub scope: String,
    /// Driver options (`null` when none).
    pub options: Option<BTreeMap<String, String>>,
    /// Size and users, in `system df` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsageData>,
}

/// `UsageData` of a volume.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeUsageData {
    /// Bytes used (-1: not computed).
    #[serde(deserialize_with = "nd")]
    pub size: i64,
    /// Containers referring to it (-1: not computed).
    #[serde(deserialize_with = "nd")]
    pub ref_count: i64,
}

/// Body of `POST /volumes/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateOptions {
    /// Name; generated when empty.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Driver; `local` when empty.
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// Driver options.
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
}

/// Body of `GET /volumes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeListResponse {
    /// The volumes.
    pub volumes: Option<Vec<Volume>>,
    /// Warnings.
    pub warnings: Option<Vec<String>>,
}

/// Body of `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumePruneResponse {
    /// Names of the removed volumes.
    pub volumes_deleted: Option<Vec<String>>,
    /// Bytes freed.
    #[serde(deserialize_with = "nd")]
    pub space_reclaimed: u64,
}
