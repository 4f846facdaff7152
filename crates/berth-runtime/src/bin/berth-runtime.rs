//! The runc-compatible CLI around the berth-runtime library: `create`, `start`, `state`,
//! `kill`, `delete`, `run`, `exec`, `ps`, `spec`, `list`, `pause`, `resume`, with runc's
//! global `--root`, `--log`, `--log-format` and `--debug`. Argument structs hold no logic;
//! each verb calls the library.

use std::io::Write;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use berth_runtime::{ConsoleMode, CreateOptions, ExecOptions, Runtime};
use clap::{Parser, Subcommand};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

#[derive(Parser)]
#[command(name = "berth-runtime", version, about = "berth's OCI runtime")]
struct Cli {
    /// Directory holding the containers' state.
    #[arg(long, global = true, default_value = "/run/berth-runtime")]
    root: PathBuf,
    /// Append errors (and debug output) to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of the log: text or json.
    #[arg(long, global = true, default_value = "text")]
    log_format: String,
    /// Debug output.
    #[arg(long, global = true)]
    debug: bool,
    /// Accepted for runc compatibility; cgroups are managed through cgroupfs.
    #[arg(long, global = true, hide = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args)]
struct CreateArgs {
    /// The bundle directory.
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Unix socket to send the PTY master to.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// File to write the init's pid to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    no_new_keyring: bool,
    /// The container id.
    id: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a container; its process waits for `start`.
    Create(CreateArgs),
    /// Start a created container's process.
    Start {
        /// The container id.
        id: String,
    },
    /// Print a container's OCI state.
    State {
        /// The container id.
        id: String,
    },
    /// Send a signal to a container's init (or all its processes).
    Kill {
        /// Signal every process of the container.
        #[arg(short, long)]
        all: bool,
        /// The container id.
        id: String,
        /// The signal: a name (KILL, SIGKILL) or a number.
        #[arg(default_value = "TERM")]
        signal: String,
    },
    /// Delete a container.
    Delete {
        /// Kill it first if it runs.
        #[arg(short, long)]
        force: bool,
        /// The container id.
        id: String,
    },
    /// Create and start a container, wait for it and delete it.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once started.
        #[arg(short, long)]
        detach: bool,
        /// Keep the container's state after it exits.
        #[arg(long)]
        keep: bool,
    },
    /// Run another process in a running container.
    Exec {
        /// A process.json describing the process.
        #[arg(short, long)]
        process: Option<PathBuf>,
        /// Allocate a terminal.
        #[arg(short, long)]
        tty: bool,
        /// Return once started.
        #[arg(short, long)]
        detach: bool,
        /// Unix socket to send the PTY master to.
        #[arg(long)]
        console_socket: Option<PathBuf>,
        /// File to write the process's pid to.
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Working directory.
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Extra environment variables.
        #[arg(short, long)]
        env: Vec<String>,
        /// uid[:gid].
        #[arg(short, long)]
        user: Option<String>,
        /// The container id.
        id: String,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// List a container's processes.
    Ps {
        /// table or json.
        #[arg(short, long, default_value = "table")]
        format: String,
        /// The container id.
        id: String,
    },
    /// Write a default config.json.
    Spec {
        /// Where to write config.json.
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
    },
    /// List the containers.
    List {
        /// table or json.
        #[arg(short, long, default_value = "table")]
        format: String,
        /// Only the ids.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Freeze a container's processes.
    Pause {
        /// The container id.
        id: String,
    },
    /// Thaw a paused container.
    Resume {
        /// The container id.
        id: String,
    },
}

fn main() {
    let cli = Cli::parse();
    if cli.debug {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    }
    let code = match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            report(&cli, &err);
            err.downcast_ref::<berth_runtime::Error>()
                .map_or(1, berth_runtime::Error::exit_code)
        }
    };
    std::process::exit(code);
}

/// Print the error to stderr and, with --log, append it to the log file.
fn report(cli: &Cli, err: &anyhow::Error) {
    let text = format!("{err:#}");
    eprintln!("berth-runtime: {text}");
    if let Some(log) = &cli.log
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let time = berth_runtime::state::now_rfc3339();
        let line = if cli.log_format == "json" {
            serde_json::json!({"level": "error", "msg": text, "time": time}).to_string()
        } else {
            format!("time=\"{time}\" level=error msg={text:?}")
        };
        let _ = writeln!(file, "{line}");
    }
}

