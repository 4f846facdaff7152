//! `GET /containers/json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EndpointSettings, MountPoint};
use crate::de::nd;

/// One element of `GET /containers/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSummary {
    /// 64-hex ID.
    #[serde(deserialize_with = "nd")]
    pub id: String,
    /// Names, each with a leading `/`.
    #[serde(deserialize_with = "nd")]
    pub names: Vec<String>,
    /// Image as given at create.
    #[serde(deserialize_with = "nd")]
    pub image: String,
    /// Image ID.
    #[serde(rename = "ImageID", deserialize_with = "nd")]
    pub image_id: String,
    /// Command line as one string.
    #[serde(deserialize_with = "nd")]
    pub command: String,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "nd")]
    pub created: i64,
    /// Published ports.
    #[serde(deserialize_with = "nd")]
    pub ports: Vec<Port>,
    /// Size of changed files (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Total size (only with `size=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// State: `created`, `running`, `exited`, ...
    #[serde(deserialize_with = "nd")]
    pub state: String,
    /// Human status: `Up 2 minutes`, `Exited (0) 3 seconds ago`.
    #[serde(deserialize_with = "nd")]
    pub status: String,
    /// Host config subset.
    pub host_config: Option<SummaryHostConfig>,
    /// Network settings subset.
    pub network_settings: Option<SummaryNetworkSettings>,
    /// Mounts.
    #[serde(deserialize_with = "nd")]
    pub mounts: Vec<MountPoint>,
}

/// A published or exposed port of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Port {
    /// Host IP.
    #[serde(
        rename = "IP",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nd"
    )]
    pub ip: String,
    /// Container port.
    #[serde(deserialize_with = "nd")]
    pub private_port: u16,
    /// Host port, when published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// `tcp`, `udp`, `sctp`.
    #[serde(deserialize_with = "nd")]
    pub r#type: String,
}

/// `HostConfig` of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryHostConfig {
    /// Network mode.
    #[serde(deserialize_with = "nd")]
    pub network_mode: String,
}

/// `NetworkSettings` of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SummaryNetworkSettings {
    /// Endpoints per network.
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}
