//! Who is on which network, for DNS: each network with DNS has a [`Zone`] of names, and each
//! container on at least one such network has a [`Resolver`] in its namespace serving the zones
//! of its networks. The driver registers a network at its setup, a container's names at each
//! attach, and forgets them at detach and removal; a resolver stops (closing its sockets, so
//! nothing keeps a dead container's namespace alive) when its last zone goes.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex, PoisonError};

use super::DnsError;
use super::resolver::{self, Resolver};
use super::zone::Zone;
use crate::{AttachRequest, Attachment, Network};

/// The zones of networks and the resolvers of containers.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Network ID → its names (networks with DNS only).
    zones: Mutex<HashMap<String, Arc<Zone>>>,
    /// Container ID → its resolver at 127.0.0.11 (while it is on a network with DNS).
    resolvers: Mutex<HashMap<String, Resolver>>,
}

impl Registry {
    /// Gives `net` a zone, if it has DNS and none yet.
    pub(crate) fn add_network(&self, net: &Network) {
        if net.dns {
            self.zones
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(net.id.clone())
                .or_insert_with(|| Arc::new(Zone::new(&net.name)));
        }
    }

    /// Forgets the zone of network `network_id`.
    pub(crate) fn remove_network(&self, network_id: &str) {
        self.zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(network_id);
    }

    /// The zone of network `network_id`, if it has DNS.
    pub(crate) fn zone(&self, network_id: &str) -> Option<Arc<Zone>> {
        self.zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(network_id)
            .cloned()
    }

    /// Registers the attachment's names on its network and makes the container's resolver
    /// (started in `netns` on its first network with DNS, forwarding to `upstreams`) serve
    /// that network.
    pub(crate) fn join(
        &self,
        net: &Network,
        netns: BorrowedFd<'_>,
        att: &Attachment,
        req: &AttachRequest,
        upstreams: Vec<SocketAddr>,
    ) -> Result<(), DnsError> {
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
        let r = Resolver::start(netns, BTreeMap::new(), upstreams)?;
        r.add_zone(&net.id, zone, &req.links);
        rs.insert(att.container_id.clone(), r);
        Ok(())
    }

    /// Forgets the attachment's names; the container's resolver stops serving the network, and
    /// stops when it was the last one with DNS.
    pub(crate) fn leave(&self, net: &Network, att: &Attachment) {
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

    /// Whether the container has a resolver.
    pub(crate) fn has_resolver(&self, container_id: &str) -> bool {
        self.resolvers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(container_id)
    }

    /// A new resolver in `netns` for a running container after a daemon restart, serving
    /// `networks` (ID and the container's links there) that have a zone.
    pub(crate) fn restore_resolver(
        &self,
        container_id: &str,
        netns: BorrowedFd<'_>,
        networks: &[(String, Vec<(String, String)>)],
        upstreams: Vec<SocketAddr>,
    ) -> Result<(), DnsError> {
        let zones: Vec<_> = networks
            .iter()
            .filter_map(|(id, links)| self.zone(id).map(|z| (id, z, links)))
            .collect();
        if zones.is_empty() {
            return Ok(());
        }
        let r = Resolver::start(netns, BTreeMap::new(), upstreams)?;
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
    /// DNS.
    pub(crate) fn remove_rules(&self, netns: BorrowedFd<'_>) -> Result<(), DnsError> {
        resolver::remove_rules(netns)
    }
}
