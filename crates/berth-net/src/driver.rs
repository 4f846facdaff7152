//! The bridge driver: networks and attachments, tying IPAM, netlink, nftables and DNS together.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::Ipv4Net;

use crate::dns::resolver::{self, Resolver};
use crate::dns::zone::Zone;
use crate::dns::{DnsError, RESOLVER_IP};
use crate::firewall::{self, FirewallError};
use crate::ipam::{self, Addresses, IpamError, Pool};
pub use crate::model::{
    AttachRequest, Attachment, DriverConfig, Network, NetworkRequest, PortBinding, Protocol,
    RangeError,
};
use crate::netlink::{self, NetlinkError, VethSpec};
use crate::reaper::Reaper;

/// Errors of the driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Address management refused.
    #[error(transparent)]
    Ipam(#[from] IpamError),
    /// A netlink job failed.
    #[error("netlink")]
    Netlink(#[from] NetlinkError),
    /// A firewall change failed.
    #[error("firewall")]
    Firewall(#[from] FirewallError),
    /// The DNS server could not start.
    #[error("dns server")]
    Dns(#[from] DnsError),
    /// A bridge name the kernel would refuse.
    #[error("invalid bridge name {0:?} (1 to 15 characters, no '/' or whitespace)")]
    BridgeName(String),
    /// The host port is taken (docker's message).
    #[error("Bind for {addr} failed: port is already allocated")]
    PortAllocated {
        /// The host address and port.
        addr: SocketAddrV4,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The veth of an earlier run of the container is still being deleted in the background
    /// (see [`LinkTeardown::Background`]); attaching now could race that deletion.
    #[error("veth {0} of an earlier run of this container is still being deleted; try again")]
    StillDeleting(String),
    /// A link of the bridge's name exists with another address (another daemon's, or
    /// left behind): reused only when its address matches, as dockerd does.
    #[error(
        "bridge {bridge} already exists{}: it is reused only when its address matches; choose another bridge name (--bridge) or remove it (ip link del {bridge})",
        if .addresses.is_empty() { String::new() } else { format!(" with address {}", .addresses.join(", ")) }
    )]
    BridgeExists {
        /// The bridge's name.
        bridge: String,
        /// Its IPv4 addresses.
        addresses: Vec<String>,
    },
    /// The network still has attachments.
    #[error("error while removing network: network {0} has active endpoints")]
    InUse(String),
    /// An operation failed and so did part of undoing it.
    #[error("{cause} (and cleanup failed: {})", list(cleanup))]
    CleanupFailed {
        /// The first failure.
        #[source]
        cause: Box<Error>,
        /// Every failure while undoing.
        cleanup: Vec<TeardownError>,
    },
    /// Teardown failed; every failure is listed.
    #[error("teardown failed: {}", list(.0))]
    Teardown(Vec<TeardownError>),
}

/// The class of an error, for the engine's mapping onto HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input (a subnet, gateway, address or bridge name): 400.
    InvalidArgument,
    /// Refused by a rule (an overlapping pool, a network in use): 403, as docker answers.
    Forbidden,
    /// Something already taken (an address, a host port, a link name).
    Conflict,
    /// The host failed (netlink, nft, sysctl, DNS socket, teardown): 500.
    Internal,
}

impl Error {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Ipam(e) => match e {
                IpamError::PoolOverlap { .. } | IpamError::PoolExhausted => ErrorKind::Forbidden,
                IpamError::AddressInUse(_) => ErrorKind::Conflict,
                IpamError::Exhausted(_) => ErrorKind::Forbidden,
                IpamError::InvalidPool { .. }
                | IpamError::BadRange { .. }
                | IpamError::BadAux { .. }
                | IpamError::StaticOnDynamic(_)
                | IpamError::NotInRange(_)
                | IpamError::SubnetTooSmall(_)
                | IpamError::BadGateway { .. }
                | IpamError::BadAddress { .. } => ErrorKind::InvalidArgument,
            },
            Error::BridgeName(_) => ErrorKind::InvalidArgument,
            Error::InUse(_) => ErrorKind::Forbidden,
            Error::PortAllocated { .. }
            | Error::Netlink(NetlinkError::LinkExists(_))
            | Error::BridgeExists { .. } => ErrorKind::Conflict,
            Error::CleanupFailed { cause, .. } => cause.kind(),
            Error::Netlink(_)
            | Error::Firewall(_)
            | Error::Dns(_)
            | Error::Teardown(_)
            | Error::StillDeleting(_) => ErrorKind::Internal,
        }
    }
}

