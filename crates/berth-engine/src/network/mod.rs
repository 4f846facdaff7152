//! Networks as objects: the default `bridge` network (made at the first daemon start), the
//! `host` and `none` pseudo-networks, and user-defined bridge networks, stored in the engine's
//! redb file beside the containers (tables `networks`, `endpoints`, `builtin_networks`).
//!
//! The kernel side is `berth-net`'s ([`berth_net::Driver`]); its calls block, so every one of
//! them runs in `spawn_blocking`, under one `std` mutex that serialises the network state
//! (IPAM lives in the stored [`berth_net::Network`] values). The container side (attach at
//! start, detach at exit, `/etc/hosts`, `resolv.conf`, published ports, inspect) is in
//! [`endpoint`].
//!
//! After a restart the stored networks are restored (bridge, table, DNS) with the attachments
//! of the containers still running; the others are detached. When the daemon stops, networks
//! with no attachment leave the kernel (their records stay and come back at the next start),
//! so a stopped daemon leaves no link or table behind.

mod connect;
pub(crate) mod endpoint;
pub(crate) mod endpoint_opts;
mod filters;
mod objects;
pub(crate) mod resolv;
pub(crate) mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_net::ipam::Pool;
use berth_net::{Attachment, Driver, DriverConfig, LinkTeardown, Network};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::table::Engine;

/// The daemon's network settings.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The default bridge's Linux name (`berth0`).
    pub bridge: String,
    /// Where subnets of networks created without `--subnet` come from, in order; the default
    /// bridge takes the first free one.
    pub pools: Vec<Pool>,
    /// dockerd's `--bip`: the default bridge's address and prefix (`10.20.0.1/16`), instead of
    /// a subnet from the pools.
    pub bip: Option<ipnet::Ipv4Net>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            bridge: "berth0".into(),
            pools: Pool::docker_defaults(),
            bip: None,
        }
    }
}

/// A stored network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct NetRecord {
    pub net: Network,
    pub created: String,
}

/// A container's networking: its mode, the networks it asked for with their aliases, and
/// what is attached while it runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ContainerNet {
    /// Network ID → aliases.
    pub endpoints: BTreeMap<String, Vec<String>>,
    /// The first network (the one publishing ports and holding the default route).
    pub primary: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Network ID → the static address, MAC, links and driver options asked for there.
    #[serde(default)]
    pub settings: BTreeMap<String, endpoint_opts::EndpointOpts>,
}

#[derive(Debug, Default)]
pub(crate) struct NetState {
    pub nets: BTreeMap<String, NetRecord>,
    /// `host` and `none` → their IDs.
    pub builtin: BTreeMap<String, String>,
    pub containers: HashMap<String, ContainerNet>,
}

impl NetState {
    /// Finds a network by full ID, name, then unique ID prefix.
    pub fn find(&self, name: &str) -> Result<&NetRecord> {
        if let Some(r) = self.nets.get(name) {
            return Ok(r);
        }
        if let Some(r) = self.nets.values().find(|r| r.net.name == name) {
            return Ok(r);
        }
        let mut hits = self.nets.values().filter(|r| r.net.id.starts_with(name));
        match (name.is_empty(), hits.next(), hits.next()) {
            (false, Some(r), None) => Ok(r),
            _ => Err(EngineError::NoSuchNetwork(name.to_owned())),
        }
    }

    pub fn all(&self) -> Vec<Network> {
        self.nets.values().map(|r| r.net.clone()).collect()
    }
}

/// The engine's networks.
#[derive(Debug)]
pub(crate) struct Networks {
    pub driver: Driver,
    /// `None`: no default bridge is made (an engine opened without networking).
    pub cfg: Option<NetworkConfig>,
    pub state: Mutex<NetState>,
}

