//! Endpoint settings through the `docker` CLI (issue 16): static addresses (`--ip`) checked
//! against the network's subnet and `--ip-range` with dockerd's errors, `--ip-range` and
//! `--aux-address` on create, `--mac-address`, `--link` on a user network (an alias only the
//! linking container resolves) and endpoint driver options. Same rules as `networking.rs`: own
//! daemon, bridge and pool per test; the user subnets are taken from the daemon's own pool.
//!
//! Needs root, busybox-static, nftables, iproute2 and the docker CLI
//! (`scripts/install-deps.sh --test`).

mod engine_harness;
mod networking_support;

use engine_harness::stderr;
use networking_support::Net;

/// The `/24` at the end of the daemon's pool (`base=10.A.B.0/21`): `10.A.(B+7)`. The daemon
/// hands out the pool's first subnets, so this one is the test's to give with `--subnet`.
fn own_prefix(n: &Net) -> String {
    let base = n
        .d()
        .pool
        .trim_start_matches("base=")
        .split('/')
        .next()
        .expect("pool base")
        .to_owned();
    let o: Vec<u32> = base.split('.').map(|x| x.parse().expect("octet")).collect();
    format!("{}.{}.{}", o[0], o[1], o[2] + 7)
}

fn fails_with(n: &Net, args: &[&str], want: &str) {
    let out = n.docker(args);
    assert!(!out.status.success(), "docker {args:?} succeeded");
    assert!(
        stderr(&out).contains(want),
        "docker {args:?}: want {want:?}, got {}",
        stderr(&out)
    );
}

/// `--ip` and `--mac-address` are what the container's eth0 has; a dynamic address comes from
/// `--ip-range` and skips `--aux-address`; network inspect shows the range and the auxiliary
/// addresses; an address outside the range, one on a network whose subnet berth picked and
/// one on the default bridge get dockerd's errors and leave no container; `network connect
/// --ip` to a running container gives it that address.
#[test]
fn static_addresses_ip_range_and_mac() {
    let mut n = Net::start();
    let p = own_prefix(&n);
    n.network_with(
        "fixed",
        &[
            "--subnet",
            &format!("{p}.0/24"),
            "--ip-range",
            &format!("{p}.128/25"),
            "--aux-address",
            &format!("a={p}.129"),
        ],
    );
    let ipam = n
        .d()
        .inspect_network("fixed", "{{json (index .IPAM.Config 0)}}");
    assert!(
        ipam.contains(&format!("\"IPRange\":\"{p}.128/25\""))
            && ipam.contains(&format!("\"AuxiliaryAddresses\":{{\"a\":\"{p}.129\"}}")),
        "{ipam}"
    );
    let ip = format!("{p}.200");
    n.web(
        "s1",
        &[
            "--network",
            "fixed",
            "--ip",
            &ip,
            "--mac-address",
            "02:42:0a:ff:00:99",
        ],
    );
    let eth0 = n.ok(&["exec", "s1", "ip", "addr", "show", "eth0"]);
    assert!(eth0.contains(&format!("inet {ip}/24")), "{eth0}");
    assert!(eth0.contains("link/ether 02:42:0a:ff:00:99"), "{eth0}");
    assert_eq!(
        n.d().inspect(
            "s1",
            "{{(index .NetworkSettings.Networks \"fixed\").IPAMConfig.IPv4Address}}"
        ),
        ip
    );
    assert_eq!(
        n.d().inspect(
            "s1",
            "{{(index .NetworkSettings.Networks \"fixed\").MacAddress}}"
        ),
        "02:42:0a:ff:00:99"
    );
    // .128 is the range's network address and .129 auxiliary: the first dynamic one is .130.
    n.web("d1", &["--network", "fixed"]);
    assert_eq!(n.ip_of("d1", "fixed"), format!("{p}.130"));

    let before = n.d().all_ids().len();
    fails_with(
        &n,
        &[
            "run",
            "--network",
            "fixed",
            "--ip",
            &format!("{p}.5"),
            "busybox",
            "true",
        ],
        &format!(
            "invalid config for network fixed: invalid endpoint settings:\nno configured subnet or ip-range contain the IP address {p}.5"
        ),
    );
    n.network("auto");
    fails_with(
        &n,
        &[
            "run",
            "--network",
            "auto",
            "--ip",
            &format!("{p}.201"),
            "busybox",
            "true",
        ],
        "user specified IP address is supported only when connecting to networks with user configured subnets",
    );
    fails_with(
        &n,
        &["run", "--ip", &format!("{p}.201"), "busybox", "true"],
        "user specified IP address is supported on user defined networks only",
    );
    assert_eq!(
        n.d().all_ids().len(),
        before,
        "a refused run left a container"
    );
    // Taken: checked at start, as dockerd does (the created container stays, not started).
    fails_with(
        &n,
        &["run", "--network", "fixed", "--ip", &ip, "busybox", "true"],
        "Address already in use",
    );

    n.web("late", &[]);
    n.ok(&[
        "network",
        "connect",
        "--ip",
        &format!("{p}.201"),
        "fixed",
        "late",
    ]);
    let eth1 = n.ok(&["exec", "late", "ip", "addr", "show", "eth1"]);
    assert!(eth1.contains(&format!("inet {p}.201/24")), "{eth1}");
    // And it reaches s1 by name on that network.
    let fetched = n.ok(&["exec", "late", "wget", "-qO-", "http://s1/hostname"]);
    assert_eq!(fetched.trim(), n.d().inspect("s1", "{{.Config.Hostname}}"));
}

