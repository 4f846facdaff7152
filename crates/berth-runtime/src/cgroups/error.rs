//! The one error type of the cgroups module: one variant per failing call, each naming the file
//! (and the value, for writes) so that "a cgroup value the kernel refuses" reads as
//! `write "500" to /sys/fs/cgroup/cpu/berth/x/cpu.cfs_quota_us: Invalid argument`.

use std::path::PathBuf;

/// A cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Reading `/proc/self/mountinfo` (or another mount table) failed.
    #[error("read mount table {path}")]
    ReadMountinfo {
        /// The mount table read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No cgroup or cgroup2 filesystem is mounted.
    #[error("no cgroup filesystem is mounted (looked in {mountinfo})")]
    NoCgroupFs {
        /// The mount table searched.
        mountinfo: PathBuf,
    },
    /// The cgroups path is not usable (`..` components, empty container id, ...).
    #[error("invalid cgroups path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Opening a cgroup directory (for `CLONE_INTO_CGROUP`) failed.
    #[error("open cgroup directory {path}")]
    OpenDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: nix::Error,
    },
    /// Creating a cgroup directory failed.
    #[error("create cgroup directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a value to a cgroup file failed (the kernel refused it, or the file is missing).
    #[error("write {value:?} to {path}")]
    Write {
        /// The file written.
        path: PathBuf,
        /// The value written.
        value: String,
        /// The underlying I/O error (EINVAL, EBUSY, ENOENT, ...).
        #[source]
        source: std::io::Error,
    },
    /// Reading a cgroup file failed.
    #[error("read {path}")]
    Read {
        /// The file read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A cgroup file held a number that does not parse.
    #[error("parse {value:?} from {path}")]
    Parse {
        /// The file read.
        path: PathBuf,
        /// The text that did not parse.
        value: String,
        /// The parse error.
        #[source]
        source: std::num::ParseIntError,
    },
    /// A flat-keyed cgroup file (`memory.events`, `cpu.stat`, ...) lacks an expected key.
    #[error("{path} has no {key:?} entry")]
    MissingKey {
        /// The file read.
        path: PathBuf,
        /// The key looked for.
        key: &'static str,
    },
    /// A value was requested for a file this kernel or cgroup does not provide.
    #[error("cannot set {field} to {value:?}: {path} does not exist")]
    MissingFile {
        /// The OCI resource field (`blockIO.weight`, ...).
        field: &'static str,
        /// The requested value.
        value: String,
        /// The file that would hold it.
        path: PathBuf,
    },
    /// A value was requested for a controller that is not mounted (v1) or not available (v2).
    #[error("cannot set {field} to {value:?}: the {controller} cgroup controller is not available")]
    MissingController {
        /// The OCI resource field.
        field: &'static str,
        /// The requested value.
        value: String,
        /// The controller needed.
        controller: &'static str,
    },
    /// A resource value is invalid on its own, before the kernel sees it.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidValue {
        /// The OCI resource field.
        field: &'static str,
        /// The requested value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// Signalling a process of the cgroup failed.
    #[error("send {signal} to pid {pid}")]
    Signal {
        /// The process.
        pid: i32,
        /// The signal.
        signal: nix::sys::signal::Signal,
        /// The errno.
        #[source]
        source: nix::Error,
    },
    /// Freezing or thawing did not take effect in time.
    #[error("{path} did not reach {want:?} within {waited_ms} ms (last read {last:?})")]
    FreezeTimeout {
        /// The state file polled.
        path: PathBuf,
        /// The state waited for.
        want: &'static str,
        /// The last state read.
        last: String,
        /// How long it waited.
        waited_ms: u64,
    },
    /// Removing a cgroup directory failed.
    #[error("remove cgroup directory {path}")]
    Remove {
        /// The directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A step of installing the cgroup v2 device filter (eBPF) failed.
    #[error("device filter for {path}: {step}")]
    DeviceFilter {
        /// The cgroup directory.
        path: PathBuf,
        /// What failed (`load the program`, `attach`, ...).
        step: &'static str,
        /// The errno.
        #[source]
        source: std::io::Error,
    },
    /// The kernel cannot run a cgroup device program, so v2 device rules cannot be enforced.
    #[error("cgroup v2 device rules for {path} cannot be enforced: {reason}")]
    DeviceFilterUnsupported {
        /// The cgroup directory.
        path: PathBuf,
        /// Which kernel option is missing.
        reason: &'static str,
        /// The errno of the refused call.
        #[source]
        source: std::io::Error,
    },
    /// The kernel's verifier refused the device filter (a berth bug): its log is kept.
    #[error("the kernel refused the device filter for {path}: {log}")]
    DeviceFilterRefused {
        /// The cgroup directory.
        path: PathBuf,
        /// The verifier's log.
        log: String,
        /// The errno of the load.
        #[source]
        source: std::io::Error,
    },
    /// Destroying a cgroup failed in one or more hierarchies; every failure is kept.
    #[error("destroy cgroup: {}", join_errors(.0))]
    Destroy(Vec<CgroupError>),
}

fn join_errors(errors: &[CgroupError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&e.to_string());
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
    }
    out
}
