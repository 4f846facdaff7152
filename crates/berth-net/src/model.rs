//! The values the driver takes and returns: driver settings, requests, and the serializable
//! `Network` and `Attachment` the engine stores.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::ipam::{Addresses, Pool};

/// Driver-wide settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverConfig {
    /// Where subnets of networks created without `--subnet` come from, in order
    /// (default: dockerd's, see [`Pool::docker_defaults`]).
    pub pools: Vec<Pool>,
    /// MTU of bridges and veths.
    pub mtu: u32,
    /// The host's resolvers the DNS server forwards to (default: from `/etc/resolv.conf`).
    pub upstream_dns: Vec<SocketAddr>,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            pools: Pool::docker_defaults(),
            mtu: 1500,
            upstream_dns: std::fs::read_to_string("/etc/resolv.conf")
                .map(|t| crate::dns::parse_resolv_conf(&t))
                .unwrap_or_default(),
        }
    }
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest {
    /// The network's name.
    pub name: String,
    /// The network's ID.
    pub id: String,
    /// `--subnet`, or one from the pool.
    pub subnet: Option<Ipv4Net>,
    /// `--gateway`, or the subnet's first address.
    pub gateway: Option<Ipv4Addr>,
    /// The bridge's name (≤ 15 characters), e.g. `berth0` or `br-<id12>`.
    pub bridge: String,
    /// `--ip-range`: where containers' dynamic addresses come from.
    pub ip_range: Option<Ipv4Net>,
    /// `--aux-address name=ip`: addresses never handed out.
    pub aux: BTreeMap<String, Ipv4Addr>,
    /// `--internal`: no way out.
    pub internal: bool,
    /// Run the embedded DNS server (user-defined networks; not the default `bridge`).
    pub dns: bool,
    /// `--label`s.
    pub labels: BTreeMap<String, String>,
}

/// A created network, serializable; the engine stores it and passes it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The network's name.
    pub name: String,
    /// The network's ID.
    pub id: String,
    /// The bridge's name.
    pub bridge: String,
    /// Subnet, gateway and allocated addresses.
    pub addresses: Addresses,
    /// No way out.
    pub internal: bool,
    /// The embedded DNS server runs on the gateway address.
    pub dns: bool,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// MTU of the bridge and its veths.
    pub mtu: u32,
}

impl Network {
    /// The subnet.
    pub fn subnet(&self) -> Ipv4Net {
        self.addresses.subnet
    }
    /// The gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        self.addresses.gateway
    }
}

/// Transport of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One published port: the caller gives one binding per container port (the API's
/// `PortBindings` has a key per port, the CLI having expanded `-p 8000-8010:80-90`);
/// `host_port == 0` picks a free port (`-P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// The host address, `None` for all of the host's addresses (including 127.0.0.1).
    pub host_ip: Option<Ipv4Addr>,
    /// The host port; 0 picks a free one.
    pub host_port: u16,
    /// The container's port.
    pub container_port: u16,
    /// tcp or udp.
    pub protocol: Protocol,
}

/// What to attach.
#[derive(Debug, Clone, Default)]
pub struct AttachRequest {
    /// The container's ID (owns the address, tags the rules).
    pub container_id: String,
    /// DNS names: the container's name, `--network-alias`es, the hostname.
    pub names: Vec<String>,
    /// `--ip`, or the lowest free address.
    pub ip: Option<Ipv4Addr>,
    /// Published ports (ignored on internal networks, like docker).
    pub ports: Vec<PortBinding>,
    /// Where the container's resolver forwards names that are not the networks' (`--dns`);
    /// empty: the host's resolvers ([`DriverConfig::upstream_dns`]).
    pub dns_upstreams: Vec<SocketAddr>,
    /// `--mac-address`, or docker's `02:42:<ip>`.
    pub mac: Option<[u8; 6]>,
    /// `--link NAME:ALIAS` on this network: `ALIAS` resolves to `NAME` for this container only
    /// (alias, name).
    pub links: Vec<(String, String)>,
}

/// A container's endpoint on a network, serializable for restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The network's ID.
    pub network_id: String,
    /// The container's ID.
    pub container_id: String,
    /// The container's address.
    pub ip: Ipv4Addr,
    /// The subnet's prefix length.
    pub prefix_len: u8,
    /// The gateway.
    pub gateway: Ipv4Addr,
    /// The container end's MAC, `02:42:` + the address (docker's scheme).
    pub mac: String,
    /// The interface name inside the container (`eth0`, `eth1`, …).
    pub ifname: String,
    /// The host end of the veth.
    pub host_veth: String,
    /// The MTU.
    pub mtu: u32,
    /// DNS names.
    pub names: Vec<String>,
    /// Published ports, with the host ports actually chosen.
    pub ports: Vec<PortBinding>,
    /// The DNS server to put in the container's resolv.conf (`127.0.0.11`, the container's
    /// resolver), if the network has DNS.
    pub dns_server: Option<Ipv4Addr>,
}
