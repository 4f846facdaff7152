//! Shared test fixtures: a busybox bundle with a config.json from `berth-runtime spec`,
//! patched per test, driven through the runtime binary with its own `--root`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

/// The runtime binary under test.
pub fn runtime_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth-runtime")
}

pub use berth_testkit::{stderr, stdout, unique_id};

/// A bundle (busybox rootfs + config.json) and a private state root; cleaned up on drop.
pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub id: String,
    pub config: Value,
}

impl Bundle {
    /// A busybox bundle whose config is `berth-runtime spec` with `args`.
    pub fn new(prefix: &str, args: &[&str]) -> Bundle {
        berth_testkit::require_root("run them as root (sudo)");
        let dir = tempfile::Builder::new()
            .prefix("berth-rt-test")
            .tempdir()
            .expect("temp dir");
        berth_testkit::busybox_rootfs(&dir.path().join("rootfs"));
        let spec = Command::new(runtime_bin())
            .args(["spec", "--bundle"])
            .arg(dir.path())
            .output()
            .expect("run berth-runtime spec");
        assert!(spec.status.success(), "spec: {}", stderr(&spec));
        let text = std::fs::read_to_string(dir.path().join("config.json")).expect("config.json");
        let mut config: Value = serde_json::from_str(&text).expect("config.json parses");
        config["root"]["path"] = json!("rootfs");
        config["process"]["args"] = json!(args);
        config["process"]["terminal"] = json!(false);
        let root = dir.path().join("state");
        Bundle {
            root,
            id: unique_id(prefix),
            dir,
            config,
        }
    }

    /// The bundle directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write the (patched) config.json.
    pub fn write_config(&self) {
        std::fs::write(
            self.path().join("config.json"),
            serde_json::to_vec_pretty(&self.config).expect("serialize config"),
        )
        .expect("write config.json");
    }

    /// A runtime command with this bundle's `--root`.
    pub fn runtime(&self) -> Command {
        let mut cmd = Command::new(runtime_bin());
        cmd.arg("--root").arg(&self.root);
        cmd
    }

    /// `berth-runtime run`: write the config, run the container to its end, collect output.
    pub fn run(&self) -> Output {
        self.write_config();
        self.runtime()
            .args(["run", "--bundle"])
            .arg(self.path())
            .arg(&self.id)
            .stdin(Stdio::null())
            .output()
            .expect("run berth-runtime run")
    }

    /// `berth-runtime create` (the process waits for `start`). The container inherits the
    /// caller's stdio, as with runc, so its output goes to files, not to pipes that would stay
    /// open for as long as the container lives.
    pub fn create(&self) -> Output {
        self.write_config();
        let log = self.path().join("create.stderr");
        let err = std::fs::File::create(&log).expect("create stderr file");
        let status = self
            .runtime()
            .args(["create", "--bundle"])
            .arg(self.path())
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .status()
            .expect("run berth-runtime create");
        Output {
            status,
            stdout: Vec::new(),
            stderr: std::fs::read(&log).unwrap_or_default(),
        }
    }

    /// A runtime verb on this container, e.g. `["start"]`, `["kill", "KILL"]`.
    pub fn verb(&self, args: &[&str]) -> Output {
        let (verb, rest) = args.split_first().expect("a verb");
        self.runtime()
            .arg(verb)
            .arg(&self.id)
            .args(rest)
            .output()
            .expect("run berth-runtime verb")
    }

    /// The container's OCI state as JSON.
    pub fn state(&self) -> Value {
        let out = self.verb(&["state"]);
        assert!(out.status.success(), "state: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("state JSON")
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self
            .runtime()
            .args(["delete", "--force"])
            .arg(&self.id)
            .output();
    }
}
