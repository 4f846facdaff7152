//! berthd under systemd: socket activation (`-H fd://` with the socket systemd passes, here
//! through systemd's own `systemd-socket-activate`), readiness and stop notifications
//! (`Type=notify`), SIGHUP reloading the configuration file, and the unit files as shipped.

mod engine_harness;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine_harness::{Daemon, bin_dir, eventually, ok};

/// The messages systemd would get on its notify socket, until `want` arrives (15 s at most).
fn notified(sock: &UnixDatagram, want: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = msg.lines().any(|l| l == want);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} on the notify socket; got {seen:?}");
}

/// An empty daemon.json, so the host's /etc/berth/daemon.json plays no part.
fn empty_config(dir: &Path) -> std::path::PathBuf {
    let f = dir.join("daemon.json");
    std::fs::write(&f, "{}").expect("write daemon.json");
    f
}

/// berthd's flags for a socket-activated daemon with its roots under `dir`.
fn activated_args(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = ["-H", "fd://", "--bridge", "none", "-G", "root"]
        .map(Into::into)
        .to_vec();
    for (flag, path) in [
        ("--data-root", dir.join("data")),
        ("--exec-root", dir.join("exec")),
        ("--config-file", empty_config(dir)),
    ] {
        args.push(flag.into());
        args.push(path.into());
    }
    args
}

#[test]
fn socket_activation_serves_the_passed_socket_and_tells_systemd() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("api.sock");
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).expect("notify socket");
    let bins = bin_dir();
    let activate = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&sock)
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify_path.display()))
        .arg(format!(
            "--setenv=BERTH_SHIM={}",
            bins.join("berth-shim").display()
        ))
        .arg(bins.join("berthd"))
        .args(activated_args(dir.path()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("berthd.log")).expect("log"))
        .spawn();
    let mut child =
        activate.expect("systemd-socket-activate (Debian package systemd) must be installed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "the activator did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mode_before = std::fs::metadata(&sock).expect("socket").permissions();
    // The first connection starts berthd, which serves it on the passed socket.
    let host = format!("unix://{}", sock.display());
    let docker = |args: &[&str]| {
        Command::new(engine_harness::docker_bin())
            .args(["-H", &host])
            .args(args)
            .output()
            .expect("docker")
    };
    let version = docker(&["version", "--format", "{{.Server.Version}}"]);
    ok(&version, "docker version through the activated socket");
    let seen = notified(&notify, "READY=1");
    assert!(seen.iter().any(|m| m.contains("READY=1")), "{seen:?}");
    ok(&docker(&["info"]), "docker info");
    assert_eq!(
        std::fs::metadata(&sock).expect("socket").permissions(),
        mode_before,
        "systemd owns the socket's mode"
    );
    let _ = Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status();
    notified(&notify, "STOPPING=1");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        assert!(Instant::now() < deadline, "berthd did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(
        sock.exists(),
        "the socket is systemd's: berthd must not remove it"
    );
}

#[test]
fn fd_host_without_a_passed_socket_is_an_operators_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin_dir().join("berthd"))
        .args(activated_args(dir.path()))
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .expect("run berthd");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("berth.socket") && err.contains("unix:///path"),
        "says what to do: {err}"
    );
    let out = Command::new(bin_dir().join("berthd"))
        .args(["-H", "tcp://127.0.0.1:2375"])
        .output()
        .expect("run berthd");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unix:///path or fd://"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn info(d: &Daemon) -> String {
    ok(
        &d.docker(&[
            "info",
            "--format",
            "{{.Debug}} {{.LiveRestoreEnabled}} {{range $k, $v := .RegistryConfig.IndexConfigs}}{{if not $v.Secure}}{{$k}} {{end}}{{end}}",
        ]),
        "docker info",
    )
    .trim()
    .to_string()
}

fn hup(d: &Daemon) {
    let pid = d.pid().expect("daemon pid").to_string();
    let st = Command::new("kill")
        .args(["-s", "HUP", &pid])
        .status()
        .expect("kill");
    assert!(st.success());
}

fn log(d: &Daemon) -> String {
    std::fs::read_to_string(d.dir.path().join("berthd.log")).unwrap_or_default()
}

#[test]
fn sighup_reloads_what_dockerd_reloads_and_keeps_the_rest() {
    let cfg = tempfile::tempdir().expect("temp dir");
    let file = cfg.path().join("daemon.json");
    std::fs::write(&file, r#"{"debug": false}"#).expect("write daemon.json");
    let mut d = Daemon::start_with(&["--config-file", file.to_str().expect("utf-8")]);
    assert_eq!(info(&d), "false true");

    std::fs::write(
        &file,
        r#"{"debug": true, "live-restore": false, "insecure-registries": ["reg.test:5000"]}"#,
    )
    .expect("write daemon.json");
    hup(&d);
    eventually("the reload", || info(&d) == "true false reg.test:5000");

    // A broken file changes nothing and the daemon keeps serving.
    std::fs::write(&file, r#"{"debug": tru"#).expect("write daemon.json");
    hup(&d);
    eventually("the reload error in the log", || {
        log(&d).contains("configuration reload failed")
    });
    assert_eq!(info(&d), "true false reg.test:5000");

    // A key only a restart applies is named, not applied.
    std::fs::write(
        &file,
        r#"{"debug": true, "live-restore": false, "bridge": "elsewhere0"}"#,
    )
    .expect("write daemon.json");
    hup(&d);
    eventually("the restart warning", || {
        log(&d).contains("bridge changed; a restart applies it")
    });
    assert_eq!(info(&d), "true false");

    // live-restore=false, reloaded, is what the stop obeys: the container is stopped.
    let id = ok(
        &d.docker(&["run", "-d", "busybox", "sleep", "300"]),
        "run -d",
    )
    .trim()
    .to_string();
    let pid = d.inspect(&id, "{{.State.Pid}}");
    let st = d.signal_and_wait("TERM", Duration::from_secs(20));
    assert!(st.is_some_and(|s| s.success()), "berthd exits on SIGTERM");
    assert!(
        !Path::new("/proc").join(&pid).exists(),
        "the container was stopped with the daemon (live-restore reloaded to false)"
    );
}

#[test]
fn shipped_unit_files_verify_and_install() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = dir.path().join("prefix");
    let units = dir.path().join("units");
    let out = Command::new(root.join("scripts/install-systemd.sh"))
        .arg(bin_dir())
        .env("PREFIX", &prefix)
        .env("UNITDIR", &units)
        .env("BERTH_GROUP", "")
        .output()
        .expect("run install-systemd.sh");
    ok(&out, "install-systemd.sh");
    for b in ["berthd", "berth", "berth-shim"] {
        assert!(prefix.join("bin").join(b).exists(), "{b} installed");
    }
    let service = std::fs::read_to_string(units.join("berthd.service")).expect("service");
    assert!(
        service.contains(&format!(
            "ExecStart={}/bin/berthd -H fd://",
            prefix.display()
        )),
        "{service}"
    );
    assert!(service.contains("Type=notify") && service.contains("ExecReload=/bin/kill -s HUP"));
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(units.join("berthd.service"))
        .arg(units.join("berth.socket"))
        .output()
        .expect("systemd-analyze (Debian package systemd) must be installed");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
