//! berth's firewall: its own rules, one nftables table per network bridge (`ip berth_<bridge>`,
//! see [`table`]), and openings for the bridge in forward chains that other programs own.
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
//! every foreign `forward` base chain with policy drop we add accept rules for our bridge,
//! through the [`ForwardBackend`] that owns the chain: [`iptables::Iptables`] for iptables-nft's
//! `ip filter` table (our own `BERTH-<bridge>` chain, so iptables keeps understanding its
//! table), [`nftables::Nftables`] for any other (rules tagged with a comment). Which backends
//! the host has is decided once, at the first network's setup ([`Firewall::detect`]); a new
//! backend is a new file and a variant of [`AnyBackend`].

pub mod iptables;
pub mod nftables;
pub mod table;

use std::io::Write;
use std::process::{Command, Stdio};

pub use nftables::ForwardChain;
pub use table::{
    add_ports, apply_network, port_rule_count, remove_network, remove_ports, table_exists,
    table_name,
};

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

/// Runs `program` with `args` (and `stdin`), returning its output; `what` names the job in
/// the error.
pub(crate) fn run(
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

/// Writes `value` to `/proc/sys/<key>`; `key` uses slashes (`net/ipv4/ip_forward`), so an
/// interface name with a dot stays one component.
pub fn sysctl(key: &str, value: &str) -> Result<(), FirewallError> {
    let path = format!("/proc/sys/{key}");
    std::fs::write(&path, value).map_err(|source| FirewallError::Sysctl { path, source })
}

/// A program that owns forward chains berth does not, through which berth opens such a chain
/// (one with policy drop) for a bridge.
///
/// Lifecycle: [`open`](Self::open) at a network's setup for each chain the backend
/// [`owns`](Self::owns), again at a restore (it must not add a second opening);
/// [`close`](Self::close) at the network's teardown, which removes every opening the backend
/// made for the bridge, finding nothing being no failure.
pub trait ForwardBackend {
    /// Whether openings in `chain` go through this backend.
    fn owns(&self, chain: &ForwardChain) -> bool;
    /// Makes `chain` accept what comes from and goes to `bridge`.
    fn open(&self, chain: &ForwardChain, bridge: &str) -> Result<(), FirewallError>;
    /// Removes the openings for `bridge` (`chains`: the foreign forward chains now); reports
    /// every failure.
    fn close(&self, chains: &[ForwardChain], bridge: &str) -> Vec<FirewallError>;
}

/// The backends, a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyBackend {
    /// iptables-nft's `ip filter` table, through `iptables`.
    Iptables(iptables::Iptables),
    /// Any other nftables table, through `nft`.
    Nftables(nftables::Nftables),
}

impl ForwardBackend for AnyBackend {
    fn owns(&self, chain: &ForwardChain) -> bool {
        match self {
            AnyBackend::Iptables(b) => b.owns(chain),
            AnyBackend::Nftables(b) => b.owns(chain),
        }
    }

    fn open(&self, chain: &ForwardChain, bridge: &str) -> Result<(), FirewallError> {
        match self {
            AnyBackend::Iptables(b) => b.open(chain, bridge),
            AnyBackend::Nftables(b) => b.open(chain, bridge),
        }
    }

    fn close(&self, chains: &[ForwardChain], bridge: &str) -> Vec<FirewallError> {
        match self {
            AnyBackend::Iptables(b) => b.close(chains, bridge),
            AnyBackend::Nftables(b) => b.close(chains, bridge),
        }
    }
}

/// The firewall of the host as berth found it: its own tables, and the backends that open
/// foreign forward chains, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firewall {
    backends: Vec<AnyBackend>,
}

impl Firewall {
    /// Looks once at what the host has: `iptables` (for iptables-nft's `ip filter` table, when
    /// installed), and `nft` for everything else.
    pub fn detect() -> Firewall {
        let mut backends = Vec::new();
        if iptables::available() {
            backends.push(AnyBackend::Iptables(iptables::Iptables));
        }
        backends.push(AnyBackend::Nftables(nftables::Nftables));
        Firewall { backends }
    }