impl Networks {
    pub fn new(cfg: Option<NetworkConfig>) -> Self {
        let pools = cfg
            .as_ref()
            .map(|c| c.pools.clone())
            .unwrap_or_else(Pool::docker_defaults);
        Networks {
            driver: Driver::new(DriverConfig {
                pools,
                ..DriverConfig::default()
            }),
            cfg,
            state: Mutex::new(NetState::default()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, NetState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn net_err(e: berth_net::Error) -> EngineError {
    EngineError::Net(e)
}

impl Engine {
    pub(crate) fn nets(&self) -> &Arc<Networks> {
        &self.inner.net
    }

    /// Runs `f` on a blocking thread with the engine.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
    }

    /// Daemon start: loads the stored networks, makes the default bridge the first time,
    /// restores every network with the attachments of running containers and detaches the
    /// rest. Called before the containers are restored (a restart policy may start one).
    pub(crate) async fn restore_networks(&self) -> Result<()> {
        self.blocking(|e| e.restore_networks_blocking()).await
    }

    fn restore_networks_blocking(&self) -> Result<()> {
        let db = &self.inner.store;
        let nets: Vec<NetRecord> = store::load_all(db, store::NETWORKS)?;
        let containers: Vec<(String, ContainerNet)> = store::load_all_keyed(db, store::ENDPOINTS)?;
        let builtin: Vec<(String, String)> = store::load_all_keyed(db, store::BUILTIN)?;
        let records = db.load_all()?;
        let running: std::collections::HashSet<String> = records
            .iter()
            .filter(|r| r.state.status.has_process())
            .map(|r| r.id.clone())
            .collect();
        let known: std::collections::HashSet<String> =
            records.iter().map(|r| r.id.clone()).collect();
        let n = self.nets();
        let mut st = n.lock();
        st.nets = nets.into_iter().map(|r| (r.net.id.clone(), r)).collect();
        st.builtin = builtin.into_iter().collect();
        for name in ["host", "none"] {
            if !st.builtin.contains_key(name) {
                let id = crate::names::new_id()?;
                store::put(db, store::BUILTIN, name, &id)?;
                st.builtin.insert(name.to_owned(), id);
            }
        }
        for (id, mut cn) in containers {
            if !known.contains(&id) {
                // A container removed while the daemon was down mid-removal.
                self.detach_all(&mut st, &mut cn, LinkTeardown::Wait);
                store::delete(db, store::ENDPOINTS, &id)?;
                continue;
            }
            if !running.contains(&id) && !cn.attachments.is_empty() {
                self.detach_all(&mut st, &mut cn, LinkTeardown::Wait);
                store::put(db, store::ENDPOINTS, &id, &cn)?;
            }
            st.containers.insert(id, cn);
        }
        let ids: Vec<String> = st.nets.keys().cloned().collect();
        for id in ids {
            let Some(rec) = st.nets.get(&id) else {
                continue;
            };
            let atts: Vec<Attachment> = st
                .containers
                .values()
                .flat_map(|c| c.attachments.iter().filter(|a| a.network_id == id).cloned())
                .collect();
            if let Err(e) = n.driver.restore(&rec.net, &atts) {
                tracing::error!("restore network {}: {}", rec.net.name, net_err(e));
            }
        }
        // The resolvers' sockets died with the previous daemon: new ones in each running
        // container's namespace, the DNAT there pointed at them.
        for r in records.iter().filter(|r| running.contains(&r.id)) {
            let Some(cn) = st.containers.get(&r.id) else {
                continue;
            };
            let dns_nets: Vec<(String, Vec<(String, String)>)> = cn
                .attachments
                .iter()
                .filter(|a| a.dns_server.is_some())
                .map(|a| {
                    let links = cn
                        .settings
                        .get(&a.network_id)
                        .map(|o| o.link_pairs())
                        .unwrap_or_default();
                    (a.network_id.clone(), links)
                })
                .collect();
            if dns_nets.is_empty() {
                continue;
            }
            let path = self.netns_path(&r.id);
            let restored = std::fs::File::open(&path)
                .map_err(|e| EngineError::io("open", &path, e))
                .and_then(|fd| {
                    n.driver
                        .restore_resolver(
                            &r.id,
                            std::os::fd::AsFd::as_fd(&fd),
                            &dns_nets,
                            &resolv::dns_upstreams(&self.with_default_dns(&r.host_config)),
                        )
                        .map_err(net_err)
                });
            if let Err(e) = restored {
                tracing::error!("restore the resolver of {}: {e}", r.id);
            }
        }
        let Some(cfg) = n.cfg.as_ref() else {
            return Ok(());
        };
        self.follow_bip(&mut st, cfg.bip)?;
        if !st.nets.values().any(|r| r.net.name == "bridge") {
            let id = crate::names::new_id()?;
            let existing = st.all();
            // `--bip` names the address; else an existing bridge of the configured name keeps
            // its own (dockerd adopts `docker0`'s the same way); with neither, the pools give
            // the subnet.
            let adopted = match cfg.bip {
                Some(bip) => Some(bip),
                None => n
                    .driver
                    .bridge_addresses(&cfg.bridge)
                    .map_err(net_err)?
                    .and_then(|a| a.first().copied()),
            };
            let net = n
                .driver
                .create_network(
                    berth_net::NetworkRequest {
                        name: "bridge".into(),
                        id: id.clone(),
                        subnet: adopted.map(|a| a.trunc()),
                        gateway: adopted.map(|a| a.addr()),
                        bridge: cfg.bridge.clone(),
                        ip_range: None,
                        aux: BTreeMap::new(),
                        internal: false,
                        dns: false,
                        labels: BTreeMap::new(),
                    },
                    &existing,
                )
                .map_err(net_err)?;
            let rec = NetRecord {
                net,
                created: now(),
            };
            if let Err(e) = store::put(db, store::NETWORKS, &id, &rec) {
                let _ = n.driver.remove_network(&rec.net);
                return Err(e);
            }
            st.nets.insert(id, rec);
        }
        Ok(())
    }

    /// A stored default bridge whose address is not `--bip`'s is made again with it (dockerd
    /// makes its default bridge from the flags at every start), unless containers still hold
    /// addresses on it: then it stays, with a warning.
    fn follow_bip(&self, st: &mut NetState, bip: Option<ipnet::Ipv4Net>) -> Result<()> {
        let Some(bip) = bip else {
            return Ok(());
        };
        let Some(rec) = st.nets.values().find(|r| r.net.name == "bridge") else {
            return Ok(());
        };
        let a = &rec.net.addresses;
        if a.subnet == bip.trunc() && a.gateway == bip.addr() {
            return Ok(());
        }
        if !rec.net.addresses.allocated.is_empty() {
            tracing::warn!(
                "bip {bip}: the default bridge keeps {} while containers use it",
                rec.net.addresses.subnet
            );
            return Ok(());
        }
        let id = rec.net.id.clone();
        self.nets()
            .driver
            .remove_network(&rec.net)
            .map_err(net_err)?;
        store::delete(&self.inner.store, store::NETWORKS, &id)?;
        st.nets.remove(&id);
        Ok(())
    }

    /// Daemon stop: networks with no attachment leave the kernel (their records stay).
    pub async fn shutdown_networks(&self) {
        let r = self
            .blocking(|e| {
                let n = e.nets();
                // Veths of `--rm` containers still being deleted go first.
                if !n.driver.settle(std::time::Duration::from_secs(10)) {
                    tracing::warn!("veths still being deleted at daemon stop");
                }
                let st = n.lock();
                for rec in st.nets.values() {
                    if !rec.net.addresses.allocated.is_empty() {
                        continue;
                    }
                    if n.driver.bridge_has_ports(&rec.net).unwrap_or(true) {
                        tracing::info!(
                            "bridge {} has ports of another daemon: left up",
                            rec.net.bridge
                        );
                        continue;
                    }
                    if let Err(err) = n.driver.remove_network(&rec.net) {
                        tracing::warn!("take down network {}: {}", rec.net.name, net_err(err));
                    }
                }
                Ok(())
            })
            .await;
        if let Err(e) = r {
            tracing::warn!("take down networks: {e}");
        }
    }

    /// Detaches every attachment of `cn` (errors are logged: the address is released anyway).
    pub(crate) fn detach_all(&self, st: &mut NetState, cn: &mut ContainerNet, link: LinkTeardown) {
        let db = &self.inner.store;
        for att in std::mem::take(&mut cn.attachments) {
            let Some(rec) = st.nets.get_mut(&att.network_id) else {
                continue;
            };
            if let Err(e) = self.nets().driver.detach(&mut rec.net, &att, link) {
                tracing::warn!(
                    "detach {} from {}: {}",
                    att.container_id,
                    rec.net.name,
                    net_err(e)
                );
            }
            if let Err(e) = store::put(db, store::NETWORKS, &rec.net.id, &*rec) {
                tracing::warn!("record network {}: {e}", rec.net.name);
            }
        }
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
