//! The builder's image config to and from the image store's.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_build::executor::{HealthConfig, ImageConfig};
use berth_image::config::{ContainerConfig, HealthConfig as StoreHealth};

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn duration(n: i64) -> Duration {
    Duration::from_nanos(u64::try_from(n).unwrap_or(0))
}

/// The store's container config (an image's `config`) as the builder sees it.
pub(crate) fn from_store(c: Option<&ContainerConfig>) -> ImageConfig {
    let Some(c) = c else {
        return ImageConfig::default();
    };
    ImageConfig {
        env: c.env.clone().unwrap_or_default(),
        cmd: c.cmd.clone(),
        entrypoint: c.entrypoint.clone(),
        working_dir: c.working_dir.clone(),
        user: c.user.clone(),
        labels: c.labels.clone().unwrap_or_default(),
        exposed_ports: c
            .exposed_ports
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
        volumes: c
            .volumes
            .as_ref()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default(),
        healthcheck: c.healthcheck.as_ref().map(|h| HealthConfig {
            test: h.test.clone(),
            interval: duration(h.interval),
            timeout: duration(h.timeout),
            start_period: duration(h.start_period),
            start_interval: duration(h.start_interval),
            retries: u32::try_from(h.retries).unwrap_or(0),
        }),
        stop_signal: (!c.stop_signal.is_empty()).then(|| c.stop_signal.clone()),
        on_build: c.on_build.clone().unwrap_or_default(),
        shell: c.shell.clone(),
        author: None,
    }
}

/// The builder's config as the store's, over `base` (so fields the builder does not know
/// are kept).
pub(crate) fn to_store(c: &ImageConfig, base: Option<&ContainerConfig>) -> ContainerConfig {
    let mut out = base.cloned().unwrap_or_default();
    let set = |v: &[String]| -> Option<BTreeMap<String, serde_json::Value>> {
        (!v.is_empty()).then(|| {
            v.iter()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        })
    };
    out.env = (!c.env.is_empty()).then(|| c.env.clone());
    out.cmd = c.cmd.clone();
    out.entrypoint = c.entrypoint.clone();
    out.working_dir = c.working_dir.clone();
    out.user = c.user.clone();
    out.labels = (!c.labels.is_empty()).then(|| c.labels.clone());
    out.exposed_ports = set(&c.exposed_ports);
    out.volumes = set(&c.volumes);
    out.healthcheck = c.healthcheck.as_ref().map(|h| StoreHealth {
        test: h.test.clone(),
        interval: nanos(h.interval),
        timeout: nanos(h.timeout),
        start_period: nanos(h.start_period),
        start_interval: nanos(h.start_interval),
        retries: i32::try_from(h.retries).unwrap_or(i32::MAX),
    });
    out.stop_signal = c.stop_signal.clone().unwrap_or_default();
    out.on_build = (!c.on_build.is_empty()).then(|| c.on_build.clone());
    out.shell = c.shell.clone();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let c = ImageConfig {
            env: vec!["A=1".into()],
            cmd: Some(vec!["sh".into()]),
            entrypoint: Some(vec!["/e".into()]),
            working_dir: "/w".into(),
            user: "u".into(),
            labels: BTreeMap::from([("k".into(), "v".into())]),
            exposed_ports: vec!["80/tcp".into()],
            volumes: vec!["/data".into()],
            healthcheck: Some(HealthConfig {
                test: vec!["CMD".into(), "true".into()],
                interval: Duration::from_secs(5),
                timeout: Duration::ZERO,
                start_period: Duration::ZERO,
                start_interval: Duration::ZERO,
                retries: 3,
            }),
            stop_signal: Some("SIGINT".into()),
            on_build: vec!["RUN x".into()],
            shell: Some(vec!["/bin/bash".into(), "-c".into()]),
            author: None,
        };
        let store = to_store(&c, None);
        assert_eq!(from_store(Some(&store)), c);
    }
}
