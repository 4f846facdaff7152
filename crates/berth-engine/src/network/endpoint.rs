//! A container's side of networking: its network mode checked at create, the attach of its
//! pinned namespace at start (with `/etc/hosts`, `resolv.conf` and published ports), the
//! detach at exit, `network connect/disconnect`, and `NetworkSettings` for inspect and `ps`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use berth_api::container::{
    EndpointIpamConfig, EndpointSettings, HostConfig, NetworkingConfig,
    PortBinding as ApiPortBinding,
};
use berth_api::container::{NetworkSettings, Port};
use berth_image::config::port::{PortRange, PortSpecError, Proto, split_proto};
use berth_net::{AttachRequest, Attachment, LinkTeardown, PortBinding, Protocol};

use super::objects::endpoint_id;
use super::{ContainerNet, NetState, net_err, store};
use crate::error::{EngineError, Result};
use crate::etcfiles;
use crate::model::ContainerRecord;
use crate::table::Engine;

/// Parses a port key: `80/tcp`, `80` (tcp), `53/udp`; one port, not 0, tcp or udp.
fn parse_port_key(key: &str) -> Result<(u16, Protocol)> {
    let bad_port = |ports: &str| EngineError::Invalid(format!("invalid containerPort: {ports}"));
    let range = PortRange::parse(key).map_err(|e| match e {
        PortSpecError::Proto(p) => EngineError::Invalid(format!("invalid proto: {p}")),
        PortSpecError::Port(p) | PortSpecError::Range(p) => bad_port(&p),
    })?;
    let protocol = match range.proto {
        Proto::Tcp => Protocol::Tcp,
        Proto::Udp => Protocol::Udp,
        Proto::Sctp => return Err(EngineError::Invalid("invalid proto: sctp".into())),
    };
    let port = range
        .single()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad_port(split_proto(key).0))?;
    Ok((port, protocol))
}

/// The bindings to publish: `PortBindings`, plus the exposed ports on free host ports with
/// `PublishAllPorts`.
pub(crate) fn port_bindings(rec: &ContainerRecord) -> Result<Vec<PortBinding>> {
    parse_bindings(
        &rec.host_config,
        rec.config.exposed_ports.as_ref().map(|m| m.keys()),
    )
}

fn parse_bindings<'a>(
    hc: &HostConfig,
    exposed: Option<impl Iterator<Item = &'a String>>,
) -> Result<Vec<PortBinding>> {
    let mut out = Vec::new();
    let bound = hc.port_bindings.clone().unwrap_or_default();
    for (key, list) in &bound {
        let (container_port, protocol) = parse_port_key(key)?;
        let list = list.clone().unwrap_or_default();
        let list = if list.is_empty() {
            vec![ApiPortBinding::default()]
        } else {
            list
        };
        for b in list {
            let host_ip = match b.host_ip.as_str() {
                "" | "0.0.0.0" => None,
                ip => Some(
                    ip.parse::<Ipv4Addr>()
                        .map_err(|_| EngineError::Invalid(format!("invalid IP address: {ip}")))?,
                ),
            };
            let first = b.host_port.split('-').next().unwrap_or_default();
            let host_port = if first.is_empty() {
                0
            } else {
                first.parse::<u16>().map_err(|_| {
                    EngineError::Invalid(format!("invalid hostPort: {}", b.host_port))
                })?
            };
            out.push(PortBinding {
                host_ip,
                host_port,
                container_port,
                protocol,
            });
        }
    }
    if hc.publish_all_ports
        && let Some(exposed) = exposed
    {
        for key in exposed {
            if bound.contains_key(key) {
                continue;
            }
            let (container_port, protocol) = parse_port_key(key)?;
            out.push(PortBinding {
                host_ip: None,
                host_port: 0,
                container_port,
                protocol,
            });
        }
    }
    Ok(out)
}

