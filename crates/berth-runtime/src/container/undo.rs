//! What a failed create must undo: kill and reap the init, destroy the cgroup, remove the
//! state directory, and report every failure beside the cause.

use std::path::PathBuf;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::cgroups::AnyCgroupManager;
use crate::error::Error;

/// What a failed create must undo, filled in as create goes.
pub(super) struct Undo {
    pub(super) dir: Option<PathBuf>,
    pub(super) cgroup: Option<AnyCgroupManager>,
    pub(super) child: Option<Pid>,
}

impl Undo {
    /// Undo everything; keep the cause and every cleanup failure.
    pub(super) fn run(self, cause: Error) -> Error {
        let mut failures = Vec::new();
        let mut cause = cause;
        if let Some(pid) = self.child {
            // An init that reported an error exits by itself, with the code to keep.
            if !matches!(cause, Error::Init { .. }) {
                let _ = kill(pid, Signal::SIGKILL);
            }
            if let Ok(WaitStatus::Exited(_, code)) = waitpid(pid, None)
                && let Error::Init { exit_code, .. } = &mut cause
            {
                *exit_code = code;
            }
        }
        if let Some(cg) = self.cgroup
            && let Err(e) = cg.destroy()
        {
            failures.push(e.into());
        }
        if let Some(dir) = self.dir
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            failures.push(Error::RemoveStateDir(dir, e));
        }
        if failures.is_empty() {
            cause
        } else {
            Error::Cleanup {
                source: Box::new(cause),
                failures,
            }
        }
    }
}
