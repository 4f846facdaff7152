//! What the event loop needs from a container runtime, as a small trait so the loop can be
//! unit-tested against a plain child process; [`crate::runtime`] implements it with the
//! linked berth-runtime.

use std::os::fd::OwnedFd;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// A process the backend started: its host pid and, with a terminal, the PTY master.
pub struct Spawned {
    /// Host pid; a direct child of the shim.
    pub pid: Pid,
    /// The PTY master when the process has a terminal.
    pub pty: Option<OwnedFd>,
}

/// The container operations the shim performs after creating it.
pub trait Backend {
    /// Let the created container's init exec its process.
    fn start(&mut self) -> anyhow::Result<()>;
    /// Signal init, or every process of the container.
    fn kill(&self, signal: Signal, all: bool) -> anyhow::Result<()>;
    /// Start `process` in the container with `stdio` (stdin, stdout, stderr), or with a PTY when
    /// `process.terminal` is set. The process must be a direct child of the shim.
    fn exec(
        &self,
        process: &oci_spec::runtime::Process,
        stdio: Option<[OwnedFd; 3]>,
    ) -> anyhow::Result<Spawned>;
    /// Whether the OOM killer struck in the container's cgroup.
    fn oom_killed(&self) -> bool;
    /// Remove the container: kill what is left, no cgroup, mount or state left.
    fn delete(&mut self) -> anyhow::Result<()>;
}
