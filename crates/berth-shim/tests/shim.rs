//! berth-shim on the real kernel (root): busybox containers started through the shim binary,
//! driven through its socket with the blocking client.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use berth_shim::client::AttachStream;
use berth_shim::protocol::{AttachRequest, ExecRequest, Status};
use berth_shim::status;
use common::{Fixture, cgroup_dirs, fd_count, gone, wait_gone};
use serde_json::json;

fn all_streams(stdin: bool) -> AttachRequest {
    AttachRequest {
        stdin,
        stdout: true,
        stderr: true,
        close_stdin: stdin,
        ..AttachRequest::default()
    }
}

/// Read raw (TTY) output until it contains `want`; the socket has a read timeout.
fn read_until(a: &mut AttachStream, want: &str) -> String {
    a.socket()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set read timeout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains(want) {
        match a.read(&mut buf) {
            Ok(0) | Err(_) => panic!(
                "stream ended before {want:?}: {:?}",
                String::from_utf8_lossy(&seen)
            ),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn output_lands_in_the_log_in_json_file_format() {
    let f = Fixture::new(
        "log",
        &["sh", "-c", "echo out; echo err >&2; printf partial"],
    );
    f.start(&[]);
    let st = f.client().wait(None).expect("wait");
    assert_eq!(st.exit_code, 0);
    let lines = f.log_lines();
    assert!(
        lines.contains(&("stdout".into(), "out\n".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("stderr".into(), "err\n".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("stdout".into(), "partial".into())),
        "{lines:?}"
    );
}

#[test]
fn exit_code_and_signal_are_recorded() {
    let f = Fixture::new("code", &["sh", "-c", "exit 7"]);
    f.start(&[]);
    let st = f.client().wait(None).expect("wait");
    assert_eq!((st.exit_code, st.signal, st.oom_killed), (7, None, false));
    let on_disk = status::read(&f.state_dir()).expect("read exit.json");
    assert_eq!(on_disk, Some(st));

    let f = Fixture::new("sig", &["sleep", "1000"]);
    f.start(&[]);
    let c = f.client();
    assert_eq!(c.state().expect("state").status, Status::Running);
    c.signal(None, 9, false).expect("signal");
    let st = c.wait(None).expect("wait");
    assert_eq!((st.exit_code, st.signal), (137, Some(9)));
    assert_eq!(status::read(&f.state_dir()).expect("exit.json"), Some(st));
    assert_eq!(c.state().expect("state").status, Status::Stopped);
}

#[test]
fn attach_receives_output_and_sends_stdin() {
    let f = Fixture::new("cat", &["cat"]);
    f.start(&["--stdin", "--defer-start"]);
    let c = f.client();
    assert_eq!(c.state().expect("state").status, Status::Created);
    let mut a = c.attach(all_streams(true)).expect("attach");
    // a second client sees the same output
    let mut watcher = c.attach(all_streams(false)).expect("attach");
    c.start().expect("start");
    a.write_all(b"hello\n").expect("write stdin");
    a.close_stdin().expect("close stdin");
    let (out, err) = a.read_to_end().expect("read");
    assert_eq!(String::from_utf8_lossy(&out), "hello\n");
    assert!(err.is_empty());
    let (out, _) = watcher.read_to_end().expect("read");
    assert_eq!(String::from_utf8_lossy(&out), "hello\n");
    assert_eq!(c.wait(None).expect("wait").exit_code, 0);
    assert!(f.log_lines().contains(&("stdout".into(), "hello\n".into())));
}

#[test]
fn tty_mode_follows_resize() {
    let mut f = Fixture::new(
        "tty",
        &["sh", "-c", "read a; stty size; read b; stty size; exit 3"],
    );
    f.config["process"]["terminal"] = json!(true);
    f.start(&["--stdin", "--defer-start"]);
    let c = f.client();
    c.resize(None, 120, 40).expect("resize");
    let mut a = c.attach(all_streams(true)).expect("attach");
    assert!(a.tty());
    c.start().expect("start");
    a.write_all(b"\n").expect("write");
    read_until(&mut a, "40 120");
    c.resize(None, 100, 30).expect("resize");
    a.write_all(b"\n").expect("write");
    read_until(&mut a, "30 100");
    assert_eq!(c.wait(None).expect("wait").exit_code, 3);
    let log: String = f.log_lines().into_iter().map(|(_, t)| t).collect();
    assert!(log.contains("40 120") && log.contains("30 100"), "{log}");
    assert!(c.resize(None, 0, 10).is_err());
}

fn process(f: &Fixture, args: &[&str], tty: bool) -> oci_spec::runtime::Process {
    let mut p = f.config["process"].clone();
    p["args"] = json!(args);
    p["terminal"] = json!(tty);
    serde_json::from_value(p).expect("process")
}

#[test]
fn exec_has_its_own_output_and_exit_code() {
    let f = Fixture::new("exec", &["sleep", "1000"]);
    f.start(&[]);
    let c = f.client();
    let (pid, a) = c
        .exec(ExecRequest {
            exec_id: "e1".into(),
            process: process(&f, &["sh", "-c", "echo out; echo err >&2; exit 5"], false),
            stdin: false,
            stdout: true,
            stderr: true,
            detach: false,
        })
        .expect("exec");
    assert!(pid > 0);
    let (out, err) = a.expect("attached").read_to_end().expect("read");
    assert_eq!(
        (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err)),
        ("out\n".into(), "err\n".into())
    );
    assert_eq!(c.wait(Some("e1")).expect("wait exec").exit_code, 5);

    // exec -it
    let (_, a) = c
        .exec(ExecRequest {
            exec_id: "e2".into(),
            process: process(&f, &["sh", "-c", "read x; echo got $x; exit 4"], true),
            stdin: true,
            stdout: true,
            stderr: true,
            detach: false,
        })
        .expect("exec tty");
    let mut a = a.expect("attached");
    assert!(a.tty());
    c.resize(Some("e2"), 90, 20).expect("resize exec");
    a.write_all(b"hi\n").expect("write");
    read_until(&mut a, "got hi");
    assert_eq!(c.wait(Some("e2")).expect("wait exec").exit_code, 4);
    // the container is unaffected; exec output is not in the container's log
    assert_eq!(c.state().expect("state").status, Status::Running);
    assert!(f.log_lines().is_empty());
}

#[test]
fn the_shim_survives_the_death_of_its_starter() {
    let f = Fixture::new("orphan", &["sleep", "1000"]);
    // the starter runs inside a shell that kills itself with SIGKILL once it returns
    let cmd = f.shim_command(&[]);
    let mut line = format!("'{}'", cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        line.push_str(&format!(" '{}'", a.to_string_lossy()));
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{line} && kill -9 $$"))
        .output()
        .expect("run sh");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shim = f.shim_pid().expect("shim pid");
    assert!(!gone(shim), "the shim outlived its starter");
    let c = f.client();
    assert_eq!(c.state().expect("state").status, Status::Running);
    c.signal(None, 9, false).expect("signal");
    assert_eq!(c.wait(None).expect("wait").exit_code, 137);
    assert_eq!(
        status::read(&f.state_dir())
            .expect("exit.json")
            .map(|s| s.exit_code),
        Some(137)
    );
}

#[test]
fn attach_cycles_leak_no_fds() {
    let f = Fixture::new("fds", &["sleep", "1000"]);
    f.start(&["--stdin"]);
    let shim = f.shim_pid().expect("shim pid");
    let c = f.client();
    drop(c.attach(all_streams(true)).expect("attach"));
    c.state().expect("state");
    let before = fd_count(shim);
    for _ in 0..100 {
        let a = c.attach(all_streams(true)).expect("attach");
        drop(a);
    }
    c.state().expect("state");
    // `before` may still count the first state connection on a loaded machine; a leak would
    // show as 100 more descriptors, never fewer.
    let after = fd_count(shim);
    assert!(
        after <= before,
        "{after} descriptors after 100 attaches, {before} before"
    );
    assert_eq!(c.state().expect("state").status, Status::Running);
}

#[test]
fn nothing_is_left_after_exit_and_shutdown() {
    let f = Fixture::new("clean", &["true"]);
    f.start(&[]);
    let shim = f.shim_pid().expect("shim pid");
    let c = f.client();
    assert_eq!(c.wait(None).expect("wait").exit_code, 0);
    c.shutdown().expect("shutdown");
    assert!(wait_gone(shim), "the shim exited");
    assert!(!c.socket().exists(), "socket removed");
    assert!(!f.state_dir().join("shim.pid").exists());
    assert!(
        f.state_dir().join(status::EXIT_FILE).exists(),
        "exit.json kept"
    );
    assert!(!f.runtime_root().join(&f.id).exists(), "runtime state gone");
    assert_eq!(cgroup_dirs(&f.id), Vec::<std::path::PathBuf>::new());
}

#[test]
fn shutdown_is_refused_while_running() {
    let f = Fixture::new("busy", &["sleep", "1000"]);
    f.start(&[]);
    let e = f.client().shutdown().expect_err("refused");
    assert!(e.to_string().contains("is running"), "{e}");
}

#[test]
fn a_failed_start_reports_the_error_and_leaves_nothing() {
    let f = Fixture::new("fail", &["/no/such/program"]);
    let out = f.try_start(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/program"), "{err}");
    assert!(!f.state_dir().exists(), "state dir removed");
    assert!(!f.runtime_root().join(&f.id).exists(), "runtime state gone");
    assert_eq!(cgroup_dirs(&f.id), Vec::<std::path::PathBuf>::new());

    let f = Fixture::new("nobundle", &["true"]);
    std::fs::remove_dir_all(f.bundle().join("rootfs")).expect("remove rootfs");
    let out = f.try_start(&[]);
    assert!(!out.status.success());
    assert!(!f.state_dir().exists());
}

#[test]
fn an_oom_kill_is_recorded() {
    // tail buffers a "line" of /dev/zero that never ends
    let mut f = Fixture::new("oom", &["tail", "/dev/zero"]);
    f.config["linux"]["resources"]["memory"] = json!({"limit": 33554432});
    f.start(&[]);
    let st = f.client().wait(None).expect("wait");
    assert_eq!(
        (st.exit_code, st.signal, st.oom_killed),
        (137, Some(9), true)
    );
    assert_eq!(
        status::read(&f.state_dir())
            .expect("exit.json")
            .map(|s| s.oom_killed),
        Some(true)
    );
}

#[test]
fn a_client_that_does_not_read_never_blocks_the_container() {
    const SIZE: usize = 8_000_000;
    let f = Fixture::new(
        "slow",
        &["sh", "-c", "head -c 8000000 /dev/zero | tr '\\0' a; echo"],
    );
    f.start(&["--defer-start"]);
    let c = f.client();
    let mut slow = c.attach(all_streams(false)).expect("attach");
    c.start().expect("start");
    // the container finishes although this client reads nothing
    assert_eq!(c.wait(None).expect("wait").exit_code, 0);
    let mut got = Vec::new();
    // the shim has disconnected it: the stream ends short of the output
    let _ = std::io::Read::read_to_end(&mut slow, &mut got);
    assert!(
        got.len() < SIZE,
        "a stalled client got all {} bytes",
        got.len()
    );
    let logged: usize = f.log_lines().iter().map(|(_, t)| t.len()).sum();
    assert_eq!(logged, SIZE + 1, "the log has everything");
}
