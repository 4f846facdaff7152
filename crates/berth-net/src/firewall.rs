//! berth's nftables rules, one table per network bridge (`ip berth_<bridge>`), written as `nft`
//! text and applied atomically with `nft -f -`.
//!
//! The table holds: a `forward` chain (replies and published ports in, the bridge's own traffic
//! out unless `internal`, everything else into the bridge dropped: that is the isolation
//! between networks), NAT chains (`prerouting`/`output` jump to `ports` for the host's own
//! addresses; `postrouting` masquerades the subnet's outbound traffic, and 127.0.0.0/8 sources
//! DNAT'ed onto the bridge), a `raw` chain that drops packets from the bridge to 127.0.0.0/8
//! (the bridge has `route_localnet=1`, see `docs/networking.md`), and on an internal network an
//! `input` chain that rejects what the bridge sends to the host's addresses but its own.
//!
//! An accept in our table does not override another table's drop policy on the same hook, so for
//! every foreign `forward` base chain with policy drop we add accept rules for our bridge: in
//! iptables-nft's `ip filter` table through `iptables` (our own `BERTH-<bridge>` chain, so
//! iptables keeps understanding its table), elsewhere as nft rules tagged with a comment.
//! Only our own table's rules are parsed as typed objects; foreign listings are read as
//! untyped JSON (unknown expressions would break typed deserialization).

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use ipnet::Ipv4Net;
use serde_json::Value;

use crate::PortBinding;

