//! `container prune`: removes every stopped container (`created`, `exited`, `dead`) that
//! matches the `label` and `until` filters.

use std::collections::BTreeMap;

use berth_api::container::ContainerPruneResponse;

use crate::error::{EngineError, Result};
use crate::model::{ContainerRecord, Status};
use crate::table::Engine;

impl Engine {
    /// `POST /containers/prune`.
    pub async fn prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<ContainerPruneResponse> {
        for key in filters.keys() {
            if !matches!(key.as_str(), "label" | "label!" | "until") {
                return Err(EngineError::Invalid(format!("invalid filter '{key}'")));
            }
        }
        let until = match filters.get("until").and_then(|v| v.first()) {
            Some(v) => Some(
                parse_until(v)
                    .ok_or_else(|| EngineError::Invalid(format!("invalid filter 'until={v}'")))?,
            ),
            None => None,
        };
        let candidates: Vec<_> = self.table().by_id.values().cloned().collect();
        let mut out = ContainerPruneResponse::default();
        for c in candidates {
            let rec = c.record();
            if !matches!(
                rec.state.status,
                Status::Created | Status::Exited | Status::Dead
            ) || !labels_match(&rec, filters)
                || until.is_some_and(|t| created_secs(&rec) >= t)
            {
                continue;
            }
            let size = crate::disk::dir_size(&self.dir(&c.id).join("upper"));
            match self.remove_container(&c, false, false).await {
                Ok(()) => {
                    out.containers_deleted.push(c.id.clone());
                    out.space_reclaimed += size;
                }
                Err(e) => tracing::warn!("prune {}: {e}", c.id),
            }
        }
        self.inner.events.emit(
            "container",
            "prune",
            "",
            BTreeMap::from([("reclaimed".to_owned(), out.space_reclaimed.to_string())]),
        );
        Ok(out)
    }
}

/// docker's `until`: a Unix time (`1700000000[.5]`), an RFC 3339 time, or a duration before
/// now (`24h`, `30m`, `10s`); in seconds since the epoch.
fn parse_until(v: &str) -> Option<i64> {
    if let Ok(t) = v.parse::<f64>() {
        return Some(t as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.timestamp());
    }
    let (num, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "h" => n * 3600.0,
        "m" => n * 60.0,
        "s" => n,
        _ => return None,
    };
    Some(chrono::Utc::now().timestamp() - secs as i64)
}

fn created_secs(rec: &ContainerRecord) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&rec.created)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// `label=k`, `label=k=v` must all match; `label!=...` must all not.
fn labels_match(rec: &ContainerRecord, filters: &BTreeMap<String, Vec<String>>) -> bool {
    let labels = rec.config.labels.clone().unwrap_or_default();
    let has = |f: &str| crate::filters::label_matches(&labels, f);
    filters.get("label").into_iter().flatten().all(|f| has(f))
        && !filters.get("label!").into_iter().flatten().any(|f| has(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_dockers_forms() {
        assert_eq!(parse_until("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_until("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        let now = chrono::Utc::now().timestamp();
        assert!(parse_until("1h").is_some_and(|t| (now - 3601..=now - 3599).contains(&t)));
        assert_eq!(parse_until("soon"), None);
    }
}
