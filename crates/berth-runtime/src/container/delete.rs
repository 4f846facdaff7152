//! `delete`: with `force`, kill what runs and wait until it is gone; then destroy the cgroup
//! and the state directory, reporting every failure, not just the first.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use super::Container;
use crate::cgroups::AnyCgroupManager;
use crate::error::Error;
use crate::state::Status;

impl Container {
    /// Delete the container: with `force`, kill it first; then destroy its cgroup and state
    /// directory. Every failure is reported, not just the first.
    pub fn delete(&self, force: bool) -> Result<(), Error> {
        let status = self.status();
        let mut failures = Vec::new();
        let cgroup = self.cgroup();
        if status != Status::Stopped {
            if !force {
                return Err(Error::Status {
                    id: self.id().into(),
                    status,
                    want: "stopped (use --force)",
                });
            }
            if let Err(e) = self.kill_and_wait(cgroup.as_ref().ok()) {
                failures.push(e);
            }
        }
        match cgroup {
            Ok(cg) => {
                if let Err(e) = cg.destroy() {
                    failures.push(e.into());
                }
            }
            Err(e) => failures.push(e),
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            failures.push(Error::RemoveStateDir(self.dir.clone(), e));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Delete {
                id: self.id().into(),
                failures,
            })
        }
    }

    fn kill_and_wait(&self, cgroup: Option<&AnyCgroupManager>) -> Result<(), Error> {
        let pid = Pid::from_raw(self.record.pid);
        if let Some(cg) = cgroup {
            let _ = cg.kill_all(Signal::SIGKILL);
            let _ = cg.thaw();
        }
        let _ = kill(pid, Signal::SIGKILL);
        for _ in 0..1000 {
            // Reap it if it is ours; otherwise its parent will.
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
            let procs_left = cgroup
                .and_then(|cg| cg.pids().ok())
                .is_some_and(|p| !p.is_empty());
            if !self.record.alive() && !procs_left {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Err(Error::StillAlive(self.id().into()))
    }
}
