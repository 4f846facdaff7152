//! `create` and `run` (create, start, wait with the terminal relayed, delete).

use std::os::fd::OwnedFd;

use anyhow::{Result, anyhow, bail};
use berth_runtime::{ConsoleMode, Container, CreateOptions, Runtime};

use crate::cli::{CreateArgs, RunArgs};

/// `create`: the container's process waits for `start`.
pub fn create(rt: &Runtime, a: &CreateArgs) -> Result<i32> {
    let (container, master) = create_with_terminal(rt, a)?;
    if master.is_some() {
        // Nobody to hand the terminal to: undo, as runc refuses this up front.
        let _ = container.delete(true);
        bail!("process.terminal is true: pass --console-socket");
    }
    Ok(0)
}

/// `run`: create and start; unless detached, relay the terminal and signals until the
/// container ends, delete it (unless `--keep`) and exit with its code.
pub fn run(rt: &Runtime, a: &RunArgs) -> Result<i32> {
    let (container, master) = create_with_terminal(rt, &a.create)?;
    if master.is_some() && a.detach {
        let _ = container.delete(true);
        bail!("process.terminal is true: pass --console-socket with --detach");
    }
    if let Err(e) = container.start() {
        let _ = container.delete(true);
        return Err(e.into());
    }
    if a.detach {
        return Ok(0);
    }
    let pid = container
        .pid()
        .ok_or_else(|| anyhow!("container {} has no pid", a.create.id))?;
    let code = crate::relay::wait_forwarding(pid, master)?;
    if !a.keep {
        container.delete(true)?;
    }
    Ok(code)
}

/// Create; the PTY master comes back when process.terminal is set and no console socket is.
fn create_with_terminal(rt: &Runtime, a: &CreateArgs) -> Result<(Container, Option<OwnedFd>)> {
    let console = match &a.console_socket {
        Some(path) => ConsoleMode::Socket(path.clone()),
        None => ConsoleMode::Return,
    };
    let created = rt.create(
        &a.id,
        &a.bundle,
        CreateOptions {
            stdio: None::<[OwnedFd; 3]>,
            console,
            pid_file: a.pid_file.clone(),
        },
    )?;
    Ok((created.container, created.pty_master))
}
