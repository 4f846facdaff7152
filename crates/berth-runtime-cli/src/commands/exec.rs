//! `exec`: the process from `--process` or from the container's own with the command line's
//! arguments, `--cwd`, `--env` and `--user` on top; unless detached, wait for it.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use berth_runtime::{ConsoleMode, ExecOptions, Runtime};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use crate::cli::ExecArgs;

/// `exec ID [CMD...]`.
pub fn exec(rt: &Runtime, a: &ExecArgs) -> Result<i32> {
    let container = rt.load(&a.id)?;
    let mut proc = match &a.process {
        Some(path) => read_process(path)?,
        None => {
            if a.args.is_empty() {
                bail!("exec needs --process or a command");
            }
            let bundle = berth_runtime::spec::load(container.bundle())?;
            let mut p = bundle.spec.process().clone().unwrap_or_default();
            p.set_args(Some(a.args.clone()));
            p.set_terminal(Some(a.tty));
            p
        }
    };
    apply_overrides(&mut proc, a)?;
    let console = console_mode(a.console_socket.as_deref(), proc.terminal() == Some(true))?;
    let exec = container.exec(
        &proc,
        ExecOptions {
            stdio: None,
            console,
        },
    )?;
    if let Some(path) = &a.pid_file {
        write_pid(path, exec.pid)?;
    }
    if a.detach {
        return Ok(0);
    }
    wait_exit(exec.pid)
}

/// A process.json.
fn read_process(path: &Path) -> Result<Process> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_slice::<Process>(&bytes).with_context(|| format!("parse {}", path.display()))
}

/// `--cwd`, `--env` (appended) and `--user` over the process.
fn apply_overrides(proc: &mut Process, a: &ExecArgs) -> Result<()> {
    if let Some(cwd) = &a.cwd {
        proc.set_cwd(cwd.clone());
    }
    if !a.env.is_empty() {
        let mut all = proc.env().clone().unwrap_or_default();
        all.extend(a.env.iter().cloned());
        proc.set_env(Some(all));
    }
    if let Some(user) = &a.user {
        let (uid, gid) = parse_user(user)?;
        proc.user_mut().set_uid(uid);
        proc.user_mut().set_gid(gid);
    }
    Ok(())
}

fn console_mode(socket: Option<&Path>, terminal: bool) -> Result<ConsoleMode> {
    match socket {
        Some(path) => Ok(ConsoleMode::Socket(path.into())),
        None if terminal => bail!("process.terminal is true: pass --console-socket"),
        None => Ok(ConsoleMode::Return),
    }
}

/// Wait for a child and turn its end into an exit code (128+signal when killed).
fn wait_exit(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) => continue,
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(anyhow!(e).context(format!("wait for pid {pid}"))),
        }
    }
}

fn write_pid(path: &Path, pid: Pid) -> Result<()> {
    std::fs::write(path, pid.to_string()).with_context(|| format!("write {}", path.display()))
}

/// `uid[:gid]`, gid 0 when left out.
fn parse_user(s: &str) -> Result<(u32, u32)> {
    let (u, g) = s.split_once(':').unwrap_or((s, "0"));
    Ok((
        u.parse().with_context(|| format!("user {s}"))?,
        g.parse().with_context(|| format!("user {s}"))?,
    ))
}
