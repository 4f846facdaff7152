//! Real-kernel tests of the bridge driver (root). They only talk to 127.0.0.1 and to addresses
//! inside network namespaces they create; every bridge, subnet and namespace is unique to the
//! test and removed by a guard even on failure.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::time::Duration;

use berth_net::{AttachRequest, LinkTeardown, PortBinding, Protocol, dns};
use common::{Netns, driver, network, require, sh};

fn attach_req(id: &str, names: &[&str], ports: Vec<PortBinding>) -> AttachRequest {
    AttachRequest {
        container_id: id.to_string(),
        names: names.iter().map(|s| s.to_string()).collect(),
        ip: None,
        ports,
        dns_upstreams: vec![],
        mac: None,
        links: vec![],
    }
}

/// The A records of a reply.
fn a_records(reply: &[u8]) -> Vec<Ipv4Addr> {
    dns::wire::parse_answers(reply)
        .into_iter()
        .filter(|(t, d)| *t == dns::wire::A && d.len() == 4)
        .map(|(_, d)| Ipv4Addr::new(d[0], d[1], d[2], d[3]))
        .collect()
}

#[test]
fn two_namespaces_on_a_bridge_ping_each_other() {
    require("busybox", "busybox-static");
    require("nft", "nftables");
    let d = driver();
    let mut g = network(&d, 1, false, false);
    let (a, b) = (Netns::new(), Netns::new());
    let att_a = d
        .attach(
            &mut g.net,
            a.file().as_fd(),
            attach_req("aaaa", &[], vec![]),
        )
        .unwrap();
    let att_b = d
        .attach(
            &mut g.net,
            b.file().as_fd(),
            attach_req("bbbb", &[], vec![]),
        )
        .unwrap();
    assert_eq!(att_a.ifname, "eth0");
    assert_ne!(att_a.ip, att_b.ip);
    let (_, addr) = a.exec(&["ip", "-o", "addr", "show", "eth0"]);
    assert!(addr.contains(&format!("{}/24", att_a.ip)), "{addr}");
    let (_, link) = a.exec(&["ip", "-o", "link", "show", "eth0"]);
    assert!(
        link.contains("mtu 1500") && link.contains(&att_a.mac),
        "{link}"
    );
    let (_, route) = a.exec(&["ip", "route"]);
    assert!(
        route.contains(&format!("default via {}", g.net.gateway())),
        "{route}"
    );
    assert!(a.exec(&["ip", "-o", "link", "show", "lo"]).1.contains("UP"));
    assert!(a.ping(att_b.ip), "a cannot ping b");
    assert!(b.ping(att_a.ip), "b cannot ping a");
    assert!(a.ping(g.net.gateway()), "a cannot ping its gateway");
    d.detach(&mut g.net, &att_a, LinkTeardown::Wait).unwrap();
    d.detach(&mut g.net, &att_b, LinkTeardown::Wait).unwrap();
    assert!(g.net.addresses.allocated.is_empty());
    assert!(
        !a.exec(&["ip", "link", "show", "eth0"]).0,
        "eth0 left in the namespace"
    );
    d.remove_network(&g.net).unwrap();
    g.removed = true;
    let table = berth_net::firewall::table_name(g.bridge());
    let subnet = g.net.subnet().to_string();
    let left = common::leftovers(&[
        g.bridge(),
        &att_a.host_veth,
        &att_b.host_veth,
        &table,
        &subnet,
    ]);
    assert!(left.is_empty(), "left behind: {left:#?}");
}

