//! berth-shim: the per-container monitor.
//!
//! One shim runs per container. The daemon starts it and it detaches into its own session, so
//! the container outlives a daemon restart. The shim links `berth-runtime` to create and start
//! the container and stays its parent (and a child subreaper): it holds the container's stdio
//! (pipes, or the PTY master), appends the output to the container's log in docker's json-file
//! format ([`logfile`]), reaps the container's init and its execs and records the exit status
//! in its state directory ([`status`]), and serves attach, exec, resize, signal, wait and state
//! on a unix socket ([`protocol`]) that the daemon reaches with [`client::ShimClient`].
//!
//! Why a process per container rather than threads in the daemon: the daemon can restart (or
//! crash) without touching running containers, and the container's init has a parent that
//! never execs anything else. Why so small: there is one per running container, so it has no
//! async runtime and no threads, one `poll` loop over non-blocking fds, a signalfd for
//! SIGCHLD, and buffers only while data is in flight (target ≤ 1 MiB RSS idle).
//!
//! # The binary
//!
//! ```text
//! berth-shim --id ID --bundle DIR --state-dir DIR --runtime-root DIR --log FILE
//!            [--stdin] [--defer-start] [--debug-log FILE]
//! ```
//!
//! - `--id`: the container id (the runtime's id too).
//! - `--bundle`: the OCI bundle (`config.json`, rootfs); `process.terminal` selects a PTY.
//! - `--state-dir`: the shim's directory (`EXEC_ROOT/shims/ID`), created if missing; it holds
//!   `shim.sock`, `shim.pid`, `init.pid` and, once the container has exited, `exit.json`.
//! - `--runtime-root`: berth-runtime's state root.
//! - `--log`: the json-file log to append to.
//! - `--stdin`: keep the container's stdin open (a pipe fed by attach clients); otherwise the
//!   container's stdin is `/dev/null`. With a TTY, stdin is the PTY.
//! - `--defer-start`: create the container but start its process only on a `start` request,
//!   so attach clients can connect first and miss no output.
//! - `--debug-log`: write the shim's own diagnostics to this file (default: none).
//!
//! The invoking process forks the shim (double fork, `setsid`, stdio on `/dev/null`) and
//! waits until the container is created and started: it then prints the container's init pid
//! on stdout and exits 0; on failure it prints the error on stderr and exits 1, and the shim
//! has deleted whatever it had created.
//!
//! # Lifetime
//!
//! When the container's init exits, the shim drains its output, asks the runtime whether the
//! OOM killer struck, deletes the container from the runtime (no cgroup, mount or state left),
//! writes `exit.json`, answers every `wait`, and ends every attach stream. It then keeps
//! serving `wait` and `state` until a `shutdown` request, on which it removes its socket and
//! pid files and exits; `exit.json` stays for the engine, which removes the directory. The
//! daemon decides when the shim goes, so no race between "container exited" and "daemon
//! asks" can lose the status.

//! # Clients and memory
//!
//! Output goes to the log and to every attached client; a client whose unsent backlog passes
//! 1 MiB is disconnected, so a slow or stalled client never blocks the container and never
//! makes the shim grow. Buffers exist only while data is in flight. After setup the shim
//! trims its heap and drops the code pages only setup used; `bench/shim-rss.sh` measures an
//! idle shim (10 shims, release: VmRSS about 1.8 MiB, Pss about 0.57 MiB, of which about
//! 0.5 MiB is private anonymous memory; the rest is shared program text).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod logfile;
pub mod protocol;
pub mod status;
pub mod time;

pub use client::ShimClient;
