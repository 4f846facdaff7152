//! Pull, push, save, load and login end to end: a real `docker-registry` on 127.0.0.1
//! started per test with a temp config, a berthd per test (its own roots and socket) with
//! busybox imported, driven by berth's CLI and the docker CLI. Needs root, busybox-static,
//! docker-registry, apache2-utils (htpasswd) and the docker CLI.

mod engine_harness;
mod registry_harness;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use engine_harness::{Daemon, ok, stderr, stdout};
use registry_harness::{Registry, which};

fn fails(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} succeeded: {}", stdout(out));
    stderr(out)
}

/// The `Digest: sha256:...` line of a pull or the `: digest: sha256:...` of a push.
fn digest_in(text: &str) -> String {
    let i = text.find("sha256:").expect("a digest in the output");
    text[i..i + 71].to_owned()
}

/// busybox tagged as `<registry>/test/busybox:1`.
fn tagged(d: &Daemon, reg: &Registry) -> String {
    let name = format!("{}/test/busybox:1", reg.host());
    ok(&d.berth(&["tag", "busybox", &name]), "tag");
    name
}

#[test]
fn berth_push_rmi_pull_by_tag_and_digest_then_run() {
    let reg = Registry::start(None);
    let d = Daemon::start();
    let name = tagged(&d, &reg);
    let out = ok(&d.berth(&["push", &name]), "push");
    assert!(out.contains("The push refers to repository"), "{out}");
    assert!(out.contains("1: digest: sha256:"), "{out}");
    let digest = digest_in(&out);
    ok(&d.berth(&["rmi", &name, "busybox"]), "rmi");

    let out = ok(&d.berth(&["pull", &name]), "pull by tag");
    assert!(out.contains("Pull complete"), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}")),
        "{out}"
    );
    assert_eq!(
        digest_in(&out[out.find("Digest:").expect("Digest line")..]),
        digest
    );
    let repo_digests = d.inspect(&name, "{{json .RepoDigests}}");
    assert!(repo_digests.contains(&digest), "{repo_digests}");
    let images = ok(&d.berth(&["images", "--digests"]), "images --digests");
    assert!(images.contains(&digest), "{images}");
    let out = ok(&d.berth(&["run", "--rm", &name, "echo", "pulled"]), "run");
    assert_eq!(out.trim(), "pulled");

    // Again: up to date, nothing downloaded.
    let out = ok(&d.berth(&["pull", &name]), "pull again");
    assert!(out.contains("Image is up to date"), "{out}");

    ok(&d.berth(&["rmi", &name]), "rmi");
    let by_digest = format!("{}/test/busybox@{digest}", reg.host());
    ok(&d.berth(&["pull", &by_digest]), "pull by digest");
    let out = ok(
        &d.berth(&["run", "--rm", &by_digest, "echo", "by-digest"]),
        "run",
    );
    assert_eq!(out.trim(), "by-digest");
}

#[test]
fn docker_cli_push_and_pull_through_berthd() {
    let reg = Registry::start(None);
    let d = Daemon::start();
    let name = tagged(&d, &reg);
    let out = ok(&d.docker(&["push", &name]), "docker push");
    assert!(out.contains("1: digest: sha256:"), "{out}");
    ok(&d.docker(&["rmi", &name, "busybox"]), "docker rmi");
    let out = ok(&d.docker(&["pull", &name]), "docker pull");
    assert!(out.contains("Downloaded newer image"), "{out}");
    let out = ok(
        &d.docker(&["run", "--rm", &name, "echo", "docker-pulled"]),
        "run",
    );
    assert_eq!(out.trim(), "docker-pulled");
    let digest = d.inspect(&name, "{{index .RepoDigests 0}}");
    assert!(digest.contains("@sha256:"), "{digest}");
    ok(&d.docker(&["rmi", &name]), "docker rmi");
    let out = ok(&d.docker(&["pull", &digest]), "docker pull by digest");
    assert!(out.contains("Downloaded newer image"), "{out}");
    let out = ok(
        &d.docker(&["run", "--rm", &digest, "echo", "by-digest"]),
        "run",
    );
    assert_eq!(out.trim(), "by-digest");
}

