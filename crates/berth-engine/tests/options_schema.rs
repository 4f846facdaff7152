//! Every field of the create request in the Engine API document has a decision in
//! `berth_engine::options::POLICY` (honoured, partly, refused, inert), and nothing there is
//! stale; `docs/container-options.md` is that table, rendered. A new API field nobody
//! decided on fails here. `BERTH_BLESS=1` rewrites the document.

use std::collections::BTreeSet;
use std::path::PathBuf;

use berth_engine::options::{POLICY, render_markdown};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The API document, as JSON.
fn api() -> Value {
    let path = repo().join("docs/reference/docker-engine-api-v1.45.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    serde_norway::from_str(&text).expect("parse the API document")
}

/// The properties of a definition, following `allOf` references (HostConfig = Resources +
/// its own).
fn properties(defs: &Value, name: &str) -> BTreeSet<String> {
    let def = &defs[name];
    let mut out = BTreeSet::new();
    for part in def["allOf"].as_array().into_iter().flatten() {
        if let Some(r) = part["$ref"].as_str() {
            out.extend(properties(defs, r.rsplit('/').next().unwrap_or_default()));
        } else if let Some(p) = part["properties"].as_object() {
            out.extend(p.keys().cloned());
        }
    }
    if let Some(p) = def["properties"].as_object() {
        out.extend(p.keys().cloned());
    }
    out
}

#[test]
fn every_create_and_update_field_of_the_api_has_a_decision() {
    let api = api();
    let defs = &api["definitions"];
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    // The update body is `Resources` plus `RestartPolicy` (an inline schema in the document).
    let mut update = properties(defs, "Resources");
    update.insert("RestartPolicy".to_owned());
    let sections = [
        ("ContainerConfig", properties(defs, "ContainerConfig")),
        ("HostConfig", properties(defs, "HostConfig")),
        ("EndpointSettings", properties(defs, "EndpointSettings")),
        ("ContainerUpdate", update),
    ];
    for (section, fields) in sections {
        assert!(
            fields.len() > 10,
            "{section}: too few properties: {fields:?}"
        );
        let decided: BTreeSet<String> = POLICY
            .iter()
            .filter(|p| p.section.name() == section)
            .map(|p| p.field.to_owned())
            .collect();
        missing.extend(
            fields
                .difference(&decided)
                .map(|f| format!("{section}.{f}")),
        );
        stale.extend(
            decided
                .difference(&fields)
                .map(|f| format!("{section}.{f}")),
        );
    }
    // NetworkingConfig holds only the endpoint map.
    assert_eq!(
        properties(defs, "NetworkingConfig"),
        BTreeSet::from(["EndpointsConfig".to_owned()])
    );
    assert!(missing.is_empty(), "fields without a decision: {missing:?}");
    assert!(
        stale.is_empty(),
        "decisions for fields not in the API: {stale:?}"
    );
}

#[test]
fn the_options_document_is_the_table() {
    let path = repo().join("docs/container-options.md");
    let want = render_markdown();
    if std::env::var_os("BERTH_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write the document");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} differs from the table: run BERTH_BLESS=1 cargo test -p berth-engine --test options_schema",
        path.display()
    );
}
