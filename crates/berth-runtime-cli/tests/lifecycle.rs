//! The lifecycle through the `berth-runtime` binary on a busybox rootfs: create, start, state,
//! kill, delete; run's exit codes; exec; the terminal over --console-socket; and what is left
//! after a failure (nothing: no state dir, cgroup, mount or process).

mod common;

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Bundle, stderr, stdout};
use serde_json::json;

/// `create` with every stdio stream null: the init inherits them, so a pipe would stay open
/// as long as the container runs.
fn create_quiet(b: &Bundle) -> Output {
    b.write_config();
    b.runtime()
        .args(["create", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run berth-runtime create")
}

/// `create` whose stderr goes to a file (read after it returns).
fn create_logged(b: &Bundle) -> (Output, String) {
    b.write_config();
    let log = b.path().join("create.err");
    let file = std::fs::File::create(&log).expect("create.err");
    let out = b
        .runtime()
        .args(["create", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .output()
        .expect("run berth-runtime create");
    (out, std::fs::read_to_string(&log).unwrap_or_default())
}

fn wait_status(b: &Bundle, want: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = b.state();
        if state["status"] == want || Instant::now() > deadline {
            return state;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every cgroup directory the container could have left, on any hierarchy.
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        for e in entries.flatten() {
            let dir = e.path().join("berth").join(id);
            if dir.exists() {
                found.push(dir);
            }
        }
    }
    let v2 = PathBuf::from("/sys/fs/cgroup/berth").join(id);
    if v2.exists() {
        found.push(v2);
    }
    found
}

/// Assert that nothing of the container is left.
fn assert_nothing_left(b: &Bundle) {
    assert!(
        !b.root.join(&b.id).exists(),
        "state dir left: {}",
        b.root.join(&b.id).display()
    );
    assert_eq!(cgroup_dirs(&b.id), Vec::<PathBuf>::new(), "cgroups left");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let bundle = b.path().display().to_string();
    assert!(
        !mounts.contains(&bundle),
        "mounts left under {bundle}: {mounts}"
    );
    let out = b.verb(&["state"]);
    assert!(
        !out.status.success(),
        "state of a deleted container succeeded"
    );
}

#[test]
fn create_start_state_kill_delete() {
    let b = Bundle::new("life", &["sleep", "30"]);
    let out = create_quiet(&b);
    assert!(out.status.success(), "create failed");
    let state = b.state();
    assert_eq!(state["status"], "created", "{state}");
    assert_eq!(state["id"], b.id.as_str());
    assert_eq!(state["bundle"], b.path().display().to_string());
    let pid = state["pid"].as_i64().expect("a pid");
    assert!(PathBuf::from(format!("/proc/{pid}")).exists());

    let list = b.runtime().args(["list", "-q"]).output().expect("list");
    assert_eq!(stdout(&list).trim(), b.id);

    let out = b.verb(&["start"]);
    assert!(out.status.success(), "start: {}", stderr(&out));
    assert_eq!(b.state()["status"], "running");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    assert_eq!(cmdline, b"sleep\x0030\x00");

    let ps = b.verb(&["ps", "--format", "json"]);
    assert!(ps.status.success(), "ps: {}", stderr(&ps));
    let pids: Vec<i64> = serde_json::from_slice(&ps.stdout).expect("ps json");
    assert_eq!(pids, vec![pid]);

    // A running container is not deleted without --force.
    let out = b.verb(&["delete"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("running"), "{}", stderr(&out));

    let out = b.verb(&["kill", "KILL"]);
    assert!(out.status.success(), "kill: {}", stderr(&out));
    let state = wait_status(&b, "stopped");
    assert_eq!(state["status"], "stopped", "{state}");

    let out = b
        .runtime()
        .arg("delete")
        .arg(&b.id)
        .output()
        .expect("delete");
    assert!(out.status.success(), "delete: {}", stderr(&out));
    assert_nothing_left(&b);
}

#[test]
fn delete_force_kills_a_running_container() {
    let b = Bundle::new("force", &["sleep", "30"]);
    assert!(create_quiet(&b).status.success());
    assert!(b.verb(&["start"]).status.success());
    let pid = b.state()["pid"].as_i64().expect("pid");
    let out = b.verb(&["delete", "--force"]);
    assert!(out.status.success(), "delete --force: {}", stderr(&out));
    assert_nothing_left(&b);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "init still alive: {stat}"
    );
}

#[test]
fn kill_all_signals_every_process_of_the_container() {
    let b = Bundle::new("killall", &["sh", "-c", "sleep 30 & sleep 30 & wait"]);
    assert!(create_quiet(&b).status.success());
    assert!(b.verb(&["start"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let count = || {
        let ps = b.verb(&["ps", "--format", "json"]);
        serde_json::from_slice::<Vec<i64>>(&ps.stdout).map_or(0, |p| p.len())
    };
    while count() < 3 {
        assert!(Instant::now() < deadline, "the sleeps never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = b.verb(&["kill", "--all", "KILL"]);
    assert!(out.status.success(), "kill --all: {}", stderr(&out));
    assert_eq!(wait_status(&b, "stopped")["status"], "stopped");
    while count() > 0 {
        assert!(Instant::now() < deadline, "processes left after kill --all");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = b.verb(&["delete"]);
    assert!(out.status.success(), "delete: {}", stderr(&out));
    assert_nothing_left(&b);
}

#[test]
fn pause_and_resume_freeze_the_container() {
    let b = Bundle::new("pause", &["sleep", "30"]);
    assert!(create_quiet(&b).status.success());
    assert!(b.verb(&["start"]).status.success());
    let out = b.verb(&["pause"]);
    assert!(out.status.success(), "pause: {}", stderr(&out));
    assert_eq!(b.state()["status"], "paused");
    let out = b.verb(&["resume"]);
    assert!(out.status.success(), "resume: {}", stderr(&out));
    assert_eq!(b.state()["status"], "running");
}

#[test]
fn run_returns_the_exit_code_and_cleans_up() {
    let mut b = Bundle::new("exit", &["sh", "-c", "echo out; echo err >&2; exit 3"]);
    b.config["root"]["readonly"] = json!(false);
    let out = b.run();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
    assert_nothing_left(&b);
}

#[test]
fn run_killed_container_exits_128_plus_signal() {
    let b = Bundle::new("sig", &["sleep", "30"]);
    b.write_config();
    let mut child = b
        .runtime()
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = b.verb(&["state"]);
        if out.status.success() {
            let state: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            if state["status"] == "running" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "container never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(b.verb(&["kill", "9"]).status.success());
    let status = child.wait().expect("wait run");
    assert_eq!(status.code(), Some(137));
    assert_nothing_left(&b);
}

#[test]
fn run_forwards_signals_to_the_container() {
    let b = Bundle::new(
        "fwd",
        &[
            "sh",
            "-c",
            "trap 'exit 7' TERM; echo ready > /dev/shm/ready; while :; do sleep 0.05; done",
        ],
    );
    b.write_config();
    let mut child = b
        .runtime()
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn run");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = b.verb(&["exec", "cat", "/dev/shm/ready"]);
        if out.status.success() && stdout(&out) == "ready\n" {
            break;
        }
        assert!(Instant::now() < deadline, "container never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let run_pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(run_pid, nix::sys::signal::Signal::SIGTERM).expect("signal run");
    let status = child.wait().expect("wait run");
    assert_eq!(status.code(), Some(7));
    assert_nothing_left(&b);
}

#[test]
fn namespaces_given_by_path_are_joined() {
    let mut a = Bundle::new("nsA", &["sleep", "30"]);
    a.config["hostname"] = json!("shared-uts");
    assert!(create_quiet(&a).status.success());
    assert!(a.verb(&["start"]).status.success());
    let pid = a.state()["pid"].as_i64().expect("pid");
    let script = "hostname; readlink /proc/self/ns/net; tr '\\0' ' ' < /proc/1/cmdline";
    let mut b = Bundle::new("nsB", &["sh", "-c", script]);
    b.config.as_object_mut().expect("config").remove("hostname");
    for ns in b.config["linux"]["namespaces"]
        .as_array_mut()
        .expect("namespaces")
    {
        match ns["type"].as_str() {
            Some("uts") => ns["path"] = json!(format!("/proc/{pid}/ns/uts")),
            Some("network") => ns["path"] = json!(format!("/proc/{pid}/ns/net")),
            Some("pid") => ns["path"] = json!(format!("/proc/{pid}/ns/pid")),
            _ => {}
        }
    }
    let out = b.run();
    assert!(out.status.success(), "{}", stderr(&out));
    let net = std::fs::read_link(format!("/proc/{pid}/ns/net")).expect("ns of A");
    assert_eq!(
        stdout(&out),
        format!("shared-uts\n{}\nsleep 30 ", net.display())
    );
}

#[test]
fn rootfs_propagation_and_a_read_only_root_apply_to_the_new_root() {
    let script = "awk '$5 == \"/\" {print $6, $7}' /proc/self/mountinfo; touch /x 2>/dev/null || echo read-only";
    let mut b = Bundle::new("prop", &["sh", "-c", script]);
    b.config["linux"]["rootfsPropagation"] = json!("rshared");
    b.config["root"]["readonly"] = json!(true);
    let out = b.run();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("ro,"), "{text}");
    assert!(text.contains(" shared:"), "{text}");
    assert!(text.ends_with("read-only\n"), "{text}");
}

#[test]
fn process_settings_apply() {
    let script = "cat /proc/self/oom_score_adj; ulimit -n; pwd; echo $GREETING; \
                  cat /proc/sys/net/ipv4/ip_forward; grep NoNewPrivs /proc/self/status";
    let mut b = Bundle::new("procset", &["sh", "-c", script]);
    b.config["process"]["oomScoreAdj"] = json!(123);
    b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}]);
    b.config["process"]["cwd"] = json!("/tmp");
    b.config["process"]["env"]
        .as_array_mut()
        .expect("env")
        .push(json!("GREETING=hello"));
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    let out = b.run();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "123\n512\n/tmp\nhello\n1\nNoNewPrivs:\t1\n");
}

#[test]
fn no_descriptor_of_the_caller_leaks_into_the_container() {
    let b = Bundle::new("fds", &["ls", "/proc/self/fd"]);
    b.write_config();
    // An inheritable descriptor 7 in the caller.
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec 7</etc/hostname; exec \"$@\"")
        .arg("sh")
        .arg(common::runtime_bin())
        .arg("--root")
        .arg(&b.root)
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    // 0, 1, 2 and ls's own directory descriptor.
    assert_eq!(stdout(&out), "0\n1\n2\n3\n", "{}", stderr(&out));
}

#[test]
fn missing_binary_fails_with_127_and_leaves_nothing() {
    let b = Bundle::new("nobin", &["/no/such/program"]);
    let out = b.run();
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exec /no/such/program: executable file not found"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(&b);
}

#[test]
fn bad_mount_type_fails_and_leaves_nothing() {
    let mut b = Bundle::new("badmount", &["true"]);
    b.config["mounts"]
        .as_array_mut()
        .expect("mounts")
        .push(json!({"destination": "/mnt", "type": "nosuchfs", "source": "none"}));
    let (out, err) = create_logged(&b);
    assert!(!out.status.success());
    assert!(err.contains("mount none on /mnt (type nosuchfs)"), "{err}");
    assert_nothing_left(&b);
}

#[test]
fn rlimit_above_the_hard_limit_is_refused() {
    let mut b = Bundle::new("rlimit", &["true"]);
    b.config["process"]["rlimits"] =
        json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1_073_741_816u64}]);
    let out = b.run();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("process.rlimits RLIMIT_NOFILE: hard limit 1073741816 above"),
        "{err}"
    );
    assert_nothing_left(&b);
}

#[test]
fn unknown_capability_names_the_field() {
    let mut b = Bundle::new("badcap", &["true"]);
    b.config["process"]["capabilities"]["bounding"] = json!(["CAP_NOT_A_CAP"]);
    let out = b.run();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("process.capabilities"),
        "{}",
        stderr(&out)
    );
    assert_nothing_left(&b);
}

#[test]
fn missing_rootfs_is_refused() {
    let b = Bundle::new("norootfs", &["true"]);
    std::fs::remove_dir_all(b.path().join("rootfs")).expect("remove rootfs");
    let out = b.run();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("root.path"), "{}", stderr(&out));
    assert!(!b.root.join(&b.id).exists());
}