#[test]
fn pull_errors_are_docker_errors() {
    let reg = Registry::start(None);
    let d = Daemon::start();
    let err = fails(
        &d.berth(&["pull", &format!("{}/test/nothing:1", reg.host())]),
        "pull unknown",
    );
    assert!(
        err.contains("not found") || err.contains("manifest unknown"),
        "{err}"
    );
    let (status, body) = d.http(
        "POST",
        &format!("/images/create?fromImage={}/test/nothing&tag=1", reg.host()),
        "",
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = d.http("POST", "/images/create?fromImage=BAD%20NAME&tag=1", "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid reference format"), "{body}");
    // A registry that is down: a 500 naming the cause.
    let down = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let (status, body) = d.http(
        "POST",
        &format!("/images/create?fromImage=127.0.0.1:{down}/x&tag=1"),
        "",
    );
    assert_eq!(status, 500, "{body}");
    let err = fails(&d.berth(&["push", "nothere:1"]), "push missing");
    assert!(err.contains("does not exist locally"), "{err}");
    // The daemon is still fine.
    ok(&d.berth(&["images"]), "images");
}

#[test]
fn save_rmi_load_run_with_berth_and_docker() {
    let d = Daemon::start();
    let tar = d.data_root().join("../busybox-saved.tar");
    let tar_s = tar.to_str().expect("utf-8");
    ok(&d.berth(&["save", "-o", tar_s, "busybox"]), "save");
    assert!(std::fs::metadata(&tar).expect("saved").len() > 100_000);
    ok(&d.berth(&["rmi", "busybox"]), "rmi");
    let out = ok(&d.berth(&["load", "-i", tar_s]), "load");
    assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    let out = ok(
        &d.berth(&["run", "--rm", "busybox", "echo", "loaded"]),
        "run",
    );
    assert_eq!(out.trim(), "loaded");

    let tar2 = d.data_root().join("../docker-saved.tar");
    let tar2_s = tar2.to_str().expect("utf-8");
    ok(&d.docker(&["save", "-o", tar2_s, "busybox"]), "docker save");
    ok(&d.docker(&["rmi", "busybox"]), "docker rmi");
    let out = ok(&d.docker(&["load", "-i", tar2_s]), "docker load");
    assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    let out = ok(&d.docker(&["run", "--rm", "busybox", "echo", "dl"]), "run");
    assert_eq!(out.trim(), "dl");

    // A truncated archive is refused and the daemon keeps going.
    let bytes = std::fs::read(&tar).expect("read");
    let cut = d.data_root().join("../cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    fails(
        &d.berth(&["load", "-i", cut.to_str().expect("utf-8")]),
        "load truncated",
    );
    ok(&d.berth(&["images"]), "images");
}

#[test]
fn login_with_htpasswd_then_push_and_logout() {
    let htpasswd = which("htpasswd")
        .unwrap_or_else(|| panic!("htpasswd is missing: scripts/install-deps.sh --test"));
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("htpasswd");
    let out = Command::new(htpasswd)
        .args(["-Bbn", "berth", "s3cret"])
        .output()
        .expect("htpasswd");
    assert!(out.status.success());
    std::fs::write(&file, &out.stdout).expect("write htpasswd");
    let reg = Registry::start(Some(&file));
    let d = Daemon::start();
    let name = tagged(&d, &reg);

    let err = fails(&d.berth(&["push", &name]), "push without login");
    assert!(!err.is_empty());
    let err = fails(
        &d.berth_in(
            &["login", "-u", "berth", "--password-stdin", &reg.host()],
            b"wrong\n",
        ),
        "login with a wrong password",
    );
    assert!(err.contains("Error response from daemon"), "{err}");
    let out = ok(
        &d.berth_in(
            &["login", "-u", "berth", "--password-stdin", &reg.host()],
            b"s3cret\n",
        ),
        "login",
    );
    assert!(out.contains("Login Succeeded"), "{out}");
    let cfg = d.data_root().join("../docker-config/config.json");
    let mode = std::fs::metadata(&cfg)
        .expect("config.json")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&cfg).expect("read config");
    assert!(text.contains(&reg.host()), "{text}");

    ok(&d.berth(&["push", &name]), "push after login");
    ok(&d.berth(&["rmi", &name]), "rmi");
    ok(&d.berth(&["pull", &name]), "pull after login");
    // docker reads the same config.json.
    ok(
        &d.docker(&["push", &name]),
        "docker push with berth's login",
    );

    let out = ok(&d.berth(&["logout", &reg.host()]), "logout");
    assert!(out.contains("Removing login credentials"), "{out}");
    ok(&d.berth(&["rmi", &name]), "rmi");
    let err = fails(&d.berth(&["pull", &name]), "pull after logout");
    assert!(err.contains("no basic auth credentials"), "{err}");

    // docker login goes through POST /auth.
    let err = fails(
        &d.docker_in(
            &["login", "-u", "berth", "--password-stdin", &reg.host()],
            b"wrong\n",
        ),
        "docker login with a wrong password",
    );
    assert!(!err.is_empty());
    let out = ok(
        &d.docker_in(
            &["login", "-u", "berth", "--password-stdin", &reg.host()],
            b"s3cret\n",
        ),
        "docker login",
    );
    assert!(out.contains("Login Succeeded"), "{out}");
    ok(&d.berth(&["pull", &name]), "berth pull with docker's login");
}

