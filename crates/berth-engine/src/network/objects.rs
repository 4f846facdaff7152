//! `network ls/inspect/create/rm/connect/disconnect/prune`.

use std::collections::BTreeMap;

use berth_api::network::{
    Ipam, IpamConfig, NetworkContainer, NetworkCreateRequest, NetworkCreateResponse,
    NetworkResource,
};
use ipnet::Ipv4Net;

use super::{NetRecord, NetState, net_err, now, store};
use crate::error::{EngineError, Result};
use crate::table::Engine;

const BUILTIN_DRIVERS: [(&str, &str); 2] = [("host", "host"), ("none", "null")];

fn resource(rec: &NetRecord, st: &NetState, names: &BTreeMap<String, String>) -> NetworkResource {
    let net = &rec.net;
    let mut containers = BTreeMap::new();
    for (cid, cn) in &st.containers {
        for a in cn.attachments.iter().filter(|a| a.network_id == net.id) {
            containers.insert(
                cid.clone(),
                NetworkContainer {
                    name: names.get(cid).cloned().unwrap_or_default(),
                    endpoint_id: endpoint_id(&a.network_id, cid),
                    mac_address: a.mac.clone(),
                    ipv4_address: format!("{}/{}", a.ip, a.prefix_len),
                    ipv6_address: String::new(),
                },
            );
        }
    }
    let mut options = BTreeMap::new();
    options.insert(
        "com.docker.network.bridge.name".to_owned(),
        net.bridge.clone(),
    );
    NetworkResource {
        name: net.name.clone(),
        id: net.id.clone(),
        created: rec.created.clone(),
        scope: "local".into(),
        driver: "bridge".into(),
        ipam: Ipam {
            driver: "default".into(),
            config: Some(vec![IpamConfig {
                subnet: net.subnet().to_string(),
                gateway: net.gateway().to_string(),
                ip_range: net
                    .addresses
                    .range
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                auxiliary_addresses: (!net.addresses.aux.is_empty()).then(|| {
                    net.addresses
                        .aux
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_string()))
                        .collect()
                }),
            }]),
            options: None,
        },
        internal: net.internal,
        containers,
        options,
        labels: net.labels.clone(),
        ..NetworkResource::default()
    }
}

/// A stable endpoint ID for a container on a network.
pub(crate) fn endpoint_id(network_id: &str, container_id: &str) -> String {
    let n = network_id.get(..32).unwrap_or(network_id);
    let c = container_id.get(..32).unwrap_or(container_id);
    format!("{n}{c}")
}

impl Engine {
    fn container_names(&self) -> BTreeMap<String, String> {
        self.table()
            .by_id
            .values()
            .map(|c| {
                let r = c.record();
                (r.id, r.name.trim_start_matches('/').to_owned())
            })
            .collect()
    }

    fn builtin_resources(st: &NetState) -> Vec<NetworkResource> {
        BUILTIN_DRIVERS
            .iter()
            .filter_map(|(name, driver)| {
                st.builtin.get(*name).map(|id| NetworkResource {
                    name: (*name).into(),
                    id: id.clone(),
                    created: "0001-01-01T00:00:00Z".into(),
                    scope: "local".into(),
                    driver: (*driver).into(),
                    ipam: Ipam {
                        driver: "default".into(),
                        config: Some(Vec::new()),
                        options: None,
                    },
                    ..NetworkResource::default()
                })
            })
            .collect()
    }

    /// `GET /networks`, kept to those passing `filters` (see [`super::filters`]).
    pub async fn network_list(
        &self,
        filters: &crate::events::Filters,
    ) -> Result<Vec<NetworkResource>> {
        let names = self.container_names();
        // The networks' lock is taken on a blocking thread: an attach holds it across its
        // netlink work.
        let all = self
            .blocking(move |e| {
                let st = e.nets().lock();
                let mut out: Vec<NetworkResource> =
                    st.nets.values().map(|r| resource(r, &st, &names)).collect();
                out.extend(Self::builtin_resources(&st));
                Ok(out)
            })
            .await?;
        super::filters::apply(all, filters)
    }

