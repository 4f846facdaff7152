//! End to end on the real engine: berthd with berth-engine and berth-shim running busybox
//! containers on the real kernel, driven by the official `docker` CLI, berth's CLI and raw
//! HTTP. Needs root, busybox-static and the docker CLI (client only).

mod engine_harness;

use engine_harness::{Daemon, cgroup_dirs, eventually, ok, process_with, stderr, stdout};

#[test]
fn run_prints_output_and_returns_the_exit_code() {
    let d = Daemon::start();
    for cli in ["docker", "berth"] {
        let run = |args: &[&str]| {
            if cli == "docker" {
                d.docker(args)
            } else {
                d.berth(args)
            }
        };
        let out = run(&["run", "--rm", "busybox", "echo", "hello"]);
        assert_eq!(ok(&out, "run echo"), "hello\n", "{cli}");
        let out = run(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ]);
        assert_eq!(out.status.code(), Some(3), "{cli}: {}", stderr(&out));
        assert_eq!(stdout(&out), "out\n", "{cli}");
        assert!(stderr(&out).contains("err"), "{cli}: {}", stderr(&out));
    }
    assert!(d.all_ids().is_empty(), "--rm left containers");
    assert!(d.mounts().is_empty(), "--rm left mounts: {:?}", d.mounts());
    let left = |p: std::path::PathBuf| std::fs::read_dir(p).map(|r| r.count()).unwrap_or(0);
    assert_eq!(
        left(d.data_root().join("containers")),
        0,
        "container dirs left"
    );
    assert_eq!(left(d.exec_root().join("shims")), 0, "shim dirs left");
}

#[test]
fn stdin_is_piped_into_run_i() {
    let d = Daemon::start();
    let out = d.docker_in(&["run", "-i", "--rm", "busybox", "cat"], b"one\ntwo\n");
    assert_eq!(ok(&out, "docker run -i"), "one\ntwo\n");
    let out = d.berth_in(&["run", "-i", "--rm", "busybox", "wc", "-l"], b"a\nb\nc\n");
    assert_eq!(ok(&out, "berth run -i").trim(), "3");
}

#[test]
fn detached_run_logs_stop_and_rm_leave_nothing() {
    let d = Daemon::start();
    let id = ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "ticker",
            "busybox",
            "sh",
            "-c",
            "trap 'echo bye; exit 0' TERM; echo start; while true; do sleep 0.1; done",
        ]),
        "run -d",
    )
    .trim()
    .to_owned();
    assert_eq!(id.len(), 64);
    eventually("the first log line", || {
        stdout(&d.docker(&["logs", "ticker"])).contains("start")
    });
    let pid: u32 = d.inspect("ticker", "{{.State.Pid}}").parse().expect("pid");
    assert!(pid > 0);
    assert!(
        !d.mounts().is_empty(),
        "the rootfs is mounted while running"
    );
    ok(&d.docker(&["stop", "ticker"]), "stop");
    assert_eq!(
        d.inspect("ticker", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 0"
    );
    assert_eq!(stdout(&d.berth(&["logs", "ticker"])), "start\nbye\n");
    let tail = stdout(&d.docker(&["logs", "--tail", "1", "ticker"]));
    assert_eq!(tail, "bye\n");
    let ts = stdout(&d.docker(&["logs", "-t", "ticker"]));
    assert!(ts.starts_with("20") && ts.contains("Z start"), "{ts}");
    ok(&d.docker(&["rm", "ticker"]), "rm");
    assert!(d.mounts().is_empty(), "mounts left: {:?}", d.mounts());
    assert!(
        cgroup_dirs(&id).is_empty(),
        "cgroups left: {:?}",
        cgroup_dirs(&id)
    );
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!process_with(&id), "a process still names the container");
    assert!(!d.data_root().join("containers").join(&id).exists());
    assert!(d.all_ids().is_empty());
}

