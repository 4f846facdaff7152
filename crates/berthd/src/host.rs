//! Facts about the host for `/version` and `/info`, read from `/proc`, `/sys` and
//! `/etc/os-release`. Anything that cannot be read is reported empty, never invented.

use std::fs;
use std::path::{Path, PathBuf};

/// The server's version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The compiler that built the server (`/version`'s `GoVersion`).
pub const RUSTC_VERSION: &str = env!("BERTH_RUSTC_VERSION");
/// The source commit, empty when built outside git.
pub const GIT_COMMIT: &str = env!("BERTH_GIT_COMMIT");

/// Facts that do not change while the daemon runs.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// Kernel release.
    pub kernel_version: String,
    /// `PRETTY_NAME` of os-release.
    pub operating_system: String,
    /// `VERSION_ID` of os-release.
    pub os_version: String,
    /// Host name.
    pub hostname: String,
    /// CPUs usable by the daemon.
    pub ncpu: i64,
    /// Memory in bytes.
    pub mem_total: i64,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// Memory limits available.
    pub memory_limit: bool,
    /// Swap limits available.
    pub swap_limit: bool,
    /// CFS quota/period available.
    pub cpu_cfs: bool,
    /// CPU shares available.
    pub cpu_shares: bool,
    /// Cpusets available.
    pub cpuset: bool,
    /// Pids limits available.
    pub pids_limit: bool,
}

fn read_trim(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn os_release() -> (String, String) {
    let text = fs::read_to_string("/etc/os-release")
        .or_else(|_| fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (field("PRETTY_NAME"), field("VERSION_ID"))
}

fn mem_total() -> i64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

impl HostFacts {
    /// Reads the facts of this host.
    pub fn detect() -> Self {
        let (operating_system, os_version) = os_release();
        let cg = Path::new("/sys/fs/cgroup");
        let unified = fs::read_to_string(cg.join("cgroup.controllers")).ok();
        let v = if unified.is_some() { "2" } else { "1" };
        let has = |c: &str| match &unified {
            Some(ctrl) => ctrl.split_whitespace().any(|x| x == c),
            None => cg.join(c).is_dir(),
        };
        let swap_limit = if v == "2" {
            has("memory")
        } else {
            cg.join("memory/memory.memsw.limit_in_bytes").exists()
        };
        Self {
            kernel_version: read_trim("/proc/sys/kernel/osrelease"),
            operating_system,
            os_version,
            hostname: read_trim("/proc/sys/kernel/hostname"),
            ncpu: std::thread::available_parallelism()
                .map(|n| n.get() as i64)
                .unwrap_or(0),
            mem_total: mem_total(),
            cgroup_version: v.to_string(),
            memory_limit: has("memory"),
            swap_limit,
            cpu_cfs: has("cpu"),
            cpu_shares: has("cpu"),
            cpuset: has("cpuset"),
            pids_limit: has("pids"),
        }
    }
}

/// docker's name for the CPU architecture (`GOARCH`).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The daemon's open file descriptors.
pub fn open_fds() -> i64 {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(0)
}

/// The daemon's threads.
pub fn threads() -> i64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Whether the host forwards IPv4.
pub fn ipv4_forwarding() -> bool {
    read_trim("/proc/sys/net/ipv4/ip_forward") == "1"
}

/// The daemon's persistent ID (`DATA_ROOT/engine-id`), created on first start as a
/// random UUID, as dockerd does.
pub fn engine_id(data_root: &Path) -> std::io::Result<String> {
    let path: PathBuf = data_root.join("engine-id");
    match fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut b = [0u8; 16];
    use std::io::Read;
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    berth_runtime::fsutil::write_atomic(&path, id.as_bytes(), Default::default())?;
    Ok(id)
}