fn list(errs: &[TeardownError]) -> String {
    errs.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One failure during teardown.
#[derive(Debug, thiserror::Error)]
pub enum TeardownError {
    /// Deleting a link failed.
    #[error("delete link {name}: {source}")]
    Link {
        /// The link.
        name: String,
        /// The error.
        #[source]
        source: NetlinkError,
    },
    /// Removing firewall rules failed.
    #[error("remove firewall rules of {what}: {source}")]
    Firewall {
        /// What the rules were for.
        what: String,
        /// The error.
        #[source]
        source: FirewallError,
    },
}

/// The bridge driver. Holds the names of the networks with DNS and the containers' resolvers;
/// everything else lives in the kernel and in the [`Network`]/[`Attachment`] values the engine
/// keeps.
#[derive(Debug, Default)]
pub struct Driver {
    config: DriverConfig,
    /// Network ID → its names (networks with DNS only).
    zones: Mutex<HashMap<String, Arc<Zone>>>,
    /// Container ID → its resolver at 127.0.0.11 (while it is on a network with DNS).
    resolvers: Mutex<HashMap<String, Resolver>>,
    reaper: Reaper,
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn check_bridge_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', '\t', '\n', ':']) {
        return Err(Error::BridgeName(name.to_string()));
    }
    Ok(())
}

fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