#[test]
fn exec_runs_a_process_inside_the_container() {
    let mut b = Bundle::new("exec", &["sleep", "30"]);
    b.config["hostname"] = json!("exec-host");
    assert!(create_quiet(&b).status.success());
    assert!(b.verb(&["start"]).status.success());

    let out = b.verb(&[
        "exec",
        "sh",
        "-c",
        "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; grep ^Seccomp: /proc/self/status",
    ]);
    assert!(out.status.success(), "exec: {}", stderr(&out));
    assert_eq!(stdout(&out), "exec-host\nsleep 30 \nSeccomp:\t2\n");

    let out = b.verb(&["exec", "sh", "-c", "exit 5"]);
    assert_eq!(out.status.code(), Some(5));

    let out = b.verb(&["exec", "no-such-program"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("executable file not found"),
        "{}",
        stderr(&out)
    );

    // A process.json with its own user.
    let mut process = b.config["process"].clone();
    process["args"] = json!(["id", "-u"]);
    process["user"] = json!({"uid": 1000, "gid": 1000});
    let file = b.path().join("process.json");
    std::fs::write(&file, process.to_string()).expect("process.json");
    let out = b
        .runtime()
        .args(["exec", "--process"])
        .arg(&file)
        .arg(&b.id)
        .output()
        .expect("exec --process");
    assert!(out.status.success(), "exec --process: {}", stderr(&out));
    assert_eq!(stdout(&out), "1000\n");
}

/// Own a descriptor just received with SCM_RIGHTS. (Reopening it through /proc/self/fd would
/// open /dev/pts/ptmx again: a new pty.)
#[allow(unsafe_code)]
fn take_fd(raw: std::os::fd::RawFd) -> OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: recvmsg just installed `raw` in this process's table; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// Receive one descriptor on an accepted console-socket connection.
fn recv_fd(listener: &UnixListener) -> OwnedFd {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let (conn, _) = listener.accept().expect("accept");
    let mut buf = [0u8; 64];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .expect("recvmsg");
    for c in msg.cmsgs().expect("cmsgs") {
        if let ControlMessageOwned::ScmRights(fds) = c {
            return take_fd(fds[0]);
        }
    }
    panic!("no descriptor received");
}

#[test]
fn terminal_master_goes_to_the_console_socket() {
    let mut b = Bundle::new(
        "tty",
        &[
            "sh",
            "-c",
            "tty; echo hello-from-tty; [ -t 0 ] && echo stdin-is-tty",
        ],
    );
    b.config["process"]["terminal"] = json!(true);
    b.write_config();
    let sock = b.path().join("console.sock");
    let listener = UnixListener::bind(&sock).expect("bind console socket");
    let receiver = std::thread::spawn(move || recv_fd(&listener));
    let out: Output = b
        .runtime()
        .args(["create", "--bundle"])
        .arg(b.path())
        .arg("--console-socket")
        .arg(&sock)
        .arg(&b.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("create");
    assert!(out.status.success(), "create with a terminal failed");
    let master = receiver.join().expect("receiver thread");
    let out = b.verb(&["start"]);
    assert!(out.status.success(), "start: {}", stderr(&out));
    let mut file = std::fs::File::from(master);
    let mut text = String::new();
    let mut buf = [0u8; 256];
    // EIO once the slave side is closed.
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if text.contains("stdin-is-tty") {
            break;
        }
    }
    assert!(text.contains("/dev/pts/0"), "{text:?}");
    assert!(text.contains("hello-from-tty\r\n"), "{text:?}");
    assert!(text.contains("stdin-is-tty"), "{text:?}");
}

#[test]
fn exec_with_a_terminal_sends_its_master_to_the_console_socket() {
    let b = Bundle::new("exectty", &["sleep", "30"]);
    assert!(create_quiet(&b).status.success());
    assert!(b.verb(&["start"]).status.success());
    let sock = b.path().join("exec-console.sock");
    let listener = UnixListener::bind(&sock).expect("bind console socket");
    let receiver = std::thread::spawn(move || recv_fd(&listener));
    let mut child = b
        .runtime()
        .args(["exec", "--tty", "--console-socket"])
        .arg(&sock)
        .arg(&b.id)
        .args(["sh", "-c", "[ -t 1 ] && echo exec-has-a-tty"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn exec");
    let master = receiver.join().expect("receiver thread");
    let mut file = std::fs::File::from(master);
    let mut text = String::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if text.contains("exec-has-a-tty") {
            break;
        }
    }
    assert!(text.contains("exec-has-a-tty"), "{text:?}");
    assert_eq!(child.wait().expect("wait exec").code(), Some(0));
}

#[test]
fn run_relays_a_terminal_without_a_console_socket() {
    let mut b = Bundle::new("runtty", &["sh", "-c", "[ -t 0 ] && echo on-a-tty; exit 4"]);
    b.config["process"]["terminal"] = json!(true);
    let out = b.run();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "on-a-tty\r\n");
    assert_nothing_left(&b);
}

#[test]
fn a_second_create_with_the_same_id_fails() {
    let b = Bundle::new("dup", &["sleep", "30"]);
    assert!(create_quiet(&b).status.success());
    let (out, err) = create_logged(&b);
    assert!(!out.status.success());
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(b.state()["status"], "created");
}

/// The default `config.json` that `tool spec` writes (crun, runc), as a user would hand it
/// to berth-runtime: both ask for ambient capabilities with an empty inheritable set, which
/// the kernel cannot raise; runc and crun run the bundle anyway, and so must berth.
fn foreign_default_spec(tool: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(tool)
        .arg("spec")
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{tool} spec: {e} (apt-get install {tool})"));
    assert!(out.status.success(), "{tool} spec: {}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("config.json")).expect("config.json");
    serde_json::from_str(&text).expect("config.json parses")
}

#[test]
fn the_default_bundles_of_crun_and_runc_run() {
    for tool in ["crun", "runc"] {
        let mut b = Bundle::new(tool, &[]);
        let mut spec = foreign_default_spec(tool);
        assert!(
            spec["process"]["capabilities"]["ambient"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{tool}'s default spec asks for ambient capabilities"
        );
        spec["root"]["path"] = serde_json::json!("rootfs");
        // No console socket here: the terminal is the one change a test run needs.
        spec["process"]["terminal"] = serde_json::json!(false);
        spec["process"]["args"] =
            serde_json::json!(["sh", "-c", "grep -E 'Cap(Eff|Amb)' /proc/self/status"]);
        b.config = spec;
        let out = b.run();
        assert!(out.status.success(), "{tool} spec bundle: {}", stderr(&out));
        let text = stdout(&out);
        // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE effective; none ambient.
        assert!(text.contains("CapEff:\t0000000020000420"), "{tool}: {text}");
        assert!(text.contains("CapAmb:\t0000000000000000"), "{tool}: {text}");
    }
}
