//! Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`), as docker applies
//! them: after an exit the container goes `restarting`, waits a back-off (100 ms, doubling
//! while runs stay shorter than 10 s), and starts again unless a user stopped, started or
//! removed it meanwhile. On daemon start, `always` containers that are not running start,
//! and so do `unless-stopped` ones no user stopped.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::model::{ContainerRecord, Status};
use crate::table::{Container, Engine};

/// Whether the policy asks for a restart after this exit.
pub(crate) fn should_restart(rec: &ContainerRecord) -> bool {
    let p = &rec.host_config.restart_policy;
    if rec.manually_stopped || rec.host_config.auto_remove {
        return false;
    }
    match p.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            rec.state.exit_code != 0
                && (p.maximum_retry_count == 0 || rec.restart_count < p.maximum_retry_count)
        }
        _ => false,
    }
}

/// Whether the container should be started when the daemon starts.
pub(crate) fn start_on_boot(rec: &ContainerRecord) -> bool {
    match rec.host_config.restart_policy.name.as_str() {
        "always" => true,
        "unless-stopped" => !rec.manually_stopped,
        _ => false,
    }
}

fn parse(t: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(SystemTime::from)
}

/// docker's back-off: 100 ms doubling per restart, back to 100 ms after a run of 10 s.
pub(crate) fn backoff(rec: &ContainerRecord) -> Duration {
    let ran = match (parse(&rec.state.started_at), parse(&rec.state.finished_at)) {
        (Some(s), Some(f)) => f.duration_since(s).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    if ran >= Duration::from_secs(10) {
        return Duration::from_millis(100);
    }
    let shift = rec.restart_count.clamp(0, 9) as u32;
    Duration::from_millis(100 << shift).min(Duration::from_secs(60))
}

impl Engine {
    /// Marks `c` restarting and starts it again after the back-off.
    pub(crate) fn schedule_restart(&self, c: &Arc<Container>) {
        let delay = backoff(&c.record());
        let rec = match self.save(c, |r| {
            r.state.status = Status::Restarting;
            r.restart_count += 1;
        }) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("schedule restart of {}: {e}", c.id);
                return;
            }
        };
        let engine = self.clone();
        let c = c.clone();
        let generation = rec.generation;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _op = c.op.lock().await;
            let now = c.record();
            if c.run.borrow().removed
                || now.state.status != Status::Restarting
                || now.generation != generation
            {
                return;
            }
            if let Err(e) = engine.start_locked(&c).await {
                tracing::warn!("restart of {} by its policy failed: {e}", c.id);
                let _ = engine.save(&c, |r| r.state.status = Status::Exited);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::{HostConfig, RestartPolicy};

    fn rec(policy: &str, max: i64, code: i64, count: i64) -> ContainerRecord {
        let mut r: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "/x", "created": "", "image_name": "", "image_id": "",
            "lowers": [], "path": "true", "args": [], "config": {}, "host_config": {},
            "state": {"status": "exited", "pid": 0, "exit_code": code, "oom_killed": false,
                      "error": "", "started_at": "2026-11-30T15:00:00Z",
                      "finished_at": "2026-11-30T15:00:01Z"},
            "restart_count": count, "driver": "overlay2", "generation": 1
        }))
        .unwrap();
        r.host_config = HostConfig {
            restart_policy: RestartPolicy {
                name: policy.into(),
                maximum_retry_count: max,
            },
            ..HostConfig::default()
        };
        r
    }

    #[test]
    fn policies_decide_like_docker() {
        assert!(!should_restart(&rec("no", 0, 1, 0)));
        assert!(should_restart(&rec("always", 0, 0, 5)));
        assert!(should_restart(&rec("on-failure", 2, 1, 1)));
        assert!(!should_restart(&rec("on-failure", 2, 1, 2)));
        assert!(!should_restart(&rec("on-failure", 0, 0, 0)));
        let mut stopped = rec("always", 0, 0, 0);
        stopped.manually_stopped = true;
        assert!(!should_restart(&stopped));
        assert!(start_on_boot(&stopped));
        stopped.host_config.restart_policy.name = "unless-stopped".into();
        assert!(!start_on_boot(&stopped));
    }

    #[test]
    fn backoff_doubles_and_resets() {
        assert_eq!(backoff(&rec("always", 0, 0, 0)), Duration::from_millis(100));
        assert_eq!(backoff(&rec("always", 0, 0, 3)), Duration::from_millis(800));
        let mut long = rec("always", 0, 0, 5);
        long.state.finished_at = "2026-11-30T15:01:00Z".into();
        assert_eq!(backoff(&long), Duration::from_millis(100));
    }
}
