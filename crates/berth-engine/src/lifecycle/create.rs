//! `create`: validate the request, merge it with the image's config as docker does, reserve
//! the name, prepare the rootfs snapshot and store the record. A failure undoes every step.

use berth_api::container::{ContainerConfig, ContainerCreateBody, HostConfig};
use berth_image::snapshot::Snapshotter;
use berth_image::store::Image;

use super::host_checks;
use crate::error::{EngineError, Result};
use crate::model::{ContainerRecord, StateRecord};
use crate::mounts::Made;
use crate::names;
use crate::table::{Container, Engine};

/// Merges the image's defaults into the request's config (moby `merge` in daemon/create).
pub(crate) fn merge_image_config(cfg: &mut ContainerConfig, image: &Image) {
    let Some(ic) = image.config.config.as_ref() else {
        return;
    };
    if cfg.user.is_empty() {
        cfg.user = ic.user.clone();
    }
    // dockerd's merge: the request's list as given (a bare `KEY` stays, to unset it in the
    // process at start), then each image variable whose key the request does not name.
    let image_env = ic.env.clone().unwrap_or_default();
    if !image_env.is_empty() {
        let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_owned();
        let mut env = cfg.env.take().unwrap_or_default();
        let named: std::collections::HashSet<String> = env.iter().map(|e| key(e)).collect();
        env.extend(image_env.into_iter().filter(|e| !named.contains(&key(e))));
        cfg.env = Some(env);
    }
    let no_entrypoint = cfg.entrypoint.as_ref().is_none_or(|e| e.is_empty());
    if no_entrypoint {
        if cfg.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            cfg.cmd = ic.cmd.clone();
        }
        if cfg.entrypoint.is_none() {
            cfg.entrypoint = ic.entrypoint.clone();
        }
    }
    if cfg.working_dir.is_empty() {
        cfg.working_dir = ic.working_dir.clone();
    }
    if let Some(il) = &ic.labels {
        let mut labels = il.clone();
        labels.extend(cfg.labels.take().unwrap_or_default());
        cfg.labels = Some(labels);
    }
    if let Some(ports) = &ic.exposed_ports {
        let mut p = cfg.exposed_ports.take().unwrap_or_default();
        for k in ports.keys() {
            p.entry(k.clone()).or_default();
        }
        cfg.exposed_ports = Some(p);
    }
    if let Some(vols) = &ic.volumes {
        let mut v = cfg.volumes.take().unwrap_or_default();
        for k in vols.keys() {
            v.entry(k.clone()).or_default();
        }
        cfg.volumes = Some(v);
    }
    if cfg.stop_signal.as_deref().is_none_or(str::is_empty) && !ic.stop_signal.is_empty() {
        cfg.stop_signal = Some(ic.stop_signal.clone());
    }
    if cfg.shell.is_none() {
        cfg.shell = ic.shell.clone();
    }
    // the image's HEALTHCHECK, field by field under the request's (moby's merge)
    if let Some(ih) = &ic.healthcheck {
        let h = cfg.healthcheck.get_or_insert_with(Default::default);
        if h.test.as_ref().is_none_or(Vec::is_empty) {
            h.test = Some(ih.test.clone());
        }
        if h.interval == 0 {
            h.interval = ih.interval;
        }
        if h.timeout == 0 {
            h.timeout = ih.timeout;
        }
        if h.retries == 0 {
            h.retries = i64::from(ih.retries);
        }
        if h.start_period == 0 {
            h.start_period = ih.start_period;
        }
        if h.start_interval == 0 {
            h.start_interval = ih.start_interval;
        }
    }
}

/// What `create` answers: the new container's ID and dockerd's warnings about what the
/// host could not honour (and so dropped, as dockerd does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The 64-hex ID.
    pub id: String,
    /// Warnings for the client (`Warnings` of the create response).
    pub warnings: Vec<String>,
}

/// Refuses what berth cannot honour rather than ignoring it silently.
/// The deprecated container-level `Config.MacAddress` (docker-py still sends it) goes to the
/// endpoint of the container's network, as dockerd does; a different endpoint MAC is a
/// conflict.
fn config_mac_to_endpoint(
    cfg: &ContainerConfig,
    hc: &HostConfig,
    networking: &mut Option<berth_api::container::NetworkingConfig>,
) -> Result<()> {
    let Some(mac) = cfg.mac_address.as_deref().filter(|m| !m.is_empty()) else {
        return Ok(());
    };
    let network = match hc.network_mode.as_str() {
        "" | "default" => "bridge",
        other => other,
    };
    let endpoints = networking
        .get_or_insert_with(Default::default)
        .endpoints_config
        .get_or_insert_with(Default::default);
    let ep = endpoints.entry(network.to_string()).or_default();
    if ep.mac_address.is_empty() {
        ep.mac_address = mac.to_string();
    } else if !ep.mac_address.eq_ignore_ascii_case(mac) {
        return Err(EngineError::Invalid(format!(
            "conflicting options: the container's MacAddress {mac} and the endpoint's {}",
            ep.mac_address
        )));
    }
    Ok(())
}