#[test]
fn create_start_wait_and_restart() {
    let d = Daemon::start();
    let id = ok(
        &d.berth(&[
            "create", "--name", "waiter", "busybox", "sh", "-c", "exit 5",
        ]),
        "create",
    )
    .trim()
    .to_owned();
    assert_eq!(d.inspect("waiter", "{{.State.Status}}"), "created");
    assert!(
        d.mounts().is_empty(),
        "a created container has nothing mounted"
    );
    ok(&d.docker(&["start", &id[..12]]), "start");
    let out = d.docker(&["wait", "waiter"]);
    assert_eq!(ok(&out, "wait").trim(), "5");
    assert_eq!(d.inspect("waiter", "{{.State.ExitCode}}"), "5");
    let out = d.berth(&["wait", "waiter"]);
    assert_eq!(ok(&out, "berth wait").trim(), "5");
    // start -a attaches first, then starts: no output is lost.
    let out = d.docker(&["create", "--name", "again", "busybox", "echo", "attached"]);
    ok(&out, "create again");
    let out = d.docker(&["start", "-a", "again"]);
    assert_eq!(ok(&out, "start -a"), "attached\n");
    let out = d.docker(&["run", "-d", "--name", "rr", "busybox", "sleep", "30"]);
    ok(&out, "run -d sleep");
    let before = d.inspect("rr", "{{.State.Pid}}");
    ok(&d.docker(&["restart", "-t", "0", "rr"]), "restart");
    assert_eq!(d.inspect("rr", "{{.State.Status}}"), "running");
    assert_ne!(d.inspect("rr", "{{.State.Pid}}"), before);
}

#[test]
fn kill_sends_the_signal() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "kk",
            "busybox",
            "sh",
            "-c",
            "trap 'exit 42' USR1; echo ready; while true; do sleep 0.1; done",
        ]),
        "run -d",
    );
    eventually("ready", || {
        stdout(&d.docker(&["logs", "kk"])).contains("ready")
    });
    ok(&d.docker(&["kill", "-s", "USR1", "kk"]), "kill -s USR1");
    assert_eq!(ok(&d.docker(&["wait", "kk"]), "wait").trim(), "42");
    ok(&d.docker(&["start", "kk"]), "start again");
    ok(&d.berth(&["kill", "kk"]), "kill (SIGKILL)");
    assert_eq!(d.inspect("kk", "{{.State.ExitCode}}"), "137");
    let out = d.docker(&["kill", "kk"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
}

#[test]
fn names_and_id_prefixes() {
    let d = Daemon::start();
    let id = ok(
        &d.docker(&["create", "--name", "named", "busybox"]),
        "create",
    )
    .trim()
    .to_owned();
    assert_eq!(d.inspect("named", "{{.Id}}"), id);
    assert_eq!(d.inspect("/named", "{{.Name}}"), "/named");
    assert_eq!(d.inspect(&id[..5], "{{.Name}}"), "/named");
    // Without a name: docker's adjective_surname.
    let other = ok(&d.docker(&["create", "busybox"]), "create")
        .trim()
        .to_owned();
    let name = d.inspect(&other, "{{.Name}}");
    assert!(name.starts_with('/') && name.contains('_'), "{name}");
    // Two IDs sharing a first character make that character an ambiguous prefix.
    let mut ids = vec![id, other];
    let shared = loop {
        let mut firsts: Vec<char> = ids.iter().filter_map(|i| i.chars().next()).collect();
        firsts.sort_unstable();
        if let Some(w) = firsts.windows(2).find(|w| w[0] == w[1]) {
            break w[0];
        }
        ids.push(
            ok(&d.docker(&["create", "busybox"]), "create")
                .trim()
                .to_owned(),
        );
    };
    let (status, body) = d.http("GET", &format!("/containers/{shared}/json"), "");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(&format!(
            "Multiple IDs found with provided prefix: {shared}"
        )),
        "{body}"
    );
    let (status, body) = d.http("GET", "/containers/nope/json", "");
    assert_eq!(status, 404);
    assert!(body.contains("No such container: nope"), "{body}");
}

