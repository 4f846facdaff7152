//! The matching rules of dockerd's list filters, shared by containers, images, volumes and
//! networks: `name` and `id` as unanchored regular expressions, `label` as `key` or
//! `key=value`; and for `docker ps`: `volume` (a mount's name, source or destination),
//! `publish` and `expose` (`80`, `80/udp`, `8000-8080/tcp`: container ports, tcp unless
//! named).

use std::collections::BTreeMap;

use berth_api::container::MountPoint;
use berth_image::config::port::PortRange;

use crate::error::{EngineError, Result};

/// Go's `regexp.MatchString`: an expression that does not compile matches nothing, as in
/// dockerd's filters.
pub(crate) fn regex_matches(pattern: &str, text: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|r| r.is_match(text))
}

/// A boolean filter value (`dangling`, `all`): docker's spellings, `None` for another.
pub(crate) fn truthy(v: &str) -> Option<bool> {
    match v {
        "1" | "true" | "True" => Some(true),
        "0" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A `label` filter value: `key` (present) or `key=value`.
pub(crate) fn label_matches(labels: &BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(want),
    }
}

/// A container name filter: dockerd tries the name with and without its leading `/`.
pub(crate) fn name_matches(name: &str, pattern: &str) -> bool {
    regex_matches(pattern, name) || regex_matches(pattern, name.trim_start_matches('/'))
}

/// Whether one of the mounts is the named volume, or has that source or destination.
pub(crate) fn volume_matches(mounts: &[MountPoint], want: &str) -> bool {
    mounts
        .iter()
        .any(|m| m.name == want || m.source == want || m.destination == want)
}

/// Whether one of `ports` (`80/tcp` keys, as `ExposedPorts` and `PortBindings` have
/// them) falls in the filter value `v` (`80`, `80/udp`, `8000-8080/tcp`).
pub(crate) fn port_matches<'a>(
    key: &str,
    ports: impl IntoIterator<Item = &'a String>,
    v: &str,
) -> Result<bool> {
    let want = PortRange::parse(v)
        .map_err(|_| EngineError::Invalid(format!("invalid filter '{key}={v}'")))?;
    Ok(ports.into_iter().any(|p| want.contains_key(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unanchored_regexps_with_or_without_the_slash() {
        assert!(name_matches("/web", "^w.b$"));
        assert!(name_matches("/web", "/web"));
        assert!(name_matches("/my-web-1", "web"));
        assert!(!name_matches("/db", "web"));
        assert!(
            !name_matches("/web", "("),
            "a bad expression matches nothing"
        );
    }

    #[test]
    fn ports_and_ranges() {
        let ports = ["80/tcp".to_string(), "53/udp".to_string()];
        let m = |v| port_matches("publish", &ports, v).unwrap();
        assert!(m("80"));
        assert!(m("80/tcp"));
        assert!(!m("80/udp"));
        assert!(m("53/udp"));
        assert!(m("70-90"));
        assert!(!m("81-90"));
        assert!(port_matches("expose", &ports, "x").is_err());
        assert!(port_matches("expose", &ports, "90-80").is_err());
        assert!(port_matches("expose", &ports, "80/icmp").is_err());
    }

    #[test]
    fn volumes_by_name_source_or_destination() {
        let m = MountPoint {
            name: "data".into(),
            source: "/var/lib/berth/volumes/data/_data".into(),
            destination: "/srv".into(),
            ..Default::default()
        };
        for want in ["data", "/srv", "/var/lib/berth/volumes/data/_data"] {
            assert!(volume_matches(std::slice::from_ref(&m), want), "{want}");
        }
        assert!(!volume_matches(&[m], "other"));
    }
}