fn run(cli: &Cli) -> Result<i32> {
    let rt = Runtime::new(&cli.root);
    match &cli.cmd {
        Cmd::Create(a) => {
            create(&rt, a).map(drop)?;
            Ok(0)
        }
        Cmd::Start { id } => {
            rt.load(id)?.start()?;
            Ok(0)
        }
        Cmd::State { id } => {
            let state = rt.load(id)?.state()?;
            println!("{}", serde_json::to_string_pretty(&state)?);
            Ok(0)
        }
        Cmd::Kill { all, id, signal } => {
            rt.load(id)?.kill(parse_signal(signal)?, *all)?;
            Ok(0)
        }
        Cmd::Delete { force, id } => {
            match rt.load(id) {
                Ok(c) => c.delete(*force)?,
                // runc deletes a missing container with --force quietly.
                Err(berth_runtime::Error::NotFound(_)) if *force => {}
                Err(e) => return Err(e.into()),
            }
            Ok(0)
        }
        Cmd::Run {
            create: a,
            detach,
            keep,
        } => run_container(&rt, a, *detach, *keep),
        Cmd::Exec {
            process,
            tty,
            detach,
            console_socket,
            pid_file,
            cwd,
            env,
            user,
            id,
            args,
        } => {
            let container = rt.load(id)?;
            let mut proc = match process {
                Some(path) => {
                    let bytes =
                        std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
                    serde_json::from_slice::<oci_spec::runtime::Process>(&bytes)
                        .with_context(|| format!("parse {}", path.display()))?
                }
                None => {
                    if args.is_empty() {
                        bail!("exec needs --process or a command");
                    }
                    let bundle = berth_runtime::spec::load(container.bundle())?;
                    let mut p = bundle.spec.process().clone().unwrap_or_default();
                    p.set_args(Some(args.clone()));
                    p.set_terminal(Some(*tty));
                    p
                }
            };
            if let Some(cwd) = cwd {
                proc.set_cwd(cwd.clone());
            }
            if !env.is_empty() {
                let mut all = proc.env().clone().unwrap_or_default();
                all.extend(env.iter().cloned());
                proc.set_env(Some(all));
            }
            if let Some(user) = user {
                let (uid, gid) = parse_user(user)?;
                proc.user_mut().set_uid(uid);
                proc.user_mut().set_gid(gid);
            }
            let console = console_mode(console_socket.as_deref(), proc.terminal() == Some(true))?;
            let exec = container.exec(
                &proc,
                ExecOptions {
                    stdio: None,
                    console,
                },
            )?;
            if let Some(path) = pid_file {
                write_pid(path, exec.pid)?;
            }
            if *detach {
                return Ok(0);
            }
            wait_exit(exec.pid)
        }
        Cmd::Ps { format, id } => {
            let pids = rt.load(id)?.pids()?;
            if format == "json" {
                let raw: Vec<i32> = pids.iter().map(|p| p.as_raw()).collect();
                println!("{}", serde_json::to_string(&raw)?);
            } else {
                println!("{:>8} CMD", "PID");
                for pid in pids {
                    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    let cmd: String = String::from_utf8_lossy(&cmd).replace('\0', " ");
                    println!("{:>8} {}", pid, cmd.trim_end());
                }
            }
            Ok(0)
        }
        Cmd::Spec { bundle } => {
            let path = bundle.join("config.json");
            if path.exists() {
                bail!("{} exists: remove it first", path.display());
            }
            let spec = berth_runtime::defaults::default_spec()?;
            let text = serde_json::to_string_pretty(&spec)?;
            std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
            Ok(0)
        }
        Cmd::List { format, quiet } => {
            let states = rt.list()?;
            if *quiet {
                for s in &states {
                    println!("{}", s.id);
                }
            } else if format == "json" {
                println!("{}", serde_json::to_string(&states)?);
            } else {
                println!(
                    "{:<24} {:>8} {:<10} {:<40} CREATED",
                    "ID", "PID", "STATUS", "BUNDLE"
                );
                for s in &states {
                    println!(
                        "{:<24} {:>8} {:<10} {:<40} {}",
                        s.id,
                        s.pid.unwrap_or(0),
                        s.status,
                        s.bundle.display(),
                        s.created
                    );
                }
            }
            Ok(0)
        }
        Cmd::Pause { id } => {
            rt.load(id)?.pause()?;
            Ok(0)
        }
        Cmd::Resume { id } => {
            rt.load(id)?.resume()?;
            Ok(0)
        }
    }
}

fn console_mode(socket: Option<&Path>, terminal: bool) -> Result<ConsoleMode> {
    match socket {
        Some(path) => Ok(ConsoleMode::Socket(path.into())),
        None if terminal => bail!("process.terminal is true: pass --console-socket"),
        None => Ok(ConsoleMode::Return),
    }
}

fn create(rt: &Runtime, a: &CreateArgs) -> Result<berth_runtime::Container> {
    let (container, master) = create_with_terminal(rt, a)?;
    if master.is_some() {
        // Nobody to hand the terminal to: undo, as runc refuses this up front.
        let _ = container.delete(true);
        bail!("process.terminal is true: pass --console-socket");
    }
    Ok(container)
}

