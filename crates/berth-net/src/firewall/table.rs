//! berth's own rules: one nftables table per network bridge, `ip berth_<bridge>` (its chains
//! are described in the [module above](super) and in `docs/networking.md`), and the DNAT rules
//! of published ports in its `ports` chain, commented with the container's tag.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::Value;

use super::FirewallError;
use super::nftables::{delete_handles, handles_tagged, json, script};
use crate::PortBinding;

/// The name of the table of bridge `bridge`.
pub fn table_name(bridge: &str) -> String {
    let clean: String = bridge
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("berth_{clean}")
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
    let text = format!(
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
    script(&text, &format!("create table ip {t}"))
}

/// Whether the table of `bridge` exists.
pub fn table_exists(bridge: &str) -> Result<bool, FirewallError> {
    let t = table_name(bridge);
    let tables = json(&["list", "tables", "ip"], "list tables")?;
    Ok(tables
        .iter()
        .any(|o| o.pointer("/table/name").and_then(Value::as_str) == Some(t.as_str())))
}

/// Deletes the table of `bridge` (absent is fine).
pub fn remove_network(bridge: &str) -> Result<(), FirewallError> {
    let t = table_name(bridge);
    script(
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
    let mut text = String::new();
    for p in ports {
        let daddr = match p.host_ip {
            Some(h) if !h.is_unspecified() => format!("ip daddr {h} "),
            _ => String::new(),
        };
        text.push_str(&format!(
            "add rule ip {t} ports {daddr}{proto} dport {hp} dnat to {ip}:{cp} comment \"{tag}\"\n",
            proto = p.protocol.as_str(),
            hp = p.host_port,
            cp = p.container_port,
        ));
    }
    script(&text, &format!("add port rules for {tag} to {t}"))
}

fn port_rules(bridge: &str) -> Result<Vec<Value>, FirewallError> {
    let t = table_name(bridge);
    json(
        &["list", "chain", "ip", &t, "ports"],
        &format!("list chain {t} ports"),
    )
}

/// Removes the DNAT rules tagged `tag` (absent table or rules are fine).
pub fn remove_ports(bridge: &str, tag: &str) -> Result<(), FirewallError> {
    if !table_exists(bridge)? {
        return Ok(());
    }
    delete_handles(
        &handles_tagged(&port_rules(bridge)?, tag),
        &format!("delete port rules of {tag}"),
    )
}

/// Number of rules in the `ports` chain tagged `tag` (for checks and tests).
pub fn port_rule_count(bridge: &str, tag: &str) -> Result<usize, FirewallError> {
    Ok(handles_tagged(&port_rules(bridge)?, tag).len())
}
