//! The image config: docker's image JSON (the OCI image config plus docker's extensions such
//! as `Healthcheck`, `OnBuild` and `Shell`), and the `--change` instructions of
//! `docker import`/`docker commit`.
//!
//! Own serde types rather than `oci_spec::image::ImageConfiguration`, because that one has
//! no `Healthcheck`, `OnBuild`, `Shell` or `ArgsEscaped`; unknown fields are kept in `extra`
//! maps so a config read from elsewhere keeps what berth does not model. The bytes of a
//! stored config are never rewritten (its digest is the image ID).

mod change;
pub mod port;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::Digest;

pub use change::{ChangeError, apply_changes};

/// docker's image config JSON (`application/vnd.docker.container.image.v1+json`, which is
/// also `application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Creation time, RFC 3339 (kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// CPU architecture, GOARCH spelling (`amd64`, `arm64`).
    #[serde(default)]
    pub architecture: String,
    /// CPU variant (`v8`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    /// Operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// The container defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The layers' diff IDs, bottom first.
    pub rootfs: RootFs,
    /// One entry per build step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    /// Fields berth does not model (`container`, `container_config`, `docker_version`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `config` object: defaults for containers run from the image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `user[:group]`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// `"80/tcp": {}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// `K=V`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Default arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// docker's health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Windows only, kept for round trips.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    /// The entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `"/data": {}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Value>>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Signal to stop a container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// ONBUILD triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// The shell for shell-form commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// Fields berth does not model (`Hostname`, `AttachStdin`, ... in older images).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// docker's `Healthcheck`; durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// Time a check may take.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// Grace period after start.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// Time between checks during the start period.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    /// Failures before unhealthy.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub retries: i32,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

/// The `rootfs` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Diff IDs, bottom layer first.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        }
    }
}

/// One `history` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// When, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// Author.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// Comment (`Imported from -`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// Parses a config blob.
    pub fn from_slice(data: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(data)
    }

    /// Serialises (compact, as docker writes configs).
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// The host architecture in GOARCH spelling, as image configs name it.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// Now, RFC 3339 with nanoseconds in UTC, as docker writes `created`.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A docker 24 busybox config, shortened.
    const DOCKER: &str = r#"{"architecture":"amd64","config":{"Hostname":"","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Image":"sha256:abc","Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"Labels":{"a":"b"},"ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"WorkingDir":"/w","User":"1:2","StopSignal":"SIGQUIT","Entrypoint":null,"OnBuild":null},"container":"deadbeef","created":"2023-05-19T20:19:28.498288613Z","docker_version":"20.10.23","history":[{"created":"2023-05-19T20:19:28.323218443Z","created_by":"/bin/sh -c #(nop) ADD file:x in / "},{"created":"2023-05-19T20:19:28.498288613Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}"#;

    #[test]
    fn parses_docker_config_and_keeps_unknown_fields() {
        let c = ImageConfig::from_slice(DOCKER.as_bytes()).unwrap();
        let cc = c.config.as_ref().unwrap();
        assert_eq!(cc.cmd.as_deref(), Some(&["sh".to_owned()][..]));
        assert_eq!(cc.entrypoint, None);
        assert_eq!(cc.working_dir, "/w");
        assert_eq!(cc.user, "1:2");
        assert_eq!(cc.stop_signal, "SIGQUIT");
        assert_eq!(cc.healthcheck.as_ref().unwrap().retries, 3);
        assert!(cc.exposed_ports.as_ref().unwrap().contains_key("80/tcp"));
        assert!(cc.volumes.as_ref().unwrap().contains_key("/data"));
        assert_eq!(cc.extra["Image"], "sha256:abc");
        assert_eq!(c.extra["docker_version"], "20.10.23");
        assert_eq!(c.rootfs.diff_ids.len(), 1);
        assert!(c.history[1].empty_layer);
        // Round trip: what we write parses back to the same value, extras included.
        let again = ImageConfig::from_slice(&c.to_vec().unwrap()).unwrap();
        assert_eq!(again, c);
        let v: Value = serde_json::from_slice(&c.to_vec().unwrap()).unwrap();
        assert_eq!(v["config"]["Healthcheck"]["Interval"], 30_000_000_000i64);
        assert_eq!(v["config"]["ExposedPorts"]["80/tcp"], serde_json::json!({}));
    }

    #[test]
    fn rejects_bad_diff_id() {
        let bad = r#"{"rootfs":{"type":"layers","diff_ids":["sha256:nothex"]}}"#;
        assert!(ImageConfig::from_slice(bad.as_bytes()).is_err());
    }

    #[test]
    fn host_arch_and_time() {
        assert!(!host_architecture().is_empty());
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.contains('T'), "{t}");
    }
}
