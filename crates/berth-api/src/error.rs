//! The error body of every failed API call, and the kinds of error the daemon maps to HTTP
//! status codes (like moby's `errdefs` and containerd's error classes).

use serde::{Deserialize, Serialize};

/// The body docker sends with every error status: `{"message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The human-readable message, printed by the CLI after `Error response from daemon: `.
    pub message: String,
}

impl ErrorResponse {
    /// An error body with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What kind of failure an error is; `berthd` maps each kind to one HTTP status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The object (container, image, ...) does not exist.
    NotFound,
    /// The request conflicts with the object's state (name taken, running container, ...).
    Conflict,
    /// The request is malformed or its parameters are invalid.
    InvalidArgument,
    /// The operation had nothing to do (e.g. starting a running container).
    NotModified,
    /// The service cannot do this right now.
    Unavailable,
    /// The operation is not implemented by this daemon.
    NotImplemented,
    /// Permission denied.
    Forbidden,
    /// Credentials missing or refused (a registry's refusal of `docker login`).
    Unauthorized,
    /// Anything else: a bug or a failure of the host.
    Internal,
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::InvalidArgument => "invalid argument",
            Self::NotModified => "not modified",
            Self::Unavailable => "unavailable",
            Self::NotImplemented => "not implemented",
            Self::Forbidden => "forbidden",
            Self::Unauthorized => "unauthorized",
            Self::Internal => "internal",
        };
        f.write_str(s)
    }
}
