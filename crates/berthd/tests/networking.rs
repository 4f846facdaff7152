//! Networking end to end (issue 6): each test starts its own berthd with its own roots,
//! socket, bridge name and address pool, drives it with the `docker` CLI, and only talks to
//! 127.0.0.1, to the host's bridge gateways and to containers it started. The guard
//! (`networking_support::Net`) removes the containers and the networks the test made, stops
//! the daemon, then asserts no link and no nftables table of its bridges is left.
//! `networking_lifecycle.rs` has the daemon restart and connect/disconnect/prune flows.
//!
//! Needs root, busybox-static, nftables, iproute2 and the docker CLI
//! (`scripts/install-deps.sh --test`).

mod engine_harness;
mod networking_support;

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use engine_harness::{eventually, stderr, stdout};
use networking_support::{HostListener, Net, free_port, http_get, nc_each, nft_ruleset};

#[test]
fn containers_resolve_each_other_by_name_and_alias_on_a_user_network() {
    let mut n = Net::start();
    n.network("front");
    let ls = n.ok(&["network", "ls"]);
    for name in ["bridge", "host", "none", "front"] {
        assert!(ls.contains(name), "network ls lacks {name}: {ls}");
    }
    n.web("web", &["--network", "front", "--network-alias", "www"]);
    let out = n.ok(&[
        "run", "--rm", "--network", "front", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do ping -c1 -W2 web >/dev/null && ping -c1 -W2 www >/dev/null && wget -qO- http://web/hostname && cat /etc/resolv.conf && exit 0; sleep 0.3; done; exit 1",
    ]);
    let web_host = n.d().inspect("web", "{{.Config.Hostname}}");
    assert!(out.contains(&web_host), "wget by name: {out}");
    // The container's own resolver, as in docker.
    assert!(out.contains("nameserver 127.0.0.11"), "resolv.conf: {out}");
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
    n.web("web", &["-p", &spec]);
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
    n.web("all", &["--expose", "80", "-P"]);
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
        n.web(name, &["--network", net]);
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
    n.web("peer", &[]);
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
    n.web("out", &["--network", "outer"]);
    // A container on the internal network, asking for a published port: docker ignores it.
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    n.web("web", &["--network", "inner", "-p", &spec]);
    let web_id = n.d().inspect("web", "{{.Id}}");
    let web_host = n.d().inspect("web", "{{.Config.Hostname}}");
    assert_eq!(
        n.ok(&["port", "web"]).trim(),
        "",
        "a port published on --internal"
    );
    let ruleset = nft_ruleset();
    assert!(
        !ruleset.contains(&web_id),
        "a port rule for a container on --internal: {}",
        ruleset
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
            "ip route | grep -q '^default' && echo 'has a default route'; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/hostname && break; sleep 0.3; done; {} ping -c1 -W1 {out_ip} >/dev/null && echo 'pinged {out_ip}'; true",
            nc_each(&outside)
        ),
    ]);
    assert!(
        inside.contains(&web_host),
        "web by name from inner: {inside}"
    );
    // As in docker, an internal network gives no default route.
    assert!(
        !inside.contains("has a default route"),
        "a default route on --internal: {inside}"
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
