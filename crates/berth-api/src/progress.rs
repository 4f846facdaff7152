//! JSON progress messages: the newline-separated objects of image create (pull, import),
//! push and build responses (moby's `jsonmessage.JSONMessage`).

use serde::{Deserialize, Serialize};

/// One progress message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgressMessage {
    /// Build output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Status line (`Downloading`, or an image ID for import).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Progress details.
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    /// Deprecated rendered progress bar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// Layer or object ID the message is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A failure: the operation stopped.
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    /// Deprecated copy of `errorDetail.message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Auxiliary data (e.g. a build's image ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl ProgressMessage {
    /// A status-only message.
    pub fn status(status: impl Into<String>) -> Self {
        Self {
            status: Some(status.into()),
            ..Self::default()
        }
    }

    /// A failure message, with `error` and `errorDetail` both set as docker does.
    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            error_detail: Some(ErrorDetail {
                code: None,
                message: message.clone(),
            }),
            error: Some(message),
            ..Self::default()
        }
    }
}

/// Current/total bytes of a progress message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgressDetail {
    /// Bytes done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    /// Bytes in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// The error of a failed streamed operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    /// Optional code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Message.
    pub message: String,
}
