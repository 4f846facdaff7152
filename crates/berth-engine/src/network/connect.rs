//! `network connect` and `network disconnect`.

use std::os::fd::AsFd;

use berth_api::container::EndpointSettings;
use berth_net::{AttachRequest, LinkTeardown};

use super::{net_err, store};
use crate::error::{EngineError, Result};
use crate::table::Engine;

impl Engine {
    /// `POST /networks/{id}/connect`: records the endpoint; a running container is attached
    /// at once (its next `ethN`).
    pub async fn network_connect(
        &self,
        network: &str,
        container: &str,
        endpoint: EndpointSettings,
    ) -> Result<()> {
        let c = self.lookup(container)?;
        let _op = c.op.lock().await;
        let rec = c.record();
        let mode = rec.host_config.network_mode.clone();
        if mode == "host" || mode == "none" || mode.starts_with("container:") {
            return Err(EngineError::Forbidden(format!(
                "container cannot be disconnected from host network or connected to {mode} network"
            )));
        }
        let running = rec.state.status.has_process();
        let (network, id, name) = (network.to_owned(), rec.id.clone(), rec.name.clone());
        let netns = self.netns_path(&id);
        let upstreams = super::resolv::dns_upstreams(&self.with_default_dns(&rec.host_config));
        let resolver = self
            .blocking(move |e| {
                let n = e.nets();
                let mut st = n.lock();
                let found = st.find(&network)?;
                let net_id = found.net.id.clone();
                let aliases = endpoint.aliases.clone().unwrap_or_default();
                if found.net.name == "bridge" && !aliases.is_empty() {
                    return Err(EngineError::Invalid(
                        "network-scoped alias is supported only for containers in user defined networks".into(),
                    ));
                }
                let opts = super::endpoint_opts::check(&found.net, Some(&endpoint), &[])?;
                let mut cn = st.containers.get(&id).cloned().unwrap_or_default();
                if cn.endpoints.contains_key(&net_id) {
                    return Err(EngineError::Forbidden(format!(
                        "endpoint with name {} already exists in network {network}",
                        name.trim_start_matches('/')
                    )));
                }
                if running {
                    let fd = std::fs::File::open(&netns)
                        .map_err(|e| EngineError::io("open", &netns, e))?;
                    let Some(rec) = st.nets.get_mut(&net_id) else {
                        return Err(EngineError::NoSuchNetwork(network));
                    };
                    let mut names = vec![name.trim_start_matches('/').to_owned()];
                    names.extend(aliases.iter().cloned());
                    names.push(crate::names::short(&id).to_owned());
                    let att = n
                        .driver
                        .attach(
                            &mut rec.net,
                            fd.as_fd(),
                            AttachRequest {
                                container_id: id.clone(),
                                names,
                                ip: opts.ipv4,
                                ports: Vec::new(),
                                dns_upstreams: upstreams,
                                mac: opts.mac_bytes(),
                                links: opts.link_pairs(),
                            },
                        )
                        .map_err(net_err)?;
                    store::put(&e.inner.store, store::NETWORKS, &net_id, &*rec)?;
                    cn.attachments.push(att);
                }
                if cn.primary.is_none() {
                    cn.primary = Some(net_id.clone());
                }
                if opts != Default::default() {
                    cn.settings.insert(net_id.clone(), opts);
                }
                cn.endpoints.insert(net_id, aliases);
                store::put(&e.inner.store, store::ENDPOINTS, &id, &cn)?;
                st.containers.insert(id.clone(), cn);
                Ok(running && n.driver.has_resolver(&id))
            })
            .await?;
        // Joined its first network with DNS (a container started on the default bridge):
        // names now go to its resolver, as dockerd rewrites the file on that join.
        if resolver {
            self.write_resolv_conf(&rec, true)?;
        }
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub async fn network_disconnect(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<()> {
        let c = self.lookup(container)?;
        let _op = c.op.lock().await;
        let rec = c.record();
        let running = rec.state.status.has_process();
        let (network, id) = (network.to_owned(), c.id.clone());
        let netns = self.netns_path(&id);
        let left_dns = self
            .blocking(move |e| {
                let n = e.nets();
                let mut st = n.lock();
                let had_resolver = n.driver.has_resolver(&id);
                let net_id = st.find(&network)?.net.id.clone();
                let mut cn = st.containers.get(&id).cloned().unwrap_or_default();
                cn.settings.remove(&net_id);
                // As dockerd: not connected is an error, forced or not; force only clears an
                // attachment whose endpoint record is already gone.
                let had_endpoint = cn.endpoints.remove(&net_id).is_some();
                let stale = cn.attachments.iter().any(|a| a.network_id == net_id);
                if !(had_endpoint || force && stale) {
                    return Err(EngineError::Forbidden(format!(
                        "container {id} is not connected to network {network}"
                    )));
                }
                if let Some(pos) = cn.attachments.iter().position(|a| a.network_id == net_id) {
                    let att = cn.attachments.remove(pos);
                    if let Some(rec) = st.nets.get_mut(&net_id) {
                        let r = n.driver.detach(&mut rec.net, &att, LinkTeardown::Wait);
                        store::put(&e.inner.store, store::NETWORKS, &net_id, &*rec)?;
                        r.map_err(net_err)?;
                    }
                }
                if cn.primary.as_ref() == Some(&net_id) {
                    cn.primary = cn.endpoints.keys().next().cloned();
                }
                store::put(&e.inner.store, store::ENDPOINTS, &id, &cn)?;
                st.containers.insert(id.clone(), cn);
                let left_dns = running && had_resolver && !n.driver.has_resolver(&id);
                if left_dns {
                    // Its resolver stopped with the detach; the DNAT to it goes too.
                    let fd = std::fs::File::open(&netns)
                        .map_err(|e| EngineError::io("open", &netns, e))?;
                    n.driver
                        .remove_resolver_rules(fd.as_fd())
                        .map_err(net_err)?;
                }
                Ok(left_dns)
            })
            .await?;
        // Left its last network with DNS: back to the host's resolvers.
        if left_dns {
            self.write_resolv_conf(&rec, false)?;
        }
        Ok(())
    }
}