impl Engine {
    /// At create: checks the network mode and the requested endpoints; returns the container's
    /// networking to record.
    pub(crate) fn net_validate(
        &self,
        hc: &HostConfig,
        nc: Option<&NetworkingConfig>,
    ) -> Result<ContainerNet> {
        parse_bindings(hc, None::<std::iter::Empty<&String>>)?;
        let eps = nc
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default();
        let mode = hc.network_mode.as_str();
        let mut cn = ContainerNet::default();
        match mode {
            "none" | "host" => return Ok(cn),
            m if m.starts_with("container:") => {
                let peer = &m["container:".len()..];
                self.lookup(peer)?;
                return Ok(cn);
            }
            _ => {}
        }
        let st = self.nets().lock();
        if mode == "bridge" && self.nets().cfg.is_none() {
            // An engine without networking: a namespace with only `lo`.
            return Ok(cn);
        }
        let host_links = hc.links.clone().unwrap_or_default();
        let add = |cn: &mut ContainerNet, name: &str, st: &NetState| -> Result<()> {
            let rec = st.find(name)?;
            let ep = eps
                .get(name)
                .or_else(|| eps.get(&rec.net.name))
                .or_else(|| eps.get("default").filter(|_| name == "bridge"));
            let aliases = ep.and_then(|e| e.aliases.clone()).unwrap_or_default();
            if rec.net.name == "bridge" && !aliases.is_empty() {
                return Err(EngineError::Invalid(
                    "network-scoped alias is supported only for containers in user defined networks".into(),
                ));
            }
            // `--link` arrives in HostConfig.Links: it belongs to the first network.
            let links: &[String] = if cn.primary.is_none() {
                &host_links
            } else {
                &[]
            };
            let opts = super::endpoint_opts::check(&rec.net, ep, links)?;
            if cn.primary.is_none() {
                cn.primary = Some(rec.net.id.clone());
            }
            if opts != Default::default() {
                cn.settings.insert(rec.net.id.clone(), opts);
            }
            cn.endpoints.insert(rec.net.id.clone(), aliases);
            Ok(())
        };
        add(&mut cn, mode, &st)?;
        for name in eps.keys() {
            if matches!(name.as_str(), "default" | "bridge") && mode == "bridge" {
                continue;
            }
            let id = st.find(name)?.net.id.clone();
            if !cn.endpoints.contains_key(&id) {
                add(&mut cn, name, &st)?;
            }
        }
        Ok(cn)
    }

    /// At create, once the container exists: records its networking.
    pub(crate) fn net_created(&self, id: &str, cn: ContainerNet) -> Result<()> {
        store::put(&self.inner.store, store::ENDPOINTS, id, &cn)?;
        self.nets().lock().containers.insert(id.to_owned(), cn);
        Ok(())
    }

    /// At start: the namespace the container's process joins, attached to its networks.
    pub(crate) async fn net_start(&self, rec: &ContainerRecord) -> Result<PathBuf> {
        let mode = rec.host_config.network_mode.as_str();
        if mode == "host" {
            return Ok(PathBuf::from(format!(
                "/proc/{}/ns/net",
                std::process::id()
            )));
        }
        if let Some(peer) = mode.strip_prefix("container:") {
            let p = self.lookup(peer)?;
            if !p.status().has_process() {
                return Err(EngineError::NotRunning(p.id.clone()));
            }
            let pr = p.record();
            if pr.host_config.network_mode == "host" {
                return Ok(PathBuf::from(format!(
                    "/proc/{}/ns/net",
                    std::process::id()
                )));
            }
            return Ok(self.netns_path(&p.id));
        }
        let netns = self.netns_path(&rec.id);
        berth_net::netns::remove(&netns)?;
        berth_net::netns::create(&netns)?;
        if mode == "none" {
            return Ok(netns);
        }
        let ports = port_bindings(rec)?;
        let (id, name) = (rec.id.clone(), rec.name.trim_start_matches('/').to_owned());
        let path = netns.clone();
        let upstreams = super::resolv::dns_upstreams(&self.with_default_dns(&rec.host_config));
        let attached = self
            .blocking(move |e| e.attach_blocking(&id, &name, &path, ports, upstreams))
            .await;
        let result = attached.and_then(|atts| self.write_net_files(rec, &atts));
        if let Err(err) = result {
            let mut cleanup = Vec::new();
            self.net_stop(&rec.id, LinkTeardown::Wait).await;
            if let Err(e) = berth_net::netns::remove(&netns) {
                cleanup.push(EngineError::from(e).message());
            }
            return Err(err.with_cleanup(cleanup));
        }
        Ok(netns)
    }

