//! Fixtures shared by the integration tests of berth's crates (a dev-dependency only): each
//! helper here was once written in two or three crates' `tests/` directories.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Panics with `why` unless the test runs as root (namespaces, cgroups and mounts need it).
pub fn require_root(why: &str) {
    // The effective uid from /proc/self/status (no libc dependency for one number).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    assert_eq!(euid, Some("0"), "these tests need root: {why}");
}

/// An ID unique to this test process: `<prefix>-<pid>-<n>`.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A command's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `len` bytes that no compressor shrinks (xorshift64*), the same for the same `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The repository's `scripts/` directory.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

/// A busybox root filesystem at `dest`, made by `scripts/make-busybox-rootfs.sh` from Debian's
/// busybox-static (no registry is reachable in tests).
pub fn busybox_rootfs(dest: &Path) {
    let out = Command::new("bash")
        .arg(scripts().join("make-busybox-rootfs.sh"))
        .arg(dest)
        .output()
        .expect("run make-busybox-rootfs.sh");
    assert!(
        out.status.success(),
        "make-busybox-rootfs.sh failed (apt-get install busybox-static): {}",
        stderr(&out)
    );
}

/// A busybox root filesystem tar, `dir/busybox.tar` (its tree in `dir/rootfs`), to import.
pub fn busybox_tar(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    busybox_rootfs(&root);
    let tar = dir.join("busybox.tar");
    tar_dir(&root, &tar);
    tar
}

/// Packs the tree at `root` into the tar file `tar` (entries relative to `root`).
pub fn tar_dir(root: &Path, tar: &Path) {
    let st = Command::new("tar")
        .arg("-C")
        .arg(root)
        .arg("-cf")
        .arg(tar)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(st.success(), "tar {}", root.display());
}

/// The cgroup directories named `id` (or `berth/<id>`) in any hierarchy: what a test
/// expects gone once a container is.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for h in rd.flatten() {
            for p in [h.path().join("berth").join(id), h.path().join(id)] {
                if p.exists() {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// A running `docker-registry` (Debian's package) on 127.0.0.1 with filesystem storage in
/// its own temp dir; killed on drop.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Registry {
    /// Starts the registry; `htpasswd` turns on basic auth with that file.
    pub fn start(htpasswd: Option<&Path>) -> Registry {
        let auth = htpasswd.map_or(String::new(), |p| {
            format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                p.display()
            )
        });
        Self::start_with_auth(&auth)
    }

    /// Starts the registry with `auth`: a YAML `auth:` section, or empty.
    pub fn start_with_auth(auth: &str) -> Registry {
        let bin = which("docker-registry").unwrap_or_else(|| {
            panic!("docker-registry is not installed: run scripts/install-deps.sh --test")
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            dir.path().join("data").display()
        );
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, cfg).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn docker-registry");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "registry did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry { child, dir, port }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's storage directory.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's file holding the blob with this hex digest (sha256).
    pub fn blob_file(&self, hex: &str) -> PathBuf {
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
