//! The read-only verbs: `state` (the OCI state), `ps` (the container's pids), its cgroup
//! statistics and whether the OOM killer struck.

use nix::unistd::Pid;

use super::Container;
use crate::cgroups::CgroupStats;
use crate::error::Error;
use crate::state::State;

impl Container {
    /// The OCI state now.
    pub fn state(&self) -> Result<State, Error> {
        Ok(self.record.state(&self.dir))
    }

    /// Memory, cpu and pids statistics from the cgroup.
    pub fn stats(&self) -> Result<CgroupStats, Error> {
        Ok(self.cgroup()?.stats()?)
    }

    /// Whether the OOM killer struck in the container's cgroup.
    pub fn oom_killed(&self) -> Result<bool, Error> {
        Ok(self.cgroup()?.oom_kill_count()? > 0)
    }

    /// The pids of the container's processes (host view).
    pub fn pids(&self) -> Result<Vec<Pid>, Error> {
        Ok(self.cgroup()?.pids()?)
    }
}
