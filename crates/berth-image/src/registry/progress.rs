//! Progress events of a pull or push, shaped after docker's JSON progress messages
//! (`{"status": "Downloading", "id": "<short>", "progressDetail": {"current", "total"}}`)
//! so the daemon can turn each into one message without knowing the client.

use std::sync::Arc;

/// A progress callback; called from the pulling task, so keep it cheap (send to a channel).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The layer's short digest (12 hex), the tag for the opening line, or empty for
    /// whole-image lines.
    pub id: String,
    /// What happened.
    pub status: ProgressStatus,
}

/// What happened to a layer (or the image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressStatus {
    /// A free-form line: `Pulling from library/x`, `Digest: sha256:...`,
    /// `Status: Downloaded newer image for x:latest`, `The push refers to repository [x]`.
    Message(String),
    /// The layer is queued (pull).
    PullingFsLayer,
    /// Waiting for a download slot.
    Waiting,
    /// The layer is already unpacked.
    AlreadyExists,
    /// Bytes received so far of the compressed blob.
    Downloading {
        /// Bytes so far.
        current: u64,
        /// The blob's size.
        total: u64,
    },
    /// Hash checked.
    VerifyingChecksum,
    /// The blob is stored.
    DownloadComplete,
    /// Unpacking.
    Extracting {
        /// Bytes so far.
        current: u64,
        /// The blob's size.
        total: u64,
    },
    /// The layer is unpacked and stored.
    PullComplete,
    /// Push: the layer is being prepared.
    Preparing,
    /// Push: waiting for an upload slot.
    PushWaiting,
    /// Push: bytes sent so far.
    Pushing {
        /// Bytes so far.
        current: u64,
        /// The blob's size.
        total: u64,
    },
    /// Push: the blob is uploaded.
    Pushed,
    /// Push: the registry already had the blob.
    LayerAlreadyExists,
    /// Push: mounted from another repository.
    Mounted {
        /// The repository it came from.
        from: String,
    },
}

impl ProgressStatus {
    /// docker's `status` text.
    pub fn text(&self) -> String {
        use ProgressStatus as S;
        match self {
            S::Message(m) => m.clone(),
            S::PullingFsLayer => "Pulling fs layer".into(),
            S::Waiting | S::PushWaiting => "Waiting".into(),
            S::AlreadyExists => "Already exists".into(),
            S::Downloading { .. } => "Downloading".into(),
            S::VerifyingChecksum => "Verifying Checksum".into(),
            S::DownloadComplete => "Download complete".into(),
            S::Extracting { .. } => "Extracting".into(),
            S::PullComplete => "Pull complete".into(),
            S::Preparing => "Preparing".into(),
            S::Pushing { .. } => "Pushing".into(),
            S::Pushed => "Pushed".into(),
            S::LayerAlreadyExists => "Layer already exists".into(),
            S::Mounted { from } => format!("Mounted from {from}"),
        }
    }

    /// docker's `progressDetail` (`current`, `total`), when the event has one.
    pub fn detail(&self) -> Option<(u64, u64)> {
        match self {
            ProgressStatus::Downloading { current, total }
            | ProgressStatus::Extracting { current, total }
            | ProgressStatus::Pushing { current, total } => Some((*current, *total)),
            _ => None,
        }
    }
}

/// Sends an event to the callback.
pub(crate) fn emit(p: &ProgressFn, id: &str, status: ProgressStatus) {
    p(Progress {
        id: id.to_owned(),
        status,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_texts() {
        assert_eq!(
            ProgressStatus::VerifyingChecksum.text(),
            "Verifying Checksum"
        );
        assert_eq!(
            ProgressStatus::Mounted { from: "a/b".into() }.text(),
            "Mounted from a/b"
        );
        let d = ProgressStatus::Downloading {
            current: 5,
            total: 9,
        };
        assert_eq!(
            (d.text().as_str(), d.detail()),
            ("Downloading", Some((5, 9)))
        );
        assert_eq!(ProgressStatus::PullComplete.detail(), None);
    }
}