pub(crate) fn validate_host_config(hc: &mut HostConfig) -> Result<()> {
    let policy = hc.restart_policy.name.as_str();
    if hc.auto_remove && !matches!(policy, "" | "no") {
        return Err(EngineError::Invalid(
            "can't create 'AutoRemove' container with restart policy".into(),
        ));
    }
    match policy {
        "" | "no" | "always" | "unless-stopped" if hc.restart_policy.maximum_retry_count != 0 => {
            return Err(EngineError::Invalid(format!(
                "invalid restart policy: maximum retry count can only be used with 'on-failure' (got {policy:?})"
            )));
        }
        "" | "no" | "always" | "unless-stopped" => {}
        "on-failure" if hc.restart_policy.maximum_retry_count < 0 => {
            return Err(EngineError::Invalid(
                "invalid restart policy: maximum retry count cannot be negative".into(),
            ));
        }
        "on-failure" => {}
        other => {
            return Err(EngineError::Invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure' or 'unless-stopped'"
            )));
        }
    }
    match hc.network_mode.as_str() {
        "" | "default" | "bridge" => hc.network_mode = "bridge".into(),
        // host, none, container:NAME and network names are checked by the engine's
        // networks (`net_validate`).
        _ => {}
    }
    crate::logconfig::validate(&mut hc.log_config)?;
    Ok(())
}

impl Engine {
    /// The host config's own checks (normalised in place): policy values, host limits and
    /// namespace modes; returns dockerd's warnings. Create and build (for its RUN steps,
    /// before anything runs) share them.
    pub(crate) fn check_host_config(&self, hc: &mut HostConfig) -> Result<Vec<String>> {
        validate_host_config(hc)?;
        let warnings = host_checks::check(hc)?;
        self.check_namespace_modes(hc)?;
        Ok(warnings)
    }

    /// `POST /containers/create`: returns the new container's ID.
    pub async fn create(&self, name: Option<String>, body: ContainerCreateBody) -> Result<Created> {
        // All of it blocks (the store, the image's layers, the networks' lock, directories).
        self.blocking(move |e| e.create_blocking(name, body)).await
    }

    fn create_blocking(&self, name: Option<String>, body: ContainerCreateBody) -> Result<Created> {
        let name = name
            .filter(|n| !n.is_empty())
            .map(|n| names::validate(&n))
            .transpose()?;
        crate::options::refuse_unsupported(&body)?;
        let mut cfg = body.config;
        if cfg.image.is_empty() {
            return Err(EngineError::Invalid("config.Image is required".into()));
        }
        let mut hc = body.host_config.unwrap_or_default();
        if cfg.network_disabled {
            hc.network_mode = "none".into();
        }
        self.merge_default_log_config(&mut hc.log_config);
        self.merge_default_ulimits(&mut hc);
        let warnings = self.check_host_config(&mut hc)?;
        if let Some(h) = &cfg.healthcheck {
            crate::lifecycle::health::validate(h)?;
        }
        let mut networking = body.networking_config;
        config_mac_to_endpoint(&cfg, &hc, &mut networking)?;
        let net = self.net_validate(&hc, networking.as_ref())?;
        let image = self.inner.images.get(&cfg.image)?;
        let lowers = self.inner.images.lowerdirs(&image.id)?;
        merge_image_config(&mut cfg, &image);
        let mut argv: Vec<String> = cfg.entrypoint.clone().unwrap_or_default();
        argv.extend(cfg.cmd.clone().unwrap_or_default());
        if argv.is_empty() {
            return Err(EngineError::Invalid("No command specified".into()));
        }
        let id = names::new_id()?;
        if cfg.hostname.is_empty() {
            cfg.hostname = names::short(&id).to_owned();
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let rec = ContainerRecord {
            id: id.clone(),
            name: String::new(),
            created: now,
            image_name: cfg.image.clone(),
            image_id: image.id.to_string(),
            lowers,
            path: argv[0].clone(),
            args: argv[1..].to_vec(),
            config: cfg,
            host_config: hc,
            state: StateRecord::default(),
            restart_count: 0,
            driver: self.inner.snap.name().to_owned(),
            generation: 0,
            manually_stopped: false,
            mounts: Vec::new(),
        };
        let name = self.reserve(&id, name, rec)?;
        let c = self.lookup(&id)?;
        let mut made = Made::default();
        match self
            .materialise(&c, &mut made)
            .and_then(|rec| self.net_created(&id, net).map(|()| rec))
        {
            Ok(rec) => {
                self.emit(&rec, "create", &[]);
                tracing::debug!(id = %id, name = %name, "created");
                Ok(Created { id, warnings })
            }
            Err(e) => {
                let cleanup = self.unmake(&c, &made);
                Err(e.with_cleanup(cleanup))
            }
        }
    }

    /// Takes the name (given, or generated until free) and enters the container in the
    /// table, under one lock.
    fn reserve(&self, id: &str, name: Option<String>, mut rec: ContainerRecord) -> Result<String> {
        let mut t = self.table();
        let name = match name {
            Some(n) => {
                if let Some(holder) = t.names.get(&n) {
                    return Err(EngineError::NameInUse {
                        name: n,
                        id: holder.clone(),
                    });
                }
                n
            }
            None => {
                let mut retry = 0;
                loop {
                    let n = format!("/{}", names::generate(retry));
                    if !t.names.contains_key(&n) {
                        break n;
                    }
                    retry += 1;
                }
            }
        };
        rec.name = name.clone();
        t.names.insert(name.clone(), id.to_owned());
        t.by_id.insert(id.to_owned(), Container::new(rec));
        Ok(name)
    }

    /// Makes the directory and the snapshot (left unmounted until start), then stores the
    /// record.
    fn materialise(&self, c: &Container, made: &mut Made) -> Result<ContainerRecord> {
        let dir = self.dir(&c.id);
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("create", &dir, e))?;
        let rec = c.record();
        self.inner.snap.prepare(&dir, &rec.lowers)?;
        self.inner.snap.unmount(&dir)?;
        self.plan_mounts(c, made)?;
        let rec = c.record();
        self.inner.store.put(&rec)?;
        Ok(rec)
    }

