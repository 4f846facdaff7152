//! `nft`: running scripts and listings, and the backend that opens foreign nftables forward
//! chains with rules commented `berth-forward:<bridge>`.
//!
//! Scripts are plain text applied atomically with `nft -f -`. Only our own table's rules are
//! looked for by tag; foreign listings are read as untyped JSON (unknown expressions would
//! break typed deserialization).

use serde_json::Value;

use super::{FirewallError, ForwardBackend, run};

/// Applies an `nft` script atomically; `what` names it in the error.
pub(crate) fn script(script: &str, what: &str) -> Result<(), FirewallError> {
    run("nft", &["-f", "-"], Some(script), what).map(|_| ())
}

/// The objects of `nft -j -a <args>`.
pub(crate) fn json(args: &[&str], what: &str) -> Result<Vec<Value>, FirewallError> {
    let mut full = vec!["-j", "-a"];
    full.extend_from_slice(args);
    let text = run("nft", &full, None, what)?;
    let v: Value = serde_json::from_str(&text).map_err(|source| FirewallError::Json {
        what: what.to_string(),
        source,
    })?;
    Ok(v.get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// A rule found by its comment: family, table, chain and handle.
pub(crate) type Handle = (String, String, String, u64);

/// The rules of a listing commented `tag`.
pub(crate) fn handles_tagged(rules: &[Value], tag: &str) -> Vec<Handle> {
    rules
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| r.get("comment").and_then(Value::as_str) == Some(tag))
        .filter_map(|r| {
            Some((
                r.get("family")?.as_str()?.to_string(),
                r.get("table")?.as_str()?.to_string(),
                r.get("chain")?.as_str()?.to_string(),
                r.get("handle")?.as_u64()?,
            ))
        })
        .collect()
}

/// Deletes the rules `found` in one script (none: nothing to run).
pub(crate) fn delete_handles(found: &[Handle], what: &str) -> Result<(), FirewallError> {
    if found.is_empty() {
        return Ok(());
    }
    let text: String = found
        .iter()
        .map(|(f, t, c, h)| format!("delete rule {f} {t} {c} handle {h}\n"))
        .collect();
    script(&text, what)
}

/// A foreign base chain on the forward hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardChain {
    /// `ip` or `inet`.
    pub family: String,
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// Its policy is drop.
    pub drop: bool,
}

/// The `ip`/`inet` base chains on the forward hook in tables that are not berth's.
pub(crate) fn forward_chains() -> Result<Vec<ForwardChain>, FirewallError> {
    let all = json(&["list", "chains"], "list chains")?;
    Ok(all
        .iter()
        .filter_map(|o| o.get("chain"))
        .filter(|c| c.get("hook").and_then(Value::as_str) == Some("forward"))
        .filter_map(|c| {
            Some(ForwardChain {
                family: c.get("family")?.as_str()?.to_string(),
                table: c.get("table")?.as_str()?.to_string(),
                name: c.get("name")?.as_str()?.to_string(),
                drop: c.get("policy").and_then(Value::as_str) == Some("drop"),
            })
        })
        .filter(|c| matches!(c.family.as_str(), "ip" | "inet") && !c.table.starts_with("berth_"))
        .collect())
}

fn comment_tag(bridge: &str) -> String {
    format!("berth-forward:{bridge}")
}

fn list_chain(c: &ForwardChain, what: &str) -> Result<Vec<Value>, FirewallError> {
    json(&["list", "chain", &c.family, &c.table, &c.name], what)
}

/// Opens foreign forward chains with nft rules commented `berth-forward:<bridge>`: the
/// fallback for every chain no more specific backend owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nftables;

impl ForwardBackend for Nftables {
    fn owns(&self, _chain: &ForwardChain) -> bool {
        true
    }

    fn open(&self, c: &ForwardChain, bridge: &str) -> Result<(), FirewallError> {
        let tag = comment_tag(bridge);
        let (f, t, n) = (&c.family, &c.table, &c.name);
        let rules = list_chain(c, &format!("list chain {f} {t} {n}"))?;
        if !handles_tagged(&rules, &tag).is_empty() {
            // Already open (a restore after a daemon restart).
            return Ok(());
        }
        script(
            &format!(
                "insert rule {f} {t} {n} oifname \"{bridge}\" accept comment \"{tag}\"\n\
                 insert rule {f} {t} {n} iifname \"{bridge}\" accept comment \"{tag}\"\n"
            ),
            &format!("open {f} {t} {n} for {bridge}"),
        )
    }

    fn close(&self, chains: &[ForwardChain], bridge: &str) -> Vec<FirewallError> {
        let tag = comment_tag(bridge);
        chains
            .iter()
            .filter_map(|c| {
                let what = format!("list chain {} {} {}", c.family, c.table, c.name);
                list_chain(c, &what)
                    .and_then(|rules| {
                        delete_handles(&handles_tagged(&rules, &tag), &format!("close {what}"))
                    })
                    .err()
            })
            .collect()
    }
}

/// Number of foreign rules (nft comments) left for `bridge`.
pub(crate) fn foreign_rule_count(bridge: &str) -> Result<usize, FirewallError> {
    let tag = comment_tag(bridge);
    let mut n = 0;
    for c in forward_chains()? {
        n += handles_tagged(&list_chain(&c, "list foreign chain")?, &tag).len();
    }
    Ok(n)
}
