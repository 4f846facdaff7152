//! The runtime's top-level error: one variant per subsystem, each wrapping that module's own
//! error type so the message names the failing object.

/// Any error the runtime returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cgroup operation failed.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    /// Compiling or loading the seccomp filter failed.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// Setting capabilities failed.
    #[error(transparent)]
    Capabilities(#[from] crate::capabilities::CapsError),
}
