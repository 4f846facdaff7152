//! berthd as a service: stopping on SIGTERM/SIGINT with containers running (live restore
//! or not), the daemon's figures in `docker info`. Real daemon, real containers, the docker CLI.

mod engine_harness;

use std::path::Path;
use std::time::Duration;

use engine_harness::{Daemon, ok};

/// berthd's default `--shutdown-timeout`.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);

fn alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

fn run_d(d: &Daemon, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    ok(&d.docker(&all), "docker run -d").trim().to_string()
}

#[test]
fn sigterm_with_20_running_containers_exits_and_they_survive() {
    let mut d = Daemon::start();
    let info = ok(
        &d.docker(&["info", "--format", "{{.LiveRestoreEnabled}}"]),
        "docker info",
    );
    assert_eq!(info.trim(), "true", "live restore is berth's default");
    let mut ids = Vec::new();
    for i in 0..20 {
        // Two on the default bridge, the rest without a network.
        let net = if i < 2 { "bridge" } else { "none" };
        ids.push(run_d(&d, &["--network", net, "busybox", "sleep", "1000"]));
    }
    let pids: Vec<String> = ids
        .iter()
        .map(|id| d.inspect(id, "{{.State.Pid}}").trim().to_string())
        .collect();
    assert!(
        pids.iter().all(|p| alive(p)),
        "every container runs: {pids:?}"
    );

    // Before the fix each running container held a blocking thread in the shim's wait and
    // the daemon never exited.
    let st = d.signal_and_wait("TERM", SHUTDOWN_TIMEOUT);
    let st = st.expect("berthd still running a shutdown timeout after SIGTERM");
    assert!(st.success(), "berthd exit status after SIGTERM: {st:?}");
    assert!(
        !d.sock().exists(),
        "the API socket is removed at a clean stop"
    );
    for p in &pids {
        assert!(alive(p), "container process {p} died with the daemon");
    }

    d.start_again();
    let listed = ok(&d.docker(&["ps", "-q", "--no-trunc"]), "docker ps");
    for id in &ids {
        assert!(
            listed.contains(id.as_str()),
            "{id} not running after restart: {listed}"
        );
    }
    for (id, pid) in ids.iter().zip(&pids) {
        assert_eq!(d.inspect(id, "{{.State.Pid}}").trim(), pid, "same process");
    }
    // Still manageable: exec into one on the bridge and one without network, stop one.
    let out = ok(
        &d.docker(&["exec", &ids[0], "cat", "/proc/1/cmdline"]),
        "exec",
    );
    assert!(
        out.starts_with("sleep"),
        "exec sees the container's init: {out:?}"
    );
    ok(&d.docker(&["exec", &ids[5], "true"]), "exec");
    ok(
        &d.docker(&["stop", "-t", "0", &ids[1]]),
        "stop after restart",
    );
    assert_eq!(d.inspect(&ids[1], "{{.State.Running}}").trim(), "false");
    assert!(!alive(&pids[1]), "the stopped container's process is gone");
    ok(&d.docker(&["rm", "-f", &ids[2]]), "rm -f after restart");
    assert!(!alive(&pids[2]), "the removed container's process is gone");
}

#[test]
fn without_live_restore_sigint_stops_containers_with_their_stop_signal_first() {
    let mut d = Daemon::start_with(&["--live-restore=false"]);
    let info = ok(
        &d.docker(&["info", "--format", "{{.LiveRestoreEnabled}}"]),
        "docker info",
    );
    assert_eq!(info.trim(), "false");
    // Exits 3 on SIGTERM (the default stop signal).
    let term = run_d(
        &d,
        &[
            "busybox",
            "sh",
            "-c",
            "trap 'exit 3' TERM; while :; do sleep 0.1; done",
        ],
    );
    // Its own stop signal.
    let usr1 = run_d(
        &d,
        &[
            "--stop-signal",
            "SIGUSR1",
            "busybox",
            "sh",
            "-c",
            "trap 'exit 4' USR1; trap '' TERM; while :; do sleep 0.1; done",
        ],
    );
    // Ignores its stop signal (pid 1 without a handler): SIGKILL after its stop timeout.
    let stubborn = run_d(&d, &["--stop-timeout", "1", "busybox", "sleep", "1000"]);
    // `always`: stopped by the daemon's exit, started again by the next daemon.
    let always = run_d(&d, &["--restart", "always", "busybox", "sleep", "1000"]);
    let ids = [&term, &usr1, &stubborn, &always];
    let pids: Vec<String> = ids
        .iter()
        .map(|id| d.inspect(id, "{{.State.Pid}}").trim().to_string())
        .collect();

    let st = d.signal_and_wait("INT", SHUTDOWN_TIMEOUT);
    let st = st.expect("berthd still running a shutdown timeout after SIGINT");
    assert!(st.success(), "berthd exit status after SIGINT: {st:?}");
    for p in &pids {
        assert!(!alive(p), "container process {p} outlived the daemon");
    }

    d.start_again();
    let code = |id: &str| d.inspect(id, "{{.State.ExitCode}}").trim().to_string();
    assert_eq!(d.inspect(&term, "{{.State.Status}}").trim(), "exited");
    assert_eq!(code(&term), "3", "got SIGTERM and exited by its trap");
    assert_eq!(code(&usr1), "4", "got its --stop-signal");
    assert_eq!(code(&stubborn), "137", "SIGKILLed after its stop timeout");
    engine_harness::eventually("the `always` container starts again", || {
        d.inspect(&always, "{{.State.Running}}").trim() == "true"
    });
}

