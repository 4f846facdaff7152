//! The options, errors and streams the [`super::Backend`] methods take and give.

use std::collections::BTreeMap;
use std::time::SystemTime;

use berth_api::ErrorKind;
use berth_api::stream::StreamType;
use bytes::Bytes;
use tokio::sync::mpsc;

/// The engine's options of logs and wait conditions, the same field for field.
pub use berth_engine::{LogsOptions, WaitCondition};

/// An error of the engine, classified by kind; `berthd` maps the kind to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// The message the client prints.
    pub message: String,
}

impl BackendError {
    /// An error of this kind with this message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A `501 not implemented: <what>` error.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            ErrorKind::NotImplemented,
            format!("not implemented: {what}"),
        )
    }

    /// A 400 error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
}

/// Docker's filters: `{"status": ["running"], "label": ["a=b"]}`.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Numbers for `/info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemCounts {
    /// All containers.
    pub containers: i64,
    /// Running containers.
    pub running: i64,
    /// Paused containers.
    pub paused: i64,
    /// Stopped containers.
    pub stopped: i64,
    /// Images.
    pub images: i64,
}

/// Options of stop and restart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopOptions {
    /// Signal instead of the container's stop signal.
    pub signal: Option<String>,
    /// Seconds before SIGKILL instead of the container's stop timeout; -1 waits forever.
    pub timeout: Option<i64>,
}

/// Options of attach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Replay the logs first.
    pub logs: bool,
    /// Stream live output.
    pub stream: bool,
    /// Attach stdin.
    pub stdin: bool,
    /// Attach stdout.
    pub stdout: bool,
    /// Attach stderr.
    pub stderr: bool,
    /// Detach key sequence (`ctrl-p,ctrl-q`).
    pub detach_keys: Option<String>,
}

/// Options of container list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Include stopped containers.
    pub all: bool,
    /// At most this many, newest first (implies `all`).
    pub limit: Option<usize>,
    /// Compute sizes.
    pub size: bool,
    /// Filters.
    pub filters: Filters,
}

/// Options of container delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveOptions {
    /// Kill a running container first.
    pub force: bool,
    /// Remove anonymous volumes.
    pub volumes: bool,
    /// Remove a legacy link rather than the container.
    pub link: bool,
}

/// Options of an import (`POST /images/create?fromSrc=-`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// `-` for the request body, otherwise a URL.
    pub from_src: String,
    /// Repository to tag the image with.
    pub repo: Option<String>,
    /// Tag (default `latest` when a repo is given).
    pub tag: Option<String>,
    /// Commit message.
    pub message: Option<String>,
    /// Dockerfile instructions to apply (`CMD ["sh"]`, `ENV K=V`).
    pub changes: Vec<String>,
    /// Platform `os[/arch[/variant]]`.
    pub platform: Option<String>,
}

/// Options of image list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageListOptions {
    /// Include intermediate images.
    pub all: bool,
    /// Filters.
    pub filters: Filters,
    /// Compute shared sizes.
    pub shared_size: bool,
    /// Include digests.
    pub digests: bool,
}

/// Options of image delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageRemoveOptions {
    /// Remove even if tagged in several repositories or used by a stopped container.
    pub force: bool,
    /// Keep untagged parents.
    pub noprune: bool,
}

/// Options of the events stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOptions {
    /// Replay events since this time.
    pub since: Option<SystemTime>,
    /// Stop at this time (the stream ends).
    pub until: Option<SystemTime>,
    /// Filters.
    pub filters: Filters,
}

/// A piece of a container's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    /// Stdout or stderr (with a TTY, always stdout).
    pub stream: StreamType,
    /// The bytes, timestamp prefix included when asked for.
    pub data: Bytes,
}

/// A container's output as it is produced; the stream ends when the sender is dropped.
#[derive(Debug)]
pub struct OutputStream {
    /// Send raw bytes, not frames (the container has a TTY; for an exec, its start asked
    /// for one).
    pub tty: bool,
    /// The output; an `Err` ends the stream with that error.
    pub chunks: mpsc::Receiver<Result<OutputChunk, BackendError>>,
}

/// An attached session: output to the client and, when asked for, the client's input.
#[derive(Debug)]
pub struct AttachSession {
    /// Output (and its TTY mode).
    pub output: OutputStream,
    /// Where the client's stdin goes; dropping it closes the container's stdin.
    pub stdin: Option<mpsc::Sender<Bytes>>,
}

/// The bytes of a request body as they arrive (an image tar for import).
pub type ByteStream = mpsc::Receiver<Result<Bytes, BackendError>>;

/// A running build: its messages, then its outcome.
#[derive(Debug)]
pub struct BuildRun {
    /// `{"stream"}` and `{"aux"}` messages as they are made.
    pub messages: mpsc::Receiver<berth_engine::build::BuildMessage>,
    /// The outcome, once the messages end.
    pub outcome: tokio::sync::oneshot::Receiver<
        Result<berth_engine::build::Built, berth_engine::build::BuildFailed>,
    >,
}
