//! Docker Engine API wire types for berth.
//!
//! This crate is the contract between berth's CLI (`berth`), its daemon (`berthd`) and the
//! engine: the JSON bodies of the Docker Engine API v1.45 (`docker-engine-api-v1.45.yaml`)
//! as serde types, the `{"message": ...}` error body and the error kinds the daemon maps to
//! HTTP status codes, API version negotiation, the JSON progress messages of image
//! operations, and the 8-byte-header framing of attach and logs streams.
//!
//! The types are written by hand rather than generated: each one carries only what berth
//! implements, with docker's field names (`PascalCase` mostly, a few exceptions kept
//! verbatim), and they behave like docker's Go decoder on input — unknown fields are
//! ignored, omitted fields take their zero value, and `null` is accepted wherever Go would
//! accept it. On output, fields docker always prints are always present (Go's `null` for an
//! unset list or map), and fields docker marks `omitempty` are skipped when unset, so the
//! official `docker` CLI and SDKs read berth's answers as docker's own.
//!
//! No I/O happens here beyond the `std::io` / `tokio::io` traits used by the stream framing.

pub mod container;
mod de;
pub mod detach;
pub mod error;
pub mod event;
pub mod exec;
pub mod image;
pub mod network;
pub mod progress;
pub mod stream;
pub mod system;
pub mod version;
pub mod volume;

pub use error::{ErrorKind, ErrorResponse};
pub use version::{API_VERSION, ApiVersion, MIN_API_VERSION};
