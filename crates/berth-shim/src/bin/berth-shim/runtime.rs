//! The linked berth-runtime behind [`Backend`]: the only module that calls the runtime.

use std::os::fd::OwnedFd;
use std::path::Path;

use anyhow::Context;
use berth_runtime::{ConsoleMode, Container, CreateOptions, ExecOptions, Runtime};
use nix::sys::signal::Signal;

use crate::backend::{Backend, Spawned};

/// A container created through berth-runtime.
pub struct RuntimeBackend {
    container: Container,
    deleted: bool,
}

/// Create the container `id` from `bundle`: its init is a child of this process and waits for
/// [`Backend::start`]. `stdio` is ignored by the runtime when the process has a terminal;
/// then the PTY master is returned.
pub fn create(
    root: &Path,
    id: &str,
    bundle: &Path,
    stdio: Option<[OwnedFd; 3]>,
    pid_file: &Path,
) -> anyhow::Result<(RuntimeBackend, Spawned)> {
    let created = Runtime::new(root)
        .create(
            id,
            bundle,
            CreateOptions {
                stdio,
                console: ConsoleMode::Return,
                pid_file: Some(pid_file.to_path_buf()),
            },
        )
        .with_context(|| format!("create container {id}"))?;
    let backend = RuntimeBackend {
        container: created.container,
        deleted: false,
    };
    let Some(pid) = backend.container.pid() else {
        let mut b = backend;
        let _ = b.delete();
        anyhow::bail!("create container {id}: the runtime reported no init pid");
    };
    Ok((
        backend,
        Spawned {
            pid,
            pty: created.pty_master,
        },
    ))
}

impl Backend for RuntimeBackend {
    fn start(&mut self) -> anyhow::Result<()> {
        Ok(self.container.start()?)
    }

    fn kill(&self, signal: Signal, all: bool) -> anyhow::Result<()> {
        Ok(self.container.kill(signal, all)?)
    }

    fn exec(
        &self,
        process: &oci_spec::runtime::Process,
        stdio: Option<[OwnedFd; 3]>,
    ) -> anyhow::Result<Spawned> {
        let e = self.container.exec(
            process,
            ExecOptions {
                stdio,
                console: ConsoleMode::Return,
            },
        )?;
        Ok(Spawned {
            pid: e.pid,
            pty: e.pty_master,
        })
    }

    fn oom_killed(&self) -> bool {
        self.container.oom_killed().unwrap_or(false)
    }

    fn delete(&mut self) -> anyhow::Result<()> {
        if !self.deleted {
            self.container.delete(true)?;
            self.deleted = true;
        }
        Ok(())
    }
}

/// Delete the container `id` by name (cleanup after a failed start).
pub fn delete(root: &Path, id: &str) -> anyhow::Result<()> {
    Runtime::new(root)
        .load(id)
        .with_context(|| format!("load container {id}"))?
        .delete(true)
        .with_context(|| format!("delete container {id}"))
}
