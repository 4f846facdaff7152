//! The runtime's top-level error: one variant per subsystem, each wrapping that module's own
//! error type so the message names the failing object, plus the lifecycle's own failures.

use std::path::PathBuf;

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
    /// The bundle or its config.json is unusable.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    /// Opening or joining a namespace failed.
    #[error(transparent)]
    Namespace(#[from] crate::namespaces::NamespaceError),
    /// The parent ↔ child channel failed.
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    /// Handing over the terminal failed.
    #[error(transparent)]
    Terminal(#[from] crate::terminal::TerminalError),
    /// Reading or writing state.json failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The container's init (or exec'd process) failed before or at execve; its error chain.
    #[error("container {id}: {message}")]
    Init {
        /// The container.
        id: String,
        /// What the container process reported.
        message: String,
        /// 127 when the program was not found, 126 when not executable, else 1.
        exit_code: i32,
    },
    /// An id that is empty, too long, starts with a dot or holds a character other than
    /// [A-Za-z0-9_.+-].
    #[error("invalid container id {0:?}")]
    InvalidId(String),
    /// A container with this id exists.
    #[error("container {0} already exists")]
    Exists(String),
    /// No container with this id.
    #[error("container {0} does not exist")]
    NotFound(String),
    /// The container's status does not allow the operation.
    #[error("container {id} is {status}, not {want}")]
    Status {
        /// The container.
        id: String,
        /// Its status.
        status: crate::state::Status,
        /// The status(es) the operation needs.
        want: &'static str,
    },
    /// Creating the state directory failed.
    #[error("create state directory {0}")]
    StateDir(PathBuf, #[source] std::io::Error),
    /// Creating or opening exec.fifo failed.
    #[error("exec.fifo {0}")]
    Fifo(PathBuf, #[source] nix::Error),
    /// The container's init exited before `start` released it.
    #[error("container {0} exited before start")]
    ExitedBeforeStart(String),
    /// The caller has threads: a forked child could inherit a lock held by one of them.
    #[error("refusing to fork the container process from a process with {0} threads")]
    MultiThreaded(u64),
    /// clone(2) of the container process failed.
    #[error("clone the container process")]
    Clone(#[source] nix::Error),
    /// Writing a user namespace id map failed.
    #[error("write {0}")]
    IdMap(PathBuf, #[source] std::io::Error),
    /// Sending a signal failed.
    #[error("send {signal} to pid {pid}")]
    Kill {
        /// The signal.
        signal: nix::sys::signal::Signal,
        /// The process.
        pid: i32,
        /// The cause.
        #[source]
        source: nix::Error,
    },
    /// Writing the pid file failed.
    #[error("write pid file {0}")]
    PidFile(PathBuf, #[source] std::io::Error),
    /// Removing the state directory failed.
    #[error("remove state directory {0}")]
    RemoveStateDir(PathBuf, #[source] std::io::Error),
    /// Listing the state root failed.
    #[error("list {0}")]
    List(PathBuf, #[source] std::io::Error),
    /// The container's processes did not die after SIGKILL.
    #[error("container {0}: processes still alive after SIGKILL")]
    StillAlive(String),
    /// An operation failed and so did (part of) undoing it: the cause first, then every
    /// cleanup failure.
    #[error("{source}; cleanup failed: {}", render_all(failures))]
    Cleanup {
        /// What failed first.
        source: Box<Error>,
        /// Every cleanup step that failed too.
        failures: Vec<Error>,
    },
    /// Several steps of a teardown failed.
    #[error("delete container {id}: {}", render_all(failures))]
    Delete {
        /// The container.
        id: String,
        /// Every failure.
        failures: Vec<Error>,
    },
}

fn render_all(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| crate::init::render(e))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The exit code a caller should report for this failure, following the shell's
    /// convention: 127 program not found, 126 not executable, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Init { exit_code, .. } => *exit_code,
            Error::Cleanup { source, .. } => source.exit_code(),
            _ => 1,
        }
    }
}
