//! Networking end to end (issue 6): each test starts its own berthd with its own roots,
//! socket, bridge name and address pool, drives it with the `docker` CLI, and only talks to
//! 127.0.0.1 and to containers it started. The guard removes the containers and the networks
//! the test made, stops the daemon, then asserts no link and no nftables table of its bridges
//! is left.
//!
//! Needs root, busybox-static, nftables, iproute2 and the docker CLI
//! (`scripts/install-deps.sh --test`).

mod engine_harness;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use engine_harness::{Daemon, eventually, stderr, stdout};

/// A daemon and the user networks a test made; checks the host is clean afterwards.
struct Net {
    d: Option<Daemon>,
    bridges: Vec<String>,
}

impl Net {
    fn start() -> Self {
        let d = Daemon::start();
        let bridges = vec![d.bridge.clone()];
        Net {
            d: Some(d),
            bridges,
        }
    }

    fn d(&self) -> &Daemon {
        self.d.as_ref().expect("daemon")
    }

    fn d_mut(&mut self) -> &mut Daemon {
        self.d.as_mut().expect("daemon")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.d().docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    fn docker(&self, args: &[&str]) -> Output {
        self.d().docker(args)
    }

    /// `docker network create NAME` (from the daemon's pool); remembers its bridge.
    fn network(&mut self, name: &str) -> String {
        self.network_with(name, &[])
    }

    /// `docker network create FLAGS.. NAME`; remembers its bridge.
    fn network_with(&mut self, name: &str, flags: &[&str]) -> String {
        let mut args = vec!["network", "create"];
        args.extend_from_slice(flags);
        args.push(name);
        let id = self.ok(&args).trim().to_owned();
        self.bridges.push(format!("br-{}", &id[..12]));
        id
    }

    /// A network's gateway address.
    fn gateway_of(&self, net: &str) -> String {
        self.d()
            .inspect_network(net, "{{(index .IPAM.Config 0).Gateway}}")
    }

    fn ip_of(&self, name: &str, net: &str) -> String {
        self.d().inspect(
            name,
            &format!("{{{{(index .NetworkSettings.Networks \"{net}\").IPAddress}}}}"),
        )
    }

    /// The veths enslaved to `bridge`.
    fn ports_of(bridge: &str) -> Vec<String> {
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
    fn table_name(bridge: &str) -> String {
        format!(
            "berth_{}",
            bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        )
    }

    fn nft_table(bridge: &str) -> Option<String> {
        let out = Command::new("nft")
            .args(["list", "table", "ip", &Self::table_name(bridge)])
            .stderr(Stdio::null())
            .output()
            .expect("run nft (apt-get install nftables)");
        out.status.success().then(|| stdout(&out))
    }

    fn netns_files(&self) -> usize {
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

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
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
struct HostListener {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostListener {
    fn on(ip: &str) -> Self {
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
    fn nc_target(&self) -> String {
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
fn nc_each(targets: &[String]) -> String {
    targets
        .iter()
        .map(|t| {
            format!(
                "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w1 {t} | head -n1 | grep . || echo 'unreachable {t}'; "
            )
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}

#[test]
fn containers_resolve_each_other_by_name_and_alias_on_a_user_network() {
    let mut n = Net::start();
    n.network("front");
    let ls = n.ok(&["network", "ls"]);
    for name in ["bridge", "host", "none", "front"] {
        assert!(ls.contains(name), "network ls lacks {name}: {ls}");
    }
    n.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "--network-alias",
        "www",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let out = n.ok(&[
        "run", "--rm", "--network", "front", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do ping -c1 -W2 web >/dev/null && ping -c1 -W2 www >/dev/null && wget -qO- http://web/hostname && cat /etc/resolv.conf && exit 0; sleep 0.3; done; exit 1",
    ]);
    let web_host = n.d().inspect("web", "{{.Config.Hostname}}");
    assert!(out.contains(&web_host), "wget by name: {out}");
    let gw = n.d().inspect(
        "web",
        "{{(index .NetworkSettings.Networks \"front\").Gateway}}",
    );
    assert!(
        out.contains(&format!("nameserver {gw}")),
        "resolv.conf: {out}"
    );
    let aliases = n.d().inspect(
        "web",
        "{{json (index .NetworkSettings.Networks \"front\").Aliases}}",
    );
    assert!(aliases.contains("www"), "{aliases}");
    // In use: docker's 403 and message.
    let (status, body) = n.d().http("DELETE", "/networks/front", "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("has active endpoints"), "{body}");
    n.ok(&["rm", "-f", "web"]);
    n.ok(&["network", "rm", "front"]);
    let (status, body) = n.d().http("DELETE", "/networks/front", "");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("network front not found"), "{body}");
}

#[test]
fn published_port_answers_on_127_0_0_1_and_port_lists_it() {
    let n = Net::start();
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    n.ok(&[
        "run", "-d", "--name", "web", "-p", &spec, "busybox", "httpd", "-f", "-p", "80", "-h",
        "/etc",
    ]);
    let host = n.d().inspect("web", "{{.Config.Hostname}}");
    let mut body = String::new();
    eventually("the published port answers", || {
        body = http_get(port, "/hostname").unwrap_or_default();
        body.contains(&host)
    });
    let p = n.ok(&["port", "web"]);
    assert_eq!(p.trim(), format!("80/tcp -> 127.0.0.1:{port}"));
    let ps = n.ok(&["ps"]);
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");
    assert!(
        !n.d()
            .inspect("web", "{{.NetworkSettings.IPAddress}}")
            .is_empty()
    );
    // -P: the exposed port on a free high port.
    n.ok(&[
        "run", "-d", "--name", "all", "--expose", "80", "-P", "busybox", "httpd", "-f", "-p", "80",
        "-h", "/etc",
    ]);
    let mapped = n.ok(&["port", "all", "80"]);
    let hp: u16 = mapped
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("port all 80: {mapped}"));
    let host = n.d().inspect("all", "{{.Config.Hostname}}");
    eventually("the -P port answers", || {
        http_get(hp, "/hostname")
            .unwrap_or_default()
            .contains(&host)
    });
}

/// Each network reaches its own containers and neither reaches the other's, by TCP or ping.
/// The attempts that must fail are bounded by `nc -w1` and `ping -W1` inside one container
/// per network (a connect on a local bridge takes well under a millisecond, and the positive
/// checks run in the same container with the same bound). Not `timeout 5 wget` as the
/// container's command: busybox's `timeout` execs wget as PID 1, which ignores the SIGTERM,
/// so wget waits for the kernel's SYN retries (~130 s).
#[test]
fn two_networks_are_isolated() {
    let mut n = Net::start();
    n.network("red");
    n.network("blue");
    for (name, net) in [("rr", "red"), ("bb", "blue")] {
        n.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            net,
            "busybox",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/etc",
        ]);
    }
    let (red_ip, blue_ip) = (n.ip_of("rr", "red"), n.ip_of("bb", "blue"));
    for (net, own, other) in [("red", &red_ip, &blue_ip), ("blue", &blue_ip, &red_ip)] {
        let script = format!(
            "{} ping -c1 -W1 {own} >/dev/null && echo 'pinged {own}'; ping -c1 -W1 {other} >/dev/null && echo 'pinged {other}'; true",
            nc_each(&[format!("{own} 80"), format!("{other} 80")])
        );
        let out = n.ok(&[
            "run",
            "--rm",
            "--network",
            net,
            "busybox",
            "sh",
            "-c",
            &script,
        ]);
        assert!(
            out.contains("HTTP/1.1 200"),
            "{net} did not reach its own httpd: {out}"
        );
        assert!(
            out.contains(&format!("pinged {own}")),
            "{net} did not ping its own: {out}"
        );
        assert!(
            out.contains(&format!("unreachable {other} 80")),
            "{net} reached the other network: {out}"
        );
        assert!(
            !out.contains(&format!("pinged {other}")),
            "{net} pinged the other network: {out}"
        );
    }
}

#[test]
fn none_has_only_lo_and_host_sees_the_hosts_interfaces() {
    let n = Net::start();
    let links = n.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    let host = n.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert!(host.split_whitespace().any(|l| l == n.d().bridge), "{host}");
    let ns = n.d().inspect_json_networks();
    assert!(ns.contains("none") && ns.contains("host"), "{ns}");
}

#[test]
fn container_mode_shares_the_peers_stack() {
    let n = Net::start();
    n.ok(&[
        "run", "-d", "--name", "peer", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc",
    ]);
    let ip = n.d().inspect("peer", "{{.NetworkSettings.IPAddress}}");
    let host = n.d().inspect("peer", "{{.Config.Hostname}}");
    let out = n.ok(&[
        "run",
        "--rm",
        "--network",
        "container:peer",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1/hostname && exit 0; sleep 0.3; done; exit 1",
    ]);
    assert!(out.contains(&ip), "{out}");
    assert!(out.contains(&host), "{out}");
}

#[test]
fn nothing_left_after_rm_and_after_a_failed_start() {
    let n = Net::start();
    let bridge = n.d().bridge.clone();
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    n.ok(&[
        "run", "-d", "--name", "web", "-p", &spec, "busybox", "httpd", "-f", "-p", "80",
    ]);
    let id = n.d().inspect("web", "{{.Id}}");
    assert_eq!(Net::ports_of(&bridge).len(), 1);
    let table = Net::nft_table(&bridge).expect("the bridge's table");
    assert!(table.contains(&id), "no port rule for {id}: {table}");
    // A host port taken through berth: docker's message, nothing made.
    let out = n.docker(&["run", "-d", "--name", "dup", "-p", &spec, "busybox", "true"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("port is already allocated"),
        "{}",
        stderr(&out)
    );
    // A host port taken by another process.
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = format!("127.0.0.1:{}:80", held.local_addr().expect("addr").port());
    let out = n.docker(&[
        "run", "-d", "--name", "busy", "-p", &taken, "busybox", "true",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("port is already allocated"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        Net::ports_of(&bridge).len(),
        1,
        "a veth of a failed start is left"
    );
    assert_eq!(n.netns_files(), 1, "a namespace of a failed start is left");
    n.ok(&["rm", "-f", "web", "dup", "busy"]);
    assert!(Net::ports_of(&bridge).is_empty());
    assert_eq!(n.netns_files(), 0);
    let table = Net::nft_table(&bridge).unwrap_or_default();
    assert!(!table.contains(&id), "port rule left: {table}");
}

#[test]
fn overlapping_subnet_and_bad_input_get_dockers_answers() {
    let n = Net::start();
    let subnet = n
        .d()
        .inspect_network("bridge", "{{(index .IPAM.Config 0).Subnet}}");
    let body = format!(r#"{{"Name":"clash","IPAM":{{"Config":[{{"Subnet":"{subnet}"}}]}}}}"#);
    let (status, text) = n.d().http("POST", "/networks/create", &body);
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("Pool overlaps with other one on this address space"),
        "{text}"
    );
    let (status, text) = n.d().http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"NetworkMode":"nosuch"}}"#,
    );
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("network nosuch not found"), "{text}");
    let out = n.docker(&["network", "rm", "bridge"]);
    assert!(
        stderr(&out).contains("pre-defined network"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn berth_cli_networks_publish_and_port() {
    let mut n = Net::start();
    let d = n.d();
    let out = d.berth(&["network", "create", "--label", "k=v", "bnet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();
    n.bridges.push(format!("br-{}", &id[..12]));
    let d = n.d();
    let ls = stdout(&d.berth(&["network", "ls"]));
    assert!(ls.starts_with("NETWORK ID"), "{ls}");
    assert!(ls.contains("bnet") && ls.contains("none"), "{ls}");
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    let out = d.berth(&[
        "run",
        "-d",
        "--name",
        "bw",
        "--network",
        "bnet",
        "--network-alias",
        "bweb",
        "-p",
        &spec,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p = stdout(&d.berth(&["port", "bw"]));
    assert_eq!(p.trim(), format!("80/tcp -> 127.0.0.1:{port}"));
    let host = d.inspect("bw", "{{.Config.Hostname}}");
    eventually("the published port answers", || {
        http_get(port, "/hostname")
            .unwrap_or_default()
            .contains(&host)
    });
    let out = d.berth(&[
        "run",
        "--rm",
        "--network",
        "bnet",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do ping -c1 -W2 bweb >/dev/null && exit 0; sleep 0.3; done; exit 1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = d.berth(&["network", "rm", "bnet"]);
    assert!(
        stderr(&out).contains("has active endpoints"),
        "{}",
        stderr(&out)
    );
    assert!(d.berth(&["rm", "-f", "bw"]).status.success());
    let out = d.berth(&["network", "rm", "bnet"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn internal_network_reaches_peers_by_name_and_nothing_else() {
    let mut n = Net::start();
    n.network_with("inner", &["--internal"]);
    n.network("outer");
    assert_eq!(n.d().inspect_network("inner", "{{.Internal}}"), "true");
    assert_eq!(n.d().inspect_network("outer", "{{.Internal}}"), "false");
    // Host addresses outside the internal network: the default bridge's gateway and outer's.
    let host = [
        HostListener::on(&n.gateway_of("bridge")),
        HostListener::on(&n.gateway_of("outer")),
    ];
    // A container on a normal network.
    n.ok(&[
        "run",
        "-d",
        "--name",
        "out",
        "--network",
        "outer",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    // A container on the internal network, asking for a published port: docker ignores it.
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    n.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "inner",
        "-p",
        &spec,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let web_id = n.d().inspect("web", "{{.Id}}");
    let web_host = n.d().inspect("web", "{{.Config.Hostname}}");
    assert_eq!(
        n.ok(&["port", "web"]).trim(),
        "",
        "a port published on --internal"
    );
    let ruleset = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft (apt-get install nftables)");
    assert!(
        !stdout(&ruleset).contains(&web_id),
        "a port rule for a container on --internal: {}",
        stdout(&ruleset)
    );
    assert!(
        TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(2)
        )
        .is_err(),
        "127.0.0.1:{port} answers for a container on --internal"
    );
    let web_ip = n.ip_of("web", "inner");
    let out_ip = n.ip_of("out", "outer");
    let mut outside: Vec<String> = host.iter().map(HostListener::nc_target).collect();
    outside.push(format!("{out_ip} 80"));

    // Inside: the peer by name; nothing outside the network, by TCP or ping.
    let inside = n.ok(&[
        "run",
        "--rm",
        "--network",
        "inner",
        "busybox",
        "sh",
        "-c",
        &format!(
            "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/hostname && break; sleep 0.3; done; {} ping -c1 -W1 {out_ip} >/dev/null && echo 'pinged {out_ip}'; true",
            nc_each(&outside)
        ),
    ]);
    assert!(
        inside.contains(&web_host),
        "web by name from inner: {inside}"
    );
    for t in &outside {
        assert!(
            inside.contains(&format!("unreachable {t}")),
            "inner reached {t}: {inside}"
        );
    }
    assert!(!inside.contains("reached"), "inner got out: {inside}");
    assert!(
        !inside.contains("HTTP/"),
        "inner reached out's httpd: {inside}"
    );
    assert!(!inside.contains("pinged"), "inner pinged out: {inside}");

    // The same attempts from a normal network succeed (the listeners and out are there), and
    // the internal container is not reachable from it.
    let mut from_outer = outside.clone();
    from_outer.push(format!("{web_ip} 80"));
    let normal = n.ok(&[
        "run",
        "--rm",
        "--network",
        "outer",
        "busybox",
        "sh",
        "-c",
        &nc_each(&from_outer),
    ]);
    for l in &host {
        assert!(
            normal.contains(&format!("reached {}", l.addr)),
            "outer did not reach {}: {normal}",
            l.addr
        );
    }
    assert!(
        normal.contains("HTTP/1.1 200"),
        "outer did not reach out: {normal}"
    );
    assert!(
        normal.contains(&format!("unreachable {web_ip} 80")),
        "outer reached the internal container: {normal}"
    );
    n.ok(&["rm", "-f", "web", "out"]);
    n.ok(&["network", "rm", "inner", "outer"]);
}

/// A running container on a user network and one publishing a port survive a SIGKILL of the
/// daemon: after it restarts on the same roots and bridge, the port answers, the names resolve
/// both ways (the DNS server is the daemon's, so it came back), inspect shows the endpoints,
/// and removing everything then stopping the daemon leaves no veth, bridge or table.
#[test]
fn daemon_restart_keeps_ports_names_and_endpoints() {
    let mut n = Net::start();
    let default_bridge = n.d().bridge.clone();
    n.network("app");
    let app_bridge = n.bridges.last().cloned().expect("app's bridge");
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    n.ok(&[
        "run", "-d", "--name", "web", "-p", &spec, "busybox", "httpd", "-f", "-p", "80", "-h",
        "/etc",
    ]);
    for name in ["one", "two"] {
        n.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "app",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/etc",
        ]);
    }
    let host = |n: &Net, name: &str| n.d().inspect(name, "{{.Config.Hostname}}");
    let (web_host, one_host, two_host) = (host(&n, "web"), host(&n, "one"), host(&n, "two"));
    // `exec NAME` fetches PEER's hostname by name.
    let fetch = |n: &Net, name: &str, peer: &str| {
        n.ok(&[
            "exec",
            name,
            "sh",
            "-c",
            &format!(
                "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://{peer}/hostname && exit 0; sleep 0.3; done; exit 1"
            ),
        ])
    };
    let check = |n: &Net, when: &str| {
        eventually(&format!("127.0.0.1:{port} answers {when}"), || {
            http_get(port, "/hostname")
                .unwrap_or_default()
                .contains(&web_host)
        });
        assert!(
            fetch(n, "one", "two").contains(&two_host),
            "one → two {when}"
        );
        assert!(
            fetch(n, "two", "one").contains(&one_host),
            "two → one {when}"
        );
    };
    check(&n, "before the restart");
    let ids: Vec<String> = ["web", "one", "two"]
        .iter()
        .map(|c| n.d().inspect(c, "{{.Id}}"))
        .collect();
    // One more on both networks, with a port and an alias, whose process dies while the
    // daemon is down: after the restart nothing of its networking is left.
    let gone_port = free_port();
    let gone_spec = format!("127.0.0.1:{gone_port}:80");
    n.ok(&[
        "run",
        "-d",
        "--name",
        "gone",
        "--network",
        "app",
        "--network-alias",
        "goner",
        "-p",
        &gone_spec,
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    n.ok(&["network", "connect", "bridge", "gone"]);
    let gone_id = n.d().inspect("gone", "{{.Id}}");
    let gone_pid = n.d().inspect("gone", "{{.State.Pid}}");
    assert!(
        fetch(&n, "one", "goner").contains(&host(&n, "gone")),
        "one → goner"
    );
    let veths = |b: &str| Net::ports_of(b).len();
    assert_eq!((veths(&default_bridge), veths(&app_bridge)), (2, 3));

    n.d_mut().crash();
    let killed = Command::new("kill")
        .args(["-9", &gone_pid])
        .status()
        .expect("run kill");
    assert!(killed.success(), "kill -9 {gone_pid}");
    eventually("gone's process to die", || {
        !std::path::Path::new(&format!("/proc/{gone_pid}")).exists()
    });
    // The tables lost while the daemon is down (a firewall reload flushing the ruleset):
    // the restore rebuilds them with the port rules of the running containers.
    for b in [&default_bridge, &app_bridge] {
        let st = Command::new("nft")
            .args(["delete", "table", "ip", &Net::table_name(b)])
            .status()
            .expect("run nft");
        assert!(st.success(), "delete the table of {b}");
    }
    n.d_mut().restart();
    check(&n, "after the restart");
    eventually("gone to be found exited", || {
        n.d().inspect("gone", "{{.State.Status}}") == "exited"
    });
    assert_eq!(
        (veths(&default_bridge), veths(&app_bridge)),
        (1, 2),
        "veths after the restart"
    );
    assert_eq!(n.netns_files(), 3, "namespace files after the restart");
    assert!(
        http_get(gone_port, "/hostname").is_err(),
        "gone's port answers after its exit"
    );
    let ruleset = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("run nft");
    assert!(
        !stdout(&ruleset).contains(&gone_id),
        "gone's port rule left: {}",
        stdout(&ruleset)
    );
    let members = n
        .d()
        .inspect_network("app", "{{range .Containers}}{{.Name}} {{end}}");
    let mut members: Vec<&str> = members.split_whitespace().collect();
    members.sort();
    assert_eq!(members, ["one", "two"]);
    let web_net = n
        .d()
        .inspect_network("bridge", "{{range $id, $c := .Containers}}{{$id}} {{end}}");
    assert_eq!(web_net.trim(), ids[0], "the default bridge's containers");
    assert_eq!(
        n.ok(&["port", "web"]).trim(),
        format!("80/tcp -> 127.0.0.1:{port}")
    );
    // A new container on the network resolves the old ones through the restored DNS server,
    // and the old ones resolve it.
    n.ok(&[
        "run",
        "-d",
        "--name",
        "three",
        "--network",
        "app",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let three_host = host(&n, "three");
    assert!(fetch(&n, "three", "one").contains(&one_host), "three → one");
    assert!(
        fetch(&n, "one", "three").contains(&three_host),
        "one → three"
    );
    let table = Net::nft_table(&default_bridge).expect("the default bridge's table");
    assert_eq!(
        table.matches(&format!("berth:{}", ids[0])).count(),
        1,
        "web's port rule, once: {table}"
    );

    // Everything removed, networks pruned, the daemon stopped: nothing left.
    n.ok(&["rm", "-f", "web", "one", "two", "three", "gone"]);
    assert_eq!(veths(&default_bridge) + veths(&app_bridge), 0, "veths left");
    let pruned = n.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains("app"), "network prune: {pruned}");
    n.d_mut().stop_daemon();
    for b in [&default_bridge, &app_bridge] {
        assert!(
            !std::path::Path::new("/sys/class/net").join(b).exists(),
            "bridge {b} left after the daemon stopped"
        );
        assert!(
            Net::nft_table(b).is_none(),
            "table {} left after the daemon stopped",
            Net::table_name(b)
        );
    }
    assert_eq!(n.netns_files(), 0, "namespace files left");
    assert!(
        http_get(port, "/hostname").is_err(),
        "127.0.0.1:{port} still answers"
    );
    // The guards talk to a daemon: start it again for them.
    n.d_mut().restart();
}

/// `network connect --alias` on a running and on a created container, `disconnect`, their
/// errors, and `network prune` keeping what is used and leaving nothing of what it removes.
#[test]
fn connect_with_alias_disconnect_and_prune() {
    let mut n = Net::start();
    n.network("front");
    n.network("back");
    n.network("spare");
    let back_bridge = n.bridges[2].clone();
    let spare_bridge = n.bridges[3].clone();
    n.ok(&[
        "run",
        "-d",
        "--name",
        "app",
        "--network",
        "front",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let app_host = n.d().inspect("app", "{{.Config.Hostname}}");
    // Running: a second interface, the alias on that network only.
    n.ok(&["network", "connect", "--alias", "api", "back", "app"]);
    let links = n.ok(&["exec", "app", "ls", "/sys/class/net"]);
    assert_eq!(
        links.split_whitespace().collect::<Vec<_>>(),
        ["eth0", "eth1", "lo"]
    );
    let aliases = n.d().inspect(
        "app",
        "{{json (index .NetworkSettings.Networks \"back\").Aliases}}",
    );
    assert!(aliases.contains("api"), "{aliases}");
    assert!(
        n.d()
            .inspect_network("back", "{{range .Containers}}{{.Name}} {{end}}")
            .contains("app"),
        "back's containers"
    );
    assert_eq!(Net::ports_of(&back_bridge).len(), 1);
    let back_ip = n.ip_of("app", "back");
    let out = n.ok(&[
        "run", "--rm", "--network", "back", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://api/hostname && wget -qO- http://app/hostname && exit 0; sleep 0.3; done; exit 1",
    ]);
    assert_eq!(
        out.matches(&app_host).count(),
        2,
        "app and api on back: {out}"
    );
    // Twice: docker's 403 and message.
    let (status, body) = n
        .d()
        .http("POST", "/networks/back/connect", r#"{"Container":"app"}"#);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("endpoint with name app already exists in network back"),
        "{body}"
    );
    // Created, not running: the endpoint is attached at start.
    n.ok(&[
        "create",
        "--name",
        "late",
        "--network",
        "front",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    n.ok(&["network", "connect", "--alias", "later", "back", "late"]);
    n.ok(&["start", "late"]);
    let late_host = n.d().inspect("late", "{{.Config.Hostname}}");
    let out = n.ok(&[
        "run", "--rm", "--network", "back", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://later/hostname && exit 0; sleep 0.3; done; exit 1",
    ]);
    assert!(out.contains(&late_host), "later on back: {out}");
    // Disconnect: the interface goes; back no longer reaches app, front still does.
    n.ok(&["network", "disconnect", "back", "app"]);
    let links = n.ok(&["exec", "app", "ls", "/sys/class/net"]);
    assert_eq!(links.split_whitespace().collect::<Vec<_>>(), ["eth0", "lo"]);
    assert_eq!(
        Net::ports_of(&back_bridge).len(),
        1,
        "only late's veth on back"
    );
    assert!(
        !n.d()
            .inspect_network("back", "{{range .Containers}}{{.Name}} {{end}}")
            .contains("app "),
        "app still listed on back"
    );
    let out = n.ok(&[
        "run",
        "--rm",
        "--network",
        "back",
        "busybox",
        "sh",
        "-c",
        &nc_each(&[format!("{back_ip} 80")]),
    ]);
    assert!(
        out.contains(&format!("unreachable {back_ip} 80")),
        "app's old address on back answers: {out}"
    );
    let out = n.ok(&[
        "run", "--rm", "--network", "front", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://app/hostname && exit 0; sleep 0.3; done; exit 1",
    ]);
    assert!(out.contains(&app_host), "app on front: {out}");
    let out = n.docker(&["network", "disconnect", "back", "app"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not connected to network back"),
        "{}",
        stderr(&out)
    );
    // Prune: only the unused network goes, with its bridge and table.
    let pruned = n.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains("spare"), "prune: {pruned}");
    assert!(
        !pruned.contains("front") && !pruned.contains("back"),
        "prune took a used network: {pruned}"
    );
    assert!(
        !std::path::Path::new("/sys/class/net")
            .join(&spare_bridge)
            .exists()
    );
    assert!(Net::nft_table(&spare_bridge).is_none());
    // Everything removed: prune takes the rest, and nothing of them is left.
    n.ok(&["rm", "-f", "app", "late"]);
    let pruned = n.ok(&["network", "prune", "-f"]);
    assert!(
        pruned.contains("front") && pruned.contains("back"),
        "prune: {pruned}"
    );
    let ls = n.ok(&["network", "ls", "--format", "{{.Name}}"]);
    let mut names: Vec<&str> = ls.split_whitespace().collect();
    names.sort();
    assert_eq!(names, ["bridge", "host", "none"]);
    for b in &n.bridges[1..] {
        assert!(
            !std::path::Path::new("/sys/class/net").join(b).exists(),
            "bridge {b} left"
        );
        assert!(Net::nft_table(b).is_none(), "table of {b} left");
    }
    assert_eq!(n.netns_files(), 0, "namespace files left");
}
