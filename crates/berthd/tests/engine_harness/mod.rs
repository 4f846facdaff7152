//! A real berthd on the engine, for end-to-end tests: its own data root, exec root and
//! socket; a busybox image imported through the API; everything cleaned up on drop
//! (containers force-removed, daemon killed, stray shims killed, mounts and cgroups gone).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Builds `berth-shim` and `berth` once (the test harness only builds `berthd`).
pub fn bin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let daemon = PathBuf::from(env!("CARGO_BIN_EXE_berthd"));
        let dir = daemon.parent().expect("bin dir").to_path_buf();
        // scripts/test.sh and scripts/uml-v2-tests.sh build them first (in the UML guest even a
        // no-op cargo build costs seconds; on the host it would rebuild them with other
        // features).
        if std::env::var_os("BERTH_TEST_BINS_BUILT").is_some() {
            assert!(dir.join("berth-shim").exists(), "no berth-shim in {dir:?}");
            return dir;
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "berth-shim", "-p", "berth"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build for berth-shim and berth");
        assert!(
            status.success(),
            "cargo build -p berth-shim -p berth failed"
        );
        assert!(dir.join("berth-shim").exists(), "no berth-shim in {dir:?}");
        dir
    })
    .clone()
}

/// `docker` from /usr/local/bin or PATH.
pub fn docker_bin() -> PathBuf {
    let p = Path::new("/usr/local/bin/docker");
    if p.exists() {
        return p.to_path_buf();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("docker"))
                .find(|p| p.exists())
        })
        .expect("the docker CLI is missing: apt-get install docker.io (its client only)")
}

pub use berth_testkit::{busybox_tar, cgroup_dirs, stderr, stdout};

pub struct Daemon {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    ids: std::cell::RefCell<Vec<String>>,
    /// The default bridge's Linux name, unique per daemon (`bh<pid>x<n>`).
    pub bridge: String,
    /// The default address pool, a /21 of its own per daemon.
    pub pool: String,
    /// More berthd flags, given at every (re)start.
    pub extra_args: Vec<String>,
}

/// A bridge name and an address pool no other daemon of this test process uses (and, by the
/// pid, very likely none of another test process).
pub fn unique_network() -> (String, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pid = std::process::id();
    (
        format!("bh{pid}x{n}"),
        format!("base=10.{}.{}.0/21,size=24", 100 + pid % 100, (n % 32) * 8),
    )
}

/// Removes a daemon's default bridge and its nftables table, should the daemon have died
/// without taking them down.
pub fn remove_bridge(bridge: &str) {
    if Path::new("/sys/class/net").join(bridge).exists() {
        let _ = Command::new("ip").args(["link", "del", bridge]).status();
    }
    let _ = Command::new("nft")
        .args(["delete", "table", "ip", &format!("berth_{bridge}")])
        .stderr(Stdio::null())
        .status();
}

impl Daemon {
    /// Starts a daemon and imports busybox as `busybox:latest` (CMD sh).
    pub fn start() -> Self {
        Self::start_with_bridge(None, &[])
    }

    /// [`Daemon::start`] with `--bridge none`: no default bridge network, so no firewall
    /// (containers run with `--network none`).
    pub fn start_without_bridge() -> Self {
        Self::start_with_bridge(Some("none"), &[])
    }

    /// [`Daemon::start`] with more berthd flags (kept for restarts).
    pub fn start_with(extra_args: &[&str]) -> Self {
        Self::start_with_bridge(None, extra_args)
    }

    fn start_with_bridge(bridge: Option<&str>, extra_args: &[&str]) -> Self {
        let bins = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("berth-e2e-")
            .tempdir()
            .expect("temp dir");
        let (unique, pool) = unique_network();
        let bridge = bridge.map_or(unique, str::to_owned);
        let mut d = Self {
            child: None,
            dir,
            ids: Default::default(),
            bridge,
            pool,
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
        };
        d.spawn(&bins);
        let tar = busybox_tar(d.dir.path());
        let out = d.docker(&[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().expect("utf-8 path"),
            "busybox",
        ]);
        assert!(out.status.success(), "import: {}", stderr(&out));
        d
    }