    /// Undoes [`Engine::materialise`] and the reservation; returns every failure.
    fn unmake(&self, c: &Container, made: &Made) -> Vec<String> {
        let mut errors = Vec::new();
        // The record goes first: the volumes made for it are then unused.
        if let Err(e) = self.inner.store.delete(&c.id) {
            errors.push(e.message());
        }
        let dir = self.dir(&c.id);
        if let Err(e) = self.inner.snap.remove(&dir) {
            errors.push(crate::error::full_message(&e));
        }
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            errors.push(format!("remove {}: {e}", dir.display()));
        }
        let name = c.record().name;
        {
            let mut t = self.table();
            t.by_id.remove(&c.id);
            if t.names.get(&name) == Some(&c.id) {
                t.names.remove(&name);
            }
        }
        errors.extend(self.unmake_volumes(made));
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_image::config::{ContainerConfig as ImgCfg, ImageConfig};

    fn image(ic: ImgCfg) -> Image {
        Image {
            id: berth_image::Digest::of(b"x"),
            config: ImageConfig {
                config: Some(ic),
                ..ImageConfig::default()
            },
            references: vec![],
            layers: vec![],
            size: 0,
            parent: None,
        }
    }

    #[test]
    fn image_defaults_fill_the_request() {
        let img = image(ImgCfg {
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: "/srv".into(),
            stop_signal: "SIGQUIT".into(),
            ..ImgCfg::default()
        });
        let mut cfg = ContainerConfig {
            env: Some(vec!["A=2".into()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut cfg, &img);
        assert_eq!(cfg.env.unwrap(), vec!["A=2", "PATH=/bin"]);
        let mut cfg = ContainerConfig {
            env: Some(vec!["Foo".into(), "B=".into()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut cfg, &img);
        assert_eq!(cfg.env.unwrap(), vec!["Foo", "B=", "PATH=/bin", "A=1"]);
        assert_eq!(cfg.cmd.unwrap(), vec!["sh"]);
        assert_eq!(cfg.working_dir, "/srv");
        assert_eq!(cfg.stop_signal.as_deref(), Some("SIGQUIT"));
    }

    #[test]
    fn a_user_entrypoint_drops_the_image_cmd() {
        let img = image(ImgCfg {
            entrypoint: Some(vec!["/init".into()]),
            cmd: Some(vec!["serve".into()]),
            ..ImgCfg::default()
        });
        let mut cfg = ContainerConfig {
            entrypoint: Some(vec!["echo".into()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut cfg, &img);
        assert_eq!(cfg.entrypoint.unwrap(), vec!["echo"]);
        assert_eq!(cfg.cmd, None);
        let mut cfg = ContainerConfig {
            cmd: Some(vec!["x".into()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut cfg, &img);
        assert_eq!(cfg.entrypoint.unwrap(), vec!["/init"]);
        assert_eq!(cfg.cmd.unwrap(), vec!["x"]);
    }

    #[test]
    fn unsupported_host_config_is_refused() {
        let mut hc = HostConfig {
            restart_policy: berth_api::container::RestartPolicy {
                name: "sometimes".into(),
                maximum_retry_count: 0,
            },
            ..HostConfig::default()
        };
        assert!(validate_host_config(&mut hc).is_err());
        let mut hc = HostConfig::default();
        validate_host_config(&mut hc).unwrap();
        assert_eq!(hc.network_mode, "bridge");
        assert_eq!(hc.log_config.r#type, "json-file");
    }
}