fn mac_string(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn with_cleanup(cause: Error, cleanup: Vec<TeardownError>) -> Error {
    if cleanup.is_empty() {
        cause
    } else {
        Error::CleanupFailed {
            cause: Box::new(cause),
            cleanup,
        }
    }
}

impl Driver {
    /// A driver with `config`.
    pub fn new(config: DriverConfig) -> Self {
        Driver {
            config,
            zones: Mutex::new(HashMap::new()),
            resolvers: Mutex::new(HashMap::new()),
            reaper: Reaper::default(),
        }
    }

    /// The IPv4 addresses of an existing link `bridge`; `None` when there is none. The
    /// default network adopts an existing bridge's address, as dockerd adopts `docker0`'s.
    pub fn bridge_addresses(&self, bridge: &str) -> Result<Option<Vec<Ipv4Net>>, Error> {
        let name = bridge.to_string();
        Ok(netlink::run(None, |h| async move {
            netlink::link_ipv4(&h, &name).await
        })?)
    }

    /// The subnet a new network would get: the first pool subnet overlapping neither `existing`
    /// networks nor the host's routes.
    pub fn pick_subnet(&self, existing: &[Network]) -> Result<Ipv4Net, Error> {
        let routes = netlink::host_routes()?;
        let taken: Vec<Ipv4Net> = existing.iter().map(Network::subnet).collect();
        Ok(Pool::pick_from(&self.config.pools, &taken, &routes)?)
    }

    /// Creates the network: checks the subnet against `existing` networks and the host's routes,
    /// creates and addresses the bridge, installs its nftables table, opens foreign forward
    /// chains and starts DNS. A failure undoes what was done.
    pub fn create_network(
        &self,
        req: NetworkRequest,
        existing: &[Network],
    ) -> Result<Network, Error> {
        check_bridge_name(&req.bridge)?;
        let subnet = match req.subnet {
            Some(s) => {
                ipam::check_overlap(s, existing.iter().map(|n| (n.name.as_str(), n.subnet())))?;
                // The routes of an existing bridge of this name (its subnet, its local and
                // broadcast addresses) are its own, not a conflict.
                let own = self.bridge_addresses(&req.bridge)?.unwrap_or_default();
                let routes: Vec<Ipv4Net> = netlink::host_routes()?
                    .into_iter()
                    .filter(|r| !own.iter().any(|a| a.trunc().contains(r)))
                    .collect();
                ipam::check_overlap(s, routes.iter().map(|r| ("host route", *r)))?;
                s
            }
            None => self.pick_subnet(existing)?,
        };
        let user_subnet = req.subnet.is_some();
        let mut addresses =
            Addresses::new(subnet, req.gateway)?.with_range(req.ip_range, req.aux)?;
        addresses.user_subnet = user_subnet;
        let net = Network {
            name: req.name,
            id: req.id,
            bridge: req.bridge,
            addresses,
            internal: req.internal,
            dns: req.dns,
            labels: req.labels,
            mtu: self.config.mtu,
        };
        match self.setup_network(&net, false, true) {
            Ok(()) => {}
            // Another network's (or another daemon's) bridge: not ours to tear down.
            Err(Error::Netlink(NetlinkError::LinkExists(bridge))) => {
                let addresses = self
                    .bridge_addresses(&bridge)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                return Err(Error::BridgeExists { bridge, addresses });
            }
            Err(cause) => {
                let cleanup = self.teardown_network(&net);
                return Err(with_cleanup(cause, cleanup));
            }
        }
        Ok(net)
    }

    /// Brings up the bridge, the sysctls, the forwarding openings and DNS; `apply_table` also
    /// (re)writes the network's nftables table, which a restore keeps when it survived.
    fn setup_network(&self, net: &Network, reuse: bool, apply_table: bool) -> Result<(), Error> {
        let (bridge, gw, mtu) = (net.bridge.clone(), net.gateway(), net.mtu);
        let gw_net =
            Ipv4Net::new(gw, net.subnet().prefix_len()).map_err(|_| IpamError::BadGateway {
                gateway: gw,
                subnet: net.subnet(),
            })?;
        netlink::run(None, move |h| async move {
            netlink::ensure_bridge(&h, &bridge, gw_net, mtu, reuse).await
        })?;
        firewall::sysctl("net/ipv4/ip_forward", "1")?;
        firewall::sysctl(&format!("net/ipv4/conf/{}/route_localnet", net.bridge), "1")?;
        if apply_table {
            firewall::apply_network(&net.bridge, net.subnet(), net.internal)?;
        }
        firewall::open_foreign_forward(&net.bridge)?;
        if net.dns {
            self.zones
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(net.id.clone())
                .or_insert_with(|| Arc::new(Zone::new(&net.name)));
        }
        Ok(())
    }

    fn teardown_network(&self, net: &Network) -> Vec<TeardownError> {
        let mut errors = Vec::new();
        self.zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&net.id);
        let what = format!("network {}", net.name);
        for source in firewall::close_foreign_forward(&net.bridge) {
            errors.push(TeardownError::Firewall {
                what: what.clone(),
                source,
            });
        }
        if let Err(source) = firewall::remove_network(&net.bridge) {
            errors.push(TeardownError::Firewall { what, source });
        }
        let bridge = net.bridge.clone();
        if let Err(source) = netlink::run(None, move |h| async move {
            netlink::delete_link(&h, &bridge).await
        }) {
            errors.push(TeardownError::Link {
                name: net.bridge.clone(),
                source,
            });
        }
        errors
    }

    /// Removes the network: DNS, foreign forward rules, its nftables table, the bridge. Refused
    /// while addresses are allocated. Every failure is reported.
    pub fn remove_network(&self, net: &Network) -> Result<(), Error> {
        if !net.addresses.allocated.is_empty() {
            return Err(Error::InUse(net.name.clone()));
        }
        let errors = self.teardown_network(net);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Teardown(errors))
        }
    }

    /// Whether links are enslaved to the network's bridge. At the daemon's stop, after its
    /// own veths are gone, any left are another daemon's (an adopted, shared bridge).
    pub fn bridge_has_ports(&self, net: &Network) -> Result<bool, Error> {
        let bridge = net.bridge.clone();
        Ok(netlink::run(
            None,
            |h| async move { netlink::port_count(&h, &bridge).await },
        )? > 0)
    }

    /// Attaches the network namespace `netns` (an fd of `/proc/<pid>/ns/net` or a bind-mounted
    /// netns file): allocates an address in `net`, creates the veth pair, configures the
    /// container end (`ethN`, address, MTU, default route unless one exists, `lo` up),
    /// publishes ports and registers DNS names. A failure undoes what was done.
    pub fn attach(
        &self,
        net: &mut Network,
        netns: BorrowedFd<'_>,
        req: AttachRequest,
    ) -> Result<Attachment, Error> {
        let ip = net.addresses.allocate(&req.container_id, req.ip)?;
        match self.attach_inner(net, netns, &req, ip) {
            Ok(a) => Ok(a),
            Err(e) => {
                net.addresses.release(ip);
                Err(e)
            }
        }
    }

    fn attach_inner(
        &self,
        net: &Network,
        netns: BorrowedFd<'_>,
        req: &AttachRequest,
        ip: Ipv4Addr,
    ) -> Result<Attachment, Error> {
        let ports = if net.internal {
            Vec::new()
        } else {
            reserve_ports(&req.ports)?
        };
        let h = fnv(&format!("{}/{}", net.id, req.container_id));
        let spec = VethSpec {
            host: format!("vb{:012x}", h & 0xffff_ffff_ffff),
            bridge: net.bridge.clone(),
            mtu: net.mtu,
            mac: req.mac.unwrap_or(mac_for(ip)),
        };
        // The same container on the same network gets the same name: a deletion of its
        // previous veth still running must end first (the reaper deletes by name).
        if !self.reaper.wait(REAP_WAIT, |n| n == spec.host.as_str()) {
            return Err(Error::StillDeleting(spec.host));
        }
        let ns = netns.try_clone_to_owned().map_err(NetlinkError::DupNetns)?;
        let peer_ns = netlink::dup(&ns)?;
        let att = Attachment {
            network_id: net.id.clone(),
            container_id: req.container_id.clone(),
            ip,
            prefix_len: net.subnet().prefix_len(),
            gateway: net.gateway(),
            mac: mac_string(spec.mac),
            ifname: String::new(),
            host_veth: spec.host.clone(),
            mtu: net.mtu,
            names: req.names.clone(),
            ports,
            dns_server: net.dns.then_some(RESOLVER_IP),
        };
        let addr = Ipv4Net::new(ip, att.prefix_len).map_err(|_| IpamError::BadAddress {
            ip,
            subnet: net.subnet(),
        })?;
        let gateway = (!net.internal).then_some(att.gateway);
        // One thread does both ends: the pair is created from the host side with its peer
        // born in the container's namespace, then the peer is configured from inside.
        let made = netlink::run_both(ns, move |host, inner| async move {
            let ifname = netlink::free_ifname(&inner).await?;
            netlink::create_veth(&host, &spec, &ifname, peer_ns.as_fd()).await?;
            let configured = netlink::configure_peer(&inner, &ifname, addr, gateway).await;
            Ok((ifname, configured))
        });
        let res = match made {
            // Someone else's link: not ours to delete.
            Err(e @ NetlinkError::LinkExists(_)) => return Err(e.into()),
            Err(cause) => Err(cause.into()),
            Ok((_, Err(cause))) => Err(cause.into()),
            Ok((ifname, Ok(()))) => {
                firewall::add_ports(&net.bridge, &rule_tag(&att.container_id), ip, &att.ports)
                    .map(|()| Attachment {
                        ifname,
                        ..att.clone()
                    })
                    .map_err(Error::from)
            }
        };
        let res = res.and_then(|att| {
            self.join_resolver(net, netns, &att, req)?;
            Ok(att)
        });
        match res {
            Ok(att) => Ok(att),
            Err(cause) => {
                let cleanup = self.teardown_attachment(net, &att, LinkTeardown::Wait);
                Err(with_cleanup(cause, cleanup))
            }
        }
    }

    fn teardown_attachment(
        &self,
        net: &Network,
        att: &Attachment,
        link: LinkTeardown,
    ) -> Vec<TeardownError> {
        let mut errors = Vec::new();
        self.leave_resolver(net, att);
        // Port rules exist only for published ports: without any, skip the two `nft` runs
        // (table check and chain listing) that would find nothing on every container's exit.
        if !att.ports.is_empty()
            && let Err(source) = firewall::remove_ports(&net.bridge, &rule_tag(&att.container_id))
        {
            errors.push(TeardownError::Firewall {
                what: format!("container {}", att.container_id),
                source,
            });
        }
        let veth = att.host_veth.clone();
        if link == LinkTeardown::Background {
            self.reaper.delete(veth);
            return errors;
        }
        if let Err(source) = netlink::run(None, move |h| async move {
            netlink::delete_link(&h, &veth).await
        }) {
            errors.push(TeardownError::Link {
                name: att.host_veth.clone(),
                source,
            });
        }
        errors
    }

    /// Detaches: removes DNS names and port rules, deletes the veth (both ends; a namespace
    /// already gone took its end with it) now or in the background as `link` says, and releases
    /// the address (a released address is not handed out again soon: see
    /// [`Addresses::allocate`]). Every failure is reported; the address is released even then.
    pub fn detach(
        &self,
        net: &mut Network,
        att: &Attachment,
        link: LinkTeardown,
    ) -> Result<(), Error> {
        let errors = self.teardown_attachment(net, att, link);
        net.addresses.release(att.ip);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Teardown(errors))
        }
    }

    /// After a daemon restart: makes sure the bridge, its address and its table exist (recreating
    /// the table with the attachments' port rules if it is gone), reopens foreign forward chains
    /// and restarts DNS with the attachments' names.
    pub fn restore(&self, net: &Network, attachments: &[Attachment]) -> Result<(), Error> {
        let had_table = firewall::table_exists(&net.bridge)?;
        // A surviving table keeps its rules (ports included); a lost one is rebuilt.
        self.setup_network(net, true, !had_table)?;
        if !had_table {
            for a in attachments.iter().filter(|_| !net.internal) {
                firewall::add_ports(&net.bridge, &rule_tag(&a.container_id), a.ip, &a.ports)?;
            }
        }
        if let Some(zone) = self.zone(&net.id) {
            for a in attachments {
                zone.set(&a.container_id, a.names.clone(), a.ip, None);
            }
        }
        Ok(())
    }

    /// Waits (at most `timeout`) for the veths being deleted in the background; returns whether
    /// all are gone.
    pub fn settle(&self, timeout: Duration) -> bool {
        self.reaper.wait(timeout, |_| true)
    }

    fn zone(&self, network_id: &str) -> Option<Arc<Zone>> {
        self.zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(network_id)
            .cloned()
    }

    fn upstreams(&self, asked: &[SocketAddr]) -> Vec<SocketAddr> {
        if asked.is_empty() {
            self.config.upstream_dns.clone()
        } else {
            asked.to_vec()
        }
    }

    /// Registers the attachment's names on its network and makes the container's resolver
    /// (started in `netns` on its first network with DNS) serve that network.
    fn join_resolver(
        &self,
        net: &Network,
        netns: BorrowedFd<'_>,
        att: &Attachment,
        req: &AttachRequest,
    ) -> Result<(), Error> {
        let Some(zone) = self.zone(&net.id).filter(|_| net.dns) else {
            return Ok(());
        };
        zone.set(&att.container_id, att.names.clone(), att.ip, None);
        let mut rs = self
            .resolvers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = rs.get(&att.container_id) {
            r.add_zone(&net.id, zone, &req.links);
            return Ok(());
        }
        let r = Resolver::start(netns, BTreeMap::new(), self.upstreams(&req.dns_upstreams))?;
        r.add_zone(&net.id, zone, &req.links);
        rs.insert(att.container_id.clone(), r);
        Ok(())
    }

    /// Forgets the attachment's names; the container's resolver stops serving the network, and
    /// stops (closing its sockets) when it was the last one with DNS.
    fn leave_resolver(&self, net: &Network, att: &Attachment) {
        if let Some(zone) = self.zone(&net.id) {
            zone.remove(&att.container_id);
        }
        let mut rs = self
            .resolvers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if rs
            .get(&att.container_id)
            .is_some_and(|r| r.remove_zone(&net.id) == 0)
        {
            rs.remove(&att.container_id);
        }
    }

    /// Whether the container has a resolver (it is on a network with DNS).
    pub fn has_resolver(&self, container_id: &str) -> bool {
        self.resolvers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(container_id)
    }

    /// After a daemon restart, for a running container: a new resolver in `netns` serving
    /// `networks` (ID and the container's links there; those with DNS, restored first), its
    /// DNAT replaced.
    pub fn restore_resolver(
        &self,
        container_id: &str,
        netns: BorrowedFd<'_>,
        networks: &[(String, Vec<(String, String)>)],
        upstreams: &[SocketAddr],
    ) -> Result<(), Error> {
        let zones: Vec<_> = networks
            .iter()
            .filter_map(|(id, links)| self.zone(id).map(|z| (id, z, links)))
            .collect();
        if zones.is_empty() {
            return Ok(());
        }
        let r = Resolver::start(netns, BTreeMap::new(), self.upstreams(upstreams))?;
        for (id, z, links) in zones {
            r.add_zone(id, z, links);
        }
        self.resolvers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(container_id.to_owned(), r);
        Ok(())
    }

    /// Removes the resolver's DNAT from a running container that left its last network with
    /// DNS (its resolver already stopped at the detach).
    pub fn remove_resolver_rules(&self, netns: BorrowedFd<'_>) -> Result<(), Error> {
        Ok(resolver::remove_rules(netns)?)
    }
}

