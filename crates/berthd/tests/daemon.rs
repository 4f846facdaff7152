//! End-to-end tests of the real `berthd` binary on a temporary socket, data root and exec
//! root, driven by the official `docker` CLI, by berth's own CLI and by raw HTTP.

use berth_testkit::stdout;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod engine_harness;

/// A running daemon; dropping it kills the process and removes its directories.
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    /// Its default bridge, unique so that tests' daemons run side by side.
    bridge: String,
}

impl Daemon {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("create temp dir");
        let sock = dir.path().join("berth.sock");
        let (bridge, pool) = engine_harness::unique_network();
        let child = Command::new(env!("CARGO_BIN_EXE_berthd"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("berthd.pid"))
            .arg("--bridge")
            .arg(&bridge)
            .arg("--default-address-pool")
            .arg(&pool)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn berthd");
        let d = Self { child, dir, bridge };
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(d.sock()).is_err() {
            assert!(
                Instant::now() < deadline,
                "berthd did not listen within 10s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("berth.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// One HTTP/1.1 exchange: (status, headers lower-cased, body).
    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String, String) {
        let mut s = UnixStream::connect(self.sock()).expect("connect");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write request");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read response");
        let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status code");
        (status, head.to_lowercase(), body.to_string())
    }

    fn docker(&self, args: &[&str]) -> Output {
        let docker = Path::new("/usr/local/bin/docker");
        let docker = if docker.exists() {
            docker.to_path_buf()
        } else {
            berth_testkit::which("docker")
                .expect("the docker CLI is missing: apt-get install docker.io")
        };
        Command::new(docker)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("run docker")
    }

    fn berth(&self, args: &[&str]) -> Output {
        Command::new(berth_bin())
            .env("DOCKER_HOST", self.host())
            .args(args)
            .output()
            .expect("run berth")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        engine_harness::remove_bridge(&self.bridge);
    }
}

/// The `berth` CLI built next to `berthd` (`cargo test --workspace` builds both).
fn berth_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_BIN_EXE_berthd")).with_file_name("berth");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build -p berth` (or `cargo test --workspace`)",
        p.display()
    );
    p
}

fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        berth_testkit::stderr(o)
    );
}

#[test]
fn docker_cli_version_shows_api_1_45() {
    let d = Daemon::start();
    let o = d.docker(&["version"]);
    assert_ok(&o, "docker version");
    let out = stdout(&o);
    assert!(out.contains("Server: berth"), "{out}");
    assert!(
        out.contains("API version:      1.45 (minimum version 1.24)"),
        "{out}"
    );
    let o = d.docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_ok(&o, "docker version --format");
    assert_eq!(stdout(&o).trim(), "1.45");
}

#[test]
fn docker_cli_info_works() {
    let d = Daemon::start();
    let o = d.docker(&["info"]);
    assert_ok(&o, "docker info");
    let out = stdout(&o);
    assert!(out.contains(" Containers: 0"), "{out}");
    assert!(out.contains(" OSType: linux"), "{out}");
    assert!(
        out.contains(&format!(
            " Docker Root Dir: {}",
            d.dir.path().join("data").display()
        )),
        "{out}"
    );
    let o = d.docker(&["info", "--format", "{{.OSType}}/{{.Images}}"]);
    assert_ok(&o, "docker info --format");
    assert_eq!(stdout(&o).trim(), "linux/0");
}

#[test]
fn berth_cli_version_and_info() {
    let d = Daemon::start();
    let o = d.berth(&["version"]);
    assert_ok(&o, "berth version");
    let out = stdout(&o);
    assert!(out.starts_with("Client:\n Version:"), "{out}");
    assert!(out.contains("\nServer: berth"), "{out}");
    assert!(
        out.contains("API version:      1.45 (minimum version 1.24)"),
        "{out}"
    );
    let o = d.berth(&["info"]);
    assert_ok(&o, "berth info");
    assert!(
        stdout(&o).contains("\nServer:\n Containers: 0\n"),
        "{}",
        stdout(&o)
    );
    let o = d.berth(&[
        "-H",
        &d.host(),
        "version",
        "--format",
        "{{.Server.ApiVersion}}",
    ]);
    assert_ok(&o, "berth version --format");
    assert_eq!(stdout(&o).trim(), "1.45");
}