/// Ids in a directory of per-container entries (`containers/<id>`, `shims/<short id>`).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_during_a_burst_of_runs_loses_no_acknowledged_id_and_leaves_nothing() {
    let mut d = Daemon::start();
    let mut acked: Vec<String> = Vec::new();
    let mut seen: std::collections::BTreeSet<String> = Default::default();
    for round in 0..10u64 {
        let clients: Vec<_> = (0..8)
            .map(|i| {
                let host = d.host();
                let net = if i % 4 == 0 { "bridge" } else { "none" };
                std::thread::spawn(move || {
                    std::process::Command::new(engine_harness::docker_bin())
                        .args(["-H", &host, "run", "-d", "--network", net])
                        .args(["busybox", "sleep", "1000"])
                        .output()
                })
            })
            .collect();
        // From right after the first requests to well into the burst.
        std::thread::sleep(Duration::from_millis(50 + round * 200));
        d.crash();
        // What the killed daemon left: every container it began, by directory.
        seen.extend(entries(&d.data_root().join("containers")));
        seen.extend(entries(&d.exec_root().join("shims")));
        for c in clients {
            let out = c.join().expect("client thread").expect("run docker");
            let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && id.len() == 64 {
                acked.push(id);
            }
        }
        d.start_again();
        let listed = ok(&d.docker(&["ps", "-aq", "--no-trunc"]), "docker ps -a");
        for id in &acked {
            assert!(
                listed.contains(id.as_str()),
                "round {round}: acknowledged {id} is not listed after the restart"
            );
        }
    }
    assert!(!acked.is_empty(), "some runs completed between the kills");
    eprintln!(
        "{} runs acknowledged; {} containers begun before a kill",
        acked.len(),
        seen.len()
    );

    // Store and host agree: every leftover of the kills is owned by a record or gone.
    let records = ok(&d.docker(&["ps", "-aq", "--no-trunc"]), "docker ps -a");
    let records: Vec<&str> = records.lines().collect();
    let owned = |name: &str| records.iter().any(|r| r.starts_with(name));
    engine_harness::eventually("the restarted daemon reconciles the host", || {
        entries(&d.data_root().join("containers"))
            .iter()
            .chain(&entries(&d.exec_root().join("shims")))
            .chain(&entries(&d.exec_root().join("netns")))
            .all(|n| owned(n))
    });
    for m in d.mounts() {
        assert!(
            records.iter().any(|r| m.contains(&r[..24])),
            "mount {m} is owned by no record"
        );
    }
    // A record that does not run has no shim, process or cgroup (a start cut short by the
    // kill left a `--defer-start` shim and its half-made container before the fix).
    for id in &records {
        if d.inspect(id, "{{.State.Running}}").trim() == "false" {
            assert!(
                !engine_harness::process_with(id),
                "a shim of the stopped {id} still runs"
            );
            assert!(
                engine_harness::cgroup_dirs(id).is_empty(),
                "cgroups of the stopped {id} remain"
            );
        }
    }
    for id in seen.iter().filter(|id| !owned(id)) {
        assert!(
            !engine_harness::process_with(id),
            "a process of unrecorded {id} still runs"
        );
        if id.len() == 64 {
            assert!(
                engine_harness::cgroup_dirs(id).is_empty(),
                "cgroups of unrecorded {id} remain: {:?}",
                engine_harness::cgroup_dirs(id)
            );
        }
    }
}

