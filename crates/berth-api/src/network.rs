//! Network bodies: list/inspect, create, connect/disconnect, prune.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::container::EndpointSettings;
use crate::de::nd;

/// One element of `GET /networks` and the body of `GET /networks/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkResource {
    /// Name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// ID (64 hex).
    #[serde(rename = "Id", deserialize_with = "nd")]
    pub id: String,
    /// Creation time (RFC 3339).
    #[serde(deserialize_with = "nd")]
    pub created: String,
    /// `local`.
    #[serde(deserialize_with = "nd")]
    pub scope: String,
    /// `bridge`, `host`, `null`.
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// IPv6 enabled.
    #[serde(rename = "EnableIPv6", deserialize_with = "nd")]
    pub enable_ipv6: bool,
    /// Address management.
    #[serde(rename = "IPAM", deserialize_with = "nd")]
    pub ipam: Ipam,
    /// No way out.
    #[serde(deserialize_with = "nd")]
    pub internal: bool,
    /// Attachable.
    #[serde(deserialize_with = "nd")]
    pub attachable: bool,
    /// Ingress.
    #[serde(deserialize_with = "nd")]
    pub ingress: bool,
    /// Attached containers by ID.
    #[serde(deserialize_with = "nd")]
    pub containers: BTreeMap<String, NetworkContainer>,
    /// Driver options.
    #[serde(deserialize_with = "nd")]
    pub options: BTreeMap<String, String>,
    /// Labels.
    #[serde(deserialize_with = "nd")]
    pub labels: BTreeMap<String, String>,
}

/// `IPAM` of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    /// `default`.
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// Subnets.
    pub config: Option<Vec<IpamConfig>>,
    /// Driver options.
    pub options: Option<BTreeMap<String, String>>,
}

/// One subnet of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    /// `10.1.0.0/24`.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub subnet: String,
    /// Gateway address.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "nd")]
    pub gateway: String,
    /// Sub-range.
    #[serde(
        rename = "IPRange",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nd"
    )]
    pub ip_range: String,
    /// Addresses kept out of allocation (`--aux-address name=ip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// A container attached to a network, as network inspect shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkContainer {
    /// Container name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Endpoint ID.
    #[serde(rename = "EndpointID", deserialize_with = "nd")]
    pub endpoint_id: String,
    /// MAC address.
    #[serde(deserialize_with = "nd")]
    pub mac_address: String,
    /// `10.1.0.2/24`.
    #[serde(rename = "IPv4Address", deserialize_with = "nd")]
    pub ipv4_address: String,
    /// IPv6 address.
    #[serde(rename = "IPv6Address", deserialize_with = "nd")]
    pub ipv6_address: String,
}

/// Body of `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateRequest {
    /// Name.
    #[serde(deserialize_with = "nd")]
    pub name: String,
    /// Deprecated: duplicates are always refused.
    #[serde(deserialize_with = "nd")]
    pub check_duplicate: bool,
    /// Driver (`bridge` or empty).
    #[serde(deserialize_with = "nd")]
    pub driver: String,
    /// No way out.
    #[serde(deserialize_with = "nd")]
    pub internal: bool,
    /// Attachable (accepted, meaningless locally).
    #[serde(deserialize_with = "nd")]
    pub attachable: bool,
    /// IPv6 (refused when true).
    #[serde(rename = "EnableIPv6", deserialize_with = "nd")]
    pub enable_ipv6: bool,
    /// Address management.
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    /// Driver options.
    pub options: Option<BTreeMap<String, String>>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
}

/// Answer of `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateResponse {
    /// The new network's ID.
    #[serde(rename = "Id", deserialize_with = "nd")]
    pub id: String,
    /// A warning, or empty.
    #[serde(deserialize_with = "nd")]
    pub warning: String,
}

/// Body of `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnectRequest {
    /// Container ID or name.
    #[serde(deserialize_with = "nd")]
    pub container: String,
    /// Endpoint settings (aliases, static address).
    pub endpoint_config: Option<EndpointSettings>,
}

/// Body of `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnectRequest {
    /// Container ID or name.
    #[serde(deserialize_with = "nd")]
    pub container: String,
    /// Disconnect even when the container is not attached.
    #[serde(deserialize_with = "nd")]
    pub force: bool,
}

/// Answer of `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkPruneResponse {
    /// Names of the removed networks.
    pub networks_deleted: Option<Vec<String>>,
}
