//! Image bodies: list, inspect, delete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::container::{ContainerConfig, GraphDriverData};
use crate::de::nd;

/// One element of `GET /images/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageSummary {
    /// `sha256:` ID.
    #[serde(deserialize_with = "nd")]
    pub id: String,
    /// Parent image ID or `""`.
    #[serde(deserialize_with = "nd")]
    pub parent_id: String,
    /// `repo:tag` references.
    #[serde(deserialize_with = "nd")]
    pub repo_tags: Vec<String>,
    /// `repo@digest` references.
    #[serde(deserialize_with = "nd")]
    pub repo_digests: Vec<String>,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "nd")]
    pub created: i64,
    /// Total size in bytes.
    #[serde(deserialize_with = "nd")]
    pub size: i64,
    /// Size shared with other images; -1 when not computed.
    #[serde(deserialize_with = "nd")]
    pub shared_size: i64,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Containers using the image; -1 when not computed.
    #[serde(deserialize_with = "nd")]
    pub containers: i64,
}

/// Response of `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageInspect {
    /// `sha256:` ID.
    #[serde(deserialize_with = "nd")]
    pub id: String,
    /// `repo:tag` references.
    #[serde(deserialize_with = "nd")]
    pub repo_tags: Vec<String>,
    /// `repo@digest` references.
    #[serde(deserialize_with = "nd")]
    pub repo_digests: Vec<String>,
    /// Parent image ID.
    #[serde(deserialize_with = "nd")]
    pub parent: String,
    /// Commit message.
    #[serde(deserialize_with = "nd")]
    pub comment: String,
    /// Creation time, RFC 3339 nano.
    #[serde(deserialize_with = "nd")]
    pub created: String,
    /// Builder version.
    #[serde(deserialize_with = "nd")]
    pub docker_version: String,
    /// Author.
    #[serde(deserialize_with = "nd")]
    pub author: String,
    /// The default container configuration of the image.
    pub config: Option<ContainerConfig>,
    /// CPU architecture (`amd64`).
    #[serde(deserialize_with = "nd")]
    pub architecture: String,
    /// Architecture variant.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub variant: String,
    /// OS (`linux`).
    #[serde(deserialize_with = "nd")]
    pub os: String,
    /// OS version.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub os_version: String,
    /// Size in bytes.
    #[serde(deserialize_with = "nd")]
    pub size: i64,
    /// Storage driver data.
    pub graph_driver: Option<GraphDriverData>,
    /// Layers.
    #[serde(rename = "RootFS")]
    pub root_fs: Option<RootFs>,
    /// Local metadata.
    pub metadata: Option<ImageMetadata>,
}

/// `RootFS` of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RootFs {
    /// `layers`.
    #[serde(deserialize_with = "nd")]
    pub r#type: String,
    /// Uncompressed layer digests (diff IDs).
    #[serde(deserialize_with = "nd")]
    pub layers: Vec<String>,
}

/// `Metadata` of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageMetadata {
    /// Last time the image was tagged, RFC 3339 nano, or empty.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub last_tag_time: String,
}

/// One element of `DELETE /images/{name}`'s response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageDeleteResponseItem {
    /// A reference that was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    /// An image ID that was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}