#[test]
fn daemon_json_applies_its_keys_and_the_socket_gets_its_group() {
    use std::os::unix::fs::MetadataExt;
    let cfg = tempfile::tempdir().expect("temp dir");
    let file = cfg.path().join("daemon.json");
    // `daemon` is gid 1 on Debian (base-passwd).
    std::fs::write(
        &file,
        r#"{"live-restore": false, "shutdown-timeout": 5, "group": "daemon",
            "log-driver": "json-file", "log-opts": {"max-size": "1k", "max-file": "2"},
            "dns": ["10.1.2.3"],
            "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1000, "Hard": 2000}},
            "debug": true}"#,
    )
    .expect("write daemon.json");
    let d = Daemon::start_with(&["--config-file", file.to_str().expect("utf-8")]);
    let info = ok(
        &d.docker(&["info", "--format", "{{.LiveRestoreEnabled}} {{.Debug}}"]),
        "docker info",
    );
    assert_eq!(
        info.trim(),
        "false true",
        "live-restore and debug from the file"
    );
    // As dockerd: a container that names no log driver gets the daemon's driver and options;
    // one that names the daemon's driver gets the daemon's options for keys it leaves out;
    // one that names another driver keeps its own.
    let id = ok(
        &d.docker(&["create", "busybox", "true"]),
        "create with the daemon's log config",
    );
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig}}"),
        r#"{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}"#
    );
    let id = ok(
        &d.docker(&[
            "create",
            "--log-driver",
            "json-file",
            "--log-opt",
            "max-file=5",
            "busybox",
            "true",
        ]),
        "create naming the daemon's driver",
    );
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig}}"),
        r#"{"Type":"json-file","Config":{"max-file":"5","max-size":"1k"}}"#
    );
    let id = ok(
        &d.docker(&["create", "--log-driver", "none", "busybox", "true"]),
        "create with another driver",
    );
    assert_eq!(
        d.inspect(id.trim(), "{{json .HostConfig.LogConfig}}"),
        r#"{"Type":"none","Config":{}}"#
    );
    // `dns` and `default-ulimits`: for containers that set none of their own, as dockerd's.
    let probe = "grep nameserver /etc/resolv.conf; ulimit -Sn; ulimit -Hn";
    let out = ok(
        &d.docker(&["run", "--rm", "busybox", "sh", "-c", probe]),
        "run with the daemon's dns and ulimits",
    );
    assert_eq!(out, "nameserver 10.1.2.3\n1000\n2000\n");
    let out = ok(
        &d.docker(&[
            "run",
            "--rm",
            "--dns",
            "10.9.9.9",
            "--ulimit",
            "nofile=300:400",
            "busybox",
            "sh",
            "-c",
            probe,
        ]),
        "run with its own dns and ulimits",
    );
    assert_eq!(out, "nameserver 10.9.9.9\n300\n400\n");
    let id = ok(&d.docker(&["create", "busybox", "true"]), "create");
    assert_eq!(
        d.inspect(
            id.trim(),
            "{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}} {{end}}{{json .HostConfig.Dns}}"
        ),
        "nofile=1000:2000 []",
        "ulimits merged at create, dns left to the daemon as dockerd does"
    );
    let meta = std::fs::metadata(d.sock()).expect("socket");
    assert_eq!(meta.mode() & 0o777, 0o660, "socket mode");
    assert_eq!(meta.uid(), 0, "socket owner");
    assert_eq!(meta.gid(), 1, "socket group from daemon.json");
    // The group reaches the socket through the exec root, and sees nothing else in it.
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").mode() & 0o777;
    assert_eq!(mode(&d.exec_root()), 0o711, "exec root traversable");
    for sub in ["shims", "runtime", "netns"] {
        assert_eq!(mode(&d.exec_root().join(sub)), 0o700, "{sub} is root's");
    }
}

/// Starts berthd with `args` and returns its failure output (it must not start).
fn berthd_fails(dir: &Path, args: &[&str]) -> String {
    let bridge = format!("bfail{}", std::process::id());
    let out = std::process::Command::new(engine_harness::bin_dir().join("berthd"))
        .arg("-H")
        .arg(format!("unix://{}", dir.join("b.sock").display()))
        .args(["--bridge", &bridge])
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run berthd");
    assert!(!out.status.success(), "berthd {args:?} started");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !err.contains("backtrace") && !err.contains("Caused by"),
        "an operator's error, not a trace: {err}"
    );
    assert!(
        !dir.join("b.sock").exists(),
        "nothing left behind by a refused start"
    );
    assert!(
        !Path::new("/sys/class/net").join(&bridge).exists(),
        "a refused start made its bridge"
    );
    err
}

