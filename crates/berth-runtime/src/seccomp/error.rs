//! What can go wrong compiling, converting or loading a seccomp filter; every message names
//! the field at fault.

/// Compiling, converting or loading a seccomp filter failed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// A syscall name that libseccomp does not know and that Docker's profile does not name.
    #[error("{field}: unknown syscall {name:?}")]
    UnknownSyscall {
        /// The field, e.g. `linux.seccomp.syscalls[3].names`.
        field: String,
        /// The name as given.
        name: String,
    },
    /// A syscall entry without names.
    #[error("{field}: no syscall names")]
    NoNames {
        /// The field, e.g. `linux.seccomp.syscalls[3].names`.
        field: String,
    },
    /// An architecture the libseccomp on this machine cannot filter for.
    #[error("{field}: architecture {arch} is not supported by libseccomp")]
    UnsupportedArch {
        /// The field, e.g. `linux.seccomp.architectures[2]`.
        field: String,
        /// The architecture as the spec names it.
        arch: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// An action berth does not implement (`SCMP_ACT_NOTIFY`).
    #[error("{field}: action {action} is not supported")]
    UnsupportedAction {
        /// The field, e.g. `linux.seccomp.defaultAction`.
        field: String,
        /// The action as the spec names it.
        action: String,
    },
    /// `errnoRet` given for an action that returns no errno.
    #[error("{field}: errnoRet is set but action {action} returns no errno")]
    ErrnoNotAllowed {
        /// The field, e.g. `linux.seccomp.syscalls[3].errnoRet`.
        field: String,
        /// The action as the spec names it.
        action: String,
    },
    /// `errnoRet` does not fit seccomp's 16-bit return data.
    #[error("{field}: errnoRet {value} is out of range (0 to 65535)")]
    ErrnoOutOfRange {
        /// The field, e.g. `linux.seccomp.syscalls[3].errnoRet`.
        field: String,
        /// The value given.
        value: u32,
    },
    /// An argument index beyond the six a syscall has.
    #[error("{field}: argument index {index} is out of range (0 to 5)")]
    ArgIndex {
        /// The field, e.g. `linux.seccomp.syscalls[3].args[0].index`.
        field: String,
        /// The index given.
        index: usize,
    },
    /// A value in a Docker-format profile that berth does not recognise (action, arch, operator
    /// or flag).
    #[error("{field}: unknown {what} {value:?}")]
    UnknownValue {
        /// The field, e.g. `seccomp profile syscalls[3].action`.
        field: String,
        /// What kind of value: "action", "architecture", "operator", "flag".
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// A Docker-format profile that sets two fields that exclude each other.
    #[error("seccomp profile: {0}")]
    ProfileConflict(&'static str),
    /// A Docker-format profile that is not valid JSON of the expected shape.
    #[error("parse seccomp profile")]
    ProfileParse(#[source] serde_json::Error),
    /// The copy of Docker's default profile built into berth does not parse (a build defect).
    #[error("parse the built-in docker seccomp profile: {0}")]
    EmbeddedProfile(String),
    /// An OCI value could not be built from a Docker-format profile entry.
    #[error("{field}: build the oci value")]
    BuildSpec {
        /// The field, e.g. `seccomp profile syscalls[3].args[0]`.
        field: String,
        /// oci-spec's error.
        #[source]
        source: oci_spec::OciSpecError,
    },
    /// A `minKernel` value that is not a kernel version.
    #[error("{field}: invalid kernel version {value:?}")]
    KernelVersion {
        /// The field, e.g. `seccomp profile syscalls[1].includes.minKernel`.
        field: String,
        /// The value given.
        value: String,
    },
    /// The running kernel's release (uname) could not be read or parsed.
    #[error("read the running kernel's version")]
    Uname(#[source] nix::Error),
    /// A libseccomp call failed while building the filter.
    #[error("seccomp filter: {what}")]
    Filter {
        /// What was being done, naming the field, e.g. `add rule for "clone" (linux.seccomp.syscalls[3])`.
        what: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// The section could not be serialised as the compile cache's key.
    #[error("serialise linux.seccomp as the compile cache key")]
    CacheKey(#[source] serde_json::Error),
    /// Exporting the BPF program into memory failed.
    #[error("export seccomp bpf")]
    Export(#[source] std::io::Error),
    /// libseccomp produced a program the kernel would refuse.
    #[error(
        "seccomp bpf program has {bytes} bytes: not a whole number of instructions or more than 4096 of them"
    )]
    BadProgram {
        /// The size of the exported program.
        bytes: usize,
    },
    /// The kernel refused the filter (`seccomp(2)` or `prctl(PR_SET_SECCOMP)`).
    #[error("load seccomp filter")]
    Load(#[source] nix::Error),
    /// `SECCOMP_FILTER_FLAG_TSYNC` could not synchronise another thread.
    #[error("load seccomp filter: thread {tid} could not be synchronised (tsync)")]
    Tsync {
        /// The thread that could not be synchronised.
        tid: i64,
    },
}