/// `--link NAME:ALIAS` on a user network: the linking container resolves ALIAS to NAME (also
/// when NAME starts later, as in docker-py's test), others do not; inspect lists the link.
/// Endpoint driver options are kept and shown; a `com.docker.network.*` one berth cannot
/// honour is refused with a 400 naming it, and the container stays unconnected.
#[test]
fn links_on_a_user_network_and_driver_opts() {
    let mut n = Net::start();
    n.network("app");
    n.web("l1", &["--network", "app", "--link", "up:dbalias"]);
    assert_eq!(
        n.d().inspect(
            "l1",
            "{{json (index .NetworkSettings.Networks \"app\").Links}}"
        ),
        "[\"up:dbalias\"]"
    );
    n.web("up", &["--network", "app"]);
    n.web("other", &["--network", "app"]);
    let up_ip = n.ip_of("up", "app");
    let found = n.ok(&["exec", "l1", "nslookup", "dbalias"]);
    assert!(found.contains(&format!("Address: {up_ip}")), "{found}");
    let not = n.docker(&["exec", "other", "nslookup", "dbalias"]);
    assert!(
        !String::from_utf8_lossy(&not.stdout).contains(&up_ip),
        "dbalias resolves for a container that has no such link"
    );
    fails_with(
        &n,
        &["run", "--link", "up:x", "busybox", "true"],
        "--link is not supported by berth on the default bridge",
    );

    let id = n.d().inspect("other", "{{.Id}}");
    n.ok(&["network", "create", "side"]);
    n.bridges.push(format!(
        "br-{}",
        &n.d().inspect_network("side", "{{.Id}}")[..12]
    ));
    let (status, body) = n.d().http(
        "POST",
        "/networks/side/connect",
        &format!(
            r#"{{"Container":"{id}","EndpointConfig":{{"DriverOpts":{{"com.docker.network.endpoint.sysctls":"x"}}}}}}"#
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("com.docker.network.endpoint.sysctls"),
        "{body}"
    );
    let nets = n.d().inspect(
        "other",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
    );
    assert_eq!(nets.trim(), "app", "a refused connect left an endpoint");
    let (status, body) = n.d().http(
        "POST",
        "/networks/side/connect",
        &format!(
            r#"{{"Container":"{id}","EndpointConfig":{{"DriverOpts":{{"com.docker-py.setting":"on"}}}}}}"#
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        n.d().inspect(
            "other",
            "{{json (index .NetworkSettings.Networks \"side\").DriverOpts}}"
        ),
        "{\"com.docker-py.setting\":\"on\"}"
    );
}
