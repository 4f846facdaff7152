//! `kill`: a signal to the init, or to every process of the container through its cgroup.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::Container;
use crate::error::Error;
use crate::state::Status;

impl Container {
    /// Send `signal` to the init, or with `all` to every process of the container.
    pub fn kill(&self, signal: Signal, all: bool) -> Result<(), Error> {
        self.require(
            &[Status::Created, Status::Running, Status::Paused],
            "created, running or paused",
        )?;
        if all {
            self.cgroup()?.kill_all(signal)?;
        } else {
            let pid = self.record.pid;
            kill(Pid::from_raw(pid), signal).map_err(|source| Error::Kill {
                signal,
                pid,
                source,
            })?;
        }
        Ok(())
    }
}
