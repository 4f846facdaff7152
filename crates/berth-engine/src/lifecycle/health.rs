//! Health checks: `Config.Healthcheck` (merged with the image's `HEALTHCHECK` at create)
//! run through the exec path, one tokio task per running container asleep on a timer
//! between probes (no thread per container).
//!
//! As dockerd: the status starts as `starting`; a success makes it `healthy`; `retries`
//! failures in a row make it `unhealthy`, except that failures during the start period do
//! not count (probes then come every `start_interval`). A probe that outlives `timeout` is
//! killed and fails with exit code -1. The last 5 results are kept; each change of status
//! emits `health_status: <status>`. Defaults: interval 30 s, timeout 30 s, retries 3,
//! start interval 5 s.
//!
//! Beyond docker (moby#28400): a container labelled `berth.restart-on-unhealthy=true` is
//! restarted when it turns unhealthy.

use std::sync::Arc;
use std::time::Duration;

use berth_api::container::{Health, HealthConfig, HealthcheckResult};

use crate::error::{EngineError, Result};
use crate::model::{ContainerRecord, Status};
use crate::table::{Container, Engine};

/// The label that asks for a restart when the container turns unhealthy.
pub const RESTART_ON_UNHEALTHY: &str = "berth.restart-on-unhealthy";
/// Results kept in `State.Health.Log`.
const KEEP: usize = 5;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: i64 = 3;
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);

/// A container's check with the defaults filled in.
#[derive(Debug, Clone, PartialEq)]
struct Probe {
    cmd: Vec<String>,
    interval: Duration,
    timeout: Duration,
    retries: i64,
    start_period: Duration,
    start_interval: Duration,
}

