//! Fixtures for the shim's real-kernel tests: a busybox bundle whose config.json is berth's
//! default spec, a private runtime root and shim state dir, and a guard that kills and removes
//! whatever a test left (shim, container, cgroup, state) even when it fails.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use berth_shim::ShimClient;
use berth_shim::protocol::SOCKET_NAME;
use serde_json::{Value, json};

/// The shim binary under test.
pub fn shim_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth-shim")
}

pub use berth_testkit::{cgroup_dirs, unique_id};

/// A bundle plus the shim's directories; cleaned up on drop.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub id: String,
    pub config: Value,
}

impl Fixture {
    /// A busybox bundle running `args`.
    pub fn new(prefix: &str, args: &[&str]) -> Fixture {
        berth_testkit::require_root("run them as root");
        let dir = tempfile::Builder::new()
            .prefix("berth-shim-test")
            .tempdir()
            .expect("temp dir");
        let bundle = dir.path().join("bundle");
        berth_testkit::busybox_rootfs(&bundle.join("rootfs"));
        let spec = berth_runtime::defaults::default_spec().expect("default spec");
        let mut config = serde_json::to_value(&spec).expect("spec to JSON");
        config["root"]["path"] = json!("rootfs");
        config["process"]["args"] = json!(args);
        config["process"]["terminal"] = json!(false);
        Fixture {
            id: unique_id(prefix),
            dir,
            config,
        }
    }

    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("shims").join(&self.id)
    }
    pub fn runtime_root(&self) -> PathBuf {
        self.dir.path().join("runtime")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("container.log")
    }
    pub fn client(&self) -> ShimClient {
        ShimClient::new(self.state_dir().join(SOCKET_NAME))
    }

    /// The shim command line (without running it).
    pub fn shim_command(&self, extra: &[&str]) -> Command {
        std::fs::write(
            self.bundle().join("config.json"),
            serde_json::to_vec_pretty(&self.config).expect("serialize config"),
        )
        .expect("write config.json");
        let mut cmd = Command::new(shim_bin());
        cmd.arg("--id")
            .arg(&self.id)
            .arg("--bundle")
            .arg(self.bundle())
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--runtime-root")
            .arg(self.runtime_root())
            .arg("--log")
            .arg(self.log())
            .args(extra);
        cmd
    }

    /// Start the shim; it returns once the container runs (or failed).
    pub fn try_start(&self, extra: &[&str]) -> Output {
        self.shim_command(extra).output().expect("run berth-shim")
    }

    /// Start the shim and return the container's init pid.
    pub fn start(&self, extra: &[&str]) -> i32 {
        let out = self.try_start(extra);
        assert!(
            out.status.success(),
            "berth-shim failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the shim prints the init pid")
    }

    /// The shim's pid from its pid file.
    pub fn shim_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state_dir().join("shim.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The json-file log as (stream, text) pairs; checks every line's shape.
    pub fn log_lines(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("log line is JSON");
                let obj = v.as_object().expect("log line is an object");
                assert_eq!(obj.len(), 3, "{l}");
                let time = v["time"].as_str().expect("time");
                assert_eq!(time.len(), 30, "RFC 3339 with nanoseconds: {time}");
                assert!(time.ends_with('Z') && &time[10..11] == "T", "{time}");
                (
                    v["stream"].as_str().expect("stream").to_owned(),
                    v["log"].as_str().expect("log").to_owned(),
                )
            })
            .collect()
    }
}

/// Whether `pid` is gone (no process, or a zombie nobody reaped yet).
pub fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Wait (bounded) until `pid` is gone.
pub fn wait_gone(pid: i32) -> bool {
    for _ in 0..500 {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Open descriptors of `pid`, once the count has settled.
pub fn fd_count(pid: i32) -> usize {
    let mut last = usize::MAX;
    for _ in 0..100 {
        let n = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("read the shim's fd dir")
            .count();
        if n == last {
            return n;
        }
        last = n;
        std::thread::sleep(Duration::from_millis(10));
    }
    last
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let client = self.client();
        let shim = self.shim_pid().map(nix::unistd::Pid::from_raw);
        if client.socket().exists() {
            let _ = client.signal(None, 9, true);
            let _ = client.wait(None);
            let _ = client.shutdown();
            // The shim deletes the container (cgroup included) on its way out: a SIGKILL
            // during that would leave the cgroup behind. Give it a few seconds.
            if let Some(pid) = shim {
                for _ in 0..100 {
                    // Gone, or a zombie waiting for its reaper.
                    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
                    let state = stat.as_deref().ok().and_then(|t| {
                        t.rfind(')')
                            .and_then(|i| t[i + 1..].split_whitespace().next())
                    });
                    if matches!(state, None | Some("Z")) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
        }
        if let Some(pid) = shim {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        if let Ok(c) = berth_runtime::Runtime::new(self.runtime_root()).load(&self.id) {
            let _ = c.delete(true);
        }
    }
}
