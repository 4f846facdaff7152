//! pause/unpause, top, stats, update, rename and prune through the docker CLI and the API,
//! each proven on the host: the freezer state and limits in the container's cgroup files,
//! the container's process in `top`, memory use that moves in `stats`.

mod engine_harness;

use std::path::Path;

use engine_harness::{Daemon, eventually, ok, stderr, stdout};

/// A file of the container's cgroup: `v1` in the given v1 controller, else `v2`.
fn cgroup_file(id: &str, controller: &str, v1: &str, v2: &str) -> String {
    let v1_path = Path::new("/sys/fs/cgroup")
        .join(controller)
        .join("berth")
        .join(id)
        .join(v1);
    let path = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        Path::new("/sys/fs/cgroup/berth").join(id).join(v2)
    } else {
        v1_path
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}

fn run_sleeper(d: &Daemon, name: &str) -> String {
    ok(
        &d.docker(&["run", "-d", "--name", name, "busybox", "sleep", "1000"]),
        "run",
    )
    .trim()
    .to_owned()
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The container's events so far, as `action` strings (with `oldName` for a rename).
fn events(d: &Daemon, id: &str) -> Vec<String> {
    // until a second ahead: events of this very second are in
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + 1)
        .unwrap_or(0)
        .to_string();
    let out = d.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        &format!("container={id}"),
        "--format",
        "{{.Action}}{{with .Actor.Attributes.oldName}} {{.}}{{end}}",
    ]);
    ok(&out, "events").lines().map(str::to_owned).collect()
}

#[test]
fn pause_freezes_the_cgroup_and_unpause_thaws_it() {
    let d = Daemon::start();
    let id = run_sleeper(&d, "pz");
    ok(&d.docker(&["pause", "pz"]), "pause");
    let frozen = cgroup_file(&id, "freezer", "freezer.state", "cgroup.freeze");
    assert!(frozen == "FROZEN" || frozen == "1", "freezer: {frozen}");
    assert_eq!(
        d.inspect("pz", "{{.State.Status}} {{.State.Paused}}"),
        "paused true"
    );
    let ps = ok(&d.docker(&["ps", "--format", "{{.Status}}"]), "ps");
    assert!(ps.contains("(Paused)"), "ps: {ps}");
    let again = d.docker(&["pause", "pz"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("is already paused"),
        "{}",
        stderr(&again)
    );
    let (status, _) = d.http("POST", "/containers/pz/pause", "");
    assert_eq!(status, 409);

    ok(&d.docker(&["unpause", "pz"]), "unpause");
    let thawed = cgroup_file(&id, "freezer", "freezer.state", "cgroup.freeze");
    assert!(thawed == "THAWED" || thawed == "0", "freezer: {thawed}");
    assert_eq!(d.inspect("pz", "{{.State.Status}}"), "running");
    // the thawed process runs: an exec answers
    assert_eq!(
        ok(&d.docker(&["exec", "pz", "echo", "alive"]), "exec"),
        "alive\n"
    );
    let (status, body) = d.http("POST", "/containers/pz/unpause", "");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("is not paused"), "{body}");

    // a paused container still stops (its signal needs a thaw)
    ok(&d.docker(&["pause", "pz"]), "pause");
    ok(&d.docker(&["stop", "-t", "1", "pz"]), "stop");
    assert_eq!(d.inspect("pz", "{{.State.Status}}"), "exited");
    let ev = events(&d, &id);
    assert!(
        ev.iter().any(|e| e == "pause") && ev.iter().any(|e| e == "unpause"),
        "{ev:?}"
    );
    let (status, _) = d.http("POST", "/containers/pz/pause", "");
    assert_eq!(status, 409);
}

#[test]
fn top_lists_the_containers_processes() {
    let d = Daemon::start();
    run_sleeper(&d, "tp");
    let out = ok(&d.docker(&["top", "tp"]), "top");
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.contains("PID") && header.contains("CMD"), "{out}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].contains("sleep 1000"), "{out}");
    // an exec's process joins the list
    ok(&d.docker(&["exec", "-d", "tp", "sleep", "999"]), "exec -d");
    eventually("the exec in top", || {
        stdout(&d.docker(&["top", "tp"])).contains("sleep 999")
    });
    let (status, body) = d.http("GET", "/containers/tp/top?ps_args=-eo%20pid,args", "");
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["Titles"], serde_json::json!(["PID", "COMMAND"]));
    let procs = v["Processes"].as_array().cloned().unwrap_or_default();
    assert_eq!(procs.len(), 2, "{body}");
    let (status, _) = d.http("GET", "/containers/nope/top", "");
    assert_eq!(status, 404);
}

