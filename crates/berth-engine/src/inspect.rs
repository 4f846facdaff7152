//! `inspect` and `list` in docker's shapes, and list's filters.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use berth_api::container::{
    ContainerInspect, ContainerState, ContainerSummary, GraphDriverData, NetworkSettings,
    SummaryHostConfig, SummaryNetworkSettings,
};

use crate::error::{EngineError, Result};
use crate::etcfiles;
use crate::filters;
use crate::model::{ContainerRecord, Status};
use crate::table::{Engine, ListOptions};

fn parse_time(s: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(SystemTime::from)
}

/// docker's `units.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

fn since(t: &str) -> String {
    let d = parse_time(t)
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default();
    human_duration(d)
}

/// The `Status` column: `Up 2 minutes`, `Exited (0) 3 seconds ago`, `Created`.
pub fn human_status(rec: &ContainerRecord) -> String {
    let s = &rec.state;
    match s.status {
        Status::Running => format!("Up {}", since(&s.started_at)),
        Status::Paused => format!("Up {} (Paused)", since(&s.started_at)),
        Status::Restarting => format!("Restarting ({}) {} ago", s.exit_code, since(&s.finished_at)),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited => format!("Exited ({}) {} ago", s.exit_code, since(&s.finished_at)),
    }
}

impl Engine {
    fn inspect_record(&self, rec: &ContainerRecord) -> ContainerInspect {
        let dir = self.dir(&rec.id);
        let s = &rec.state;
        let mut hc = rec.host_config.clone();
        let security = crate::security_opts::parse(hc.security_opt.as_deref().unwrap_or_default())
            .unwrap_or_default();
        let (masked, readonly) = crate::spec::system_paths(&hc, &security);
        hc.masked_paths = Some(masked);
        hc.readonly_paths = Some(readonly);
        if hc.runtime.is_empty() {
            // dockerd names its default runtime; clients read the field.
            hc.runtime = "runc".into();
        }
        let mut gd = BTreeMap::new();
        let lowers: Vec<String> = rec.lowers.iter().map(|p| p.display().to_string()).collect();
        gd.insert("LowerDir".to_owned(), lowers.join(":"));
        gd.insert("UpperDir".into(), dir.join("upper").display().to_string());
        gd.insert("WorkDir".into(), dir.join("work").display().to_string());
        gd.insert("MergedDir".into(), dir.join("rootfs").display().to_string());
        ContainerInspect {
            id: rec.id.clone(),
            created: rec.created.clone(),
            path: rec.path.clone(),
            args: rec.args.clone(),
            state: Some(ContainerState {
                status: s.status.as_str().into(),
                running: matches!(s.status, Status::Running | Status::Paused),
                paused: s.status == Status::Paused,
                restarting: s.status == Status::Restarting,
                oom_killed: s.oom_killed,
                dead: s.status == Status::Dead,
                pid: s.pid,
                exit_code: s.exit_code,
                error: s.error.clone(),
                started_at: s.started_at.clone(),
                finished_at: s.finished_at.clone(),
                health: self.health_of(rec),
            }),
            image: rec.image_id.clone(),
            resolv_conf_path: dir.join(etcfiles::RESOLV_CONF).display().to_string(),
            hostname_path: dir.join(etcfiles::HOSTNAME).display().to_string(),
            hosts_path: dir.join(etcfiles::HOSTS).display().to_string(),
            log_path: self.log_path(&rec.id).display().to_string(),
            name: rec.name.clone(),
            restart_count: rec.restart_count,
            driver: rec.driver.clone(),
            platform: "linux".into(),
            mount_label: String::new(),
            process_label: String::new(),
            app_armor_profile: String::new(),
            exec_ids: None,
            host_config: Some(hc),
            graph_driver: Some(GraphDriverData {
                name: rec.driver.clone(),
                data: gd,
            }),
            size_rw: None,
            size_root_fs: None,
            mounts: self.mount_points(rec),
            config: Some(rec.config.clone()),
            network_settings: Some(NetworkSettings {
                sandbox_key: if s.status.has_process() {
                    self.netns_path(&rec.id).display().to_string()
                } else {
                    String::new()
                },
                ..self.network_settings(rec)
            }),
        }
    }

    /// `GET /containers/{id}/json`.
    pub async fn inspect(&self, name: &str) -> Result<ContainerInspect> {
        let c = self.lookup(name)?;
        // Off the async workers: the network settings wait for the networks' lock, which an
        // attach holds across its netlink work.
        self.blocking(move |e| Ok(e.inspect_record(&c.record())))
            .await
    }