    fn spawn(&mut self, bins: &Path) {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("berthd.log"))
            .expect("daemon log");
        let child = Command::new(bins.join("berthd"))
            .arg("-H")
            .arg(self.host())
            .arg("--data-root")
            .arg(self.data_root())
            .arg("--exec-root")
            .arg(self.exec_root())
            .arg("--bridge")
            .arg(&self.bridge)
            .arg("--default-address-pool")
            .arg(&self.pool)
            .args(&self.extra_args)
            .env("BERTH_SHIM", bins.join("berth-shim"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn berthd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while UnixStream::connect(self.sock()).is_err() {
            assert!(
                Instant::now() < deadline,
                "berthd did not listen within 15s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the daemon (SIGKILL, as a crash) and starts it again on the same roots.
    pub fn restart(&mut self) {
        self.kill_daemon();
        let _ = std::fs::remove_file(self.sock());
        self.spawn(&bin_dir());
    }

    /// Kills the daemon (SIGKILL, as a crash) and leaves it down; `restart` starts it again.
    pub fn crash(&mut self) {
        self.kill_daemon();
    }

    fn kill_daemon(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the daemon with SIGTERM (it takes unused networks out of the kernel), SIGKILL
    /// after 10s.
    pub fn stop_daemon(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends `signal` (`TERM`, `INT`) and waits up to `limit` for the daemon to exit on its
    /// own: its exit status, or `None` when it was still running (then it is SIGKILLed).
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        limit: Duration,
    ) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-s", signal, &c.id().to_string()])
            .status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Starts the daemon again after [`Daemon::signal_and_wait`] or [`Daemon::crash`].
    pub fn start_again(&mut self) {
        let _ = std::fs::remove_file(self.sock());
        self.spawn(&bin_dir());
    }

    /// The daemon's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn sock(&self) -> PathBuf {
        self.dir.path().join("berth.sock")
    }
    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn exec_root(&self) -> PathBuf {
        self.dir.path().join("exec")
    }
    pub fn host(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// Runs the docker CLI against this daemon (20 s at most).
    pub fn docker(&self, args: &[&str]) -> Output {
        self.cli(docker_bin(), args, None)
    }

    /// Runs the docker CLI with `input` on stdin.
    pub fn docker_in(&self, args: &[&str], input: &[u8]) -> Output {
        self.cli(docker_bin(), args, Some(input))
    }

    /// Runs berth's CLI against this daemon.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.cli(bin_dir().join("berth"), args, None)
    }

    /// Runs berth's CLI with `input` on stdin.
    pub fn berth_in(&self, args: &[&str], input: &[u8]) -> Output {
        self.cli(bin_dir().join("berth"), args, Some(input))
    }

    fn cli(&self, bin: PathBuf, args: &[&str], input: Option<&[u8]>) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.arg("60")
            .arg(bin)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn CLI");
        if let Some(data) = input {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(data).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait CLI");
        if let Some(id) = stdout(&out).lines().next().map(str::trim)
            && id.len() == 64
        {
            self.ids.borrow_mut().push(id.to_owned());
        }
        out
    }

    /// Runs a Python script with the `docker` package against this daemon; `client` is
    /// a `docker.APIClient` on API 1.45 (120 s at most).
    pub fn python(&self, script: &str) -> Output {
        let probe = Command::new("python3")
            .args(["-c", "import docker"])
            .output();
        assert!(
            probe.is_ok_and(|o| o.status.success()),
            "python3 with the docker package is missing: apt-get install python3-docker"
        );
        let prelude = format!(
            "import docker\nclient = docker.APIClient(base_url='unix://{}', version='1.45')\n",
            self.sock().display()
        );
        Command::new("timeout")
            .args(["120", "python3", "-c"])
            .arg(prelude + script)
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .output()
            .expect("run python3")
    }

    /// Runs a [`Daemon::python`] script that must print `ok` as its last line.
    pub fn python_ok(&self, script: &str) {
        let out = self.python(script);
        assert_eq!(
            stdout(&out).lines().last().unwrap_or("").trim(),
            "ok",
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// One HTTP/1.1 exchange: (status, body).
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.http_with(method, path, &[("Content-Type", "application/json")], body)
    }

    /// One HTTP/1.1 exchange with extra `headers`: (status, body). A daemon that cannot be
    /// reached gives status 0 (no panic: `Drop` uses this, possibly while a test panics).
    pub fn http_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let Ok(mut s) = UnixStream::connect(self.sock()) else {
            return (0, String::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        if write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .is_err()
        {
            return (0, String::new());
        }
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    /// `docker inspect -f FORMAT NAME`, trimmed.
    pub fn inspect(&self, name: &str, format: &str) -> String {
        let out = self.docker(&["inspect", "-f", format, name]);
        assert!(out.status.success(), "inspect {name}: {}", stderr(&out));
        stdout(&out).trim().to_owned()
    }

    /// `docker volume inspect -f FORMAT NAME`, trimmed.
    pub fn inspect_volume(&self, name: &str, format: &str) -> String {
        let out = self.docker(&["volume", "inspect", "-f", format, name]);
        assert!(
            out.status.success(),
            "volume inspect {name}: {}",
            stderr(&out)
        );
        stdout(&out).trim().to_owned()
    }

    /// `docker network inspect -f FORMAT NAME`.
    pub fn inspect_network(&self, name: &str, format: &str) -> String {
        let out = self.docker(&["network", "inspect", "-f", format, name]);
        assert!(
            out.status.success(),
            "network inspect {name}: {}",
            stderr(&out)
        );
        stdout(&out).trim().to_owned()
    }

    /// `docker network ls` names.
    pub fn inspect_json_networks(&self) -> String {
        let out = self.docker(&["network", "ls", "--format", "{{.Name}}"]);
        stdout(&out)
    }

    pub fn all_ids(&self) -> Vec<String> {
        let (status, body) = self.http("GET", "/containers/json?all=1", "");
        if status != 200 {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["Id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Mount points under this daemon's directory.
    pub fn mounts(&self) -> Vec<String> {
        let prefix = self.dir.path().display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_owned))
            .filter(|m| m.starts_with(&prefix))
            .collect()
    }
}

/// Whether any process has `needle` in its command line.
pub fn process_with(needle: &str) -> bool {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name != me
                    && name.bytes().all(|b| b.is_ascii_digit())
                    && std::fs::read(e.path().join("cmdline"))
                        .map(|c| {
                            String::from_utf8_lossy(&c)
                                .replace('\0', " ")
                                .contains(needle)
                        })
                        .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let mut ids = self.all_ids();
        ids.extend(self.ids.borrow().iter().cloned());
        for id in &ids {
            let _ = self.http("DELETE", &format!("/containers/{id}?force=1"), "");
        }
        self.stop_daemon();
        if self.bridge != "none" {
            remove_bridge(&self.bridge);
        }
        // Shims (and their containers) that outlived the daemon.
        if let Ok(rd) = std::fs::read_dir(self.exec_root().join("shims")) {
            for e in rd.flatten() {
                for f in ["init.pid", "shim.pid"] {
                    if let Ok(pid) = std::fs::read_to_string(e.path().join(f)) {
                        let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
                    }
                }
            }
        }
        let mut mounts = self.mounts();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").arg("-l").arg(&m).status();
        }
        for id in &ids {
            for p in cgroup_dirs(id) {
                let _ = std::fs::remove_dir(p);
            }
        }
    }
}

/// The stdout of a command that must have succeeded (else a panic naming `what`, with its
/// exit code, stderr and stdout).
pub fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}\n{}",
        out.status.code(),
        stderr(out),
        stdout(out)
    );
    stdout(out)
}

/// Polls `f` until it is true (10 s at most).
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The member names of a tar archive, as `tar -t` lists them.
pub fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut child = Command::new("tar")
        .args(["-t", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run tar");
    child
        .stdin
        .take()
        .expect("tar's stdin")
        .write_all(tar)
        .expect("feed tar");
    let out = child.wait_with_output().expect("tar -t");
    assert!(out.status.success(), "tar -t: {}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}