/// Errors of firewall work.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// A command could not be run (is nftables installed?).
    #[error("run {program} (install Debian's nftables/iptables package)")]
    Spawn {
        /// The program.
        program: String,
        /// Why it could not run.
        #[source]
        source: std::io::Error,
    },
    /// A command failed.
    #[error("{program} {what}: {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// What it was asked to do.
        what: String,
        /// Its error output.
        stderr: String,
    },
    /// `nft -j` printed something that is not JSON.
    #[error("parse nft json output of {what}")]
    Json {
        /// The listing.
        what: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing a sysctl failed.
    #[error("write sysctl {path}")]
    Sysctl {
        /// The /proc/sys path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The name of the table of bridge `bridge`.
pub fn table_name(bridge: &str) -> String {
    let clean: String = bridge
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("berth_{clean}")
}

fn run(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
    what: &str,
) -> Result<String, FirewallError> {
    let spawn_err = |source| FirewallError::Spawn {
        program: program.to_string(),
        source,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(spawn_err)?;
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if !out.status.success() {
        return Err(FirewallError::Failed {
            program: program.to_string(),
            what: what.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn nft_script(script: &str, what: &str) -> Result<(), FirewallError> {
    run("nft", &["-f", "-"], Some(script), what).map(|_| ())
}

fn nft_json(args: &[&str], what: &str) -> Result<Vec<Value>, FirewallError> {
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

/// Writes `value` to `/proc/sys/<key>`; `key` uses slashes (`net/ipv4/ip_forward`), so an
/// interface name with a dot stays one component.
pub fn sysctl(key: &str, value: &str) -> Result<(), FirewallError> {
    let path = format!("/proc/sys/{key}");
    std::fs::write(&path, value).map_err(|source| FirewallError::Sysctl { path, source })
}

/// Installs (or replaces) the table of a network.
pub fn apply_network(bridge: &str, subnet: Ipv4Net, internal: bool) -> Result<(), FirewallError> {
    let t = table_name(bridge);
    let b = bridge;
    let (forward, nat, input) = if internal {
        (
            format!("iifname \"{b}\" drop\n    oifname \"{b}\" drop"),
            String::new(),
            // The host's other addresses (other bridges' gateways, the uplink's) are local, so
            // a container would reach them through `input`, never `forward`: only the
            // bridge's own address (its gateway: DNS, and what listens on it) is let in, as
            // docker does (it gives an internal network no default route).
            format!(
                "\n  chain input {{\n    type filter hook input priority 0; policy accept;\n    \
                 iifname \"{b}\" fib daddr . iif type != {{ local, broadcast, multicast }} \
                 reject with icmp type admin-prohibited\n  }}"
            ),
        )
    } else {
        (
            format!(
                "oifname \"{b}\" ct status dnat accept\n    oifname \"{b}\" drop\n    iifname \"{b}\" accept"
            ),
            format!(
                "ip saddr {subnet} oifname != \"{b}\" masquerade\n    oifname \"{b}\" ip saddr 127.0.0.0/8 masquerade\n    oifname \"{b}\" ct status dnat ip saddr {subnet} masquerade"
            ),
            String::new(),
        )
    };
    let script = format!(
        r#"table ip {t}
delete table ip {t}
table ip {t} {{
  chain forward {{
    type filter hook forward priority 0; policy accept;
    oifname "{b}" ct state established,related accept
    iifname "{b}" oifname "{b}" accept
    {forward}
  }}{input}
  chain raw {{
    type filter hook prerouting priority -300; policy accept;
    iifname "{b}" ip daddr 127.0.0.0/8 drop
  }}
  chain ports {{
  }}
  chain prerouting {{
    type nat hook prerouting priority -100; policy accept;
    fib daddr type local jump ports
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local jump ports
  }}
  chain postrouting {{
    type nat hook postrouting priority 100; policy accept;
    {nat}
  }}
}}
"#
    );
    nft_script(&script, &format!("create table ip {t}"))
}

/// Whether the table of `bridge` exists.
pub fn table_exists(bridge: &str) -> Result<bool, FirewallError> {
    let t = table_name(bridge);
    let tables = nft_json(&["list", "tables", "ip"], "list tables")?;
    Ok(tables
        .iter()
        .any(|o| o.pointer("/table/name").and_then(Value::as_str) == Some(t.as_str())))
}

/// Deletes the table of `bridge` (absent is fine).
pub fn remove_network(bridge: &str) -> Result<(), FirewallError> {
    let t = table_name(bridge);
    nft_script(
        &format!("table ip {t}\ndelete table ip {t}\n"),
        &format!("delete table ip {t}"),
    )
}

/// Adds DNAT rules for `ports` to `ip`, tagged `tag` (the container id).
pub fn add_ports(
    bridge: &str,
    tag: &str,
    ip: Ipv4Addr,
    ports: &[PortBinding],
) -> Result<(), FirewallError> {
    if ports.is_empty() {
        return Ok(());
    }
    let t = table_name(bridge);
    let mut script = String::new();
    for p in ports {
        let daddr = match p.host_ip {
            Some(h) if !h.is_unspecified() => format!("ip daddr {h} "),
            _ => String::new(),
        };
        script.push_str(&format!(
            "add rule ip {t} ports {daddr}{proto} dport {hp} dnat to {ip}:{cp} comment \"{tag}\"\n",
            proto = p.protocol.as_str(),
            hp = p.host_port,
            cp = p.container_port,
        ));
    }
    nft_script(&script, &format!("add port rules for {tag} to {t}"))
}

fn handles_tagged(rules: &[Value], tag: &str) -> Vec<(String, String, String, u64)> {
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

fn delete_handles(
    found: &[(String, String, String, u64)],
    what: &str,
) -> Result<(), FirewallError> {
    if found.is_empty() {
        return Ok(());
    }
    let script: String = found
        .iter()
        .map(|(f, t, c, h)| format!("delete rule {f} {t} {c} handle {h}\n"))
        .collect();
    nft_script(&script, what)
}

/// Removes the DNAT rules tagged `tag` (absent table or rules are fine).
pub fn remove_ports(bridge: &str, tag: &str) -> Result<(), FirewallError> {
    if !table_exists(bridge)? {
        return Ok(());
    }
    let t = table_name(bridge);
    let rules = nft_json(
        &["list", "chain", "ip", &t, "ports"],
        &format!("list chain {t} ports"),
    )?;
    delete_handles(
        &handles_tagged(&rules, tag),
        &format!("delete port rules of {tag}"),
    )
}

/// Number of rules in the `ports` chain tagged `tag` (for checks and tests).
pub fn port_rule_count(bridge: &str, tag: &str) -> Result<usize, FirewallError> {
    let t = table_name(bridge);
    let rules = nft_json(
        &["list", "chain", "ip", &t, "ports"],
        &format!("list chain {t} ports"),
    )?;
    Ok(handles_tagged(&rules, tag).len())
}

/// A foreign base chain on the forward hook.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chain {
    family: String,
    table: String,
    name: String,
    drop: bool,
}

fn forward_chains() -> Result<Vec<Chain>, FirewallError> {
    let all = nft_json(&["list", "chains"], "list chains")?;
    Ok(all
        .iter()
        .filter_map(|o| o.get("chain"))
        .filter(|c| c.get("hook").and_then(Value::as_str) == Some("forward"))
        .filter_map(|c| {
            Some(Chain {
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

fn iptables_chain(bridge: &str) -> String {
    format!("BERTH-{bridge}")
}

fn iptables_available() -> bool {
    Command::new("iptables")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes foreign forward chains with policy drop accept the bridge's traffic. Returns the number
/// of chains opened.
pub fn open_foreign_forward(bridge: &str) -> Result<usize, FirewallError> {
    let tag = comment_tag(bridge);
    let mut opened = 0;
    for c in forward_chains()?.into_iter().filter(|c| c.drop) {
        if c.family == "ip" && c.table == "filter" && iptables_available() {
            let chain = iptables_chain(bridge);
            let ipt = |args: &[&str]| run("iptables", args, None, &args.join(" "));
            if ipt(&["-n", "-L", &chain]).is_err() {
                ipt(&["-N", &chain])?;
            }
            ipt(&["-F", &chain])?;
            ipt(&["-A", &chain, "-i", bridge, "-j", "ACCEPT"])?;
            ipt(&["-A", &chain, "-o", bridge, "-j", "ACCEPT"])?;
            if ipt(&["-C", &c.name, "-j", &chain]).is_err() {
                ipt(&["-I", &c.name, "-j", &chain])?;
            }
        } else {
            let (f, t, n) = (&c.family, &c.table, &c.name);
            let rules = nft_json(
                &["list", "chain", f, t, n],
                &format!("list chain {f} {t} {n}"),
            )?;
            if !handles_tagged(&rules, &tag).is_empty() {
                // Already open (a restore after a daemon restart).
                opened += 1;
                continue;
            }
            nft_script(
                &format!(
                    "insert rule {f} {t} {n} oifname \"{bridge}\" accept comment \"{tag}\"\n\
                     insert rule {f} {t} {n} iifname \"{bridge}\" accept comment \"{tag}\"\n"
                ),
                &format!("open {f} {t} {n} for {bridge}"),
            )?;
        }
        opened += 1;
    }
    Ok(opened)
}

/// Removes every rule [`open_foreign_forward`] added for `bridge`; reports every failure.
pub fn close_foreign_forward(bridge: &str) -> Vec<FirewallError> {
    let mut errors = Vec::new();
    let tag = comment_tag(bridge);
    match forward_chains() {
        Ok(chains) => {
            for c in chains {
                let what = format!("list chain {} {} {}", c.family, c.table, c.name);
                let res = nft_json(&["list", "chain", &c.family, &c.table, &c.name], &what)
                    .and_then(|rules| {
                        delete_handles(&handles_tagged(&rules, &tag), &format!("close {what}"))
                    });
                if let Err(e) = res {
                    errors.push(e);
                }
            }
        }
        Err(e) => errors.push(e),
    }
    if iptables_available() {
        let chain = iptables_chain(bridge);
        let ipt = |args: &[&str]| run("iptables", args, None, &args.join(" "));
        if ipt(&["-n", "-L", &chain]).is_ok() {
            while ipt(&["-D", "FORWARD", "-j", &chain]).is_ok() {}
            for args in [["-F", chain.as_str()], ["-X", chain.as_str()]] {
                if let Err(e) = ipt(&args) {
                    errors.push(e);
                }
            }
        }
    }
    errors
}

/// Number of foreign rules (nft comments) left for `bridge`, for checks and tests.
pub fn foreign_rule_count(bridge: &str) -> Result<usize, FirewallError> {
    let tag = comment_tag(bridge);
    let mut n = 0;
    for c in forward_chains()? {
        let rules = nft_json(
            &["list", "chain", &c.family, &c.table, &c.name],
            "list foreign chain",
        )?;
        n += handles_tagged(&rules, &tag).len();
    }
    Ok(n)
}