#[test]
fn inspect_shows_dockers_fields() {
    let d = Daemon::start();
    let id = ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "insp",
            "-e",
            "FOO=bar",
            "-l",
            "tier=web",
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "50",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "3",
            "busybox",
            "sleep",
            "30",
        ]),
        "run -d",
    )
    .trim()
    .to_owned();
    let v: serde_json::Value =
        serde_json::from_str(&ok(&d.docker(&["inspect", "insp"]), "inspect")).expect("json");
    let c = &v[0];
    assert_eq!(c["Id"], id.as_str());
    assert_eq!(c["Name"], "/insp");
    assert_eq!(c["Path"], "sleep");
    assert_eq!(c["Args"], serde_json::json!(["30"]));
    assert_eq!(c["State"]["Status"], "running");
    assert_eq!(c["State"]["Running"], true);
    assert_eq!(c["State"]["OOMKilled"], false);
    assert!(c["State"]["Pid"].as_i64().unwrap_or(0) > 0);
    assert!(
        c["State"]["StartedAt"]
            .as_str()
            .unwrap_or("")
            .starts_with("20")
    );
    assert_eq!(c["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(c["Config"]["Hostname"], &id[..12]);
    assert_eq!(c["Config"]["Image"], "busybox");
    assert_eq!(c["Config"]["Labels"]["tier"], "web");
    assert_eq!(c["Config"]["StopSignal"], "SIGINT");
    assert_eq!(c["Config"]["StopTimeout"], 3);
    assert!(
        c["Config"]["Env"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x == "FOO=bar"))
    );
    assert_eq!(c["HostConfig"]["Memory"], 64 * 1024 * 1024);
    assert_eq!(c["HostConfig"]["NanoCpus"], 500_000_000);
    assert_eq!(c["HostConfig"]["PidsLimit"], 50);
    assert!(c["Image"].as_str().unwrap_or("").starts_with("sha256:"));
    // On the default bridge (issue 6): an address.
    assert_ne!(c["NetworkSettings"]["IPAddress"], "");
    assert!(
        c["NetworkSettings"]["SandboxKey"]
            .as_str()
            .is_some_and(|k| k.contains("/netns/")),
        "{}",
        c["NetworkSettings"]
    );
    // `--network none`: its own network namespace, with only lo, up.
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "ls /sys/class/net; ping -c1 -W2 127.0.0.1 >/dev/null && echo ping-ok",
    ]);
    assert_eq!(ok(&out, "network namespace"), "lo\nping-ok\n");
    assert!(c["LogPath"].as_str().unwrap_or("").ends_with("-json.log"));
    // The limits reach the container's cgroup (v1 layout on this host; skipped on v2).
    let mem = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/memory/berth/{id}/memory.limit_in_bytes"
    ));
    if let Ok(m) = mem {
        assert_eq!(m.trim(), (64 * 1024 * 1024).to_string());
    }
    // The hostname files are the container's.
    let out = d.docker(&[
        "run",
        "--rm",
        "--hostname",
        "hh",
        "busybox",
        "cat",
        "/etc/hostname",
    ]);
    assert_eq!(ok(&out, "cat /etc/hostname"), "hh\n");
    let out = d.docker(&[
        "run",
        "--rm",
        "-u",
        "user",
        "-w",
        "/tmp/w",
        "busybox",
        "sh",
        "-c",
        "id -u; pwd",
    ]);
    assert_eq!(ok(&out, "user and workdir"), "1000\n/tmp/w\n");
}

