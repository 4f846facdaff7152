//! Resource limits end to end through the docker CLI, checked where the kernel keeps them:
//! the cgroup v1 files on this host, the cgroup v2 files in the User-Mode Linux run of
//! `scripts/uml-v2-tests.sh` (the layout is read at run time; nothing is skipped). The daemon
//! runs with `--bridge none` and the containers with `--network none`, so these tests need no
//! firewall (bridge networks are `networking.rs`'s, two of which run in that kernel too).

mod engine_harness;

use engine_harness::{Daemon, ok, stderr, stdout};

/// True on a pure cgroup v2 host.
fn v2() -> bool {
    std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// A file of the container's cgroup: `v2` under `/sys/fs/cgroup/berth/<id>` on v2, `v1` in the
/// `controller` hierarchy otherwise.
fn cgroup_file(id: &str, controller: &str, v1: &str, v2_file: &str) -> String {
    let path = if v2() {
        format!("/sys/fs/cgroup/berth/{id}/{v2_file}")
    } else {
        format!("/sys/fs/cgroup/{controller}/berth/{id}/{v1}")
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim()
        .to_owned()
}

#[test]
fn memory_cpus_and_pids_limits_reach_the_cgroup() {
    let d = Daemon::start_without_bridge();
    let id = ok(
        &d.docker(&[
            "run",
            "-d",
            "--network",
            "none",
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "50",
            "busybox",
            "sleep",
            "60",
        ]),
        "run -d",
    )
    .trim()
    .to_owned();
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes", "memory.max"),
        "67108864"
    );
    assert_eq!(cgroup_file(&id, "pids", "pids.max", "pids.max"), "50");
    if v2() {
        assert_eq!(cgroup_file(&id, "cpu", "", "cpu.max"), "50000 100000");
    } else {
        assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us", ""), "50000");
        assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_period_us", ""), "100000");
    }
    // Inside, the container's cgroup namespace shows its own limit at the root.
    let file = if v2() {
        "/sys/fs/cgroup/memory.max"
    } else {
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    };
    let out = d.docker(&["exec", &id, "cat", file]);
    assert_eq!(ok(&out, "exec cat"), "67108864\n");
    ok(&d.docker(&["rm", "-f", &id]), "rm -f");
}

#[test]
fn memory_hog_is_oom_killed_137_and_marked() {
    let d = Daemon::start_without_bridge();
    // tail buffers one endless "line" of /dev/zero.
    let out = d.docker(&[
        "run",
        "--name",
        "hog",
        "--network",
        "none",
        "--memory",
        "32m",
        "busybox",
        "tail",
        "/dev/zero",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert_eq!(d.inspect("hog", "{{.State.OOMKilled}}"), "true");
    assert_eq!(d.inspect("hog", "{{.State.ExitCode}}"), "137");
}

#[test]
fn fork_bomb_stops_at_the_pids_limit() {
    let d = Daemon::start_without_bridge();
    let current = if v2() {
        "/sys/fs/cgroup/pids.current"
    } else {
        "/sys/fs/cgroup/pids/pids.current"
    };
    // ash gives up on a failed fork, so the bomb runs in a subshell; `read` is a builtin.
    let script = format!(
        "(n=0; while [ $n -lt 40 ]; do sleep 60 & n=$((n+1)); done); read c < {current}; echo $c"
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pids-limit",
        "16",
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    let count: u32 = stdout(&out)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no count: {} {}", stdout(&out), stderr(&out)));
    assert!(count <= 16, "{count} tasks under a limit of 16");
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
}

/// `/dev/net/tun` (c 10:200): docker's default rules do not allow it and it opens without side
/// effects (the UML guest's init loads the tun module).
const TUN: (&str, u32, u32) = ("/dev/net/tun", 10, 200);

#[test]
fn devices_are_enforced_as_asked() {
    let d = Daemon::start_without_bridge();
    let (path, major, minor) = TUN;
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: modprobe tun"
    );
    let run = |extra: &[&str], script: &str| {
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        d.docker(&args)
    };
    // The default rules: CAP_MKNOD makes the node, the open is refused (EPERM).
    let probe = format!("mknod /dev/probe c {major} {minor} && : < /dev/probe && echo open");
    let out = run(&[], &probe);
    assert_eq!(stdout(&out), "", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    // --device grants exactly what it names: read, not write.
    let dev = format!("{path}:/dev/thetun:r");
    let out = run(
        &["--device", &dev],
        "(: < /dev/thetun) && echo read; (: > /dev/thetun) 2>/dev/null && echo wrote || echo nowrite",
    );
    assert_eq!(ok(&out, "--device").trim(), "read\nnowrite");
    // --privileged grants every device.
    let out = run(&["--privileged"], &probe);
    assert_eq!(ok(&out, "--privileged").trim(), "open");
}

#[test]
fn pause_stats_and_update_act_on_the_cgroup() {
    let d = Daemon::start_without_bridge();
    let id = ok(
        &d.docker(&[
            "run",
            "-d",
            "--network",
            "none",
            "--memory",
            "64m",
            "busybox",
            "sleep",
            "120",
        ]),
        "run -d",
    )
    .trim()
    .to_owned();
    let frozen = |id: &str| {
        if v2() {
            cgroup_file(id, "", "", "cgroup.freeze")
        } else {
            cgroup_file(id, "freezer", "freezer.state", "")
        }
    };
    ok(&d.docker(&["pause", &id]), "pause");
    assert_eq!(frozen(&id), if v2() { "1" } else { "FROZEN" });
    assert_eq!(d.inspect(&id, "{{.State.Status}}"), "paused");
    ok(&d.docker(&["unpause", &id]), "unpause");
    assert_eq!(frozen(&id), if v2() { "0" } else { "THAWED" });
    assert_eq!(d.inspect(&id, "{{.State.Status}}"), "running");

    // stats reads the cgroup's files: the limit is the one set.
    let out = d.docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id]);
    let usage = ok(&out, "stats");
    assert!(usage.trim().ends_with("/ 64MiB"), "{usage}");

    ok(
        &d.docker(&["update", "--memory", "96m", "--memory-swap", "192m", &id]),
        "update",
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes", "memory.max"),
        "100663296"
    );
    assert_eq!(d.inspect(&id, "{{.HostConfig.Memory}}"), "100663296");
    let out = d.docker(&["rm", "-f", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
}
