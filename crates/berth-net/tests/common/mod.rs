//! Helpers of the real-kernel tests: unique names and subnets, network namespaces made with
//! `ip netns add`, guards that clean up in `Drop` even when a test fails, and commands run
//! inside a namespace. Only 127.0.0.1 and addresses inside namespaces made here are contacted.
#![allow(dead_code)]

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use berth_net::{Driver, DriverConfig, Network, NetworkRequest};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique small number for this process.
pub fn unique() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Fails with what to install when a tool is missing.
pub fn require(tool: &str, package: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is missing: install Debian's {package} (scripts/install-deps.sh --test)"
    );
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests need root (network namespaces, bridges, nftables)"
    );
}

/// Runs a command, returning (success, stdout+stderr).
pub fn sh(args: &[&str]) -> (bool, String) {
    match Command::new(args[0]).args(&args[1..]).output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, format!("run {args:?}: {e}")),
    }
}

/// A bridge name `bt<pid><n>` (≤ 15 characters).
pub fn bridge_name(n: u32) -> String {
    format!("bt{}x{n}", std::process::id())
}

/// A /24 unique to this process and `n`: 10.(100+n).(pid % 250).0/24.
pub fn subnet(n: u32) -> ipnet::Ipv4Net {
    let third = (std::process::id() % 250) as u8;
    ipnet::Ipv4Net::new(Ipv4Addr::new(10, 100 + n as u8, third, 0), 24).unwrap()
}

/// A named network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        let name = format!("btns{}x{}", std::process::id(), unique());
        let (ok, out) = sh(&["ip", "netns", "add", &name]);
        assert!(ok, "ip netns add {name}: {out}");
        Netns { name }
    }

    pub fn file(&self) -> File {
        File::open(format!("/run/netns/{}", self.name)).unwrap()
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, args: &[&str]) -> (bool, String) {
        let mut full = vec!["ip", "netns", "exec", &self.name];
        full.extend_from_slice(args);
        sh(&full)
    }

    /// One ping, 2 s timeout.
    pub fn ping(&self, ip: Ipv4Addr) -> bool {
        self.exec(&["busybox", "ping", "-c", "1", "-W", "2", &ip.to_string()])
            .0
    }

    /// Runs `f` on a thread that entered this namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let file = self.file();
        std::thread::spawn(move || {
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.name]);
    }
}

/// A created network; removed on drop (and forcibly cleaned if removal fails). It does not
/// borrow the driver that made it: teardown needs only the kernel state and the `Network`.
pub struct NetGuard {
    pub net: Network,
    pub removed: bool,
}

impl NetGuard {
    pub fn bridge(&self) -> &str {
        &self.net.bridge
    }
}

impl Drop for NetGuard {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        self.net.addresses.allocated.clear();
        let _ = driver().remove_network(&self.net);
        let _ = sh(&["ip", "link", "del", &self.net.bridge]);
        let table = berth_net::firewall::table_name(&self.net.bridge);
        let _ = sh(&["nft", "delete", "table", "ip", &table]);
    }
}

/// A driver whose upstream DNS is nothing (tests never reach outside).
pub fn driver() -> Driver {
    Driver::new(DriverConfig {
        upstream_dns: Vec::new(),
        ..DriverConfig::default()
    })
}

/// Creates network number `n` of this test process.
pub fn network(driver: &Driver, n: u32, internal: bool, dns: bool) -> NetGuard {
    let bridge = bridge_name(n);
    let net = driver
        .create_network(
            NetworkRequest {
                name: format!("net{n}"),
                id: format!(
                    "{:064x}",
                    u64::from(std::process::id()) * 1000 + u64::from(n)
                ),
                subnet: Some(subnet(n)),
                bridge,
                internal,
                dns,
                ..NetworkRequest::default()
            },
            &[],
        )
        .unwrap();
    NetGuard {
        net,
        removed: false,
    }
}

/// Whether any of `needles` appears in `ip -o link`, `ip -o addr`, `ip route` or `nft list ruleset`.
pub fn leftovers(needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for cmd in [
        &["ip", "-o", "link"][..],
        &["ip", "-o", "addr"][..],
        &["ip", "route"][..],
        &["nft", "list", "ruleset"][..],
    ] {
        let (_, out) = sh(cmd);
        for line in out.lines() {
            if needles.iter().any(|n| line.contains(n)) {
                found.push(format!("{}: {line}", cmd.join(" ")));
            }
        }
    }
    found
}
