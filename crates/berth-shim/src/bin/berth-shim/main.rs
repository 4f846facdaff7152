//! The berth-shim binary: daemonize, create and start the container, serve its socket.
//! Flags, files and lifetime are documented in the `berth_shim` crate docs.

mod args;
mod backend;
mod conn;
mod proc;
mod runtime;
mod server;
#[allow(unsafe_code)]
mod sys;

use std::fs;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use berth_shim::logfile::LogWriter;
use berth_shim::protocol::SOCKET_NAME;
use nix::fcntl::OFlag;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, pipe2, setsid};

use crate::args::Args;
use crate::backend::Backend;
use crate::proc::{Proc, plumbing};

/// The shim's pid, in the state dir.
const SHIM_PID_FILE: &str = "shim.pid";
/// The container init's pid, in the state dir (written by the runtime).
const INIT_PID_FILE: &str = "init.pid";

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("berth-shim: {e:#}");
            return ExitCode::from(2);
        }
    };
    match starter(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth-shim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The invoking process: fork the shim and report what it says.
fn starter(args: Args) -> anyhow::Result<ExitCode> {
    let (r, w) = pipe2(OFlag::O_CLOEXEC).context("make status pipe")?;
    match sys::fork().context("fork shim")? {
        ForkResult::Parent { child } => {
            drop(w);
            // the intermediate child exits as soon as it has forked the shim
            let _ = waitpid(child, None);
            // one line: the container's init may still hold a copy of the pipe (until it
            // execs), so the end of the pipe does not mark the end of the message
            let mut msg = Vec::new();
            let mut f = fs::File::from(r);
            let mut b = [0u8; 1];
            while let Ok(1) = f.read(&mut b) {
                if b[0] == b'\n' {
                    break;
                }
                msg.push(b[0]);
            }
            let msg = String::from_utf8_lossy(&msg);
            match msg.strip_prefix("ok ") {
                Some(pid) => {
                    println!("{}", pid.trim());
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    let msg = msg.strip_prefix("error ").unwrap_or(&msg).trim();
                    if msg.is_empty() {
                        bail!("the shim exited without saying why");
                    }
                    eprintln!("berth-shim: {msg}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        ForkResult::Child => {
            drop(r);
            // own session: no terminal signals, not in the starter's process group
            if setsid().is_err() {
                std::process::exit(1);
            }
            match sys::fork() {
                Ok(ForkResult::Parent { .. }) => std::process::exit(0),
                Ok(ForkResult::Child) => std::process::exit(shim(args, w)),
                Err(_) => std::process::exit(1),
            }
        }
    }
}

/// Send the status line and close the pipe, so the starter returns at once.
fn report(w: OwnedFd, msg: &str) {
    let mut f = fs::File::from(w);
    let _ = f.write_all(msg.as_bytes());
}

/// The daemonized shim. Returns the exit code.
fn shim(args: Args, status: OwnedFd) -> i32 {
    if let Err(e) = detach_stdio(args.debug_log.as_deref()) {
        report(status, &format!("error {e:#}\n"));
        return 1;
    }
    let mut created_dir = false;
    match setup(&args, &mut created_dir) {
        Ok((mut shim, pid)) => {
            report(status, &format!("ok {pid}\n"));
            sys::trim_heap();
            sys::drop_clean_file_pages();
            let r = shim.run();
            cleanup(&args.state_dir, false);
            match r {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("berth-shim: {e:#}");
                    1
                }
            }
        }
        Err(e) => {
            cleanup(&args.state_dir, created_dir);
            let msg = format!("{e:#}").replace('\n', " ");
            report(status, &format!("error {msg}\n"));
            1
        }
    }
}

/// stdio to /dev/null (stderr to the debug log when given); cwd to `/`.
fn detach_stdio(debug_log: Option<&Path>) -> anyhow::Result<()> {
    std::env::set_current_dir("/").context("chdir /")?;
    let null = fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("open /dev/null")?;
    nix::unistd::dup2_stdin(&null).context("stdin to /dev/null")?;
    nix::unistd::dup2_stdout(&null).context("stdout to /dev/null")?;
    match debug_log {
        Some(p) => {
            let f = fs::File::options()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("open debug log {}", p.display()))?;
            nix::unistd::dup2_stderr(&f).context("stderr to the debug log")?;
        }
        None => nix::unistd::dup2_stderr(&null).context("stderr to /dev/null")?,
    }
    Ok(())
}

/// Remove the shim's files (and its directory when this shim made it).
fn cleanup(state_dir: &Path, remove_dir: bool) {
    for f in [SOCKET_NAME, SHIM_PID_FILE, INIT_PID_FILE] {
        let _ = fs::remove_file(state_dir.join(f));
    }
    if remove_dir {
        let _ = fs::remove_dir_all(state_dir);
    }
}

fn bind(state_dir: &Path) -> anyhow::Result<UnixListener> {
    let path = state_dir.join(SOCKET_NAME);
    if path.exists() {
        if UnixStream::connect(&path).is_ok() {
            bail!("a shim already serves {}", path.display());
        }
        fs::remove_file(&path).with_context(|| format!("remove stale {}", path.display()))?;
    }
    UnixListener::bind(&path).with_context(|| format!("bind {}", path.display()))
}

type Running = (server::Shim<runtime::RuntimeBackend>, i32);

fn setup(args: &Args, created_dir: &mut bool) -> anyhow::Result<Running> {
    sys::default_sigpipe().context("restore SIGPIPE")?;
    nix::sys::prctl::set_child_subreaper(true).context("become a child subreaper")?;
    if !args.state_dir.exists() {
        fs::create_dir_all(&args.state_dir)
            .with_context(|| format!("create state dir {}", args.state_dir.display()))?;
        *created_dir = true;
    }
    let _ = fs::remove_file(args.state_dir.join(berth_shim::status::EXIT_FILE));
    fs::write(
        args.state_dir.join(SHIM_PID_FILE),
        std::process::id().to_string(),
    )
    .context("write shim pid file")?;
    let listener = bind(&args.state_dir)?;
    let tty = terminal(&args.bundle)?;
    let log = if args.no_log {
        None
    } else {
        Some(
            LogWriter::open_rotating(&args.log, args.rotation)
                .with_context(|| format!("open log {}", args.log.display()))?,
        )
    };
    let pid_file = args.state_dir.join(INIT_PID_FILE);

    let (mut backend, init) = if tty {
        let (b, spawned) =
            runtime::create(&args.runtime_root, &args.id, &args.bundle, None, &pid_file)?;
        let init = Proc::with_pty(None, spawned);
        (b, init)
    } else {
        let pl = plumbing(args.stdin, true, true)?;
        let (b, spawned) = runtime::create(
            &args.runtime_root,
            &args.id,
            &args.bundle,
            Some(pl.child),
            &pid_file,
        )?;
        (b, Ok(Proc::with_pipes(None, spawned.pid, pl.stdin, pl.out)))
    };
    let started = || -> anyhow::Result<Running> {
        let init = init?;
        let pid = init.pid.as_raw();
        if !args.defer_start {
            backend.start().context("start container")?;
        }
        Ok((
            server::Shim::new(
                server::Config {
                    id: args.id.clone(),
                    state_dir: args.state_dir.clone(),
                    started: !args.defer_start,
                    stdin: args.stdin,
                },
                backend,
                init,
                listener,
                log,
            )?,
            pid,
        ))
    };
    // on any failure after create, the container goes too
    started().map_err(|e| match runtime::delete(&args.runtime_root, &args.id) {
        Ok(()) => e,
        Err(d) => e.context(format!("and delete failed: {d:#}")),
    })
}

/// `process.terminal` of the bundle's config.json.
fn terminal(bundle: &Path) -> anyhow::Result<bool> {
    let path: PathBuf = bundle.join("config.json");
    let spec =
        oci_spec::runtime::Spec::load(&path).with_context(|| format!("load {}", path.display()))?;
    Ok(spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false))
}
