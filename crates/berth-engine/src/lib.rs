//! berth-engine: the model and its rules.
//!
//! The engine owns containers and their docker state machine ([`model`]), their metadata in
//! an embedded database ([`store`], redb at `DATA_ROOT/berth.db`), the turning of a create
//! request plus an image config into an OCI spec with docker's defaults ([`spec`]), the
//! hostname files ([`etcfiles`]), logs ([`logs`]), events ([`events`]) and images through
//! `berth-image`'s store ([`images`]). It never touches HTTP: `berthd` adapts it to its
//! `Backend` trait; its inputs are `berth-api`'s create and host config types (as moby's
//! daemon takes its API types), its outputs the API's inspect and list types.
//!
//! # Processes
//! A container's process is held by its `berth-shim`, a separate binary the engine spawns
//! (the only process the engine ever starts; it never forks). The shim detaches into its
//! own session, so containers outlive the daemon. For every run the engine keeps a monitor
//! task parked on an async read of the shim's `wait` (no thread per container); on exit it records the status, unmounts the rootfs,
//! emits `die` and applies the restart policy or `AutoRemove`. After a daemon restart
//! [`Engine::open`] reloads every record, reconnects to the shims that still run and marks
//! the others exited with the status their shim recorded (`exit.json`); `always`
//! containers start again.
//!
//! # Metadata
//! redb rather than SQLite: pure Rust, ACID commits, one file, no C build; records are JSON
//! values, one per container (`docs/architecture.md` lists every file the engine keeps).
//!
//! # Dependencies
//! The engine links `berth-runtime` for data and files, never to start a process (the shim
//! does that): docker's defaults (`defaults`) and the default seccomp profile
//! (`seccomp::profile`), so the spec the engine writes and the template the runtime prints
//! cannot drift apart; capability and signal names (`capabilities::canonical_name`,
//! `signal::parse`); mount option parsing and safe path resolution under a root
//! (`rootfs::options`, `rootfs::path`, for volumes and `docker cp`); which sysctls are
//! namespaced (`sysctl`); atomic file replacement (`fsutil`); and the cgroup files
//! (`cgroups`), since pause, stats, top and update act on a running container's cgroup
//! directly rather than through a shim round trip. `top` runs the host's `ps` with the
//! client's arguments, as dockerd does.
//!
//! # Concurrency
//! One `std` mutex guards the table of containers (IDs and names); each container has its
//! record under its own mutex, an async lock that serialises start/stop/restart/remove, and
//! a `watch` channel of its run state that waits and followers subscribe to. A name is
//! reserved under the table lock before anything is made, so two creates cannot take it.
//!
//! # Networking
//! Every container with its own stack gets a namespace pinned at `EXEC_ROOT/netns/<id>`
//! (`berth_net::netns`); [`network`] attaches it to its networks through `berth-net` at start and
//! detaches it at exit (`host` and `container:` join another namespace instead).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod archive;
pub mod blkio;
pub mod build;
pub mod container_defaults;
pub mod devices;
pub mod disk;
pub mod distribution;
pub mod error;
pub mod etcfiles;
pub mod events;
pub mod exec;
pub mod filesystem;
mod filters;
pub mod images;
pub mod init_binary;
mod inspect;
mod lifecycle;
pub mod logconfig;
pub mod logs;
pub mod model;
pub mod mounts;
pub mod names;
pub mod network;
pub mod options;
pub mod security_opts;
mod shim_wait;
pub mod signals;
pub mod spec;
pub mod store;
mod table;
pub mod user;
pub mod volume;

pub use error::{EngineError, Kind, Result};
pub use exec::ExecStartOptions;
pub use lifecycle::attach::{AttachOptions, AttachSession, Chunk, Output};
pub use lifecycle::create::Created;
pub use lifecycle::stats::StatsOptions;
pub use lifecycle::wait::WaitCondition;
pub use logs::LogsOptions;
pub use network::NetworkConfig;
pub use table::{Config, Counts, Engine, ListOptions};
