//! Compile an OCI `linux.seccomp` section into a BPF program (placeholder: being written).

/// Compiling or loading the seccomp filter failed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// Placeholder until the compiler lands.
    #[error("seccomp is not implemented yet")]
    Unsupported,
}
