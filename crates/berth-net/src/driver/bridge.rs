//! The bridge driver: a Linux bridge per network holding the gateway address, a veth pair per
//! attached container (the peer born inside the container's namespace), and the network's
//! firewall table with its published ports.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::OnceLock;
use std::time::Duration;

use ipnet::Ipv4Net;

use super::{LinkTeardown, NetworkDriver};
use crate::dns::RESOLVER_IP;
use crate::error::{Error, TeardownError, with_cleanup};
use crate::firewall::{self, Firewall};
use crate::ipam::IpamError;
use crate::model::{AttachRequest, Attachment, Network, NetworkRequest, PortBinding, Protocol};
use crate::netlink::{self, NetlinkError, VethSpec};
use crate::reaper::Reaper;

/// How long an attach waits for the background deletion of a veth of the same name.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// The bridge driver. Everything it makes lives in the kernel and in the [`Network`] and
/// [`Attachment`] values the engine keeps; it holds only the firewall it found at its first
/// setup and the veths being deleted in the background.
#[derive(Debug, Default)]
pub struct Bridge {
    /// Chosen once, at the first network's setup (an engine without networking never looks).
    firewall: OnceLock<Firewall>,
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

/// The comment that tags a container's port rules.
fn rule_tag(container_id: &str) -> String {
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

impl Bridge {
    fn firewall(&self) -> &Firewall {
        self.firewall.get_or_init(Firewall::detect)
    }

    /// The IPv4 addresses of an existing link `bridge`; `None` when there is none.
    pub fn addresses(&self, bridge: &str) -> Result<Option<Vec<Ipv4Net>>, Error> {
        let name = bridge.to_string();
        Ok(netlink::run(None, |h| async move {
            netlink::link_ipv4(&h, &name).await
        })?)
    }

    /// Whether links are enslaved to the network's bridge.
    pub fn has_ports(&self, net: &Network) -> Result<bool, Error> {
        let bridge = net.bridge.clone();
        Ok(netlink::run(
            None,
            |h| async move { netlink::port_count(&h, &bridge).await },
        )? > 0)
    }

    /// Brings up the bridge, the sysctls and the firewall; `apply_table` also (re)writes the
    /// network's table, which a restore keeps when it survived.
    fn setup(&self, net: &Network, reuse: bool, apply_table: bool) -> Result<(), Error> {
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
        self.firewall()
            .setup_network(&net.bridge, net.subnet(), net.internal, apply_table)?;
        Ok(())
    }
}

impl NetworkDriver for Bridge {
    fn validate(&self, req: &NetworkRequest) -> Result<(), Error> {
        check_bridge_name(&req.bridge)
    }

    fn existing_addresses(&self, req: &NetworkRequest) -> Result<Vec<Ipv4Net>, Error> {
        Ok(self.addresses(&req.bridge)?.unwrap_or_default())
    }

    fn create(&self, net: &Network) -> Result<(), Error> {
        match self.setup(net, false, true) {
            Ok(()) => Ok(()),
            // Another network's (or another daemon's) bridge: not ours to tear down.
            Err(Error::Netlink(NetlinkError::LinkExists(bridge))) => {
                let addresses = self
                    .addresses(&bridge)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                Err(Error::BridgeExists { bridge, addresses })
            }
            Err(cause) => Err(with_cleanup(cause, self.remove(net))),
        }
    }

    fn restore(&self, net: &Network, attachments: &[Attachment]) -> Result<(), Error> {
        let had_table = self.firewall().network_exists(&net.bridge)?;
        // A surviving table keeps its rules (ports included); a lost one is rebuilt.
        self.setup(net, true, !had_table)?;
        if !had_table {
            for a in attachments.iter().filter(|_| !net.internal) {
                self.firewall().add_ports(
                    &net.bridge,
                    &rule_tag(&a.container_id),
                    a.ip,
                    &a.ports,
                )?;
            }
        }
        Ok(())
    }

    fn remove(&self, net: &Network) -> Vec<TeardownError> {
        let what = format!("network {}", net.name);
        let mut errors: Vec<TeardownError> = self
            .firewall()
            .teardown_network(&net.bridge)
            .into_iter()
            .map(|source| TeardownError::Firewall {
                what: what.clone(),
                source,
            })
            .collect();
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

    fn connect(
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
            Ok((ifname, Ok(()))) => self
                .firewall()
                .add_ports(&net.bridge, &rule_tag(&att.container_id), ip, &att.ports)
                .map(|()| Attachment {
                    ifname,
                    ..att.clone()
                })
                .map_err(Error::from),
        };
        res.map_err(|cause| with_cleanup(cause, self.disconnect(net, &att, LinkTeardown::Wait)))
    }

    fn disconnect(
        &self,
        net: &Network,
        att: &Attachment,
        link: LinkTeardown,
    ) -> Vec<TeardownError> {
        let mut errors = Vec::new();
        // Port rules exist only for published ports: without any, skip the two `nft` runs
        // (table check and chain listing) that would find nothing on every container's exit.
        if !att.ports.is_empty()
            && let Err(source) = self
                .firewall()
                .remove_ports(&net.bridge, &rule_tag(&att.container_id))
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

    fn settle(&self, timeout: Duration) -> bool {
        self.reaper.wait(timeout, |_| true)
    }
}