    /// `GET /networks/{id}`.
    pub async fn network_inspect(&self, name: &str) -> Result<NetworkResource> {
        let names = self.container_names();
        let name = name.to_owned();
        self.blocking(move |e| {
            let st = e.nets().lock();
            if let Some(r) = Self::builtin_resources(&st)
                .into_iter()
                .find(|r| r.name == name || r.id == name)
            {
                return Ok(r);
            }
            let rec = st.find(&name)?;
            Ok(resource(rec, &st, &names))
        })
        .await
    }

    /// `POST /networks/create`. The bridge driver's options berth honours are the bridge's
    /// name and docker's defaults; any other is refused by name.
    pub async fn network_create(&self, req: NetworkCreateRequest) -> Result<NetworkCreateResponse> {
        if req.name.is_empty() {
            return Err(EngineError::Invalid("network name is required".into()));
        }
        // dockerd takes any name (spaces too); berth keeps out only what could not be a
        // single path or log word.
        if req.name.contains('/') || req.name.chars().any(char::is_control) {
            return Err(EngineError::Invalid(format!(
                "invalid network name {:?}",
                req.name
            )));
        }
        if !matches!(req.driver.as_str(), "" | "bridge") {
            return Err(EngineError::Invalid(format!(
                "plugin \"{}\" not found",
                req.driver
            )));
        }
        if req.enable_ipv6 {
            return Err(EngineError::Invalid(
                "IPv6 networks are not supported by berth yet".into(),
            ));
        }
        let bridge_name = bridge_option(req.options.as_ref())?;
        let ipam = req.ipam.unwrap_or_default();
        if !matches!(ipam.driver.as_str(), "" | "default") {
            return Err(EngineError::Invalid(format!(
                "IPAM driver \"{}\" is not supported by berth: only the default one is",
                ipam.driver
            )));
        }
        if let Some(k) = ipam.options.iter().flatten().map(|(k, _)| k).next() {
            return Err(EngineError::Invalid(format!(
                "IPAM option {k} is not supported by berth"
            )));
        }
        let (mut subnet, mut gateway, mut ip_range) = (None, None, None);
        let mut aux = BTreeMap::new();
        let configs = ipam.config.unwrap_or_default();
        if configs.len() > 1 {
            return Err(EngineError::Invalid(
                "berth supports one IPAM config per network".into(),
            ));
        }
        if let Some(c) = configs.first() {
            if !c.subnet.is_empty() {
                subnet = Some(c.subnet.parse::<Ipv4Net>().map_err(|_| {
                    EngineError::Invalid(format!(
                        "invalid subnet {}: invalid CIDR address",
                        c.subnet
                    ))
                })?);
            }
            if !c.gateway.is_empty() {
                gateway = Some(c.gateway.parse().map_err(|_| {
                    EngineError::Invalid(format!("invalid gateway address {}", c.gateway))
                })?);
            }
            if !c.ip_range.is_empty() {
                if subnet.is_none() {
                    return Err(EngineError::Invalid(
                        "invalid network config:\nip-range specified without a subnet".into(),
                    ));
                }
                ip_range = Some(c.ip_range.parse::<Ipv4Net>().map_err(|_| {
                    EngineError::Invalid(format!(
                        "invalid ip-range {}: invalid CIDR address",
                        c.ip_range
                    ))
                })?);
            }
            for (k, v) in c.auxiliary_addresses.iter().flatten() {
                let ip = v.parse().map_err(|_| {
                    EngineError::Invalid(format!("invalid auxiliary address {k}={v}"))
                })?;
                aux.insert(k.clone(), ip);
            }
        }
        let labels = req.labels.unwrap_or_default();
        let internal = req.internal;
        let name = req.name;
        self.blocking(move |e| {
            let n = e.nets();
            let mut st = n.lock();
            if st.nets.values().any(|r| r.net.name == name) || st.builtin.contains_key(&name) {
                return Err(EngineError::NetworkExists(name));
            }
            let id = crate::names::new_id()?;
            let net = n
                .driver
                .create_network(
                    berth_net::NetworkRequest {
                        name,
                        id: id.clone(),
                        subnet,
                        gateway,
                        bridge: bridge_name.unwrap_or_else(|| format!("br-{}", &id[..12])),
                        ip_range,
                        aux,
                        internal,
                        dns: true,
                        labels,
                    },
                    &st.all(),
                )
                .map_err(net_err)?;
            let rec = NetRecord {
                net,
                created: now(),
            };
            if let Err(err) = store::put(&e.inner.store, store::NETWORKS, &id, &rec) {
                let _ = n.driver.remove_network(&rec.net);
                return Err(err);
            }
            st.nets.insert(id.clone(), rec);
            Ok(NetworkCreateResponse {
                id,
                warning: String::new(),
            })
        })
        .await
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.blocking(move |e| {
            let n = e.nets();
            let mut st = n.lock();
            if let Some(b) = ["bridge", "host", "none"].iter().find(|b| {
                **b == name
                    || st.builtin.get(**b).is_some_and(|id| *id == name)
                    || (**b == "bridge" && st.find(&name).is_ok_and(|r| r.net.name == "bridge"))
            }) {
                return Err(EngineError::Forbidden(format!(
                    "{b} is a pre-defined network and cannot be removed"
                )));
            }
            let rec = st.find(&name)?.clone();
            let used = !rec.net.addresses.allocated.is_empty()
                || st
                    .containers
                    .values()
                    .any(|c| c.endpoints.contains_key(&rec.net.id) && !c.attachments.is_empty());
            if used {
                return Err(EngineError::NetworkInUse {
                    name: rec.net.name.clone(),
                    id: rec.net.id.clone(),
                });
            }
            n.driver.remove_network(&rec.net).map_err(net_err)?;
            store::delete(&e.inner.store, store::NETWORKS, &rec.net.id)?;
            st.nets.remove(&rec.net.id);
            Ok(())
        })
        .await
    }

