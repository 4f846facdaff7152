//! Capability sets (placeholder: being written).

/// Setting capabilities failed.
#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    /// Placeholder until the module lands.
    #[error("capabilities are not implemented yet")]
    Unsupported,
}