#[test]
fn ps_filters() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run", "-d", "--name", "up", "-l", "a=1", "busybox", "sleep", "30",
        ]),
        "run up",
    );
    let out = d.docker(&[
        "run", "--name", "three", "-l", "a=2", "busybox", "sh", "-c", "exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    ok(
        &d.docker(&["create", "--name", "fresh", "busybox"]),
        "create fresh",
    );
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["ps", "--format", "{{.Names}}"];
        a.extend_from_slice(args);
        let mut v: Vec<String> = ok(&d.docker(&a), "ps").lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(names(&[]), vec!["up"]);
    assert_eq!(names(&["-a"]), vec!["fresh", "three", "up"]);
    assert_eq!(names(&["--filter", "status=exited"]), vec!["three"]);
    assert_eq!(names(&["--filter", "status=created"]), vec!["fresh"]);
    assert_eq!(names(&["-a", "--filter", "exited=3"]), vec!["three"]);
    assert_eq!(names(&["-a", "--filter", "label=a"]), vec!["three", "up"]);
    assert_eq!(names(&["-a", "--filter", "label=a=2"]), vec!["three"]);
    assert_eq!(names(&["-a", "--filter", "name=fre"]), vec!["fresh"]);
    assert_eq!(names(&["-a", "--filter", "ancestor=busybox"]).len(), 3);
    let up = d.inspect("up", "{{.Id}}");
    assert_eq!(
        names(&["-a", "--filter", &format!("id={}", &up[..6])]),
        vec!["up"]
    );
    let q = ok(&d.berth(&["ps", "-aq"]), "berth ps -aq");
    assert_eq!(q.lines().count(), 3);
    assert!(q.lines().all(|l| l.len() == 12));
    let out = ok(
        &d.berth(&["ps", "-a", "--filter", "status=exited"]),
        "berth ps",
    );
    assert!(out.contains("Exited (3)") && out.contains("three"), "{out}");
    let (status, _) = d.http("GET", "/containers/json?limit=1", "");
    assert_eq!(status, 200);
}

#[test]
fn daemon_restart_keeps_records_and_running_containers() {
    let mut d = Daemon::start();
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "survivor",
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
        ]),
        "run -d",
    );
    ok(
        &d.docker(&["create", "--name", "created", "busybox"]),
        "create",
    );
    let out = d.docker(&["run", "--name", "done", "busybox", "sh", "-c", "exit 4"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let pid = d.inspect("survivor", "{{.State.Pid}}");
    d.restart();
    assert_eq!(
        d.inspect("survivor", "{{.State.Status}} {{.State.Pid}}"),
        format!("running {pid}")
    );
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(d.inspect("created", "{{.State.Status}}"), "created");
    assert_eq!(
        d.inspect("done", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 4"
    );
    let before = stdout(&d.docker(&["logs", "survivor"])).lines().count();
    eventually("new log lines after the restart", || {
        stdout(&d.docker(&["logs", "survivor"])).lines().count() > before
    });
    ok(
        &d.docker(&["stop", "-t", "1", "survivor"]),
        "stop after restart",
    );
    assert_eq!(d.inspect("survivor", "{{.State.Status}}"), "exited");
    // A container that exits while the daemon is down is found exited, with its code.
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "quick",
            "busybox",
            "sh",
            "-c",
            "sleep 0.5; exit 6",
        ]),
        "run quick",
    );
    d.restart();
    ok(&d.docker(&["wait", "quick"]), "wait quick");
    assert_eq!(
        d.inspect("quick", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 6"
    );
    let mut names: Vec<String> = ok(&d.docker(&["ps", "-a", "--format", "{{.Names}}"]), "ps")
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    assert_eq!(names, vec!["created", "done", "quick", "survivor"]);
}