fn dur(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

/// The probe of a config; `None` without a test or with `NONE`.
fn probe(rec: &ContainerRecord) -> Option<Probe> {
    let h = rec.config.healthcheck.as_ref()?;
    let test = h.test.as_ref()?;
    let cmd = match test.first().map(String::as_str) {
        Some("CMD") => test[1..].to_vec(),
        Some("CMD-SHELL") => {
            let mut shell = rec
                .config
                .shell
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
            shell.push(test[1..].join(" "));
            shell
        }
        _ => return None,
    };
    if cmd.is_empty() {
        return None;
    }
    Some(Probe {
        cmd,
        interval: dur(h.interval, DEFAULT_INTERVAL),
        timeout: dur(h.timeout, DEFAULT_TIMEOUT),
        retries: if h.retries > 0 {
            h.retries
        } else {
            DEFAULT_RETRIES
        },
        start_period: dur(h.start_period, Duration::ZERO),
        start_interval: dur(h.start_interval, DEFAULT_START_INTERVAL),
    })
}

/// dockerd's checks of a health config at create.
pub(crate) fn validate(h: &HealthConfig) -> Result<()> {
    const MIN: i64 = 1_000_000;
    for (name, v) in [
        ("Interval", h.interval),
        ("Timeout", h.timeout),
        ("StartPeriod", h.start_period),
        ("StartInterval", h.start_interval),
    ] {
        if v != 0 && v < MIN {
            return Err(EngineError::Invalid(format!(
                "{name} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if h.retries < 0 {
        return Err(EngineError::Invalid(
            "Retries in Healthcheck cannot be negative".into(),
        ));
    }
    Ok(())
}

/// Go's `Duration.String` for whole and fractional seconds (`30s`, `1.5s`, `500ms`).
pub(crate) fn go_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = d.as_secs_f64();
        let t = format!("{s}");
        format!("{t}s")
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl Engine {
    /// Starts the health monitor of a run that just began (or was reconnected after a
    /// daemon restart), if the container has a check.
    pub(crate) fn spawn_health(&self, c: &Arc<Container>, rec: &ContainerRecord) {
        let Some(p) = probe(rec) else {
            c.update_health(|h| *h = None);
            return;
        };
        c.update_health(|h| {
            *h = Some(Health {
                status: "starting".into(),
                failing_streak: 0,
                log: Some(Vec::new()),
            })
        });
        let engine = self.clone();
        let c = c.clone();
        let generation = rec.generation;
        tokio::spawn(async move { engine.health_loop(c, generation, p).await });
    }

    async fn health_loop(&self, c: Arc<Container>, generation: u64, p: Probe) {
        let began = tokio::time::Instant::now();
        let mut run = c.run.subscribe();
        loop {
            let in_start = began.elapsed() < p.start_period;
            let wait = if in_start {
                p.start_interval
            } else {
                p.interval
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = run.wait_for(|r| !r.running || r.removed) => return,
            }
            let rec = c.record();
            if rec.generation != generation || !rec.state.status.has_process() {
                return;
            }
            if rec.state.status == Status::Paused {
                continue;
            }
            let in_start = began.elapsed() < p.start_period;
            let start = now();
            let (code, output) = match self.exec_probe(&c.id, p.cmd.clone(), p.timeout).await {
                Ok(r) => r,
                // the run ended under the probe: nothing to record
                Err(_) if !c.status().has_process() => return,
                Err(e) => (-1, e.message()),
            };
            let result = HealthcheckResult {
                start,
                end: now(),
                exit_code: code,
                output,
            };
            let changed = c.update_health(|h| {
                let h = h.get_or_insert_with(Default::default);
                let log = h.log.get_or_insert_with(Vec::new);
                log.push(result);
                if log.len() > KEEP {
                    log.drain(..log.len() - KEEP);
                }
                let before = h.status.clone();
                if code == 0 {
                    h.failing_streak = 0;
                    h.status = "healthy".into();
                } else if !in_start {
                    h.failing_streak += 1;
                    if h.failing_streak >= p.retries {
                        h.status = "unhealthy".into();
                    }
                }
                (h.status != before).then(|| h.status.clone())
            });
            let Some(status) = changed else { continue };
            self.emit(&rec, &format!("health_status: {status}"), &[]);
            let restart = rec
                .config
                .labels
                .as_ref()
                .and_then(|l| l.get(RESTART_ON_UNHEALTHY))
                .is_some_and(|v| v == "true");
            if status == "unhealthy" && restart {
                tracing::info!(id = %c.id, "unhealthy: restarting as its label asks");
                let engine = self.clone();
                let id = c.id.clone();
                tokio::spawn(async move {
                    if let Err(e) = engine.restart(&id, None, None).await {
                        tracing::warn!("restart of unhealthy {id}: {e}");
                    }
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::ContainerConfig;

    fn rec(test: &[&str]) -> ContainerRecord {
        let cfg = ContainerConfig {
            healthcheck: Some(HealthConfig {
                test: Some(test.iter().map(|s| (*s).to_owned()).collect()),
                interval: 2_000_000_000,
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut r: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "/x", "created": "", "image_name": "", "image_id": "",
            "lowers": [], "path": "", "args": [], "config": {}, "host_config": {},
            "state": crate::model::StateRecord::default(), "restart_count": 0,
            "driver": "", "generation": 0
        }))
        .unwrap();
        r.config = cfg;
        r
    }

    #[test]
    fn probes_from_tests_with_defaults() {
        let p = probe(&rec(&["CMD-SHELL", "test -f /ok"])).unwrap();
        assert_eq!(p.cmd, ["/bin/sh", "-c", "test -f /ok"]);
        assert_eq!(p.interval, Duration::from_secs(2));
        assert_eq!(p.timeout, DEFAULT_TIMEOUT);
        assert_eq!(p.retries, 3);
        assert_eq!(probe(&rec(&["CMD", "true"])).unwrap().cmd, ["true"]);
        assert!(probe(&rec(&["NONE"])).is_none());
        assert!(probe(&rec(&[])).is_none());
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        let bad = HealthConfig {
            interval: 10,
            ..Default::default()
        };
        assert!(validate(&bad).is_err());
    }
}
