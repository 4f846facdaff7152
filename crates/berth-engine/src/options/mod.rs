//! The fate of every container option of the Engine API: honoured as dockerd honours it, or
//! refused with a 400 that names it. Nothing is accepted and silently dropped.
//!
//! [`POLICY`] lists every field of `ContainerConfig`, `HostConfig` (with its `Resources`) and
//! the endpoint settings of `NetworkingConfig` in API v1.45, and of the update request
//! (`Resources` and `RestartPolicy`). A test walks the API document
//! and fails when a field is missing here, so a field nobody decided on fails the build;
//! `docs/container-options.md` is rendered from this table and checked against it.
//!
//! [`refuse_unsupported`] runs first in create: a [`Support::Refused`] field with a value
//! other than its zero value (what clients send for "not set": `null`, `0`, `""`, `[]`,
//! `{}`) is an error. Fields honoured for some values only (a log driver, a security option,
//! a runtime name) are checked by the code that honours them.

mod table;

use berth_api::container::{ContainerCreateBody, ContainerUpdateBody};
use serde_json::Value;

use crate::error::{EngineError, Result};

pub use table::POLICY;

/// What berth does with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Honoured as dockerd honours it.
    Honoured,
    /// Honoured for some values; the others are refused with a 400 by the code that
    /// honours it. The text says which.
    Partly(&'static str),
    /// Refused with a 400 when set; the text says why.
    Refused(&'static str),
    /// Has no effect on a Linux container in dockerd either (Windows-only, output-only or
    /// client-side); the text says why.
    Inert(&'static str),
}

/// Where a field lives in the create request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `ContainerConfig`: the top level of the create body.
    Config,
    /// `HostConfig`.
    Host,
    /// `NetworkingConfig.EndpointsConfig.<network>`.
    Endpoint,
    /// The body of `POST /containers/{id}/update`.
    Update,
}

impl Section {
    /// The section's name in the API document.
    pub fn name(self) -> &'static str {
        match self {
            Section::Config => "ContainerConfig",
            Section::Host => "HostConfig",
            Section::Endpoint => "EndpointSettings",
            Section::Update => "ContainerUpdate",
        }
    }
}

/// One field's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPolicy {
    /// The section it belongs to.
    pub section: Section,
    /// Its JSON name.
    pub field: &'static str,
    /// The docker CLI flag that sets it (for messages), or the field name.
    pub flag: &'static str,
    /// What berth does with it.
    pub support: Support,
}

/// Go's zero values: what a client sends for a field it does not set.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_zero),
        Value::Object(o) => o.values().all(is_zero),
    }
}

/// Refuses a request that sets a field berth cannot honour, naming the first such field.
pub fn refuse_unsupported(body: &ContainerCreateBody) -> Result<()> {
    let to_value = |v: serde_json::Result<Value>| v.unwrap_or(Value::Null);
    let config = to_value(serde_json::to_value(&body.config));
    let host = to_value(serde_json::to_value(&body.host_config));
    let endpoints: Vec<Value> = body
        .networking_config
        .iter()
        .flat_map(|n| n.endpoints_config.iter().flatten())
        .map(|(_, e)| to_value(serde_json::to_value(e)))
        .collect();
    for p in POLICY {
        let Support::Refused(why) = p.support else {
            continue;
        };
        let set = match p.section {
            Section::Config => config.get(p.field).is_some_and(|v| !is_zero(v)),
            Section::Host => host.get(p.field).is_some_and(|v| !is_zero(v)),
            Section::Endpoint => endpoints
                .iter()
                .any(|e| e.get(p.field).is_some_and(|v| !is_zero(v))),
            Section::Update => false,
        };
        if set {
            return Err(EngineError::Invalid(format!(
                "{} is not supported by berth: {why}",
                p.flag
            )));
        }
    }
    Ok(())
}

/// The update fields berth changes, in the table's order.
fn updatable() -> impl Iterator<Item = &'static str> {
    POLICY
        .iter()
        .filter(|p| p.section == Section::Update && p.support == Support::Honoured)
        .map(|p| p.field)
}

