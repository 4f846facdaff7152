//! Routes and fields real clients rely on beyond containers and images: the swarm routes as
//! dockerd answers them with swarm inactive (docker-py's network tests call `swarm leave` in
//! every teardown), the empty plugin list, network names with spaces, and inspect fields
//! clients index into (`HostConfig.Runtime`, an endpoint's `DriverOpts`).

mod engine_harness;

use engine_harness::{Daemon, ok, stderr, stdout};

#[test]
fn swarm_and_plugin_routes_answer_as_an_inactive_dockerd() {
    let d = Daemon::start();
    let (status, body) = d.http("POST", "/v1.45/swarm/leave?force=True", "");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("This node is not part of a swarm"), "{body}");
    for path in [
        "/swarm",
        "/services",
        "/nodes/x",
        "/secrets",
        "/configs",
        "/tasks",
    ] {
        let (status, body) = d.http("GET", path, "");
        assert_eq!(status, 503, "{path}: {body}");
        assert!(
            body.contains("This node is not a swarm manager"),
            "{path}: {body}"
        );
    }
    let (status, body) = d.http("GET", "/plugins", "");
    assert_eq!((status, body.trim()), (200, "[]"));
    let out = d.docker(&["swarm", "leave", "--force"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("This node is not part of a swarm"),
        "{}",
        stderr(&out)
    );
    let out = d.docker(&["plugin", "ls", "--format", "{{.Name}}"]);
    assert_eq!(ok(&out, "plugin ls"), "");
}

#[test]
fn names_with_spaces_and_fields_clients_index() {
    let d = Daemon::start();
    ok(
        &d.docker(&["network", "create", "test 01"]),
        "network with a space",
    );
    let id = ok(
        &d.docker(&["create", "--network", "test 01", "busybox", "true"]),
        "create",
    )
    .trim()
    .to_owned();
    assert_eq!(d.inspect(&id, "{{.HostConfig.Runtime}}"), "runc");
    let (status, body) = d.http("GET", &format!("/containers/{id}/json"), "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("inspect json");
    let ep = &v["NetworkSettings"]["Networks"]["test 01"];
    assert!(ep.get("DriverOpts").is_some(), "{ep}");
    ok(&d.docker(&["rm", &id]), "rm");
    ok(&d.docker(&["network", "rm", "test 01"]), "network rm");
}

#[test]
fn logs_stream_a_frame_per_line_as_docker_py_reads_them() {
    let d = Daemon::start();
    // docker-py's test_run_with_streamed_logs: run(stream=True) yields one item per frame.
    d.python_ok(
        r#"
c = client.create_container('busybox', ['sh', '-c', 'echo hello && echo world'])
client.start(c)
client.wait(c)
got = list(client.logs(c, stream=True, follow=True))
assert got == [b'hello\n', b'world\n'], got
got = client.logs(c, stream=False, timestamps=False)
assert got == b'hello\nworld\n', got
client.remove_container(c)
print('ok')
"#,
    );
}

#[test]
fn a_bad_load_archive_is_an_error_line_in_a_200_stream() {
    let d = Daemon::start();
    // docker-py's test_load_error: ImageLoadError comes from the stream's errorDetail.
    d.python_ok(
        r#"
import docker.errors
c = docker.DockerClient(version='1.45')
c.api = client
try:
    c.images.load(b'abc')
    raise SystemExit('a bad archive loaded')
except docker.errors.ImageLoadError as e:
    print('ok')
"#,
    );
    let bad = d.dir.path().join("bad.tar");
    std::fs::write(&bad, b"not a tar at all").expect("write");
    let out = d.docker(&["load", "-i", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "docker load of garbage succeeded");
    assert!(!stderr(&out).is_empty() || !stdout(&out).is_empty());
    let out = d.berth(&["load", "-i", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "berth load of garbage succeeded");
    ok(&d.docker(&["images"]), "the daemon goes on");
}

#[test]
fn ps_filters_with_dockerd_semantics() {
    let d = Daemon::start();
    let run = |args: &[&str]| ok(&d.docker(args), "docker create");
    run(&[
        "create", "--name", "web", "-p", "8080:80", "busybox", "true",
    ]);
    run(&[
        "create",
        "--name",
        "db",
        "--expose",
        "5432",
        "-v",
        "dbdata:/data",
        "busybox",
        "true",
    ]);
    run(&["network", "create", "backnet"]);
    run(&[
        "create",
        "--name",
        "cache",
        "--network",
        "backnet",
        "busybox",
        "true",
    ]);
    let ps = |filter: &str| {
        let out = ok(
            &d.docker(&["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]),
            filter,
        );
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        names.join(",")
    };
    assert_eq!(
        ps("name=^w.b$"),
        "web",
        "a regexp, without the leading slash"
    );
    assert_eq!(ps("name=^/db$"), "db", "and with it");
    assert_eq!(ps("publish=80"), "web");
    assert_eq!(ps("publish=70-90/tcp"), "web");
    assert_eq!(ps("publish=80/udp"), "");
    assert_eq!(ps("expose=5432"), "db");
    assert_eq!(ps("volume=dbdata"), "db");
    assert_eq!(ps("volume=/data"), "db");
    assert_eq!(ps("network=backnet"), "cache");
    assert_eq!(ps("before=cache"), "db,web");
    assert_eq!(ps("since=web"), "cache,db");
    let out = d.docker(&["ps", "-a", "--filter", "publish=http"]);
    assert!(
        !out.status.success() && stderr(&out).contains("invalid filter"),
        "{}",
        stderr(&out)
    );
}