#[test]
fn daemon_json_errors_name_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |json: &str| {
        let f = dir.path().join("daemon.json");
        std::fs::write(&f, json).expect("write daemon.json");
        f.to_string_lossy().into_owned()
    };
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8");
    let cases: [(&str, &[&str], &[&str]); 8] = [
        (r#"{"dns": ["not-an-ip"]}"#, &[], &["dns", "not-an-ip"]),
        (
            r#"{"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 9, "Hard": 5}}}"#,
            &[],
            &["default-ulimits", "soft limit"],
        ),
        (r#"{"data-rot": "/x"}"#, &[], &["data-rot"]),
        (
            r#"{"log-opts": {"max-size": "1m", "bogus": "1"}}"#,
            &[],
            &["log-opts", "bogus"],
        ),
        (r#"{"log-driver": "syslog"}"#, &[], &["syslog"]),
        (r#"{"bip": "10.99.0.0/16"}"#, &[], &["bip", "host address"]),
        (
            r#"{"data-root": "/x"}"#,
            &["--data-root", data],
            &["data-root", "from flag", "from file"],
        ),
        (
            r#"{}"#,
            &["-G", "no-such-group-berth"],
            &["no-such-group-berth"],
        ),
    ];
    for (json, extra, want) in cases {
        let f = write(json);
        let mut args = vec!["--config-file", f.as_str()];
        args.extend_from_slice(extra);
        let err = berthd_fails(dir.path(), &args);
        for w in want {
            assert!(err.contains(w), "{json} {extra:?}: {err:?} lacks {w:?}");
        }
    }
    let missing = dir.path().join("none.json");
    let err = berthd_fails(
        dir.path(),
        &["--config-file", missing.to_str().expect("utf-8")],
    );
    assert!(err.contains("none.json"), "{err}");
}

#[test]
fn an_existing_bridge_of_the_configured_name_is_adopted_with_its_address() {
    let mut d = Daemon::start();
    let subnet = d.inspect_network("bridge", "{{(index .IPAM.Config 0).Subnet}}");
    // The daemon dies and its store is lost; its bridge stays in the kernel.
    d.crash();
    std::fs::rename(d.data_root(), d.dir.path().join("lost-data")).expect("move the store");
    assert!(
        Path::new("/sys/class/net").join(&d.bridge).exists(),
        "the bridge outlived the daemon"
    );
    // A fresh daemon with that bridge name adopts it and its address (it used to stop with
    // "link ... already exists").
    d.start_again();
    assert_eq!(
        d.inspect_network("bridge", "{{(index .IPAM.Config 0).Subnet}}"),
        subnet
    );
    let tar = engine_harness::busybox_tar(d.dir.path());
    ok(
        &d.docker(&["import", tar.to_str().expect("utf-8"), "busybox"]),
        "import busybox into the new store",
    );
    let out = ok(
        &d.docker(&[
            "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0",
        ]),
        "run on the adopted bridge",
    );
    let prefix = subnet.rsplit_once('.').map(|(p, _)| p).expect("a subnet");
    assert!(out.contains(prefix), "{out} in {subnet}");
}

#[test]
fn bip_gives_the_default_bridge_its_address_and_a_new_bip_moves_it() {
    let mut d = Daemon::start();
    // Inside the daemon's own /21 (`base=10.A.B.0/21`), so no other test's daemon is near.
    let base = d.pool.trim_start_matches("base=");
    let octets: Vec<u32> = base
        .split(['.', '/'])
        .take(3)
        .map(|o| o.parse().expect("pool octet"))
        .collect();
    let net = |k: u32| format!("10.{}.{}", octets[1], octets[2] + k);
    let config = "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}";
    for k in [5, 6] {
        d.extra_args = vec!["--bip".into(), format!("{}.1/24", net(k))];
        d.restart();
        assert_eq!(
            d.inspect_network("bridge", config),
            format!("{0}.0/24 {0}.1", net(k)),
            "the default bridge follows --bip"
        );
        let out = ok(
            &d.docker(&[
                "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0",
            ]),
            "run on the bip bridge",
        );
        assert!(out.contains(&format!("{}.", net(k))), "{out}");
    }
}
