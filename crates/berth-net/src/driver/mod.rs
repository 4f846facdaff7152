//! The driver the engine calls: networks and attachments, tying address management, a network
//! driver (the kernel's side: [`bridge::Bridge`] today) and DNS together.
//!
//! [`Driver`] owns what every kind of network shares: the subnet and address of each network
//! and container ([`crate::ipam`]), their names ([`crate::dns`]), and the undo of a failed
//! step. A [`NetworkDriver`] makes a network's kernel objects and plugs a container's
//! namespace into them; a new kind of network is a new file implementing it.

pub mod bridge;

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::time::Duration;

use ipnet::Ipv4Net;

use self::bridge::Bridge;
use crate::dns::registry::Registry;
use crate::error::{Error, TeardownError, with_cleanup};
use crate::ipam::{self, Addresses, Pool};
use crate::model::{AttachRequest, Attachment, DriverConfig, Network, NetworkRequest};
use crate::netlink;

/// A kind of network (netavark's `NetworkDriver`): it makes a network's kernel objects and
/// plugs containers' namespaces into them. Addresses and names are the [`Driver`]'s: a network
/// driver is given the address already allocated and never sees DNS.
///
/// Lifecycle: [`create`](Self::create) once (a failure leaves nothing of its own behind), or
/// [`restore`](Self::restore) after a daemon restart; then [`connect`](Self::connect) and
/// [`disconnect`](Self::disconnect) per container (a failed connect undoes itself);
/// [`remove`](Self::remove) last, once nothing is connected. Teardown runs every step and
/// returns every failure; something already gone is not a failure.
pub trait NetworkDriver {
    /// Checks a request before anything is made.
    fn validate(&self, req: &NetworkRequest) -> Result<(), Error>;
    /// Addresses the network's link already has (a bridge of that name left up): host routes
    /// inside their subnets are the network's own, not conflicts.
    fn existing_addresses(&self, req: &NetworkRequest) -> Result<Vec<Ipv4Net>, Error>;
    /// Makes the network.
    fn create(&self, net: &Network) -> Result<(), Error>;
    /// Makes sure a network made by an earlier daemon is whole, with `attachments`' ports.
    fn restore(&self, net: &Network, attachments: &[Attachment]) -> Result<(), Error>;
    /// Takes the network out of the kernel.
    fn remove(&self, net: &Network) -> Vec<TeardownError>;
    /// Plugs the namespace `netns` into the network at `ip` and publishes its ports.
    fn connect(
        &self,
        net: &Network,
        netns: BorrowedFd<'_>,
        req: &AttachRequest,
        ip: Ipv4Addr,
    ) -> Result<Attachment, Error>;
    /// Withdraws the attachment's ports and unplugs it, its link now or in the background.
    fn disconnect(&self, net: &Network, att: &Attachment, link: LinkTeardown)
    -> Vec<TeardownError>;
    /// Waits (at most `timeout`) for background work; returns whether all of it is done.
    fn settle(&self, timeout: Duration) -> bool;
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

/// Networks and attachments. Holds the networks' DNS names and the containers' resolvers;
/// everything else lives in the kernel and in the [`Network`]/[`Attachment`] values the engine
/// keeps.
#[derive(Debug, Default)]
pub struct Driver {
    config: DriverConfig,
    bridge: Bridge,
    dns: Registry,
}

impl Driver {
    /// A driver with `config`.
    pub fn new(config: DriverConfig) -> Self {
        Driver {
            config,
            bridge: Bridge::default(),
            dns: Registry::default(),
        }
    }

    /// The network driver of `net`. Every network is a bridge today; another kind adds a
    /// field naming it to [`Network`] and an arm here.
    fn driver_of(&self, _net: &Network) -> &impl NetworkDriver {
        &self.bridge
    }

    /// The IPv4 addresses of an existing link `bridge`; `None` when there is none. The
    /// default network adopts an existing bridge's address, as dockerd adopts `docker0`'s.
    pub fn bridge_addresses(&self, bridge: &str) -> Result<Option<Vec<Ipv4Net>>, Error> {
        self.bridge.addresses(bridge)
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
        let driver = &self.bridge;
        driver.validate(&req)?;
        let subnet = match req.subnet {
            Some(s) => {
                ipam::check_overlap(s, existing.iter().map(|n| (n.name.as_str(), n.subnet())))?;
                // The routes of an existing bridge of this name (its subnet, its local and
                // broadcast addresses) are its own, not a conflict.
                let own = driver.existing_addresses(&req)?;
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
        self.driver_of(&net).create(&net)?;
        self.dns.add_network(&net);
        Ok(net)
    }

    /// Removes the network: DNS, foreign forward rules, its nftables table, the bridge. Refused
    /// while addresses are allocated. Every failure is reported.
    pub fn remove_network(&self, net: &Network) -> Result<(), Error> {
        if !net.addresses.allocated.is_empty() {
            return Err(Error::InUse(net.name.clone()));
        }
        self.dns.remove_network(&net.id);
        let errors = self.driver_of(net).remove(net);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Teardown(errors))
        }
    }

    /// Whether links are enslaved to the network's bridge. At the daemon's stop, after its
    /// own veths are gone, any left are another daemon's (an adopted, shared bridge).
    pub fn bridge_has_ports(&self, net: &Network) -> Result<bool, Error> {
        self.bridge.has_ports(net)
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
        match self.attach_at(net, netns, &req, ip) {
            Ok(a) => Ok(a),
            Err(e) => {
                net.addresses.release(ip);
                Err(e)
            }
        }
    }

    fn attach_at(
        &self,
        net: &Network,
        netns: BorrowedFd<'_>,
        req: &AttachRequest,
        ip: Ipv4Addr,
    ) -> Result<Attachment, Error> {
        let driver = self.driver_of(net);
        let att = driver.connect(net, netns, req, ip)?;
        let upstreams = self.upstreams(&req.dns_upstreams);
        if let Err(cause) = self.dns.join(net, netns, &att, req, upstreams) {
            self.dns.leave(net, &att);
            let cleanup = driver.disconnect(net, &att, LinkTeardown::Wait);
            return Err(with_cleanup(cause.into(), cleanup));
        }
        Ok(att)
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
        self.dns.leave(net, att);
        let errors = self.driver_of(net).disconnect(net, att, link);
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
        self.driver_of(net).restore(net, attachments)?;
        self.dns.add_network(net);
        if let Some(zone) = self.dns.zone(&net.id) {
            for a in attachments {
                zone.set(&a.container_id, a.names.clone(), a.ip, None);
            }
        }
        Ok(())
    }

    /// Waits (at most `timeout`) for the veths being deleted in the background; returns whether
    /// all are gone.
    pub fn settle(&self, timeout: Duration) -> bool {
        self.bridge.settle(timeout)
    }

    fn upstreams(&self, asked: &[SocketAddr]) -> Vec<SocketAddr> {
        if asked.is_empty() {
            self.config.upstream_dns.clone()
        } else {
            asked.to_vec()
        }
    }

    /// Whether the container has a resolver (it is on a network with DNS).
    pub fn has_resolver(&self, container_id: &str) -> bool {
        self.dns.has_resolver(container_id)
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
        Ok(self
            .dns
            .restore_resolver(container_id, netns, networks, self.upstreams(upstreams))?)
    }

    /// Removes the resolver's DNAT from a running container that left its last network with
    /// DNS (its resolver already stopped at the detach).
    pub fn remove_resolver_rules(&self, netns: BorrowedFd<'_>) -> Result<(), Error> {
        Ok(self.dns.remove_rules(netns)?)
    }
}
