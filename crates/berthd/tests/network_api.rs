//! The network list's filters and disconnect errors as docker-py's network tests check
//! them (`test_list_networks`, `test_list_remove`, `test_connect_and_force_disconnect_container`),
//! and `docker network ls --filter` through the CLI.

mod engine_harness;

use engine_harness::{Daemon, ok};

#[test]
fn network_list_filters_and_disconnect_errors_as_docker_py_checks_them() {
    let d = Daemon::start();
    d.python_ok(
        r#"
import docker.errors
net = client.create_network('filtme', labels={'team': 'x'})['Id']
other = client.create_network('other-net')['Id']
ids = lambda **kw: [n['Id'] for n in client.networks(**kw)]
assert net in ids(), 'listed'
assert ids(names=['filtme']) == [net], ids(names=['filtme'])
assert ids(ids=[net[:8]]) == [net], 'a partial id'
assert ids(ids=['fdhjklfdfdshjkfds']) == [], 'no such id'
assert ids(filters={'label': 'team=x'}) == [net]
assert sorted(ids(filters={'type': 'custom'})) == sorted([net, other])
assert net in ids(filters={'dangling': True})
try:
    client.networks(filters={'colour': 'red'})
    raise SystemExit('an unknown filter was accepted')
except docker.errors.APIError as e:
    assert e.status_code == 400, e
c = client.create_container('busybox', 'sleep 100')
client.start(c)
client.connect_container_to_network(c, net)
assert list(client.inspect_network(net)['Containers']) == [c['Id']]
assert net not in ids(filters={'dangling': True})
client.disconnect_container_from_network(c, net, True)
assert not client.inspect_network(net).get('Containers')
try:
    client.disconnect_container_from_network(c, net, force=True)
    raise SystemExit('disconnecting a container not connected succeeded')
except docker.errors.APIError:
    pass
client.remove_container(c, force=True)
print('ok')
"#,
    );
    let ls = ok(
        &d.docker(&[
            "network",
            "ls",
            "--filter",
            "name=filt",
            "--format",
            "{{.Name}}",
        ]),
        "network ls --filter",
    );
    assert_eq!(ls.trim(), "filtme");
    let ls = ok(
        &d.docker(&[
            "network",
            "ls",
            "--filter",
            "type=builtin",
            "--format",
            "{{.Name}}",
        ]),
        "network ls --filter type=builtin",
    );
    let mut names: Vec<&str> = ls.lines().collect();
    names.sort();
    assert_eq!(names, ["bridge", "host", "none"]);
}

#[test]
fn the_container_level_mac_address_goes_to_its_endpoint() {
    let d = Daemon::start();
    // docker-py's test_create_with_mac_address sends the deprecated Config.MacAddress.
    d.python_ok(
        r#"
mac = '02:42:ac:11:00:0a'
c = client.create_container('busybox', ['sleep', '60'], mac_address=mac)
client.start(c)
ns = client.inspect_container(c)['NetworkSettings']
assert ns['MacAddress'] == mac, ns
assert ns['Networks']['bridge']['MacAddress'] == mac, ns
client.remove_container(c, force=True)
print('ok')
"#,
    );
    let out = ok(
        &d.docker(&[
            "run",
            "--rm",
            "--mac-address",
            "02:42:ac:11:00:0b",
            "busybox",
            "cat",
            "/sys/class/net/eth0/address",
        ]),
        "run --mac-address on the default bridge",
    );
    assert_eq!(out.trim(), "02:42:ac:11:00:0b");
}

#[test]
fn network_create_options_are_honoured_or_refused_by_name() {
    let d = Daemon::start();
    let bridge = format!("bopt{}", std::process::id() % 100_000);
    ok(
        &d.docker(&[
            "network",
            "create",
            "-o",
            &format!("com.docker.network.bridge.name={bridge}"),
            "-o",
            "com.docker.network.bridge.enable_icc=true",
            "named",
        ]),
        "create with a bridge name",
    );
    assert!(
        std::path::Path::new("/sys/class/net")
            .join(&bridge)
            .exists(),
        "the bridge has the given name"
    );
    assert_eq!(
        d.inspect_network(
            "named",
            "{{index .Options \"com.docker.network.bridge.name\"}}"
        ),
        bridge
    );
    ok(&d.docker(&["network", "rm", "named"]), "rm");
    assert!(
        !std::path::Path::new("/sys/class/net")
            .join(&bridge)
            .exists()
    );
    for (args, named) in [
        (
            &["-o", "com.docker.network.driver.mtu=1400"][..],
            "com.docker.network.driver.mtu",
        ),
        (&["--ipam-driver", "other"][..], "other"),
        (&["--ipam-opt", "a=b"][..], "IPAM option a"),
    ] {
        let mut all = vec!["network", "create"];
        all.extend_from_slice(args);
        all.push("refused");
        let out = d.docker(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{args:?}: {err}");
    }
    let out = ok(&d.docker(&["network", "ls", "--format", "{{.Name}}"]), "ls");
    assert!(
        !out.contains("refused"),
        "a refused create made nothing: {out}"
    );
}
