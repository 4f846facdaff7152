//! `GET /events`: one JSON object per event, streamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::nd;

/// One event of the events stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventMessage {
    /// Object type: `container`, `image`, `volume`, `network`, `daemon`, ...
    #[serde(rename = "Type", deserialize_with = "nd")]
    pub r#type: String,
    /// What happened: `create`, `start`, `die`, `destroy`, `tag`, `import`, ...
    #[serde(rename = "Action", deserialize_with = "nd")]
    pub action: String,
    /// The object.
    #[serde(rename = "Actor", deserialize_with = "nd")]
    pub actor: EventActor,
    /// `local` or `swarm`.
    #[serde(rename = "scope", deserialize_with = "nd")]
    pub scope: String,
    /// Unix seconds.
    #[serde(rename = "time", deserialize_with = "nd")]
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano", deserialize_with = "nd")]
    pub time_nano: i64,
    /// Deprecated: the action, for containers and images.
    #[serde(rename = "status", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Deprecated: the actor's ID.
    #[serde(rename = "id", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Deprecated: the container's image.
    #[serde(rename = "from", skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The object an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventActor {
    /// ID of the object.
    #[serde(rename = "ID", deserialize_with = "nd")]
    pub id: String,
    /// Attributes (`name`, `image`, labels, `exitCode`, ...).
    #[serde(rename = "Attributes", deserialize_with = "nd")]
    pub attributes: BTreeMap<String, String>,
}
