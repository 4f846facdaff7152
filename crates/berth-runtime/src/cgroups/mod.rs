//! cgroups v1, v2 and the hybrid layout behind one manager (placeholder: being written).

/// A cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Placeholder until the manager lands.
    #[error("cgroups are not implemented yet")]
    Unsupported,
}