/// Create; the PTY master comes back when process.terminal is set and no console socket is.
fn create_with_terminal(
    rt: &Runtime,
    a: &CreateArgs,
) -> Result<(berth_runtime::Container, Option<OwnedFd>)> {
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

fn run_container(rt: &Runtime, a: &CreateArgs, detach: bool, keep: bool) -> Result<i32> {
    let (container, master) = create_with_terminal(rt, a)?;
    if master.is_some() && detach {
        let _ = container.delete(true);
        bail!("process.terminal is true: pass --console-socket with --detach");
    }
    if let Err(e) = container.start() {
        let _ = container.delete(true);
        return Err(e.into());
    }
    if detach {
        return Ok(0);
    }
    let pid = container
        .pid()
        .ok_or_else(|| anyhow!("container {} has no pid", a.id))?;
    let code = wait_forwarding(pid, master)?;
    if !keep {
        container.delete(true)?;
    }
    Ok(code)
}

/// Our stdin in raw mode while we relay a container's terminal; restored on drop.
struct RawStdin(Option<nix::sys::termios::Termios>);

impl RawStdin {
    fn new() -> RawStdin {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        match tcgetattr(&stdin) {
            Ok(saved) => {
                let mut raw = saved.clone();
                cfmakeraw(&mut raw);
                let _ = tcsetattr(&stdin, SetArg::TCSANOW, &raw);
                RawStdin(Some(saved))
            }
            Err(_) => RawStdin(None),
        }
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
    }
}

/// Copy what is readable from `from` to `to`; false at end of input.
fn relay(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 8192];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let mut done = 0;
            while done < n {
                match nix::unistd::write(to, &buf[done..n]) {
                    Ok(w) => done += w,
                    Err(nix::Error::EINTR) => {}
                    Err(_) => return false,
                }
            }
            true
        }
        Err(nix::Error::EINTR | nix::Error::EAGAIN) => true,
        // EIO: the terminal's last slave descriptor closed.
        Err(_) => false,
    }
}

/// Wait for the container's init, forwarding the signals a terminal or supervisor sends us
/// (as runc run does), and turn its end into an exit code.
fn wait_forwarding(pid: Pid, master: Option<OwnedFd>) -> Result<i32> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::SigSet;
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use nix::sys::wait::WaitPidFlag;
    use std::os::fd::AsFd;
    let mut mask = SigSet::empty();
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
    ] {
        mask.add(sig);
    }
    mask.thread_block().context("block signals")?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .context("signalfd")?;
    let _raw = master.as_ref().map(|_| RawStdin::new());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (mut master_open, mut stdin_open) = (master.is_some(), master.is_some());
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(drain(master.as_ref(), code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                return Ok(drain(master.as_ref(), 128 + sig as i32));
            }
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context(format!("wait for pid {pid}"))),
        }
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(m) = master.as_ref().filter(|_| master_open) {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context("poll")),
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|f| f.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let (sig_ready, mut next) = (ready(0), 1);
        if let Some(m) = master.as_ref() {
            if master_open {
                if ready(next) {
                    master_open = relay(m.as_fd(), stdout.as_fd());
                }
                next += 1;
            }
            if stdin_open && ready(next) {
                stdin_open = relay(stdin.as_fd(), m.as_fd());
            }
        }
        if !sig_ready {
            continue;
        }
        match sfd.read_signal() {
            Ok(Some(info)) => {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32)
                    && sig != Signal::SIGCHLD
                {
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
            Ok(None) | Err(nix::Error::EINTR) => {}
            Err(e) => return Err(anyhow!(e).context("read signalfd")),
        }
    }
}

/// Copy what the container's terminal still holds, then pass `code` on.
fn drain(master: Option<&OwnedFd>, code: i32) -> i32 {
    if let Some(m) = master {
        use std::os::fd::AsFd;
        let flags = nix::fcntl::OFlag::O_NONBLOCK;
        let _ = nix::fcntl::fcntl(m.as_fd(), nix::fcntl::FcntlArg::F_SETFL(flags));
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        while let Ok(n @ 1..) = nix::unistd::read(m.as_fd(), &mut buf) {
            if out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = out.flush();
    }
    code
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

/// A signal name or number (`berth_runtime::signal`'s forms) as one this system can send.
fn parse_signal(s: &str) -> Result<Signal> {
    let n = berth_runtime::signal::parse(s)?;
    Signal::try_from(n).with_context(|| format!("signal {s}"))
}

fn parse_user(s: &str) -> Result<(u32, u32)> {
    let (u, g) = s.split_once(':').unwrap_or((s, "0"));
    Ok((
        u.parse().with_context(|| format!("user {s}"))?,
        g.parse().with_context(|| format!("user {s}"))?,
    ))
}