#[test]
fn errors_have_dockers_codes_and_messages() {
    let d = Daemon::start();
    let (status, body) = d.http("POST", "/containers/create", r#"{"Image":"nosuch"}"#);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("No such image: nosuch:latest"), "{body}");
    let (status, body) = d.http("POST", "/containers/create", r#"{"Image": "busybox""#);
    assert_eq!(status, 400, "{body}");
    ok(
        &d.docker(&["run", "-d", "--name", "busy", "busybox", "sleep", "30"]),
        "run",
    );
    let id = d.inspect("busy", "{{.Id}}");
    let (status, body) = d.http(
        "POST",
        "/containers/create?name=busy",
        r#"{"Image":"busybox"}"#,
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains(&format!(
            "Conflict. The container name \\\"/busy\\\" is already in use by container \\\"{id}\\\""
        )),
        "{body}"
    );
    let out = d.docker(&["run", "--name", "busy", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("is already in use"),
        "{}",
        stderr(&out)
    );
    let (status, body) = d.http("DELETE", "/containers/busy", "");
    assert_eq!(status, 409, "{body}");
    assert!(
        body.contains(&format!(
            "You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
        )),
        "{body}"
    );
    let out = d.docker(&["rm", "busy"]);
    assert!(!out.status.success());
    ok(&d.docker(&["rm", "-f", "busy"]), "rm -f");
    assert!(cgroup_dirs(&id).is_empty());
    // A failed create leaves nothing behind.
    let (status, _) = d.http(
        "POST",
        "/containers/create?name=bad",
        r#"{"Image":"busybox","HostConfig":{"Memory":1024}}"#,
    );
    assert_eq!(status, 400);
    assert!(d.all_ids().is_empty());
    // The name of a failed create is free again.
    ok(
        &d.docker(&["create", "--name", "bad", "busybox"]),
        "create bad",
    );
    // A command that does not exist: 127, and --rm still removes the container.
    let out = d.docker(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    eventually("the --rm container of a failed start goes", || {
        d.all_ids().len() == 1
    });
    assert!(d.mounts().is_empty(), "{:?}", d.mounts());
    let out = d.docker(&["import", "/etc/hostname", "notatar"]);
    assert!(!out.status.success(), "importing a non-tar must fail");
}

#[test]
fn events_logs_follow_and_image_conflicts() {
    let d = Daemon::start();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or(0)
        .to_string();
    let out = d.docker(&[
        "run",
        "--name",
        "ev",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; sleep 0.1; done",
    ]);
    assert_eq!(ok(&out, "run ev"), "line 1\nline 2\nline 3\n");
    ok(&d.docker(&["rm", "ev"]), "rm ev");
    // --until bounds the stream (one second from now).
    let out = d.docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_secs() + 1)
            .unwrap_or(0))
        .to_string(),
        "--filter",
        "container=ev",
        "--format",
        "{{.Action}}",
    ]);
    let actions: Vec<String> = ok(&out, "events").lines().map(str::to_owned).collect();
    for a in ["create", "attach", "start", "die", "destroy"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    // logs -f follows until the container exits.
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "follow",
            "busybox",
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do echo f $i; sleep 0.1; done",
        ]),
        "run -d follow",
    );
    let out = d.docker(&["logs", "-f", "follow"]);
    assert_eq!(ok(&out, "logs -f"), "f 1\nf 2\nf 3\nf 4\nf 5\n");
    // An image used by a container cannot be removed.
    let out = d.docker(&["rmi", "busybox"]);
    assert!(!out.status.success(), "rmi of a used image must fail");
    assert!(
        stderr(&out).contains("(must force) - container")
            && stderr(&out).contains("is using its referenced image"),
        "{}",
        stderr(&out)
    );
    ok(&d.docker(&["tag", "busybox", "mybox:1"]), "tag");
    let out = ok(
        &d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "images",
    );
    assert!(
        out.contains("mybox:1") && out.contains("busybox:latest"),
        "{out}"
    );
    let out = ok(
        &d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", "mybox"]),
        "images mybox",
    );
    assert_eq!(out, "mybox:1\n");
    ok(&d.docker(&["rmi", "mybox:1"]), "rmi a second tag");
    let v = ok(&d.docker(&["image", "inspect", "busybox"]), "image inspect");
    assert!(v.contains("\"Cmd\": [") && v.contains("\"sh\""), "{v}");
}

#[test]
fn restart_policies() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "onfail",
            "--restart",
            "on-failure:2",
            "busybox",
            "sh",
            "-c",
            "exit 1",
        ]),
        "run on-failure",
    );
    eventually("two restarts, then exited", || {
        d.inspect("onfail", "{{.RestartCount}} {{.State.Status}}") == "2 exited"
    });
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "always",
            "--restart",
            "always",
            "busybox",
            "sleep",
            "0.2",
        ]),
        "run always",
    );
    eventually("restarts of an always container", || {
        d.inspect("always", "{{.RestartCount}}")
            .parse::<i64>()
            .is_ok_and(|n| n >= 2)
    });
    ok(&d.docker(&["stop", "-t", "1", "always"]), "stop always");
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(d.inspect("always", "{{.State.Status}}"), "exited");
    let out = d.docker(&["run", "--rm", "--restart", "always", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    ok(&d.docker(&["rm", "-f", "onfail", "always"]), "rm -f");
    assert!(d.all_ids().is_empty());
}