#[test]
fn berth_cli_reports_daemon_errors_like_docker() {
    let d = Daemon::start();
    let o = d.berth(&["start", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        berth_testkit::stderr(&o).trim(),
        "Error response from daemon: No such container: nosuch"
    );
    let o = d.berth(&["run", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125), "run: daemon failure is 125");
    drop(d);
    let gone = tempfile::tempdir().expect("temp dir");
    let o = Command::new(berth_bin())
        .args([
            "-H",
            &format!("unix://{}/none.sock", gone.path().display()),
            "version",
        ])
        .output()
        .expect("run berth");
    assert_eq!(o.status.code(), Some(1));
    assert!(berth_testkit::stderr(&o).contains("Cannot connect to the berth daemon"));
}

#[test]
fn version_prefixes_and_error_bodies() {
    let d = Daemon::start();
    for path in ["/_ping", "/v1.45/_ping", "/v1.24/_ping"] {
        let (status, head, body) = d.http("GET", path, "");
        assert_eq!((status, body.as_str()), (200, "OK"), "{path}");
        assert!(head.contains("\r\napi-version: 1.45"), "{head}");
        assert!(head.contains("\r\ndocker-experimental: false"), "{head}");
        assert!(head.contains("\r\nostype: linux"), "{head}");
        assert!(head.contains("\r\nserver: berth/"), "{head}");
    }
    let (status, _, body) = d.http("HEAD", "/_ping", "");
    assert_eq!((status, body.as_str()), (200, ""));
    let (status, _, body) = d.http("GET", "/v1.45/version", "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("version JSON");
    assert_eq!(v["ApiVersion"], "1.45");
    assert_eq!(v["MinAPIVersion"], "1.24");
    let (status, _, body) = d.http("GET", "/v1.46/version", "");
    assert_eq!(status, 400);
    assert_eq!(
        body.trim(),
        r#"{"message":"client version 1.46 is too new. Maximum supported API version is 1.45"}"#
    );
    let (status, _, body) = d.http("GET", "/v1.23/info", "");
    assert_eq!(status, 400);
    assert!(body.contains("client version 1.23 is too old"), "{body}");
    let (status, head, body) = d.http("GET", "/v1.45/nothing/here", "");
    assert_eq!(status, 404);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body.trim(), r#"{"message":"page not found"}"#);
    let (status, _, body) = d.http("DELETE", "/version", "");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"page not found"}"#)
    );
    let (status, _, body) = d.http("POST", "/v1.45/containers/create", "{not json");
    assert_eq!(status, 400);
    assert!(body.starts_with(r#"{"message":"invalid JSON"#), "{body}");
    let (status, _, body) = d.http("POST", "/containers/abc/start", "");
    assert_eq!(
        (status, body.trim()),
        (404, r#"{"message":"No such container: abc"}"#)
    );
    let (status, _, body) = d.http("GET", "/containers/json?filters=nope", "");
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = d.http("GET", "/images/library/busybox/json", "");
    assert_eq!(status, 404, "{body}");
    // docker names the image in its familiar form
    assert!(body.contains("No such image: busybox:latest"), "{body}");
}

#[test]
fn socket_mode_pidfile_and_clean_shutdown() {
    let mut d = Daemon::start();
    let mode = std::fs::metadata(d.sock())
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    let pidfile = d.dir.path().join("berthd.pid");
    let pid = std::fs::read_to_string(&pidfile).expect("pid file");
    assert_eq!(pid.trim(), d.child.id().to_string());
    let st = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .expect("run kill");
    assert!(st.success());
    let status = d.child.wait().expect("wait berthd");
    assert!(status.success(), "berthd exit: {status:?}");
    assert!(!d.sock().exists(), "socket left behind");
    assert!(!pidfile.exists(), "pid file left behind");
}

#[test]
fn a_second_daemon_refuses_a_live_socket() {
    let d = Daemon::start();
    let o = Command::new(env!("CARGO_BIN_EXE_berthd"))
        .args(["-H", &d.host(), "--data-root"])
        .arg(d.dir.path().join("data2"))
        .arg("--exec-root")
        .arg(d.dir.path().join("exec2"))
        .output()
        .expect("run berthd");
    assert!(!o.status.success());
    assert!(berth_testkit::stderr(&o).contains("in use"));
    let (status, _, _) = d.http("GET", "/_ping", "");
    assert_eq!(status, 200, "the first daemon still serves");
}
