//! The engine's error: one variant per failing call, each with a [`Kind`] that `berthd`
//! maps to docker's HTTP status in one place. Messages that docker users see verbatim
//! (`No such container: x`, the name conflict, removing a running container) are docker's.

use std::path::PathBuf;

use berth_image::snapshot::SnapshotError;
use berth_image::store::StoreError;

/// The category of an error (containerd's `errdefs`, moby's error interfaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The object does not exist (404).
    NotFound,
    /// The request conflicts with the object's state (409).
    Conflict,
    /// The request is malformed (400).
    InvalidArgument,
    /// Nothing to do (304).
    NotModified,
    /// Refused by a rule: an overlapping subnet, a network in use (403).
    Forbidden,
    /// The operation is not available for this object (501).
    NotImplemented,
    /// The engine cannot do this now (503).
    Unavailable,
    /// A bug or a failure of the host (500).
    Internal,
}

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No container by that ID, name or prefix.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// No image by that reference or ID.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// An ID prefix matches several containers.
    #[error("Multiple IDs found with provided prefix: {0}")]
    AmbiguousPrefix(String),
    /// The name is taken.
    #[error(
        "Conflict. The container name \"{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse {
        /// The name, with its `/`.
        name: String,
        /// The container holding it.
        id: String,
    },
    /// The name has characters docker refuses.
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    /// Removing a running container without force.
    #[error(
        "You cannot remove a running container {0}. Stop the container before attempting removal or force remove"
    )]
    RemoveRunning(String),
    /// A removal is already under way.
    #[error("removal of container {0} is already in progress")]
    RemovalInProgress(String),
    /// An operation that needs a running container.
    #[error("Container {0} is not running")]
    NotRunning(String),
    /// An exec ID no exec has.
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    /// Start of a running container, stop of a stopped one.
    #[error("container {0} is already {1}")]
    NotModified(String, &'static str),
    /// The request conflicts with the container's state (docker's message).
    #[error("{0}")]
    Conflict(String),
    /// The container's log driver keeps nothing to read.
    #[error("configured logging driver does not support reading")]
    LogsUnreadable,
    /// A request field is invalid (the message says which).
    #[error("{0}")]
    Invalid(String),
    /// An image still used by containers.
    #[error(
        "conflict: unable to delete {image} (must be forced) - image is being used by {state} container {container}"
    )]
    ImageInUse {
        /// The image's short ID.
        image: String,
        /// `running` or `stopped`.
        state: &'static str,
        /// The container's short ID.
        container: String,
    },
    /// An image named by reference still used by a container (without force).
    #[error(
        "conflict: unable to remove repository reference \"{reference}\" (must force) - container {container} is using its referenced image {image}"
    )]
    ReferenceInUse {
        /// The reference as given.
        reference: String,
        /// The container's short ID.
        container: String,
        /// The image's short ID.
        image: String,
    },
    /// The image store failed or refused.
    #[error("{}", store_message(.0))]
    Image(#[source] StoreError),
    /// The root filesystem snapshot failed.
    #[error("snapshot")]
    Snapshot(#[source] SnapshotError),
    /// The metadata database failed.
    #[error("metadata database: {0}")]
    Db(String),
    /// A record could not be encoded or decoded.
    #[error("container record {0}")]
    Record(String, #[source] serde_json::Error),
    /// A container's network namespace could not be made or removed.
    #[error(transparent)]
    Netns(#[from] berth_net::netns::NetnsError),
    /// A file operation failed.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The user named in `User` does not exist in the image.
    #[error("unable to find {what} {name}: no matching entries in {file} file")]
    NoSuchUser {
        /// `user` or `group`.
        what: &'static str,
        /// The name.
        name: String,
        /// `passwd` or `group`.
        file: &'static str,
    },
    /// The seccomp profile could not be built.
    #[error("seccomp profile")]
    Seccomp(#[source] berth_runtime::seccomp::SeccompError),
    /// The OCI spec could not be written.
    #[error("write OCI spec {0}")]
    Spec(PathBuf, #[source] std::io::Error),
    /// The shim binary could not be run or refused to start the container.
    #[error("failed to create task for container: {0}")]
    ShimStart(String),
    /// Talking to a container's shim failed.
    #[error("shim of container {0}")]
    Shim(String, #[source] berth_shim::client::ClientError),
    /// A container's cgroup could not be read or changed.
    #[error("cgroup of container {0}")]
    Cgroup(String, #[source] berth_runtime::cgroups::CgroupError),
    /// A blocking task panicked or was cancelled.
    #[error("background task: {0}")]
    Task(String),
    /// No network by that name, ID or ID prefix.
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// A network by that name exists.
    #[error("network with name {0} already exists")]
    NetworkExists(String),
    /// Removing a network that containers are attached to.
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    NetworkInUse {
        /// The network's name.
        name: String,
        /// The network's ID.
        id: String,
    },
    /// Refused by a rule (docker's 403 message).
    #[error("{0}")]
    Forbidden(String),
    /// The network layer refused or failed (docker's messages come from `berth-net`).
    #[error("{}", net_message(.0))]
    Net(berth_net::Error),
    /// A path the archive API was asked for is not in the container.
    #[error("Could not find the file {path} in container {id}")]
    NoSuchPath {
        /// The path.
        path: String,
        /// The container.
        id: String,
    },
    /// No volume by this name.
    #[error("get {0}: no such volume")]
    NoSuchVolume(String),
    /// A volume that containers use cannot be removed.
    #[error("remove {name}: volume is in use - [{}]", .ids.join(", "))]
    VolumeInUse {
        /// The volume.
        name: String,
        /// The containers using it.
        ids: Vec<String>,
    },
    /// A volume driver berth does not have (only `local`).
    #[error("error looking up volume plugin {0}: plugin \"{0}\" not found")]
    NoSuchVolumeDriver(String),
    /// Several cleanup steps failed after an error (the cause first).
    #[error("{cause}; cleanup failed: {}", .cleanup.join("; "))]
    Cleanup {
        /// The original error.
        cause: Box<EngineError>,
        /// Every cleanup failure.
        cleanup: Vec<String>,
    },
}

fn store_message(e: &StoreError) -> String {
    full_message(e)
}

/// docker's messages as they are (the bind error's cause is not docker's); other network
/// errors with their causes.
fn net_message(e: &berth_net::Error) -> String {
    match e {
        berth_net::Error::PortAllocated { .. } => e.to_string(),
        other => full_message(other),
    }
}

/// An error and its sources, joined with `: `.
pub fn full_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.ends_with(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

impl EngineError {
    /// The error's category.
    pub fn kind(&self) -> Kind {
        use EngineError as E;
        match self {
            E::NoSuchContainer(_) | E::NoSuchImage(_) | E::NoSuchExec(_) => Kind::NotFound,
            E::NameInUse { .. }
            | E::RemoveRunning(_)
            | E::RemovalInProgress(_)
            | E::Conflict(_)
            | E::NotRunning(_)
            | E::ImageInUse { .. }
            | E::ReferenceInUse { .. } => Kind::Conflict,
            E::AmbiguousPrefix(_) | E::InvalidName(_) | E::Invalid(_) | E::NoSuchUser { .. } => {
                Kind::InvalidArgument
            }
            E::NotModified(..) => Kind::NotModified,
            E::NoSuchNetwork(_)
            | E::NoSuchVolume(_)
            | E::NoSuchVolumeDriver(_)
            | E::NoSuchPath { .. } => Kind::NotFound,
            E::VolumeInUse { .. } => Kind::Conflict,
            E::LogsUnreadable => Kind::NotImplemented,
            E::NetworkExists(_) => Kind::Conflict,
            E::NetworkInUse { .. } | E::Forbidden(_) => Kind::Forbidden,
            E::Net(e) => match e.kind() {
                berth_net::ErrorKind::InvalidArgument => Kind::InvalidArgument,
                berth_net::ErrorKind::Forbidden => Kind::Forbidden,
                berth_net::ErrorKind::Conflict => Kind::Conflict,
                berth_net::ErrorKind::Internal => Kind::Internal,
            },
            E::Image(e) => match e.kind() {
                berth_image::ErrorKind::NotFound => Kind::NotFound,
                berth_image::ErrorKind::Conflict => Kind::Conflict,
                berth_image::ErrorKind::InvalidArgument => Kind::InvalidArgument,
                berth_image::ErrorKind::Internal => Kind::Internal,
            },
            E::Snapshot(e) => match e.kind() {
                berth_image::ErrorKind::NotFound => Kind::NotFound,
                _ => Kind::Internal,
            },
            E::Cleanup { cause, .. } => cause.kind(),
            E::ShimStart(m) if m.contains("executable file not found") => Kind::InvalidArgument,
            E::Db(_)
            | E::Record(..)
            | E::Io { .. }
            | E::Netns(_)
            | E::Seccomp(_)
            | E::Spec(..)
            | E::ShimStart(_)
            | E::Shim(..)
            | E::Cgroup(..)
            | E::Task(_) => Kind::Internal,
        }
    }

    /// The message a client prints: this error and its causes.
    pub fn message(&self) -> String {
        full_message(self)
    }

    /// Wraps an I/O error.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// Adds cleanup failures to this error (nothing when there are none).
    pub fn with_cleanup(self, cleanup: Vec<String>) -> Self {
        if cleanup.is_empty() {
            self
        } else {
            EngineError::Cleanup {
                cause: Box::new(self),
                cleanup,
            }
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(name) => EngineError::NoSuchImage(name),
            other => EngineError::Image(other),
        }
    }
}

impl From<SnapshotError> for EngineError {
    fn from(e: SnapshotError) -> Self {
        EngineError::Snapshot(e)
    }
}

/// The engine's result.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_messages() {
        let e = EngineError::NameInUse {
            name: "/web".into(),
            id: "abc".into(),
        };
        assert_eq!(
            e.to_string(),
            "Conflict. The container name \"/web\" is already in use by container \"abc\". You have to remove (or rename) that container to be able to reuse that name."
        );
        assert_eq!(e.kind(), Kind::Conflict);
        assert_eq!(
            EngineError::NoSuchContainer("x".into()).to_string(),
            "No such container: x"
        );
        let e = EngineError::io("read", "/p", std::io::Error::other("boom"));
        assert_eq!(e.message(), "read /p: boom");
    }
}