    fn summary(&self, rec: &ContainerRecord) -> ContainerSummary {
        let mut command = rec.path.clone();
        for a in &rec.args {
            command.push(' ');
            command.push_str(a);
        }
        ContainerSummary {
            id: rec.id.clone(),
            names: vec![rec.name.clone()],
            image: rec.image_name.clone(),
            image_id: rec.image_id.clone(),
            command,
            created: parse_time(&rec.created)
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64),
            ports: self.summary_ports(rec).0,
            size_rw: None,
            size_root_fs: None,
            labels: Some(rec.config.labels.clone().unwrap_or_default()),
            state: rec.state.status.as_str().into(),
            status: {
                let mut st = human_status(rec);
                if rec.state.status == Status::Running {
                    match self.health_of(rec).map(|h| h.status).as_deref() {
                        Some("starting") => st.push_str(" (health: starting)"),
                        Some(h @ ("healthy" | "unhealthy")) => st.push_str(&format!(" ({h})")),
                        _ => {}
                    }
                }
                st
            },
            host_config: Some(SummaryHostConfig {
                network_mode: rec.host_config.network_mode.clone(),
            }),
            network_settings: Some(SummaryNetworkSettings {
                networks: Some(self.summary_ports(rec).1),
            }),
            mounts: self.mount_points(rec),
        }
    }

    /// The health of a container's current run, if it has a check.
    fn health_of(&self, rec: &ContainerRecord) -> Option<berth_api::container::Health> {
        let c = self.table().by_id.get(&rec.id).cloned();
        c.and_then(|c| c.health())
    }

    fn filter_ok(&self, rec: &ContainerRecord, key: &str, v: &str) -> Result<bool> {
        Ok(match key {
            "health" => {
                if !matches!(v, "starting" | "healthy" | "unhealthy" | "none") {
                    return Err(EngineError::Invalid(format!(
                        "Unrecognised filter value for health: {v}"
                    )));
                }
                let h = self.health_of(rec).map(|h| h.status);
                h.as_deref().unwrap_or("none") == v
            }
            "id" => rec.id.starts_with(v) || filters::regex_matches(v, &rec.id),
            "name" => filters::name_matches(&rec.name, v),
            "volume" => filters::volume_matches(&self.mount_points(rec), v),
            "network" => self
                .summary_ports(rec)
                .1
                .iter()
                .any(|(name, ep)| name == v || (!v.is_empty() && ep.network_id.starts_with(v))),
            "publish" => filters::port_matches(
                "publish",
                rec.host_config
                    .port_bindings
                    .iter()
                    .flatten()
                    .map(|(k, _)| k),
                v,
            )?,
            "expose" => filters::port_matches(
                "expose",
                rec.config.exposed_ports.iter().flatten().map(|(k, _)| k),
                v,
            )?,
            "before" => rec.created < self.lookup(v)?.record().created,
            "since" => rec.created > self.lookup(v)?.record().created,
            "label" => {
                filters::label_matches(rec.config.labels.as_ref().unwrap_or(&Default::default()), v)
            }
            "status" => {
                const OK: [&str; 7] = [
                    "created",
                    "restarting",
                    "running",
                    "removing",
                    "paused",
                    "exited",
                    "dead",
                ];
                if !OK.contains(&v) {
                    return Err(EngineError::Invalid(format!("invalid filter 'status={v}'")));
                }
                rec.state.status.as_str() == v
            }
            "exited" => {
                let code: i64 = v
                    .parse()
                    .map_err(|_| EngineError::Invalid(format!("invalid filter 'exited={v}'")))?;
                rec.state.status == Status::Exited && rec.state.exit_code == code
            }
            "ancestor" => {
                rec.image_name == v
                    || rec.image_id == v
                    || rec
                        .image_id
                        .strip_prefix("sha256:")
                        .is_some_and(|h| h.starts_with(v.trim_start_matches("sha256:")))
                    || self
                        .inner
                        .images
                        .resolve(v)
                        .is_ok_and(|id| id.to_string() == rec.image_id)
            }
            other => return Err(EngineError::Invalid(format!("invalid filter '{other}'"))),
        })
    }

    /// `GET /containers/json`: newest first.
    pub async fn list(&self, o: ListOptions) -> Result<Vec<ContainerSummary>> {
        // Off the async workers, as inspect.
        self.blocking(move |e| e.list_blocking(&o)).await
    }

    fn list_blocking(&self, o: &ListOptions) -> Result<Vec<ContainerSummary>> {
        let mut recs: Vec<ContainerRecord> =
            self.table().by_id.values().map(|c| c.record()).collect();
        recs.sort_by(|a, b| b.created.cmp(&a.created));
        let all = o.all
            || o.limit.is_some()
            || o.filters.contains_key("status")
            || o.filters.contains_key("exited");
        let mut out = Vec::new();
        'next: for rec in recs {
            if !all && !rec.state.status.is_active() {
                continue;
            }
            for (k, values) in &o.filters {
                if values.is_empty() {
                    continue;
                }
                let mut any = false;
                for v in values {
                    // Labels must all match; other keys need one match.
                    let ok = self.filter_ok(&rec, k, v)?;
                    if k == "label" && !ok {
                        continue 'next;
                    }
                    any |= ok;
                }
                if !any {
                    continue 'next;
                }
            }
            out.push(self.summary(&rec));
            if o.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_docker() {
        let s = |n| human_duration(Duration::from_secs(n));
        assert_eq!(s(0), "Less than a second");
        assert_eq!(s(1), "1 second");
        assert_eq!(s(59), "59 seconds");
        assert_eq!(s(60), "About a minute");
        assert_eq!(s(60 * 5), "5 minutes");
        assert_eq!(s(3600), "About an hour");
        assert_eq!(s(3600 * 5), "5 hours");
        assert_eq!(s(3600 * 24 * 3), "3 days");
    }
}