#[test]
fn stats_move_when_the_container_allocates_memory() {
    let d = Daemon::start();
    run_sleeper(&d, "st");
    let sample = || {
        let (status, body) = d.http("GET", "/containers/st/stats?stream=false", "");
        assert_eq!(status, 200, "{body}");
        json(&body)
    };
    let before = sample();
    for key in [
        "read",
        "preread",
        "cpu_stats",
        "precpu_stats",
        "memory_stats",
        "blkio_stats",
        "pids_stats",
        "networks",
    ] {
        assert!(before.get(key).is_some(), "no {key}: {before}");
    }
    assert_eq!(before["name"], "/st");
    assert_eq!(before["pids_stats"]["current"], 1);
    assert!(before["networks"]["eth0"]["rx_bytes"].is_u64(), "{before}");
    let used = |v: &serde_json::Value| v["memory_stats"]["usage"].as_u64().unwrap_or(0);
    // 40 MB in the container's tmpfs is charged to its memory cgroup
    ok(
        &d.docker(&[
            "exec",
            "st",
            "dd",
            "if=/dev/zero",
            "of=/dev/shm/fill",
            "bs=1M",
            "count=40",
        ]),
        "dd",
    );
    let after = sample();
    // shared memory is not reclaimed (page cache from the container's start may be, so the
    // total usage is compared with the 40 MB alone)
    let shmem = |v: &serde_json::Value| {
        let st = &v["memory_stats"]["stats"];
        st["shmem"]
            .as_u64()
            .or(st["total_shmem"].as_u64())
            .unwrap_or(0)
    };
    assert!(
        shmem(&after) >= shmem(&before) + 40 * 1024 * 1024,
        "shmem {} then {}",
        shmem(&before),
        shmem(&after)
    );
    assert!(used(&after) >= 40 * 1024 * 1024, "usage {}", used(&after));
    // cpu time moves with work
    ok(
        &d.docker(&[
            "exec",
            "st",
            "sh",
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
        ]),
        "busy loop",
    );
    let cpu = |v: &serde_json::Value| {
        v["cpu_stats"]["cpu_usage"]["total_usage"]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(cpu(&sample()) > cpu(&after));
    // a stream: each sample's precpu is the previous sample's cpu
    let out = d.python(
        r#"
s = client.stats('st', decode=True)
a = next(s); b = next(s)
assert b['precpu_stats'] == a['cpu_stats'], (a, b)
assert b['preread'] == a['read']
print('ok')
"#,
    );
    assert_eq!(stdout(&out).trim(), "ok", "{}", stderr(&out));
    // the CLI's one-shot table
    let out = ok(
        &d.docker(&[
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.PIDs}}",
            "st",
        ]),
        "stats --no-stream",
    );
    assert_eq!(out.trim(), "st 1");
}