/// An htpasswd file with user `berth`, password `s3cret`, in `dir`.
fn htpasswd_file(dir: &std::path::Path) -> std::path::PathBuf {
    let htpasswd = which("htpasswd")
        .unwrap_or_else(|| panic!("htpasswd is missing: scripts/install-deps.sh --test"));
    let out = Command::new(htpasswd)
        .args(["-Bbn", "berth", "s3cret"])
        .output()
        .expect("htpasswd");
    assert!(out.status.success());
    let file = dir.join("htpasswd");
    std::fs::write(&file, &out.stdout).expect("write htpasswd");
    file
}

/// One HTTP exchange with an `X-Registry-Auth` header for `user`/`password`.
fn http_with_auth(d: &Daemon, path: &str, server: &str, password: &str) -> (u16, String) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::URL_SAFE.encode(
        serde_json::json!({"username": "berth", "password": password, "serveraddress": server})
            .to_string(),
    );
    d.http_with("POST", path, &[("X-Registry-Auth", &auth)], "")
}

/// What moby answers when a registry says 401 (docker 25+, either image store): a pull
/// without credentials for a basic-auth registry passes the client's `no basic auth
/// credentials` through (500); a pull whose credentials are refused is 404 `pull access
/// denied for X, repository does not exist or may require 'docker login': <the
/// registry's error>`; a push writes `The push refers to repository` first, so its refusal
/// ends a 200 stream with the registry's error; `POST /auth` refused by a basic-auth
/// registry is `login attempt to URL failed with status: 401 Unauthorized` (500).
#[test]
fn registry_401s_are_reported_as_docker_reports_them() {
    let dir = tempfile::tempdir().expect("temp");
    let reg = Registry::start(Some(&htpasswd_file(dir.path())));
    let d = Daemon::start();
    let name = tagged(&d, &reg);
    let host = reg.host();
    let repo = format!("{host}/test/busybox");

    // Pull, no credentials.
    let (status, body) = d.http(
        "POST",
        &format!("/images/create?fromImage={repo}&tag=1"),
        "",
    );
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains(&format!(
            "Get \\\"http://{host}/v2/\\\": no basic auth credentials"
        )),
        "{body}"
    );
    let err = fails(&d.berth(&["pull", &name]), "pull without credentials");
    assert!(err.contains("no basic auth credentials"), "{err}");

    // Pull, wrong password.
    let (status, body) = http_with_auth(
        &d,
        &format!("/images/create?fromImage={repo}&tag=1"),
        &host,
        "wrong",
    );
    assert_eq!(status, 404, "{body}");
    let want = format!(
        "pull access denied for {repo}, repository does not exist or may require 'docker login': unauthorized: authentication required"
    );
    assert!(body.contains(&want), "{body}");

    // Push: a 200 stream that ends with the refusal.
    let push = format!("/images/{repo}/push?tag=1");
    let (status, body) = d.http("POST", &push, "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("The push refers to repository [{repo}]")),
        "{body}"
    );
    assert!(body.contains("\"errorDetail\""), "{body}");
    assert!(body.contains("no basic auth credentials"), "{body}");
    let (status, body) = http_with_auth(&d, &push, &host, "wrong");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"error\":\"unauthorized: authentication required\""),
        "{body}"
    );
    let err = fails(&d.berth(&["push", &name]), "push without credentials");
    assert!(err.contains("no basic auth credentials"), "{err}");
    let err = fails(
        &d.docker(&["push", &name]),
        "docker push without credentials",
    );
    assert!(err.contains("no basic auth credentials"), "{err}");

    // Login with a wrong password.
    let (status, body) = d.http(
        "POST",
        "/auth",
        &serde_json::json!({"username": "berth", "password": "wrong", "serveraddress": host})
            .to_string(),
    );
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains(&format!(
            "login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"
        )),
        "{body}"
    );
    // The daemon is fine.
    ok(&d.berth(&["images"]), "images");
}

