//! The lifecycle: [`Runtime::create`] clones the container's init into its namespaces, puts it
//! in its cgroup and waits until it is set up and blocked on `exec.fifo`; [`Container::start`]
//! (from the same or another process) releases it; then kill, pause, resume, stats and delete.
//!
//! The init is a direct child of the process that called `create`, so that process (the shim)
//! can wait for it. A failed create leaves nothing behind: the child is killed and reaped, the
//! cgroup destroyed and the state directory removed.
//!
//! One module per verb, as youki's `libcontainer` has them: [`create`](Runtime::create) in
//! `create.rs`, `start.rs`, `kill.rs`, `pause.rs` (pause and resume), `delete.rs`, [`exec`],
//! and `state.rs` (state, pids, stats, OOM). What create and exec share has its own module:
//! `clone.rs` (the clone into the cgroup and the pid namespace), `handshake.rs` (the parent's
//! side of the sync channel), `id_map.rs` (uid and gid maps) and `undo.rs` (a failed create's
//! cleanup).

mod clone;
mod create;
mod delete;
pub mod exec;
mod handshake;
mod id_map;
mod kill;
mod pause;
mod start;
mod state;
mod undo;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::cgroups::AnyCgroupManager;
use crate::error::Error;
use crate::state::{Record, State, Status};
use crate::sync::Channel;

/// The runtime: a state root holding one directory per container.
#[derive(Debug, Clone)]
pub struct Runtime {
    root: PathBuf,
}

/// How `create` wires up the container's stdio and terminal.
#[derive(Debug)]
pub struct CreateOptions {
    /// The container's stdin, stdout, stderr; None = inherit the caller's 0, 1, 2.
    pub stdio: Option<[OwnedFd; 3]>,
    /// Used only when process.terminal is true.
    pub console: ConsoleMode,
    /// Where to write the init's pid.
    pub pid_file: Option<PathBuf>,
}

/// Where the PTY master goes.
#[derive(Debug, Clone)]
pub enum ConsoleMode {
    /// Send the PTY master over SCM_RIGHTS to this unix socket (runc's `--console-socket`).
    Socket(PathBuf),
    /// Return it to the caller.
    Return,
}

/// A created container and, with [`ConsoleMode::Return`], its PTY master.
#[derive(Debug)]
pub struct Created {
    /// The container, waiting for `start`.
    pub container: Container,
    /// The PTY master when process.terminal and ConsoleMode::Return.
    pub pty_master: Option<OwnedFd>,
}

/// A container known to the runtime.
#[derive(Debug)]
pub struct Container {
    pub(crate) dir: PathBuf,
    pub(crate) record: Record,
    /// The sync channel to the init when this process created it: reports exec failures.
    chan: Option<Channel>,
}

/// Container ids as runc accepts them.
fn check_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.into()))
    }
}

impl Runtime {
    /// A runtime keeping state under `root` (default /run/berth-runtime).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Runtime { root: root.into() }
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Load a container's record.
    pub fn load(&self, id: &str) -> Result<Container, Error> {
        check_id(id)?;
        let dir = self.dir(id);
        let record = match Record::load(&dir) {
            Ok(r) => r,
            Err(crate::state::StateError::Read(_, e))
                if e.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(Error::NotFound(id.into()));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Container {
            dir,
            record,
            chan: None,
        })
    }

    /// The states of all containers under the root.
    pub fn list(&self) -> Result<Vec<State>, Error> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::List(self.root.clone(), e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let dir = entry.path();
            if let Ok(record) = Record::load(&dir) {
                out.push(record.state(&dir));
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// Compile a seccomp section through the on-disk cache in the state root (next to the
/// container directory `dir`): libseccomp takes ~20 ms for Docker's profile, a cache hit ~0.1.
fn compile_seccomp(
    s: &oci_spec::runtime::LinuxSeccomp,
    dir: &Path,
) -> Result<crate::seccomp::SeccompProgram, Error> {
    match dir.parent() {
        Some(root) => Ok(crate::seccomp::compile_cached(
            s,
            &root.join(SECCOMP_CACHE),
        )?),
        None => Ok(crate::seccomp::compile(s)?),
    }
}

/// The seccomp cache's directory under the state root; ids cannot start with a dot.
const SECCOMP_CACHE: &str = ".seccomp-cache";

impl Container {
    /// The container's id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The init's pid (host view).
    pub fn pid(&self) -> Option<nix::unistd::Pid> {
        (self.record.pid > 0).then(|| nix::unistd::Pid::from_raw(self.record.pid))
    }

    /// The bundle directory.
    pub fn bundle(&self) -> &Path {
        &self.record.bundle
    }

    fn status(&self) -> Status {
        self.record.status(&self.dir)
    }

    /// The status now, if it is one of `ok`; else [`Error::Status`] saying what `want`s it.
    fn require(&self, ok: &[Status], want: &'static str) -> Result<Status, Error> {
        let status = self.status();
        if ok.contains(&status) {
            Ok(status)
        } else {
            Err(Error::Status {
                id: self.id().into(),
                status,
                want,
            })
        }
    }

    pub(crate) fn cgroup(&self) -> Result<AnyCgroupManager, Error> {
        Ok(AnyCgroupManager::new(
            self.record.cgroups_path.as_deref(),
            &self.record.id,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(check_id("abc-1.2_x+y").is_ok());
        for bad in ["", ".", "..", ".seccomp-cache", "a/b", "a b", "é"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loading_a_missing_container_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let rt = Runtime::new(dir.path());
        assert!(matches!(rt.load("nope"), Err(Error::NotFound(_))));
        assert!(rt.list().unwrap().is_empty());
    }
}