    fn attach_blocking(
        &self,
        id: &str,
        name: &str,
        netns: &Path,
        ports: Vec<PortBinding>,
        dns_upstreams: Vec<std::net::SocketAddr>,
    ) -> Result<Vec<Attachment>> {
        let n = self.nets();
        let mut st = n.lock();
        let mut cn = st.containers.get(id).cloned().unwrap_or_default();
        for p in ports.iter().filter(|p| p.host_port != 0) {
            let taken = st
                .containers
                .iter()
                .filter(|(cid, _)| *cid != id)
                .any(|(_, c)| {
                    c.attachments.iter().flat_map(|a| &a.ports).any(|q| {
                        q.host_port == p.host_port
                            && q.protocol == p.protocol
                            && (q.host_ip.is_none()
                                || p.host_ip.is_none()
                                || q.host_ip == p.host_ip)
                    })
                });
            if taken {
                let addr = std::net::SocketAddrV4::new(
                    p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    p.host_port,
                );
                return Err(net_err(berth_net::Error::PortAllocated {
                    addr,
                    source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
                }));
            }
        }
        let fd = std::fs::File::open(netns).map_err(|e| EngineError::io("open", netns, e))?;
        let mut order: Vec<String> = cn.primary.iter().cloned().collect();
        order.extend(
            cn.endpoints
                .keys()
                .filter(|k| Some(*k) != cn.primary.as_ref())
                .cloned(),
        );
        let mut ports = Some(ports);
        let mut attached: Vec<Attachment> = Vec::new();
        let mut failure = None;
        for net_id in order {
            let aliases = cn.endpoints.get(&net_id).cloned().unwrap_or_default();
            let Some(rec) = st.nets.get_mut(&net_id) else {
                failure = Some(EngineError::NoSuchNetwork(net_id));
                break;
            };
            let mut names = vec![name.to_owned()];
            names.extend(aliases);
            names.push(crate::names::short(id).to_owned());
            let opts = cn.settings.get(&net_id).cloned().unwrap_or_default();
            let req = AttachRequest {
                container_id: id.to_owned(),
                names,
                ip: opts.ipv4,
                ports: ports.take().unwrap_or_default(),
                dns_upstreams: dns_upstreams.clone(),
                mac: opts.mac_bytes(),
                links: opts.link_pairs(),
            };
            match n.driver.attach(&mut rec.net, fd.as_fd(), req) {
                Ok(a) => {
                    attached.push(a);
                    if let Err(e) = store::put(&self.inner.store, store::NETWORKS, &net_id, &*rec) {
                        failure = Some(e);
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(net_err(e));
                    break;
                }
            }
        }
        cn.attachments = attached.clone();
        if failure.is_none()
            && let Err(e) = store::put(&self.inner.store, store::ENDPOINTS, id, &cn)
        {
            failure = Some(e);
        }
        if let Some(e) = failure {
            self.detach_all(&mut st, &mut cn, LinkTeardown::Wait);
            st.containers.insert(id.to_owned(), cn);
            return Err(e);
        }
        st.containers.insert(id.to_owned(), cn);
        Ok(attached)
    }

    /// `/etc/hosts` with the container's address, `resolv.conf` naming its resolver
    /// (`127.0.0.11`) on user-defined networks.
    fn write_net_files(&self, rec: &ContainerRecord, atts: &[Attachment]) -> Result<()> {
        let Some(first) = atts.first() else {
            return Ok(());
        };
        let dir = self.dir(&rec.id);
        let hostname = &rec.config.hostname;
        let base = etcfiles::hosts(
            hostname,
            rec.host_config.extra_hosts.as_deref().unwrap_or_default(),
        );
        let base = base
            .strip_suffix(&format!("127.0.0.1\t{hostname}\n"))
            .unwrap_or(&base);
        crate::etcfiles::write_atomic(
            &dir.join(etcfiles::HOSTS),
            &format!("{base}{}\t{hostname}\n", first.ip),
        )?;
        if atts.iter().any(|a| a.dns_server.is_some()) {
            self.write_resolv_conf(rec, true)?;
        }
        Ok(())
    }

    /// At exit, failed start or removal: detaches the container from every network, deleting
    /// its veths now or, as `link` says, in the background.
    pub(crate) async fn net_stop(&self, id: &str, link: LinkTeardown) {
        let id = id.to_owned();
        let r = self
            .blocking(move |e| {
                let mut st = e.nets().lock();
                let Some(mut cn) = st.containers.get(&id).cloned() else {
                    return Ok(());
                };
                if cn.attachments.is_empty() {
                    return Ok(());
                }
                e.detach_all(&mut st, &mut cn, link);
                let saved = store::put(&e.inner.store, store::ENDPOINTS, &id, &cn);
                st.containers.insert(id, cn);
                saved
            })
            .await;
        if let Err(e) = r {
            tracing::warn!("detach networks: {e}");
        }
    }

    /// At removal: detaches and forgets the container's networking.
    pub(crate) async fn net_forget(&self, id: &str) {
        self.net_stop(id, LinkTeardown::Wait).await;
        let owned = id.to_owned();
        let forgot = self
            .blocking(move |e| {
                e.nets().lock().containers.remove(&owned);
                store::delete(&e.inner.store, store::ENDPOINTS, &owned)
            })
            .await;
        if let Err(e) = forgot {
            tracing::warn!("forget networks of {id}: {e}");
        }
    }

    /// `NetworkSettings` of inspect.
    pub(crate) fn network_settings(&self, rec: &ContainerRecord) -> NetworkSettings {
        let st = self.nets().lock();
        let mut ns = NetworkSettings::default();
        let mut networks = BTreeMap::new();
        let mode = rec.host_config.network_mode.as_str();
        if let Some(id) = st.builtin.get(mode) {
            networks.insert(
                mode.to_owned(),
                EndpointSettings {
                    network_id: id.clone(),
                    ..EndpointSettings::default()
                },
            );
        }
        let mut ports: BTreeMap<String, Option<Vec<ApiPortBinding>>> = BTreeMap::new();
        for key in rec.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            ports.insert(key.clone(), None);
        }
        if let Some(cn) = st.containers.get(&rec.id) {
            for (net_id, aliases) in &cn.endpoints {
                let Some(net) = st.nets.get(net_id) else {
                    continue;
                };
                let opts = cn.settings.get(net_id).cloned().unwrap_or_default();
                let mut ep = EndpointSettings {
                    network_id: net_id.clone(),
                    aliases: (!aliases.is_empty()).then(|| aliases.clone()),
                    ipam_config: opts.ipv4.map(|ip| EndpointIpamConfig {
                        ipv4_address: ip.to_string(),
                        ..EndpointIpamConfig::default()
                    }),
                    links: (!opts.links.is_empty()).then(|| opts.links.clone()),
                    mac_address: opts.mac.clone().unwrap_or_default(),
                    driver_opts: (!opts.driver_opts.is_empty()).then(|| opts.driver_opts.clone()),
                    ..EndpointSettings::default()
                };
                if let Some(a) = cn.attachments.iter().find(|a| &a.network_id == net_id) {
                    ep.endpoint_id = endpoint_id(net_id, &rec.id);
                    ep.ip_address = a.ip.to_string();
                    ep.ip_prefix_len = i64::from(a.prefix_len);
                    ep.gateway = a.gateway.to_string();
                    ep.mac_address = a.mac.clone();
                    ep.dns_names = Some(a.names.clone());
                    for p in &a.ports {
                        ports
                            .entry(format!("{}/{}", p.container_port, p.protocol.as_str()))
                            .or_default()
                            .get_or_insert_with(Vec::new)
                            .push(ApiPortBinding {
                                host_ip: p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
                                host_port: p.host_port.to_string(),
                            });
                    }
                    if net.net.name == "bridge" {
                        ns.endpoint_id = ep.endpoint_id.clone();
                        ns.ip_address = ep.ip_address.clone();
                        ns.ip_prefix_len = ep.ip_prefix_len;
                        ns.gateway = ep.gateway.clone();
                        ns.mac_address = ep.mac_address.clone();
                    }
                }
                networks.insert(net.net.name.clone(), ep);
            }
        }
        ns.networks = Some(networks);
        ns.ports = Some(ports);
        ns
    }

    /// `Ports` and `NetworkSettings.Networks` of `ps`.
    pub(crate) fn summary_ports(
        &self,
        rec: &ContainerRecord,
    ) -> (Vec<Port>, BTreeMap<String, EndpointSettings>) {
        let ns = self.network_settings(rec);
        let mut out = Vec::new();
        for (key, binds) in ns.ports.unwrap_or_default() {
            let Ok((port, proto)) = parse_port_key(&key) else {
                continue;
            };
            match binds {
                Some(list) => out.extend(list.into_iter().map(|b| Port {
                    ip: b.host_ip,
                    private_port: port,
                    public_port: b.host_port.parse().ok(),
                    r#type: proto.as_str().to_owned(),
                })),
                None => out.push(Port {
                    private_port: port,
                    r#type: proto.as_str().to_owned(),
                    ..Port::default()
                }),
            }
        }
        (out, ns.networks.unwrap_or_default())
    }
}