    /// `POST /networks/prune`: removes user-defined networks no container uses.
    pub async fn network_prune(&self) -> Result<Vec<String>> {
        let candidates: Vec<String> = self
            .blocking(|e| {
                let st = e.nets().lock();
                Ok(st
                    .nets
                    .values()
                    .filter(|r| r.net.name != "bridge")
                    .filter(|r| {
                        !st.containers
                            .values()
                            .any(|c| c.endpoints.contains_key(&r.net.id))
                    })
                    .map(|r| r.net.name.clone())
                    .collect())
            })
            .await?;
        let mut removed = Vec::new();
        for name in candidates {
            match self.network_remove(&name).await {
                Ok(()) => removed.push(name),
                Err(e) => tracing::warn!("prune network {name}: {e}"),
            }
        }
        Ok(removed)
    }
}

/// The bridge name of `-o com.docker.network.bridge.name=NAME`, if given. Options that only
/// restate docker's defaults are accepted; any other option is refused by name.
fn bridge_option(options: Option<&BTreeMap<String, String>>) -> Result<Option<String>> {
    let mut bridge = None;
    for (k, v) in options.into_iter().flatten() {
        match (k.as_str(), v.as_str()) {
            ("com.docker.network.bridge.name", name) => bridge = Some(name.to_owned()),
            (
                "com.docker.network.bridge.enable_icc"
                | "com.docker.network.bridge.enable_ip_masquerade",
                "true",
            ) => {}
            _ => {
                return Err(EngineError::Invalid(format!(
                    "network option {k}={v} is not supported by berth"
                )));
            }
        }
    }
    Ok(bridge)
}
