//! The event loop against plain child processes (no container): log, wait, attach, stdin,
//! signals, exec, bad requests and fd hygiene. The real-container tests are in `tests/`.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use berth_shim::ShimClient;
use berth_shim::logfile::{LogEntry, LogWriter};
use berth_shim::protocol::{AttachRequest, ExecRequest, SOCKET_NAME, Status};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use super::{Config, Shim};
use crate::backend::{Backend, Spawned};
use crate::proc::{Proc, plumbing};

struct ChildBackend {
    init: Pid,
}

fn spawn(args: &[String], stdio: [OwnedFd; 3]) -> anyhow::Result<Pid> {
    let [i, o, e] = stdio;
    let child = Command::new(&args[0])
        .args(&args[1..])
        .stdin(Stdio::from(i))
        .stdout(Stdio::from(o))
        .stderr(Stdio::from(e))
        .spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}

impl Backend for ChildBackend {
    fn start(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    fn kill(&self, signal: Signal, _all: bool) -> anyhow::Result<()> {
        Ok(nix::sys::signal::kill(self.init, signal)?)
    }
    fn exec(
        &self,
        process: &oci_spec::runtime::Process,
        stdio: Option<[OwnedFd; 3]>,
    ) -> anyhow::Result<Spawned> {
        let args = process.args().clone().unwrap_or_default();
        let stdio = stdio.ok_or_else(|| anyhow::anyhow!("no tty in this backend"))?;
        Ok(Spawned {
            pid: spawn(&args, stdio)?,
            pty: None,
        })
    }
    fn oom_killed(&self) -> bool {
        false
    }
    fn delete(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A loop serving a plain child process. The loop runs in a forked process, single-threaded
/// as the real shim is: its signalfd must see every SIGCHLD, which in the multi-threaded test
/// harness another thread could take.
struct Running {
    dir: tempfile::TempDir,
    client: ShimClient,
    loop_pid: Option<Pid>,
}

impl Running {
    fn log(&self) -> PathBuf {
        self.dir.path().join("c.log")
    }
    fn fds(&self) -> usize {
        let pid = self.loop_pid.map_or(0, Pid::as_raw);
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count()
    }
    fn stop(mut self) {
        let _ = self.client.signal(None, 9, false);
        let _ = self.client.wait(None);
        self.client.shutdown().unwrap();
        if let Some(pid) = self.loop_pid.take() {
            assert_eq!(waitpid(pid, None).unwrap(), WaitStatus::Exited(pid, 0));
        }
        assert!(self.dir.path().join("exit.json").exists());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(pid) = self.loop_pid.take() {
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

fn serve(dir: &Path, args: &[&str], stdin: bool, listener: UnixListener) -> anyhow::Result<()> {
    let log = LogWriter::open(&dir.join("c.log"))?;
    let pl = plumbing(stdin, true, true)?;
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let pid = spawn(&args, pl.child)?;
    let init = Proc::with_pipes(None, pid, pl.stdin, pl.out);
    let cfg = Config {
        id: "c1".into(),
        state_dir: dir.to_path_buf(),
        started: true,
        stdin,
    };
    let mut shim = Shim::new(cfg, ChildBackend { init: pid }, init, listener, Some(log))?;
    shim.run()
}

fn run(args: &[&str], stdin: bool) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join(SOCKET_NAME);
    let listener = UnixListener::bind(&sock).unwrap();
    // the forked child only builds the loop and runs it, then exits without unwinding
    // into the test harness
    match crate::sys::fork().unwrap() {
        ForkResult::Child => {
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                serve(dir.path(), args, stdin, listener).is_ok()
            }));
            std::process::exit(if matches!(ok, Ok(true)) { 0 } else { 1 });
        }
        ForkResult::Parent { child } => Running {
            client: ShimClient::new(&sock),
            dir,
            loop_pid: Some(child),
        },
    }
}

fn log_lines(p: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| {
            let e: LogEntry = serde_json::from_str(l).unwrap();
            (e.stream.into_owned(), e.log.into_owned())
        })
        .collect()
}

#[test]
fn output_goes_to_the_log_and_wait_returns_the_code() {
    let r = run(&["sh", "-c", "echo out; echo err >&2; exit 3"], false);
    let st = r.client.wait(None).unwrap();
    assert_eq!((st.exit_code, st.signal), (3, None));
    let lines = log_lines(&r.log());
    assert!(
        lines.contains(&("stdout".into(), "out\n".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("stderr".into(), "err\n".into())),
        "{lines:?}"
    );
    assert_eq!(r.client.state().unwrap().status, Status::Stopped);
    r.stop();
}

#[test]
fn attach_sends_stdin_and_gets_framed_output() {
    let r = run(&["cat"], true);
    let mut a = r
        .client
        .attach(AttachRequest {
            stdin: true,
            stdout: true,
            stderr: true,
            close_stdin: true,
            ..AttachRequest::default()
        })
        .unwrap();
    assert!(!a.tty());
    a.write_all(b"hello\n").unwrap();
    a.close_stdin().unwrap();
    let (out, err) = a.read_to_end().unwrap();
    assert_eq!(
        (out.as_slice(), err.as_slice()),
        (&b"hello\n"[..], &b""[..])
    );
    assert_eq!(r.client.wait(None).unwrap().exit_code, 0);
    r.stop();
}

#[test]
fn a_signal_is_recorded_as_128_plus_signal() {
    let r = run(&["sleep", "100"], false);
    r.client.signal(None, 15, false).unwrap();
    let st = r.client.wait(None).unwrap();
    assert_eq!((st.exit_code, st.signal), (143, Some(15)));
    assert!(r.client.signal(None, 15, false).is_err());
    r.stop();
}

#[test]
fn exec_has_its_own_output_and_exit_code() {
    let r = run(&["sleep", "100"], false);
    let mut p = oci_spec::runtime::Process::default();
    p.set_args(Some(vec![
        "sh".into(),
        "-c".into(),
        "echo x; exit 5".into(),
    ]));
    let (pid, a) = r
        .client
        .exec(ExecRequest {
            exec_id: "e1".into(),
            process: p.clone(),
            stdin: false,
            stdout: true,
            stderr: true,
            detach: false,
        })
        .unwrap();
    assert!(pid > 0);
    let (out, _) = a.unwrap().read_to_end().unwrap();
    assert_eq!(out, b"x\n");
    assert_eq!(r.client.wait(Some("e1")).unwrap().exit_code, 5);
    let e = r
        .client
        .exec(ExecRequest {
            exec_id: "e1".into(),
            process: p,
            stdin: false,
            stdout: true,
            stderr: true,
            detach: true,
        })
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert!(r.client.wait(Some("nope")).is_err());
    assert!(
        r.client.shutdown().is_err(),
        "shutdown refused while running"
    );
    r.stop();
}

#[test]
fn malformed_requests_get_an_error_and_the_shim_carries_on() {
    use std::io::{BufRead, BufReader};
    let r = run(&["sleep", "100"], false);
    for bad in ["{\n", "null\n", "{\"type\":\"nope\"}\n", "\u{1}\u{2}\n"] {
        let mut s = std::os::unix::net::UnixStream::connect(r.client.socket()).unwrap();
        s.write_all(bad.as_bytes()).unwrap();
        let mut line = String::new();
        let mut rd = BufReader::new(s);
        rd.read_line(&mut line).unwrap();
        assert!(line.contains("\"ok\":false"), "{line}");
        line.clear();
        assert_eq!(rd.read_line(&mut line).unwrap(), 0, "connection closed");
    }
    assert_eq!(r.client.state().unwrap().status, Status::Running);
    r.stop();
}

#[test]
fn attach_cycles_leak_no_fds() {
    let r = run(&["sleep", "100"], false);
    // the shim closes a connection as soon as it sees the hang-up: let the count settle
    // the shim closes a connection as soon as it sees the hang-up: let the count settle
    let count = || {
        let mut last = usize::MAX;
        for _ in 0..100 {
            let n = r.fds();
            if n == last {
                return n;
            }
            last = n;
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        last
    };
    let req = AttachRequest {
        stdout: true,
        stderr: true,
        ..AttachRequest::default()
    };
    drop(r.client.attach(req.clone()).unwrap());
    r.client.state().unwrap();
    let before = count();
    for _ in 0..100 {
        drop(r.client.attach(req.clone()).unwrap());
    }
    // the loop has seen every hang-up once it answers a later request
    r.client.state().unwrap();
    r.client.state().unwrap();
    let after = count();
    // `before` may still hold the first state connection when a loaded machine delays the
    // loop's hang-up; a leak would show as 100 more descriptors, never fewer.
    assert!(
        after <= before,
        "{after} descriptors after 100 attaches, {before} before"
    );
    r.stop();
}
