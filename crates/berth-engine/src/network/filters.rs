//! `GET /networks?filters=...` with dockerd's semantics: `id` and `name` are unanchored
//! regular expressions (so an id prefix or part of a name matches), `driver` and `scope` are
//! exact, `label` is `key` or `key=value`, `type` is `custom` or `builtin`, `dangling` keeps
//! custom networks with no container (or, `false`, the others). Values of one key are OR-ed,
//! keys AND-ed; an unknown key or value is a 400 naming it.

use berth_api::network::NetworkResource;

use crate::error::{EngineError, Result};
use crate::events::Filters;
use crate::filters::{label_matches, regex_matches, truthy};

/// The networks docker creates itself and that `type=builtin` selects.
const BUILTIN: [&str; 3] = ["bridge", "host", "none"];

/// Keeps the networks that pass `filters`.
pub(crate) fn apply(
    mut nets: Vec<NetworkResource>,
    filters: &Filters,
) -> Result<Vec<NetworkResource>> {
    for (key, values) in filters {
        if values.is_empty() {
            continue;
        }
        let keep: Box<dyn Fn(&NetworkResource) -> bool> = match key.as_str() {
            "id" => Box::new(|n| values.iter().any(|v| regex_matches(v, &n.id))),
            "name" => Box::new(|n| values.iter().any(|v| regex_matches(v, &n.name))),
            "driver" => Box::new(|n| values.contains(&n.driver)),
            "scope" => Box::new(|n| values.contains(&n.scope)),
            "label" => Box::new(|n| values.iter().any(|v| label_matches(&n.labels, v))),
            "type" => {
                for v in values {
                    if v != "custom" && v != "builtin" {
                        return Err(EngineError::Invalid(format!(
                            "invalid filter: 'type'='{v}'"
                        )));
                    }
                }
                Box::new(|n| {
                    let builtin = BUILTIN.contains(&n.name.as_str());
                    values.iter().any(|v| (v == "builtin") == builtin)
                })
            }
            "dangling" => {
                let want = match values.as_slice() {
                    [v] => truthy(v),
                    _ => None,
                };
                let Some(want) = want else {
                    return Err(EngineError::Invalid(format!(
                        "invalid filter 'dangling={}'",
                        values.join(",")
                    )));
                };
                Box::new(move |n| {
                    let dangling = !BUILTIN.contains(&n.name.as_str()) && n.containers.is_empty();
                    dangling == want
                })
            }
            other => {
                return Err(EngineError::Invalid(format!("invalid filter '{other}'")));
            }
        };
        nets.retain(|n| keep(n));
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(name: &str, id: &str, labels: &[(&str, &str)], containers: usize) -> NetworkResource {
        let mut n = NetworkResource {
            name: name.into(),
            id: id.into(),
            driver: if name == "host" { "host" } else { "bridge" }.into(),
            scope: "local".into(),
            ..Default::default()
        };
        n.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for i in 0..containers {
            n.containers.insert(format!("c{i}"), Default::default());
        }
        n
    }

    fn names(nets: &[NetworkResource]) -> Vec<&str> {
        nets.iter().map(|n| n.name.as_str()).collect()
    }

    fn run(json: &str) -> Result<Vec<String>, String> {
        let all = vec![
            net("bridge", "b1b1", &[], 2),
            net("host", "h0h0", &[], 0),
            net("web-front", "abc123", &[("env", "prod")], 0),
            net("web-back", "abd456", &[("env", "dev"), ("team", "x")], 1),
        ];
        let f: Filters = serde_json::from_str(json).map_err(|e| e.to_string())?;
        apply(all, &f)
            .map(|v| names(&v).into_iter().map(str::to_owned).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn docker_semantics() {
        assert_eq!(run(r#"{"id":["abc"]}"#).unwrap(), ["web-front"]);
        assert_eq!(
            run(r#"{"id":["fdhjklfdfdshjkfds"]}"#).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            run(r#"{"name":["web"]}"#).unwrap(),
            ["web-front", "web-back"]
        );
        assert_eq!(run(r#"{"name":["^web-b"]}"#).unwrap(), ["web-back"]);
        assert_eq!(run(r#"{"label":["team"]}"#).unwrap(), ["web-back"]);
        assert_eq!(run(r#"{"label":["env=prod"]}"#).unwrap(), ["web-front"]);
        assert_eq!(run(r#"{"type":["builtin"]}"#).unwrap(), ["bridge", "host"]);
        assert_eq!(
            run(r#"{"type":["custom"],"driver":["bridge"]}"#).unwrap(),
            ["web-front", "web-back"]
        );
        assert_eq!(run(r#"{"dangling":["true"]}"#).unwrap(), ["web-front"]);
        assert_eq!(
            run(r#"{"dangling":["false"]}"#).unwrap(),
            ["bridge", "host", "web-back"]
        );
        assert_eq!(run(r#"{"driver":["host"]}"#).unwrap(), ["host"]);
        assert!(
            run(r#"{"colour":["x"]}"#)
                .unwrap_err()
                .contains("invalid filter 'colour'")
        );
        assert!(
            run(r#"{"type":["odd"]}"#)
                .unwrap_err()
                .contains("'type'='odd'")
        );
        assert!(run(r#"{"dangling":["maybe"]}"#).is_err());
    }
}