/// How a detach deletes the container's veth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTeardown {
    /// Before `detach` returns.
    Wait,
    /// On a background thread, for a container whose namespace goes with it and that will not
    /// be attached again soon (`--rm`): [`Driver::settle`] waits for it.
    Background,
}

/// How long an attach waits for the background deletion of a veth of the same name.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// The comment that tags a container's port rules.
pub(crate) fn rule_tag(container_id: &str) -> String {
    format!("berth:{container_id}")
}

/// Checks each host port is free by binding it (and picks one for port 0).
fn reserve_ports(ports: &[PortBinding]) -> Result<Vec<PortBinding>, Error> {
    ports
        .iter()
        .map(|p| {
            let addr = SocketAddrV4::new(p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), p.host_port);
            let err = |source| Error::PortAllocated { addr, source };
            let port = match p.protocol {
                Protocol::Tcp => TcpListener::bind(addr).and_then(|l| l.local_addr()),
                Protocol::Udp => UdpSocket::bind(addr).and_then(|s| s.local_addr()),
            }
            .map_err(err)?
            .port();
            Ok(PortBinding {
                host_port: port,
                ..*p
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_port_ranges() {
        let got = PortBinding::expand(None, Some((8000, 8001)), (80, 81), Protocol::Udp).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].host_port, got[1].container_port), (8001, 81));
        let free = PortBinding::expand(None, None, (80, 82), Protocol::Tcp).unwrap();
        assert!(free.iter().all(|p| p.host_port == 0) && free.len() == 3);
        assert!(PortBinding::expand(None, Some((8000, 8002)), (80, 81), Protocol::Tcp).is_err());
        assert!(PortBinding::expand(None, None, (81, 80), Protocol::Tcp).is_err());
    }

    #[test]
    fn kinds() {
        let overlap = Error::Ipam(IpamError::PoolOverlap {
            subnet: "10.0.0.0/24".parse().unwrap_or_default(),
            with: "x".into(),
        });
        assert_eq!(overlap.kind(), ErrorKind::Forbidden);
        assert_eq!(Error::InUse("n".into()).kind(), ErrorKind::Forbidden);
        assert_eq!(
            Error::BridgeName("".into()).kind(),
            ErrorKind::InvalidArgument
        );
    }
}
