//! docker's credential helpers: `credsStore` and `credHelpers` in `config.json` name a
//! `docker-credential-<name>` program (here a small shell script the test writes to a
//! temp dir put on the CLI's PATH) that keeps the credentials. `berth login` stores
//! through it, `berth pull`/`push` look up through it, `berth logout` erases, and the
//! docker CLI reads what berth stored. Needs root, busybox-static, docker-registry,
//! apache2-utils (htpasswd) and the docker CLI.

mod engine_harness;
mod registry_harness;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use engine_harness::{Daemon, bin_dir, docker_bin, ok, stderr};
use registry_harness::{Registry, which};

/// A fake helper keeping each server's JSON in `<store>/<server with / and : as _>` and
/// logging each action to `<store>/calls`, as docker-credential-helpers' programs behave:
/// `get` of an unknown server fails with "credentials not found in native keychain".
fn write_helper(bin: &Path, name: &str, store: &Path) {
    let script = format!(
        r#"#!/bin/sh
store='{store}'
echo "$1" >> "$store/calls"
key() {{ printf '%s' "$1" | tr '/:' '__'; }}
case "$1" in
get)
    read -r url
    f="$store/$(key "$url")"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
    json=$(cat)
    url=$(printf '%s' "$json" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
    printf '%s' "$json" > "$store/$(key "$url")" ;;
erase)
    read -r url
    rm -f "$store/$(key "$url")" ;;
*) exit 2 ;;
esac
"#,
        store = store.display()
    );
    let path = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).expect("write helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs `bin` against the daemon with its own docker config dir and the helpers' dir
/// first on PATH.
fn run(
    d: &Daemon,
    bin: PathBuf,
    config: &Path,
    helpers: &Path,
    args: &[&str],
    input: &[u8],
) -> Output {
    let path = format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("timeout")
        .arg("60")
        .arg(bin)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", config)
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn CLI");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("stdin");
    }
    child.wait_with_output().expect("CLI output")
}

fn calls(store: &Path) -> Vec<String> {
    std::fs::read_to_string(store.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn credential_helpers_store_look_up_and_erase() {
    let tmp = tempfile::tempdir().expect("temp");
    let htpasswd = which("htpasswd")
        .unwrap_or_else(|| panic!("htpasswd is missing: scripts/install-deps.sh --test"));
    let out = Command::new(htpasswd)
        .args(["-Bbn", "berth", "s3cret"])
        .output()
        .expect("htpasswd");
    assert!(out.status.success());
    let pwfile = tmp.path().join("htpasswd");
    std::fs::write(&pwfile, &out.stdout).expect("write htpasswd");
    let reg = Registry::start(Some(&pwfile));
    let d = Daemon::start();
    let host = reg.host();
    let name = format!("{host}/test/busybox:1");
    ok(&d.berth(&["tag", "busybox", &name]), "tag");

    let helpers = tmp.path().join("bin");
    let store = tmp.path().join("store");
    std::fs::create_dir_all(&helpers).expect("mkdir");
    std::fs::create_dir_all(&store).expect("mkdir");
    write_helper(&helpers, "berthfake", &store);
    let berth = bin_dir().join("berth");

    // credsStore: login stores through the helper; config.json keeps no secret.
    let cfg = tmp.path().join("cfg-store");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    std::fs::write(cfg.join("config.json"), r#"{"credsStore":"berthfake"}"#).expect("config");
    let login = ["login", "-u", "berth", "--password-stdin", host.as_str()];
    let out = ok(
        &run(&d, berth.clone(), &cfg, &helpers, &login, b"s3cret\n"),
        "login",
    );
    assert!(out.contains("Login Succeeded"), "{out}");
    let kept = std::fs::read_to_string(store.join(host.replace(':', "_"))).expect("stored");
    assert_eq!(
        kept,
        format!(r#"{{"ServerURL":"{host}","Username":"berth","Secret":"s3cret"}}"#)
    );
    let text = std::fs::read_to_string(cfg.join("config.json")).expect("config");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(doc["auths"][&host], serde_json::json!({}), "{text}");
    assert_eq!(doc["credsStore"], "berthfake", "{text}");
    assert!(
        !text.contains("s3cret") && !text.contains("czNjcmV0"),
        "{text}"
    );

    // Lookup through the helper: push and pull are let in.
    ok(
        &run(&d, berth.clone(), &cfg, &helpers, &["push", &name], b""),
        "push",
    );
    ok(&d.berth(&["rmi", &name]), "rmi");
    ok(
        &run(&d, berth.clone(), &cfg, &helpers, &["pull", &name], b""),
        "pull",
    );
    assert!(
        calls(&store).iter().filter(|c| *c == "get").count() >= 2,
        "{:?}",
        calls(&store)
    );
    // The docker CLI reads what berth stored.
    ok(
        &run(&d, docker_bin(), &cfg, &helpers, &["push", &name], b""),
        "docker push with berth's helper login",
    );

    // credHelpers for this registry wins over credsStore (which would fail here).
    let per = tmp.path().join("cfg-per-host");
    std::fs::create_dir_all(&per).expect("mkdir");
    std::fs::write(
        per.join("config.json"),
        format!(r#"{{"credsStore":"nonexistent","credHelpers":{{"{host}":"berthfake"}}}}"#),
    )
    .expect("config");
    ok(&d.berth(&["rmi", &name]), "rmi");
    ok(
        &run(&d, berth.clone(), &per, &helpers, &["pull", &name], b""),
        "pull through credHelpers",
    );
    // A helper that is not there fails the command, naming it.
    let other = format!("127.0.0.1:{}/test/busybox:1", registry_harness::free_port());
    let out = run(&d, berth.clone(), &per, &helpers, &["pull", &other], b"");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("docker-credential-nonexistent get"),
        "{}",
        stderr(&out)
    );

    // logout erases in the helper and drops the entry; then the registry refuses.
    let out = ok(
        &run(&d, berth.clone(), &cfg, &helpers, &["logout", &host], b""),
        "logout",
    );
    assert!(out.contains("Removing login credentials"), "{out}");
    assert!(!store.join(host.replace(':', "_")).exists());
    assert!(calls(&store).iter().any(|c| c == "erase"));
    ok(&d.berth(&["rmi", &name]), "rmi");
    let out = run(&d, berth, &cfg, &helpers, &["pull", &name], b"");
    assert!(!out.status.success(), "pull after logout succeeded");
    assert!(
        stderr(&out).contains("no basic auth credentials"),
        "{}",
        stderr(&out)
    );
}