/// Refuses an update that sets a field berth cannot change (any field of the body other
/// than the honoured ones, with a value other than its zero value), naming them all.
pub fn refuse_unsupported_update(body: &ContainerUpdateBody) -> Result<()> {
    let value = serde_json::to_value(body).unwrap_or(Value::Null);
    let honoured: Vec<&str> = updatable().collect();
    let refused: Vec<&String> = value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !is_zero(v) && !honoured.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = refused.iter().map(|k| k.as_str()).collect();
    let (last, rest) = honoured.split_last().unwrap_or((&"", &[]));
    Err(EngineError::Invalid(format!(
        "{} cannot be updated by berth: only {} and {last} can",
        names.join(", "),
        rest.join(", ")
    )))
}

/// `docs/container-options.md`: the table as a document.
pub fn render_markdown() -> String {
    let mut out = String::from(
        "# Container options: what berth does with each\n\n\
         Generated from `crates/berth-engine/src/options/table.rs` (a test checks that this \
         file matches it and that every field of the Engine API v1.45 create request is in \
         it, and of the update request). A refused option is answered with HTTP 400 naming \
         it; none is ignored silently.\n",
    );
    for section in [
        Section::Config,
        Section::Host,
        Section::Endpoint,
        Section::Update,
    ] {
        out.push_str(&format!(
            "\n## {}\n\n| field | flag | status | notes |\n| --- | --- | --- | --- |\n",
            section.name()
        ));
        for p in POLICY.iter().filter(|p| p.section == section) {
            let (status, note) = match p.support {
                Support::Honoured => ("honoured", ""),
                Support::Partly(n) => ("partly", n),
                Support::Refused(n) => ("refused", n),
                Support::Inert(n) => ("inert", n),
            };
            out.push_str(&format!(
                "| `{}` | `{}` | {status} | {note} |\n",
                p.field, p.flag
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ContainerCreateBody {
        serde_json::from_str(json).expect("body")
    }

    #[test]
    fn zero_values_pass_and_set_ones_are_named() {
        refuse_unsupported(&body(
            r#"{"Image":"x","HostConfig":{"KernelMemoryTCP":0,"DeviceRequests":null,
                "BlkioDeviceReadBps":[],"StorageOpt":{},"ConsoleSize":[0,0]}}"#,
        ))
        .expect("zero values are not settings");
        let e = refuse_unsupported(&body(
            r#"{"Image":"x","HostConfig":{"StorageOpt":{"size":"1G"}}}"#,
        ))
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--storage-opt is not supported by berth"),
            "{e}"
        );
        // Config.MacAddress is honoured (copied to the endpoint), so not refused.
        assert!(
            refuse_unsupported(&body(r#"{"Image":"x","MacAddress":"02:42:ac:11:00:02"}"#)).is_ok()
        );
    }

    #[test]
    fn update_body_as_the_docker_cli_sends_it() {
        // docker update --memory 64m --pids-limit 50: every Resources field, mostly zero
        let body = r#"{"CpuShares":0,"Memory":67108864,"NanoCpus":0,"CgroupParent":"",
            "BlkioWeight":0,"BlkioWeightDevice":null,"CpuPeriod":0,"CpuQuota":0,
            "CpusetCpus":"","CpusetMems":"","Devices":null,"MemoryReservation":0,
            "MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":50,
            "Ulimits":null,"CpuCount":0,"RestartPolicy":{"Name":"","MaximumRetryCount":0}}"#;
        let b: ContainerUpdateBody = serde_json::from_str(body).unwrap();
        assert!(refuse_unsupported_update(&b).is_ok());
        let b: ContainerUpdateBody =
            serde_json::from_str(r#"{"BlkioWeight":300,"OomKillDisable":true}"#).unwrap();
        let e = refuse_unsupported_update(&b).unwrap_err().to_string();
        assert!(
            e.starts_with("BlkioWeight, OomKillDisable cannot be updated by berth: only Memory, MemorySwap, MemoryReservation, CpuShares, NanoCpus, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems, PidsLimit and RestartPolicy can"),
            "{e}"
        );
    }

    #[test]
    fn the_update_fields_berth_models_are_the_honoured_ones() {
        let modelled: std::collections::BTreeSet<String> =
            serde_json::to_value(ContainerUpdateBody::default())
                .unwrap()
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
        let honoured = updatable().map(str::to_owned).collect();
        assert_eq!(modelled, honoured);
    }

    #[test]
    fn every_field_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for p in POLICY {
            assert!(
                seen.insert((p.section.name(), p.field)),
                "{} listed twice",
                p.field
            );
        }
    }
}