#[test]
fn published_port_answers_on_localhost() {
    require("nft", "nftables");
    let d = driver();
    let mut g = network(&d, 2, false, false);
    let ns = Netns::new();
    let ports = vec![
        PortBinding {
            host_ip: None,
            host_port: 0,
            container_port: 8080,
            protocol: Protocol::Tcp,
        },
        PortBinding {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 0,
            container_port: 5353,
            protocol: Protocol::Udp,
        },
    ];
    let att = d
        .attach(
            &mut g.net,
            ns.file().as_fd(),
            attach_req("cccc", &[], ports),
        )
        .unwrap();
    let (tcp_port, udp_port) = (att.ports[0].host_port, att.ports[1].host_port);
    assert!(tcp_port != 0 && udp_port != 0);
    let (tx, rx) = mpsc::channel();
    let server = ns.spawn(move || {
        let l = TcpListener::bind("0.0.0.0:8080").unwrap();
        let u = UdpSocket::bind("0.0.0.0:5353").unwrap();
        tx.send(()).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        s.write_all(b"hello from the namespace").unwrap();
        drop(s);
        let mut buf = [0u8; 64];
        let (n, from) = u.recv_from(&mut buf).unwrap();
        u.send_to(&buf[..n], from).unwrap();
        peer
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let mut s = TcpStream::connect_timeout(
        &SocketAddrV4::new(Ipv4Addr::LOCALHOST, tcp_port).into(),
        Duration::from_secs(5),
    )
    .unwrap();
    let mut got = String::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hello from the namespace");
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.send_to(b"ping", (Ipv4Addr::LOCALHOST, udp_port)).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = u.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    // 127.0.0.1 reaches the container masqueraded as the gateway.
    let peer = server.join().unwrap();
    assert_eq!(peer.ip(), std::net::IpAddr::V4(g.net.gateway()));
    // A host port already bound on the host is refused with docker's message, and nothing of
    // the failed attach remains.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let ns2 = Netns::new();
    let err = d
        .attach(
            &mut g.net,
            ns2.file().as_fd(),
            attach_req(
                "dddd",
                &[],
                vec![PortBinding {
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_port: port,
                    container_port: 80,
                    protocol: Protocol::Tcp,
                }],
            ),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
    );
    assert_eq!(
        g.net.addresses.allocated.len(),
        1,
        "failed attach released its address"
    );
    let tag = format!("berth:{}", att.container_id);
    assert_eq!(
        berth_net::firewall::port_rule_count(g.bridge(), &tag).unwrap(),
        2
    );
    d.detach(&mut g.net, &att, LinkTeardown::Wait).unwrap();
    assert_eq!(
        berth_net::firewall::port_rule_count(g.bridge(), &tag).unwrap(),
        0
    );
}

#[test]
fn two_networks_are_isolated() {
    require("busybox", "busybox-static");
    require("nft", "nftables");
    let d = driver();
    let mut g1 = network(&d, 3, false, false);
    let mut g2 = network(&d, 4, false, false);
    let (a, b) = (Netns::new(), Netns::new());
    let att_a = d
        .attach(
            &mut g1.net,
            a.file().as_fd(),
            attach_req("eeee", &[], vec![]),
        )
        .unwrap();
    let att_b = d
        .attach(
            &mut g2.net,
            b.file().as_fd(),
            attach_req("ffff", &[], vec![]),
        )
        .unwrap();
    assert!(a.ping(g1.net.gateway()));
    assert!(b.ping(g2.net.gateway()));
    assert!(!a.ping(att_b.ip), "network 3 reaches network 4");
    assert!(!b.ping(att_a.ip), "network 4 reaches network 3");
    // An overlapping subnet is refused with docker's message.
    let err = d
        .create_network(
            berth_net::NetworkRequest {
                name: "overlap".into(),
                id: "overlap".into(),
                subnet: Some(g1.net.subnet()),
                bridge: common::bridge_name(90),
                ..Default::default()
            },
            &[g1.net.clone()],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid pool request: Pool overlaps with other one on this address space"
    );
    assert!(common::leftovers(&[&common::bridge_name(90)]).is_empty());
    // A bridge name already in use is refused, and the existing bridge is left alone.
    let err = d
        .create_network(
            berth_net::NetworkRequest {
                name: "samebridge".into(),
                id: "samebridge".into(),
                subnet: Some(common::subnet(91)),
                bridge: g1.bridge().to_string(),
                ..Default::default()
            },
            &[],
        )
        .unwrap_err();
    assert_eq!(err.kind(), berth_net::ErrorKind::Conflict, "{err}");
    assert!(
        a.ping(g1.net.gateway()),
        "the existing bridge was torn down"
    );
    d.detach(&mut g1.net, &att_a, LinkTeardown::Wait).unwrap();
    d.detach(&mut g2.net, &att_b, LinkTeardown::Wait).unwrap();
}

#[test]
fn internal_network_has_no_way_out() {
    require("busybox", "busybox-static");
    require("nft", "nftables");
    let d = driver();
    let mut gi = network(&d, 5, true, false);
    let mut go = network(&d, 6, false, false);
    let (a, b) = (Netns::new(), Netns::new());
    let att_a = d
        .attach(
            &mut gi.net,
            a.file().as_fd(),
            attach_req("gggg", &[], vec![]),
        )
        .unwrap();
    let att_b = d
        .attach(
            &mut go.net,
            b.file().as_fd(),
            attach_req("hhhh", &[], vec![]),
        )
        .unwrap();
    let table = berth_net::firewall::table_name(gi.bridge());
    let (ok, rules) = sh(&["nft", "list", "table", "ip", &table]);
    assert!(ok, "{rules}");
    assert!(
        !rules.contains("masquerade"),
        "internal network masquerades: {rules}"
    );
    let (_, outer) = sh(&[
        "nft",
        "list",
        "table",
        "ip",
        &berth_net::firewall::table_name(go.bridge()),
    ]);
    assert!(outer.contains("masquerade"), "{outer}");
    assert!(
        !a.ping(att_b.ip),
        "internal network reaches another network"
    );
    assert!(
        !b.ping(att_a.ip),
        "another network reaches the internal one"
    );
    d.detach(&mut gi.net, &att_a, LinkTeardown::Wait).unwrap();
    d.detach(&mut go.net, &att_b, LinkTeardown::Wait).unwrap();
}

#[test]
fn dns_resolves_names_aliases_and_id_prefixes() {
    require("nft", "nftables");
    let d = driver();
    let mut g = network(&d, 7, false, true);
    let (a, b) = (Netns::new(), Netns::new());
    let id = format!("{:064x}", 0xabcdef_u64 + u64::from(std::process::id()));
    let att_a = d
        .attach(
            &mut g.net,
            a.file().as_fd(),
            attach_req(&id, &["web", "www-alias"], vec![]),
        )
        .unwrap();
    let att_b = d
        .attach(
            &mut g.net,
            b.file().as_fd(),
            attach_req("client", &["client"], vec![]),
        )
        .unwrap();
    // Each namespace has its resolver at 127.0.0.11 (a DNAT to its sockets there).
    assert_eq!(att_b.dns_server, Some(dns::RESOLVER_IP));
    let server = SocketAddrV4::new(dns::RESOLVER_IP, 53);
    let short = id[..12].to_string();
    let answers = b
        .spawn(move || {
            let s = UdpSocket::bind("0.0.0.0:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            ["web", "www-alias", short.as_str(), "nosuchname"]
                .iter()
                .map(|name| {
                    s.send_to(&dns::wire::build_query(1, name, dns::wire::A), server)
                        .unwrap();
                    let mut buf = [0u8; 512];
                    let (n, _) = s.recv_from(&mut buf).unwrap();
                    (buf[3] & 0x0f, a_records(&buf[..n]))
                })
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap();
    assert_eq!(answers[0], (0, vec![att_a.ip]));
    assert_eq!(answers[1], (0, vec![att_a.ip]));
    assert_eq!(answers[2], (0, vec![att_a.ip]));
    // No upstream configured: SERVFAIL rather than a forwarded query.
    assert_eq!(answers[3], (2, vec![]));
    d.detach(&mut g.net, &att_a, LinkTeardown::Wait).unwrap();
    d.detach(&mut g.net, &att_b, LinkTeardown::Wait).unwrap();
}

/// Runs in a private network namespace (so the FORWARD-drop chain it adds affects nobody else):
/// a foreign forward chain with policy drop (as iptables-nft leaves it) is opened for our
/// bridges, a published port is reached from another network through it, and teardown leaves
/// no link, address, route, table or rule behind.
#[test]
fn foreign_forward_drop_is_opened_and_teardown_leaves_nothing() {
    require("busybox", "busybox-static");
    require("nft", "nftables");
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        assert!(sh(&["ip", "link", "set", "lo", "up"]).0);
        let foreign = "table ip btfilter {\n chain FORWARD {\n  type filter hook forward priority 0; policy drop;\n }\n}\n";
        let mut child = std::process::Command::new("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(foreign.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());

        let d = driver();
        let mut ga = network(&d, 8, false, false);
        let mut gb = network(&d, 9, false, false);
        let (a, b) = (Netns::new(), Netns::new());
        let att_a = d
            .attach(&mut ga.net, a.file().as_fd(), attach_req("iiii", &[], vec![]))
            .unwrap();
        let att_b = d
            .attach(
                &mut gb.net,
                b.file().as_fd(),
                attach_req(
                    "jjjj",
                    &[],
                    vec![PortBinding {
                        host_ip: None,
                        host_port: 18080,
                        container_port: 80,
                        protocol: Protocol::Tcp,
                    }],
                ),
            )
            .unwrap();
        assert_eq!(berth_net::firewall::foreign_rule_count(ga.bridge()).unwrap(), 2);
        let (tx, rx) = mpsc::channel();
        let server = b.spawn(move || {
            let l = TcpListener::bind("0.0.0.0:80").unwrap();
            tx.send(()).unwrap();
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"through the forward chain").unwrap();
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        // From network a to the host's address on a (its gateway) → DNAT → network b.
        let target = SocketAddrV4::new(ga.net.gateway(), 18080);
        let got = a
            .spawn(move || {
                let mut s = TcpStream::connect_timeout(&target.into(), Duration::from_secs(5))?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut got = String::new();
                s.read_to_string(&mut got)?;
                Ok::<_, std::io::Error>(got)
            })
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(got, "through the forward chain");
        server.join().unwrap();
        // A restore (daemon restart) does not add the foreign rules twice.
        d.restore(&ga.net, std::slice::from_ref(&att_a)).unwrap();
        assert_eq!(berth_net::firewall::foreign_rule_count(ga.bridge()).unwrap(), 2);

        d.detach(&mut ga.net, &att_a, LinkTeardown::Wait).unwrap();
        d.detach(&mut gb.net, &att_b, LinkTeardown::Wait).unwrap();
        for g in [&mut ga, &mut gb] {
            d.remove_network(&g.net).unwrap();
            g.removed = true;
        }
        let tables: Vec<String> = [&ga, &gb]
            .iter()
            .map(|g| berth_net::firewall::table_name(g.bridge()))
            .collect();
        let left = common::leftovers(&[
            ga.bridge(),
            gb.bridge(),
            &att_a.host_veth,
            &att_b.host_veth,
            &tables[0],
            &tables[1],
            "berth",
            &ga.net.subnet().to_string(),
            &gb.net.subnet().to_string(),
        ]);
        assert!(left.is_empty(), "left behind: {left:#?}");
        let (_, ruleset) = sh(&["nft", "list", "ruleset"]);
        assert!(ruleset.contains("btfilter"), "{ruleset}");
    })
    .join()
    .unwrap();
}

/// A daemon restart: a new driver restores a network whose kernel state survived (DNS answers
/// again) and one whose table was lost (recreated with the attachment's port rules).
#[test]
fn restore_after_daemon_restart() {
    require("nft", "nftables");
    let d = driver();
    let mut g = network(&d, 10, false, true);
    let ns = Netns::new();
    let port = PortBinding {
        host_ip: Some(Ipv4Addr::LOCALHOST),
        host_port: 0,
        container_port: 80,
        protocol: Protocol::Tcp,
    };
    let att = d
        .attach(
            &mut g.net,
            ns.file().as_fd(),
            attach_req("kkkk", &["db"], vec![port]),
        )
        .unwrap();
    let saved = serde_json::to_string(&(&g.net, &att)).unwrap();
    let d2 = driver();
    let (net, att2): (berth_net::Network, berth_net::Attachment) =
        serde_json::from_str(&saved).unwrap();
    assert_eq!(att2, att);
    drop(d); // the old daemon's resolver stops with it
    d2.restore(&net, std::slice::from_ref(&att2)).unwrap();
    d2.restore_resolver(
        &att.container_id,
        ns.file().as_fd(),
        &[(net.id.clone(), vec![])],
        &[],
    )
    .unwrap();
    let ask = |name: &'static str| {
        ns.spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            s.send_to(
                &dns::wire::build_query(9, name, dns::wire::A),
                SocketAddrV4::new(dns::RESOLVER_IP, 53),
            )
            .unwrap();
            let mut buf = [0u8; 512];
            let (n, _) = s.recv_from(&mut buf).unwrap();
            a_records(&buf[..n])
        })
        .join()
        .unwrap()
    };
    assert_eq!(ask("db"), vec![att.ip]);
    let tag = format!("berth:{}", att.container_id);
    assert_eq!(
        berth_net::firewall::port_rule_count(g.bridge(), &tag).unwrap(),
        1
    );
    // The table is lost (e.g. `nft flush ruleset`): restore rebuilds it with the port rules.
    berth_net::firewall::remove_network(g.bridge()).unwrap();
    d2.restore(&net, std::slice::from_ref(&att2)).unwrap();
    assert_eq!(
        berth_net::firewall::port_rule_count(g.bridge(), &tag).unwrap(),
        1
    );
    assert_eq!(ask("db"), vec![att.ip]);
    d2.detach(&mut g.net, &att, LinkTeardown::Wait).unwrap();
}

/// A namespace pinned at a file (made before the container starts) is attached by that file and
/// removed afterwards; its veth goes with it.
#[test]
fn attach_a_namespace_file() {
    require("nft", "nftables");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("netns");
    berth_net::netns::create(&path).unwrap();
    let d = driver();
    let mut g = network(&d, 11, false, false);
    let file = std::fs::File::open(&path).unwrap();
    let att = d
        .attach(&mut g.net, file.as_fd(), attach_req("llll", &[], vec![]))
        .unwrap();
    let ip = att.ip;
    let bound = std::thread::spawn(move || {
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        TcpListener::bind((ip, 0)).is_ok()
    })
    .join()
    .unwrap();
    assert!(bound, "{ip} is not in the namespace file's namespace");
    berth_net::netns::remove(&path).unwrap();
    assert!(!path.exists());
    // The namespace is gone, and its veth with it; detach still succeeds.
    for _ in 0..50 {
        if common::leftovers(&[&att.host_veth]).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(common::leftovers(&[&att.host_veth]).is_empty());
    d.detach(&mut g.net, &att, LinkTeardown::Wait).unwrap();
}