#[test]
fn rmi_in_use_is_409_then_df_and_prune() {
    let d = Daemon::start();
    ok(&d.berth(&["run", "--name", "c1", "busybox", "true"]), "run");
    let (status, body) = d.http("DELETE", "/images/busybox", "");
    assert_eq!(status, 409, "{body}");
    let err = fails(&d.berth(&["rmi", "busybox"]), "rmi in use");
    assert!(err.contains("must force"), "{err}");

    let (status, body) = d.http("GET", "/system/df", "");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("df json");
    assert!(v["LayersSize"].as_i64().unwrap_or(0) > 0, "{body}");
    assert_eq!(v["Images"][0]["Containers"], 1, "{body}");
    assert_eq!(v["Containers"].as_array().map(Vec::len), Some(1), "{body}");
    let out = ok(&d.berth(&["system", "df"]), "system df");
    assert!(
        out.contains("Images") && out.contains("Containers"),
        "{out}"
    );

    // In use: prune -a keeps it; once the container is gone it goes.
    let out = ok(&d.berth(&["image", "prune", "-a", "-f"]), "prune");
    assert!(out.contains("Total reclaimed space: 0B"), "{out}");
    ok(&d.berth(&["rm", "c1"]), "rm");
    let out = ok(&d.berth(&["image", "prune", "-f"]), "prune dangling");
    assert!(!out.contains("deleted:"), "{out}");
    let out = ok(&d.berth(&["image", "prune", "-a", "-f"]), "prune -a");
    assert!(out.contains("untagged: busybox:latest"), "{out}");
    assert!(out.contains("deleted: sha256:"), "{out}");
    assert!(!out.contains("Total reclaimed space: 0B"), "{out}");
    assert_eq!(ok(&d.berth(&["images", "-q"]), "images").trim(), "");
}

#[test]
fn docker_hub_pulls_go_to_the_registry_mirrors_in_order() {
    let reg = Registry::start(None);
    // A mirror that is down comes first: the pull passes it over for the next one. Docker
    // Hub itself is never reached (the second mirror has the image).
    let down = format!(
        "http://127.0.0.1:{}",
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    );
    let mirror = format!("http://{}", reg.host());
    let d = Daemon::start_with(&["--registry-mirror", &down, "--registry-mirror", &mirror]);
    // The mirror holds Docker Hub's name for it: library/busybox.
    let on_mirror = format!("{}/library/busybox:latest", reg.host());
    ok(&d.docker(&["tag", "busybox", &on_mirror]), "tag");
    ok(&d.docker(&["push", &on_mirror]), "push to the mirror");
    ok(&d.docker(&["rmi", "busybox", &on_mirror]), "rmi");
    let out = ok(&d.docker(&["pull", "busybox"]), "pull busybox");
    assert!(out.contains("docker.io/library/busybox:latest"), "{out}");
    let out = ok(
        &d.docker(&["run", "--rm", "busybox", "echo", "from the mirror"]),
        "run",
    );
    assert_eq!(out, "from the mirror\n");
    let info = ok(
        &d.docker(&["info", "--format", "{{json .RegistryConfig.Mirrors}}"]),
        "info",
    );
    assert_eq!(info.trim(), format!(r#"["{down}/","{mirror}/"]"#));
}
