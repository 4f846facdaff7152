//! Interactive containers through a real terminal: tmux runs `berth` (or `docker`) in a
//! detached session of a known size; `send-keys` types, `capture-pane -p` reads the screen.
//! Each test has its own daemon (own roots and socket) and its own tmux server, both killed
//! on drop. Screens are polled with a bounded number of tries; nothing asserts on time.

mod engine_harness;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use engine_harness::{Daemon, bin_dir, docker_bin, stderr};

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of its own with one session running bash, killed on drop.
struct Tmux {
    server: String,
}

impl Tmux {
    fn new(width: u16, height: u16) -> Self {
        let tmux_ok = Command::new("tmux").arg("-V").output().is_ok();
        assert!(tmux_ok, "tmux is missing: apt-get install tmux");
        let server = format!(
            "berth-it-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux { server };
        let out = t
            .cmd()
            .args(["new-session", "-d", "-s", "main", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .args([
                "env",
                "-i",
                "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
                "HOME=/root",
            ])
            .args(["PS1=host$ ", "bash", "--norc", "--noprofile"])
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux new-session: {}", stderr(&out));
        t.wait_screen("the host shell's prompt", |s| s.contains("host$"));
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.server);
        c
    }

    fn tmux(&self, args: &[&str]) {
        let out = self.cmd().args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", stderr(&out));
    }

    /// Types `text` literally, then Enter.
    fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
        self.tmux(&["send-keys", "-t", "main", "Enter"]);
    }

    /// Sends tmux key names (`C-c`, `C-p`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "main"])
            .output()
            .expect("run tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `f` holds (a bounded number of tries).
    fn wait_screen(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        for _ in 0..600 {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("screen never showed {what}:\n{}", self.screen());
    }

    /// Waits for `needle` to appear on a line of its own.
    fn wait_line(&self, needle: &str) -> String {
        self.wait_screen(needle, |s| s.lines().any(|l| l.trim_end() == needle))
    }

    /// Waits for the client's exit code, printed by `echo "rc=$?"` after it.
    fn wait_rc(&self, code: i32) -> String {
        let want = format!("rc={code}");
        self.wait_screen(&want, |s| s.lines().any(|l| l.trim_end().ends_with(&want)))
    }

    fn clear(&self) {
        self.tmux(&["clear-history", "-t", "main"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn berth_cmd(d: &Daemon) -> String {
    format!("{} -H {}", bin_dir().join("berth").display(), d.host())
}

fn docker_cmd(d: &Daemon) -> String {
    format!("{} -H {}", docker_bin().display(), d.host())
}

/// Runs a shell in the pane with `client`, checks the prompt, typing, `stty size` before
/// and after a resize, Ctrl-C, and `exit 7`.
fn shell_session(t: &Tmux, client_line: &str, prompt: &str, sleep_secs: u32) {
    t.line(&format!("{client_line}; echo \"rc=$?\""));
    t.wait_screen("the container's prompt", |s| s.contains(prompt));
    t.line("echo $((6*7))");
    t.wait_line("42");
    t.line("stty size");
    t.wait_line("40 120");
    t.tmux(&["resize-window", "-t", "main", "-x", "100", "-y", "30"]);
    t.line("clear; stty size");
    t.wait_line("30 100");
    // A duration unique to the test, to find its process on the host.
    let sleep = format!("sleep {sleep_secs}");
    t.line(&sleep);
    engine_harness::eventually("the sleep to run", || engine_harness::process_with(&sleep));
    t.keys(&["C-c"]);
    engine_harness::eventually("the sleep to end", || !engine_harness::process_with(&sleep));
    t.line("echo still-$((1+1))");
    t.wait_line("still-2");
    t.line("exit 7");
    t.wait_rc(7);
}

#[test]
fn berth_run_it_shell() {
    let d = Daemon::start();
    let t = Tmux::new(120, 40);
    shell_session(
        &t,
        &format!("{} run -it --rm busybox sh", berth_cmd(&d)),
        "/ #",
        4101,
    );
    // The terminal is back in cooked mode: the host shell echoes and runs a line.
    t.line("echo host-$((2+3))");
    t.wait_line("host-5");
}

#[test]
fn berth_exec_it_shell_and_exit_codes() {
    let d = Daemon::start();
    let out = d.berth(&["run", "-d", "--name", "ex", "busybox", "sleep", "1000"]);
    assert!(out.status.success(), "run -d: {}", stderr(&out));
    let t = Tmux::new(120, 40);
    shell_session(
        &t,
        &format!("{} exec -it ex sh", berth_cmd(&d)),
        "/ #",
        4102,
    );
    let out = d.berth(&["exec", "ex", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let out = d.berth(&["exec", "ex", "no-such-program"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let out = d.berth_in(&["exec", "-i", "ex", "cat"], b"piped\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped\n");
    let out = d.berth(&[
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        "-e",
        "X=y",
        "ex",
        "sh",
        "-c",
        "id -u; pwd; echo $X",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1000\n/tmp\ny\n");
    // The exec'd process is in the container's namespaces and cgroup, with its capability
    // bounding set and seccomp filter.
    let same =
        |what: &str| format!(r#"[ "$({what} /proc/self/{{}})" = "$({what} /proc/1/{{}})" ]"#);
    let script = [
        same("readlink").replace("{}", "ns/pid"),
        same("readlink").replace("{}", "ns/mnt"),
        same("readlink").replace("{}", "ns/net"),
        same("cat").replace("{}", "cgroup"),
        r#"[ "$(grep -E 'CapBnd|CapEff|Seccomp:' /proc/self/status)" = "$(grep -E 'CapBnd|CapEff|Seccomp:' /proc/1/status)" ]"#.to_owned(),
        "grep -q 'Seccomp:.*2' /proc/self/status".to_owned(),
    ]
    .join(" && ")
        + " && echo same";
    let out = d.berth(&["exec", "ex", "sh", "-c", &script]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "same\n",
        "{}",
        stderr(&out)
    );
    let out = d.berth(&["exec", "-d", "ex", "sleep", "5"]);
    assert!(out.status.success(), "exec -d: {}", stderr(&out));
}

#[test]
fn berth_detach_keys_and_reattach() {
    let d = Daemon::start();
    let t = Tmux::new(120, 40);
    let b = berth_cmd(&d);
    t.line(&format!("{b} run -it --name dt busybox sh; echo \"rc=$?\""));
    t.wait_screen("the prompt", |s| s.contains("/ #"));
    t.keys(&["C-p", "C-q"]);
    t.wait_rc(0);
    assert_eq!(d.inspect("dt", "{{.State.Running}}"), "true");
    t.clear();
    t.line(&format!("clear; {b} attach dt; echo \"rc=$?\""));
    t.line("echo again-$((1+2))");
    t.wait_line("again-3");
    t.keys(&["C-p", "C-q"]);
    t.wait_rc(0);
    assert_eq!(d.inspect("dt", "{{.State.Running}}"), "true");
    // Other keys, then a bad sequence.
    t.line(&format!(
        "clear; {b} attach --detach-keys=ctrl-x,y dt; echo \"rc=$?\""
    ));
    t.line("echo third");
    t.wait_line("third");
    t.keys(&["C-x", "y"]);
    t.wait_rc(0);
    let out = d.berth(&["attach", "--detach-keys=ctrl-1", "dt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Invalid detach keys"),
        "{}",
        stderr(&out)
    );
    t.line(&format!("clear; {b} attach dt; echo \"rc=$?\""));
    t.line("exit 5");
    t.wait_rc(5);
    // start -ai.
    t.line("clear");
    t.wait_screen("a clear screen", |s| !s.contains("/ #"));
    t.line(&format!("clear; {b} start -ai dt; echo \"rc=$?\""));
    t.wait_screen("the prompt again", |s| s.contains("/ #"));
    t.line("exit 6");
    t.wait_rc(6);
}

#[test]
fn docker_cli_run_exec_attach() {
    let d = Daemon::start();
    let t = Tmux::new(120, 40);
    let dk = docker_cmd(&d);
    shell_session(&t, &format!("{dk} run -it --rm busybox sh"), "/ #", 4103);
    // A fresh terminal of a known size (tmux under load does not always take a resize back).
    drop(t);
    let t = Tmux::new(120, 40);
    t.line(&format!("clear; {dk} run -d -it --name dd busybox sh"));
    t.line(&format!("clear; {dk} exec -it dd sh; echo \"rc=$?\""));
    t.wait_screen("the exec prompt", |s| s.contains("/ #"));
    t.line("stty size");
    t.wait_line("40 120");
    t.line("exit 7");
    t.wait_rc(7);
    t.line(&format!("clear; {dk} attach dd; echo \"rc=$?\""));
    t.line("echo att-$((4+4))");
    t.wait_line("att-8");
    t.keys(&["C-p", "C-q"]);
    // docker's CLI detaches itself, saying so and exiting 1, as against dockerd.
    t.wait_rc(1);
    assert!(t.screen().contains("read escape sequence"));
    assert_eq!(d.inspect("dd", "{{.State.Running}}"), "true");
}

#[test]
fn stdin_without_tty_streams_and_closes() {
    let d = Daemon::start();
    let out = d.berth_in(&["run", "-i", "--rm", "busybox", "cat"], b"hi\n");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(out.status.code(), Some(0));
    let out = d.berth_in(
        &[
            "run",
            "-i",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat; echo err >&2",
        ],
        b"in\n",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in\n");
    assert_eq!(stderr(&out), "err\n");
}

#[test]
fn bad_interactive_requests() {
    let d = Daemon::start();
    let out = d.berth(&["run", "-d", "-it", "--name", "bad", "busybox", "sh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for q in ["h=0&w=80", "h=24&w=0", "h=99999&w=80", "h=x&w=1", "w=80"] {
        let (status, body) = d.http("POST", &format!("/containers/bad/resize?{q}"), "");
        assert_eq!(status, 400, "{q}: {body}");
    }
    assert_eq!(
        d.http("POST", "/containers/bad/resize?h=24&w=80", "").0,
        200
    );
    let (status, _) = d.http(
        "POST",
        "/containers/bad/attach?stream=1&stdin=1&detachKeys=ctrl-%3F%3F",
        "",
    );
    assert_eq!(status, 400);
    let (status, body) = d.http("GET", "/exec/nope/json", "");
    assert_eq!(status, 404);
    assert!(body.contains("No such exec instance: nope"), "{body}");
    let (status, body) = d.http("POST", "/exec/nope/start", "{}");
    assert_eq!(status, 404, "{body}");
    let out = d.berth(&["create", "--name", "stopped", "busybox"]);
    assert!(out.status.success());
    let (status, body) = d.http("POST", "/containers/stopped/exec", r#"{"Cmd":["true"]}"#);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("is not running"), "{body}");
    // A client that goes away mid-stream, and one that closes stdin at once: the container
    // and the daemon carry on.
    for _ in 0..3 {
        let mut s = hijack(&d, "/containers/bad/attach?stream=1&stdin=1&stdout=1");
        s.write_all(b"echo x\n").ok();
        drop(s);
        let s = hijack(&d, "/containers/bad/attach?stream=1&stdin=1&stdout=1");
        s.shutdown(std::net::Shutdown::Write).ok();
        drop(s);
    }
    let out = d.berth(&["exec", "bad", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(d.inspect("bad", "{{.State.Running}}"), "true");
}

/// Opens a hijacked attach and reads up to the end of the 101 response's head.
fn hijack(d: &Daemon, path: &str) -> UnixStream {
    let mut s = UnixStream::connect(d.sock()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("write");
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => panic!("no 101: {}", String::from_utf8_lossy(&head)),
        }
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The pid of the process whose command line has every needle.
fn pid_with(needles: &[&str]) -> u32 {
    for e in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if needles.iter().all(|n| cmdline.contains(n)) {
            return pid;
        }
    }
    panic!("no process with {needles:?}");
}

#[test]
fn attach_detach_cycles_leak_no_fds() {
    let d = Daemon::start();
    let out = d.berth(&["run", "-d", "-it", "--name", "fds", "busybox", "sh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = d.inspect("fds", "{{.Id}}");
    let sock = d.sock().display().to_string();
    let daemon = pid_with(&["berthd", &sock]);
    let shim = pid_with(&["berth-shim", &id]);
    let cycle = || {
        let mut s = hijack(
            &d,
            "/containers/fds/attach?stream=1&stdin=1&stdout=1&stderr=1",
        );
        s.write_all(b"\x10\x11").expect("send detach keys");
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    };
    // Warm up (lazily opened files), then measure.
    for _ in 0..5 {
        cycle();
    }
    let settle = |pid: u32, want: usize| {
        for _ in 0..200 {
            if fd_count(pid) <= want {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    };
    let (d0, s0) = (fd_count(daemon), fd_count(shim));
    for _ in 0..100 {
        cycle();
    }
    settle(daemon, d0);
    settle(shim, s0);
    let (d1, s1) = (fd_count(daemon), fd_count(shim));
    assert!(d1 <= d0, "berthd fds {d0} -> {d1}");
    assert!(s1 <= s0, "shim fds {s0} -> {s1}");
    assert_eq!(d.inspect("fds", "{{.State.Running}}"), "true");
}
