//! Networking across a container's and the daemon's lifecycle (issue 6), through the
//! `docker` CLI: a daemon killed and restarted keeps ports, names and endpoints;
//! `network connect --alias`, `disconnect` and `prune`. Same rules as `networking.rs`: own
//! daemon, bridge and pool per test; only 127.0.0.1 and the test's own containers.
//!
//! Needs root, busybox-static, nftables, iproute2 and the docker CLI
//! (`scripts/install-deps.sh --test`).

mod engine_harness;
mod networking_support;

use std::process::Command;

use engine_harness::{eventually, stderr};
use networking_support::{HostListener, Net, free_port, http_get, nc_each, nft_ruleset};

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
    n.web("web", &["-p", &spec]);
    for name in ["one", "two"] {
        n.web(name, &["--network", "app"]);
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
    n.web(
        "gone",
        &[
            "--network",
            "app",
            "--network-alias",
            "goner",
            "-p",
            &gone_spec,
        ],
    );
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
    let ruleset = nft_ruleset();
    assert!(
        !ruleset.contains(&gone_id),
        "gone's port rule left: {}",
        ruleset
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
    n.web("three", &["--network", "app"]);
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
    n.web("app", &["--network", "front"]);
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

/// An `--internal` network whose table is lost while the daemon is down gets it back closed:
/// after the restart its container still reaches its peer by name and still reaches no host
/// address outside the network.
#[test]
fn internal_network_stays_closed_after_a_restart() {
    let mut n = Net::start();
    n.network_with("inner", &["--internal"]);
    let inner_bridge = n.bridges.last().cloned().expect("inner's bridge");
    let listener = HostListener::on(&n.gateway_of("bridge"));
    n.web("in", &["--network", "inner"]);
    let in_host = n.d().inspect("in", "{{.Config.Hostname}}");
    n.d_mut().crash();
    let st = Command::new("nft")
        .args(["delete", "table", "ip", &Net::table_name(&inner_bridge)])
        .status()
        .expect("run nft");
    assert!(st.success(), "delete inner's table");
    n.d_mut().restart();
    let script = format!(
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://in/hostname && break; sleep 0.3; done; {}",
        nc_each(&[listener.nc_target()])
    );
    let out = n.ok(&[
        "run",
        "--rm",
        "--network",
        "inner",
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    assert!(
        out.contains(&in_host),
        "in by name after the restart: {out}"
    );
    assert!(
        out.contains(&format!("unreachable {}", listener.nc_target())),
        "inner reached the host after the restart: {out}"
    );
    n.ok(&["rm", "-f", "in"]);
    n.ok(&["network", "rm", "inner"]);
}
