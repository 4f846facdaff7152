//! `iptables`: the backend for iptables-nft's `ip filter` table. berth's openings live in a
//! chain of its own, `BERTH-<bridge>`, jumped to from the drop chain, so `iptables` keeps
//! understanding its table (rules written there with `nft` would carry expressions it cannot
//! show).

use std::process::{Command, Stdio};

use super::{FirewallError, ForwardBackend, ForwardChain, run};

/// Whether `iptables` runs here.
pub(crate) fn available() -> bool {
    Command::new("iptables")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chain_of(bridge: &str) -> String {
    format!("BERTH-{bridge}")
}

fn ipt(args: &[&str]) -> Result<String, FirewallError> {
    run("iptables", args, None, &args.join(" "))
}

/// Opens the forward chains of iptables' `ip filter` table through `iptables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Iptables;

impl ForwardBackend for Iptables {
    fn owns(&self, c: &ForwardChain) -> bool {
        c.family == "ip" && c.table == "filter"
    }

    fn open(&self, c: &ForwardChain, bridge: &str) -> Result<(), FirewallError> {
        let chain = chain_of(bridge);
        if ipt(&["-n", "-L", &chain]).is_err() {
            ipt(&["-N", &chain])?;
        }
        ipt(&["-F", &chain])?;
        ipt(&["-A", &chain, "-i", bridge, "-j", "ACCEPT"])?;
        ipt(&["-A", &chain, "-o", bridge, "-j", "ACCEPT"])?;
        if ipt(&["-C", &c.name, "-j", &chain]).is_err() {
            ipt(&["-I", &c.name, "-j", &chain])?;
        }
        Ok(())
    }

    fn close(&self, _chains: &[ForwardChain], bridge: &str) -> Vec<FirewallError> {
        let chain = chain_of(bridge);
        let mut errors = Vec::new();
        if ipt(&["-n", "-L", &chain]).is_ok() {
            while ipt(&["-D", "FORWARD", "-j", &chain]).is_ok() {}
            for args in [["-F", chain.as_str()], ["-X", chain.as_str()]] {
                if let Err(e) = ipt(&args) {
                    errors.push(e);
                }
            }
        }
        errors
    }
}