#[test]
fn update_changes_the_live_cgroup_and_the_record() {
    let d = Daemon::start();
    let id = run_sleeper(&d, "up");
    ok(
        &d.docker(&[
            "update",
            "--memory",
            "64m",
            "--memory-swap",
            "128m",
            "--pids-limit",
            "50",
            "--restart",
            "on-failure:3",
            "up",
        ]),
        "update",
    );
    let mem = || cgroup_file(&id, "memory", "memory.limit_in_bytes", "memory.max");
    let pids = || cgroup_file(&id, "pids", "pids.max", "pids.max");
    assert_eq!(mem(), "67108864");
    assert_eq!(pids(), "50");
    assert_eq!(
        d.inspect(
            "up",
            "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "67108864 50 on-failure:3"
    );
    // the limit holds inside: a fork bomb of 60 sleeps is cut at 50 tasks
    let out = d.docker(&[
        "exec",
        "up",
        "sh",
        "-c",
        "for i in $(seq 60); do sleep 100 & done 2>/dev/null; wait",
    ]);
    let _ = out;
    let n = cgroup_file(&id, "pids", "pids.current", "pids.current");
    assert!(n.parse::<u32>().is_ok_and(|n| n <= 50), "pids.current {n}");
    // kept across a restart: the next run's spec comes from the record
    ok(&d.docker(&["restart", "-t", "1", "up"]), "restart");
    assert_eq!(mem(), "67108864");
    assert_eq!(pids(), "50");
    ok(
        &d.docker(&["update", "--pids-limit", "-1", "up"]),
        "unlimited pids",
    );
    assert_eq!(pids(), "max");
    // refused: a field berth cannot change, swap below memory
    let out = d.docker(&["update", "--blkio-weight", "300", "up"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("BlkioWeight"), "{}", stderr(&out));
    let out = d.docker(&["update", "--memory", "200m", "up"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("memoryswap"), "{}", stderr(&out));
    assert_eq!(mem(), "67108864");
    assert!(events(&d, &id).iter().any(|e| e == "update"));
}

#[test]
fn rename_and_prune() {
    let d = Daemon::start();
    let id = run_sleeper(&d, "old");
    ok(&d.docker(&["rename", "old", "new"]), "rename");
    assert_eq!(d.inspect("new", "{{.Id}}"), id);
    assert!(!d.docker(&["inspect", "old"]).status.success());
    assert!(
        events(&d, &id).iter().any(|e| e == "rename /old"),
        "{:?}",
        events(&d, &id)
    );
    ok(
        &d.docker(&["create", "--name", "other", "busybox", "true"]),
        "create",
    );
    let (status, body) = d.http("POST", "/containers/new/rename?name=other", "");
    assert_eq!(status, 409, "{body}");
    let (status, _) = d.http("POST", "/containers/new/rename?name=new", "");
    assert_eq!(status, 400);
    let (status, _) = d.http("POST", "/containers/new/rename?name=", "");
    assert_eq!(status, 400);

    // prune: the stopped ones go, the running one and a label-filtered one stay
    ok(
        &d.docker(&["run", "--name", "done", "busybox", "true"]),
        "run",
    );
    ok(
        &d.docker(&[
            "create", "--name", "keep", "--label", "keep=1", "busybox", "true",
        ]),
        "create",
    );
    let out = ok(
        &d.docker(&["container", "prune", "-f", "--filter", "label!=keep"]),
        "prune",
    );
    assert!(out.contains("Deleted Containers"), "{out}");
    let left = ok(&d.docker(&["ps", "-a", "--format", "{{.Names}}"]), "ps");
    let mut left: Vec<&str> = left.lines().collect();
    left.sort_unstable();
    assert_eq!(left, ["keep", "new"]);
}

#[test]
fn berth_cli_verbs() {
    let d = Daemon::start();
    let id = run_sleeper(&d, "bc");
    assert_eq!(ok(&d.berth(&["pause", "bc"]), "berth pause"), "bc\n");
    let frozen = cgroup_file(&id, "freezer", "freezer.state", "cgroup.freeze");
    assert!(frozen == "FROZEN" || frozen == "1", "freezer: {frozen}");
    assert!(ok(&d.berth(&["ps"]), "berth ps").contains("(Paused)"));
    ok(&d.berth(&["unpause", "bc"]), "berth unpause");
    let top = ok(&d.berth(&["top", "bc", "-o", "pid,args"]), "berth top");
    let lines: Vec<&str> = top.lines().collect();
    assert!(
        lines[0].starts_with("PID") && lines[0].contains("COMMAND"),
        "{top}"
    );
    assert!(lines[1].ends_with("sleep 1000"), "{top}");
    let stats = ok(&d.berth(&["stats", "--no-stream"]), "berth stats");
    let mut lines = stats.lines();
    let header = lines.next().unwrap_or_default();
    for col in [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "NET I/O",
        "PIDS",
    ] {
        assert!(header.contains(col), "{stats}");
    }
    assert!(lines.next().is_some_and(|l| l.contains("bc")), "{stats}");
    ok(
        &d.berth(&["update", "--memory", "48m", "--memory-swap", "96m", "bc"]),
        "berth update",
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes", "memory.max"),
        (48u64 << 20).to_string()
    );
    ok(&d.berth(&["rename", "bc", "bc2"]), "berth rename");
    assert_eq!(d.inspect("bc2", "{{.Id}}"), id);
    ok(&d.berth(&["stop", "-t", "1", "bc2"]), "berth stop");
    let out = ok(
        &d.berth(&["container", "prune", "-f"]),
        "berth container prune",
    );
    assert!(out.contains(&id), "{out}");
    assert!(d.all_ids().is_empty());
}
