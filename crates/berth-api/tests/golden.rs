//! Golden JSON tests: the Engine API spec's own examples (extracted from
//! `docker-engine-api-v1.45.yaml` into `tests/golden/`) decode into berth's types, and
//! what berth encodes again is exactly what the example said for every field berth models.

use berth_api::container::{ContainerCreateBody, ContainerInspect, ContainerSummary};
use berth_api::event::EventMessage;
use berth_api::image::{ImageInspect, ImageSummary};
use berth_api::system::{SystemInfo, SystemVersion};
use berth_api::{ErrorResponse, container::WaitResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// Every key berth emits must exist in the example with the same value (recursively).
/// Fields the example omits may be emitted with Go's zero value (docker prints them so);
/// paths listed in `extra` may differ (docker's normalisation, e.g. a `StrSlice` given as a
/// string) or be emitted though the example lacks them. All mismatches are reported at once.
fn assert_subset(ours: &Value, theirs: &Value, path: &str, extra: &[&str]) {
    let mut bad = Vec::new();
    subset(ours, theirs, path, extra, &mut bad);
    assert!(bad.is_empty(), "mismatches:\n{}", bad.join("\n"));
}

/// Go's zero values: a field the example omits decodes to one, so emitting it is faithful.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_zero),
    }
}

fn subset(ours: &Value, theirs: &Value, path: &str, extra: &[&str], bad: &mut Vec<String>) {
    if extra.contains(&path) {
        return;
    }
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => subset(v, w, &p, extra, bad),
                    None if extra.contains(&p.as_str()) || is_zero(v) => {}
                    None => bad.push(format!("{p} = {v} emitted but not in the example")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                subset(v, w, &format!("{path}[{i}]"), extra, bad);
            }
        }
        _ if ours == theirs => {}
        _ => bad.push(format!("{path}: ours {ours} != example {theirs}")),
    }
}

fn roundtrip<T: DeserializeOwned + Serialize>(name: &str, extra: &[&str]) -> (T, Value) {
    let example = fixture(name);
    let typed: T =
        serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("decode {name}: {e}"));
    let ours = serde_json::to_value(&typed).unwrap();
    assert_subset(&ours, &example, "", extra);
    (typed, ours)
}

#[test]
fn container_create_request() {
    let (body, _) = roundtrip::<ContainerCreateBody>("container_create_request", &[".Entrypoint"]);
    // "Entrypoint": "" is a string in the example: docker's StrSlice makes it [""].
    assert_eq!(body.config.entrypoint, Some(vec![String::new()]));
    assert_eq!(body.config.cmd, Some(vec!["date".to_string()]));
    assert_eq!(body.config.image, "ubuntu");
    assert_eq!(body.config.stop_timeout, Some(10));
    let hc = body.host_config.unwrap();
    assert!(hc.auto_remove);
    assert_eq!(hc.nano_cpus, 500000);
    assert_eq!(hc.shm_size, 67108864);
    assert_eq!(hc.restart_policy.maximum_retry_count, 0);
    let nc = body.networking_config.unwrap().endpoints_config.unwrap();
    assert_eq!(nc["isolated_nw"].aliases.as_ref().unwrap().len(), 2);
}

#[test]
fn container_inspect() {
    let (c, _) = roundtrip::<ContainerInspect>("container_inspect", &[]);
    let s = c.state.unwrap();
    assert_eq!(s.status, "running");
    assert_eq!(s.exit_code, 9);
    assert_eq!(s.health.unwrap().status, "healthy");
    assert_eq!(c.args, vec!["-c", "exit 9"]);
    assert_eq!(c.mounts[0].destination, "/data");
    assert!(!c.mounts[0].rw);
}

#[test]
fn container_list() {
    let example = fixture("container_list");
    let list: Vec<ContainerSummary> = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0].names, vec!["/boring_feynman"]);
    assert_eq!(list[0].ports[0].public_port, Some(3333));
    assert_eq!(list[0].size_rw, Some(12288));
    let ours = serde_json::to_value(&list).unwrap();
    assert_subset(&ours, &example, "", &[]);
}

#[test]
fn image_summary_and_inspect() {
    let (s, _) = roundtrip::<ImageSummary>("image_summary", &[]);
    assert_eq!(s.containers, 2);
    assert_eq!(s.repo_tags.len(), 4);
    let example = fixture("image_inspect");
    let i: ImageInspect = serde_json::from_value(example).unwrap();
    assert!(i.id.starts_with("sha256:"));
    assert_eq!(i.os, "linux");
}

#[test]
fn system_version_and_info() {
    let (v, _) = roundtrip::<SystemVersion>("version", &[]);
    assert_eq!(v.api_version, "1.40");
    assert_eq!(v.components[0].name, "Engine");
    let info: SystemInfo = serde_json::from_value(fixture("info")).unwrap();
    assert_eq!(info.os_type, "linux");
}

#[test]
fn events_and_errors() {
    let (e, _) = roundtrip::<EventMessage>("event_message", &[]);
    assert_eq!(e.action, "create");
    assert_eq!(e.actor.attributes["name"], "my-container");
    let (err, _) = roundtrip::<ErrorResponse>("error", &[]);
    assert_eq!(err.message, "Something went wrong.");
}

#[test]
fn go_leniency_nulls_unknown_fields_and_omissions() {
    let body: ContainerCreateBody = serde_json::from_str(
        r#"{"Image":"busybox","Cmd":"echo hi","User":null,"Tty":null,"Bogus":{"x":1},
            "HostConfig":{"Memory":null,"Unknown":true}}"#,
    )
    .unwrap();
    assert_eq!(body.config.cmd, Some(vec!["echo hi".to_string()]));
    assert_eq!(body.config.user, "");
    assert!(!body.config.tty);
    assert_eq!(body.host_config.unwrap().memory, 0);
    let empty: ContainerCreateBody = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, ContainerCreateBody::default());
    // Omitted lists encode as Go's null, as docker prints them.
    let v = serde_json::to_value(&empty.config).unwrap();
    assert_eq!(v["Cmd"], Value::Null);
    assert!(v.get("StopSignal").is_none());
    let w: WaitResponse = serde_json::from_str(r#"{"StatusCode":3}"#).unwrap();
    assert_eq!(serde_json::to_string(&w).unwrap(), r#"{"StatusCode":3}"#);
}
