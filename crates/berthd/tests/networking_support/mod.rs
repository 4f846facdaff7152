//! What the networking tests share: [`Net`], a daemon with the user networks a test made that
//! checks on drop that no link and no nftables table of its bridges is left; a listener on a
//! host address; `nc` probes; HTTP to 127.0.0.1.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::engine_harness::{Daemon, stderr, stdout};

/// A daemon and the user networks a test made; checks the host is clean afterwards.
pub struct Net {
    pub d: Option<Daemon>,
    pub bridges: Vec<String>,
}

impl Net {
    pub fn start() -> Self {
        let d = Daemon::start();
        let bridges = vec![d.bridge.clone()];
        Net {
            d: Some(d),
            bridges,
        }
    }

    pub fn d(&self) -> &Daemon {
        self.d.as_ref().expect("daemon")
    }

    pub fn d_mut(&mut self) -> &mut Daemon {
        self.d.as_mut().expect("daemon")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.d().docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// `run -d --name NAME OPTS... busybox httpd -f -p 80 -h /etc`: a web server whose files
    /// are the container's /etc (`/hostname` answers its hostname).
    pub fn web(&self, name: &str, opts: &[&str]) -> String {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]);
        self.ok(&args)
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.d().docker(args)
    }

    /// `docker network create NAME` (from the daemon's pool); remembers its bridge.
    pub fn network(&mut self, name: &str) -> String {
        self.network_with(name, &[])
    }

    /// `docker network create FLAGS.. NAME`; remembers its bridge.
    pub fn network_with(&mut self, name: &str, flags: &[&str]) -> String {
        let mut args = vec!["network", "create"];
        args.extend_from_slice(flags);
        args.push(name);
        let id = self.ok(&args).trim().to_owned();
        self.bridges.push(format!("br-{}", &id[..12]));
        id
    }

    /// A network's gateway address.
    pub fn gateway_of(&self, net: &str) -> String {
        self.d()
            .inspect_network(net, "{{(index .IPAM.Config 0).Gateway}}")
    }

    pub fn ip_of(&self, name: &str, net: &str) -> String {
        self.d().inspect(
            name,
            &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"),
        )
    }

    /// The veths enslaved to `bridge`.
    pub fn ports_of(bridge: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-o", "link", "show", "master", bridge])
            .stderr(Stdio::null())
            .output()
            .expect("run ip");
        stdout(&out)
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|s| s.trim().to_owned()))
            .collect()
    }

    /// The name of a bridge's nftables table (berth-net's `table_name`: `br-x` → `berth_br_x`).
    pub fn table_name(bridge: &str) -> String {
        format!(
            "berth_{}",
            bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        )
    }

    pub fn nft_table(bridge: &str) -> Option<String> {
        let out = Command::new("nft")
            .args(["list", "table", "ip", &Self::table_name(bridge)])
            .stderr(Stdio::null())
            .output()
            .expect("run nft (apt-get install nftables)");
        out.status.success().then(|| stdout(&out))
    }

    pub fn netns_files(&self) -> usize {
        std::fs::read_dir(self.d().exec_root().join("netns"))
            .map(|r| r.count())
            .unwrap_or(0)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(d) = self.d.take() {
            for id in d.all_ids() {
                let _ = d.http("DELETE", &format!("/containers/{id}?force=1"), "");
            }
            let _ = d.http("POST", "/networks/prune", "");
            drop(d);
        }
        let mut left = Vec::new();
        for b in &self.bridges {
            if std::path::Path::new("/sys/class/net").join(b).exists() {
                left.push(format!("link {b}"));
                let _ = Command::new("ip").args(["link", "del", b]).status();
            }
            if Self::nft_table(b).is_some() {
                left.push(format!("nft table {}", Self::table_name(b)));
                let _ = Command::new("nft")
                    .args(["delete", "table", "ip", &Self::table_name(b)])
                    .status();
            }
        }
        if !std::thread::panicking() {
            assert!(left.is_empty(), "left behind: {left:?}");
        }
    }
}

pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(5),
    )?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// A TCP listener on a host address (a bridge's gateway) that answers each connection with
/// `reached <addr>` and closes it; stopped on drop.
pub struct HostListener {
    pub addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostListener {
    pub fn on(ip: &str) -> Self {
        let ip: std::net::Ipv4Addr = ip.parse().expect("a gateway address");
        let l = TcpListener::bind((ip, 0)).expect("listen on a gateway address");
        l.set_nonblocking(true).expect("nonblocking listener");
        let addr = l.local_addr().expect("listener address");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match l.accept() {
                    Ok((mut s, _)) => {
                        // Read the request first: a close with unread data would reset the
                        // connection before the client reads the answer.
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                        let _ = s.read(&mut [0u8; 512]);
                        let _ = writeln!(s, "reached {addr}");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        HostListener {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `IP PORT`, as nc takes them.
    pub fn nc_target(&self) -> String {
        format!("{} {}", self.addr.ip(), self.addr.port())
    }
}

impl Drop for HostListener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A shell loop that tries `nc -w1 IP PORT` for each target and prints what answered (the
/// host listeners' `reached ...` lines, an httpd's status line) or `unreachable IP PORT`.
pub fn nc_each(targets: &[String]) -> String {
    targets
        .iter()
        .map(|t| {
            format!(
                "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w1 {t} | head -n1 | grep . || echo 'unreachable {t}'; "
            )
        })
        .collect()
}

/// `nft list ruleset`.
pub fn nft_ruleset() -> String {
    let out = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft (apt-get install nftables)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}