    /// Installs (or replaces, `apply_table`) the network's table and opens foreign forward
    /// chains for its bridge.
    pub fn setup_network(
        &self,
        bridge: &str,
        subnet: ipnet::Ipv4Net,
        internal: bool,
        apply_table: bool,
    ) -> Result<(), FirewallError> {
        if apply_table {
            table::apply_network(bridge, subnet, internal)?;
        }
        self.open_foreign_forward(bridge)?;
        Ok(())
    }

    /// Closes the foreign forward chains and deletes the network's table; reports every
    /// failure.
    pub fn teardown_network(&self, bridge: &str) -> Vec<FirewallError> {
        let mut errors = self.close_foreign_forward(bridge);
        if let Err(e) = table::remove_network(bridge) {
            errors.push(e);
        }
        errors
    }

    /// Whether the network's table exists (it survives a daemon restart).
    pub fn network_exists(&self, bridge: &str) -> Result<bool, FirewallError> {
        table::table_exists(bridge)
    }

    /// Publishes `ports` of the container tagged `tag` at `ip`.
    pub fn add_ports(
        &self,
        bridge: &str,
        tag: &str,
        ip: std::net::Ipv4Addr,
        ports: &[crate::PortBinding],
    ) -> Result<(), FirewallError> {
        table::add_ports(bridge, tag, ip, ports)
    }

    /// Withdraws the ports of the container tagged `tag`.
    pub fn remove_ports(&self, bridge: &str, tag: &str) -> Result<(), FirewallError> {
        table::remove_ports(bridge, tag)
    }

    /// The backend that opens `chain`: the first that owns it.
    fn backend_for(&self, chain: &ForwardChain) -> Option<&AnyBackend> {
        self.backends.iter().find(|b| b.owns(chain))
    }

    /// Makes foreign forward chains with policy drop accept the bridge's traffic, each through
    /// the first backend that owns it. Returns the number of chains opened.
    pub fn open_foreign_forward(&self, bridge: &str) -> Result<usize, FirewallError> {
        let mut opened = 0;
        for c in nftables::forward_chains()?.into_iter().filter(|c| c.drop) {
            if let Some(b) = self.backend_for(&c) {
                b.open(&c, bridge)?;
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// Removes every opening [`Firewall::open_foreign_forward`] made for `bridge`, nft rules
    /// first; reports every failure.
    pub fn close_foreign_forward(&self, bridge: &str) -> Vec<FirewallError> {
        let mut errors = Vec::new();
        let chains = nftables::forward_chains().unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        // nft first: its comment-tagged rules may sit in any chain, iptables' own included.
        let mut order: Vec<&AnyBackend> = self.backends.iter().collect();
        order.sort_by_key(|b| !matches!(b, AnyBackend::Nftables(_)));
        for b in order {
            errors.extend(b.close(&chains, bridge));
        }
        errors
    }
}

/// Number of foreign rules (nft comments) left for `bridge`, for checks and tests.
pub fn foreign_rule_count(bridge: &str) -> Result<usize, FirewallError> {
    nftables::foreign_rule_count(bridge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(family: &str, table: &str) -> ForwardChain {
        ForwardChain {
            family: family.into(),
            table: table.into(),
            name: "FORWARD".into(),
            drop: true,
        }
    }

    #[test]
    fn iptables_opens_its_filter_table_and_nft_the_rest() {
        let ipt = AnyBackend::Iptables(iptables::Iptables);
        let nft = AnyBackend::Nftables(nftables::Nftables);
        let both = Firewall {
            backends: vec![ipt, nft],
        };
        assert_eq!(both.backend_for(&chain("ip", "filter")), Some(&ipt));
        assert_eq!(both.backend_for(&chain("inet", "filter")), Some(&nft));
        assert_eq!(both.backend_for(&chain("ip", "firewalld")), Some(&nft));
        let nft_only = Firewall {
            backends: vec![nft],
        };
        assert_eq!(nft_only.backend_for(&chain("ip", "filter")), Some(&nft));
    }
}
