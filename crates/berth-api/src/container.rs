//! Container bodies: create request and response, inspect, list, wait.
//!
//! [`ContainerConfig`] and [`HostConfig`] (in `host_config.rs`) are the engine's input model
//! (as in moby): the engine stores them and turns them into an OCI spec. Fields berth does not
//! model are kept as sent in each struct's `other` map, so the engine refuses the ones it
//! cannot honour by name: nothing is dropped silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::{nd, str_slice};

/// `Config` of create and inspect: the portable part of a container's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    /// Hostname inside the container.
    #[serde(deserialize_with = "nd")]
    pub hostname: String,
    /// Domain name inside the container.
    #[serde(deserialize_with = "nd")]
    pub domainname: String,
    /// `user`, `user:group`, uid or uid:gid to run the command as.
    #[serde(deserialize_with = "nd")]
    pub user: String,
    /// Attach stdin.
    #[serde(deserialize_with = "nd")]
    pub attach_stdin: bool,
    /// Attach stdout.
    #[serde(deserialize_with = "nd")]
    pub attach_stdout: bool,
    /// Attach stderr.
    #[serde(deserialize_with = "nd")]
    pub attach_stderr: bool,
    /// Exposed ports: `{"80/tcp": {}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, EmptyObject>>,
    /// Allocate a TTY.
    #[serde(deserialize_with = "nd")]
    pub tty: bool,
    /// Keep stdin open.
    #[serde(deserialize_with = "nd")]
    pub open_stdin: bool,
    /// Close stdin after the first attached client detaches.
    #[serde(deserialize_with = "nd")]
    pub stdin_once: bool,
    /// Environment, `KEY=value`.
    pub env: Option<Vec<String>>,
    /// Command (a string or a list).
    #[serde(deserialize_with = "str_slice")]
    pub cmd: Option<Vec<String>>,
    /// Health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Command is already escaped (Windows only).
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub args_escaped: bool,
    /// Image name as given by the user.
    #[serde(deserialize_with = "nd")]
    pub image: String,
    /// Anonymous volumes: `{"/data": {}}`.
    pub volumes: Option<BTreeMap<String, EmptyObject>>,
    /// Working directory.
    #[serde(deserialize_with = "nd")]
    pub working_dir: String,
    /// Entrypoint (a string or a list).
    #[serde(deserialize_with = "str_slice")]
    pub entrypoint: Option<Vec<String>>,
    /// Disable networking.
    #[serde(skip_serializing_if = "std::ops::Not::not", deserialize_with = "nd")]
    pub network_disabled: bool,
    /// MAC address (deprecated in 1.44 for the endpoint setting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// ONBUILD triggers of the image.
    pub on_build: Option<Vec<String>>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Signal to stop the container (`SIGTERM` by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Seconds to wait for the stop signal before SIGKILL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// Shell for shell-form commands.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "str_slice"
    )]
    pub shell: Option<Vec<String>>,
    /// Fields of the request that berth does not model, kept as sent so that the engine can
    /// refuse the ones it cannot honour by name (never drop them silently) and inspect can
    /// echo them.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `{}`: the value type of docker's port and volume sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

/// A health check of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "str_slice"
    )]
    pub test: Option<Vec<String>>,
    /// Nanoseconds between checks.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub interval: i64,
    /// Nanoseconds before a check is considered hung.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub timeout: i64,
    /// Consecutive failures before unhealthy.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub retries: i64,
    /// Nanoseconds of start period.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub start_period: i64,
    /// Nanoseconds between checks during the start period.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "nd")]
    pub start_interval: i64,
}

pub(crate) fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// `NetworkingConfig` of a create request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    /// Endpoint settings per network name.
    pub endpoints_config: Option<BTreeMap<String, EndpointSettings>>,
}

/// A container's endpoint on one network (create request and inspect).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSettings {
    /// Static addresses requested.
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// Legacy links.
    #[serde(rename = "Links")]
    pub links: Option<Vec<String>>,
    /// DNS aliases.
    #[serde(rename = "Aliases")]
    pub aliases: Option<Vec<String>>,
    /// MAC address.
    #[serde(rename = "MacAddress", deserialize_with = "nd")]
    pub mac_address: String,
    /// Network ID.
    #[serde(rename = "NetworkID", deserialize_with = "nd")]
    pub network_id: String,
    /// Endpoint ID.
    #[serde(rename = "EndpointID", deserialize_with = "nd")]
    pub endpoint_id: String,
    /// Gateway.
    #[serde(rename = "Gateway", deserialize_with = "nd")]
    pub gateway: String,
    /// IPv4 address.
    #[serde(rename = "IPAddress", deserialize_with = "nd")]
    pub ip_address: String,
    /// IPv4 prefix length.
    #[serde(rename = "IPPrefixLen", deserialize_with = "nd")]
    pub ip_prefix_len: i64,
    /// IPv6 gateway.
    #[serde(rename = "IPv6Gateway", deserialize_with = "nd")]
    pub ipv6_gateway: String,
    /// IPv6 address.
    #[serde(rename = "GlobalIPv6Address", deserialize_with = "nd")]
    pub global_ipv6_address: String,
    /// IPv6 prefix length.
    #[serde(rename = "GlobalIPv6PrefixLen", deserialize_with = "nd")]
    pub global_ipv6_prefix_len: i64,
    /// DNS names of the container on this network.
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
    /// Endpoint driver options (berth refuses a request that sets any).
    #[serde(rename = "DriverOpts")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// Fields berth does not model, kept as sent (see [`ContainerConfig::other`]).
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// Static IPAM settings of an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointIpamConfig {
    /// IPv4 address.
    #[serde(
        rename = "IPv4Address",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nd"
    )]
    pub ipv4_address: String,
    /// IPv6 address.
    #[serde(
        rename = "IPv6Address",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "nd"
    )]
    pub ipv6_address: String,
    /// Link-local addresses.
    #[serde(rename = "LinkLocalIPs", skip_serializing_if = "Option::is_none")]
    pub link_local_ips: Option<Vec<String>>,
}

/// Body of `POST /containers/create`: the config at top level plus host and network config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateBody {
    /// The portable configuration.
    #[serde(flatten)]
    pub config: ContainerConfig,
    /// The host configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_config: Option<HostConfig>,
    /// The networking configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<NetworkingConfig>,
}

/// Response of `POST /containers/create` (201).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerCreateResponse {
    /// The new container's 64-hex ID.
    pub id: String,
    /// Warnings; never `null`.
    #[serde(default, deserialize_with = "nd")]
    pub warnings: Vec<String>,
}

/// Response of `POST /containers/{id}/wait`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    /// The container's exit code.
    pub status_code: i64,
    /// Set when waiting failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WaitExitError>,
}

/// The error of a wait.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WaitExitError {
    /// What went wrong.
    #[serde(deserialize_with = "nd")]
    pub message: String,
}

mod host_config;
mod inspect;
mod ops;
mod stats;
mod summary;

pub use host_config::*;
pub use inspect::*;
pub use ops::*;
pub use stats::*;
pub use summary::*;
