//! berth's OCI runtime: an OCI runtime spec plus a bundle in, a running container out.
//!
//! The runtime is a library so that `berth-shim` can link it and start a container without
//! exec'ing another binary; the `berth-runtime-cli` crate wraps it in a runc-compatible CLI,
//! the `berth-runtime` binary (argument parsing, `anyhow` and the log set-up stay there).
//!
//! Layout (one concern per module):
//! - [`spec`]: load and validate a bundle's `config.json`.
//! - [`namespaces`], [`rootfs`], [`process`]: what the container's init does between `clone`
//!   and `execve`.
//! - [`cgroups`]: v1, v2 and the hybrid layout behind one manager.
//! - [`seccomp`], [`capabilities`]: the security settings applied last, before `execve`.
//! - [`terminal`]: the PTY for `process.terminal`.
//! - [`container`]: the lifecycle, a module per verb (create, start, state, kill, pause,
//!   delete, [`exec`]); [`state`]: its on-disk record.
//! - [`signal`], [`capabilities`]: signal and capability names as docker and runc write them
//!   (also parsed for the engine).
//! - [`fsutil`]: replacing a file atomically (also used by the shim, the engine and berthd).

pub mod capabilities;
pub mod cgroups;
pub mod container;
pub mod defaults;
pub mod error;
pub mod fsutil;
pub mod init;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod signal;
pub mod spec;
pub mod state;
pub mod sync;
#[allow(unsafe_code)]
mod sys;
pub mod sysctl;
pub mod terminal;

pub use container::exec;
pub use container::{ConsoleMode, Container, CreateOptions, Created, Runtime};
pub use error::Error;
pub use exec::{Exec, ExecOptions};
pub use state::{State, Status};
