//! The command line as clap parses it: runc's verbs and global flags. The structs hold no
//! logic; `commands` does the work.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// berth-runtime's command line.
#[derive(Parser)]
#[command(name = "berth-runtime", version, about = "berth's OCI runtime")]
pub struct Cli {
    /// Directory holding the containers' state.
    #[arg(long, global = true, default_value = "/run/berth-runtime")]
    pub root: PathBuf,
    /// Append errors (and debug output) to this file.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Format of the log: text or json.
    #[arg(long, global = true, default_value = "text")]
    pub log_format: String,
    /// Debug output.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Accepted for runc compatibility; cgroups are managed through cgroupfs.
    #[arg(long, global = true, hide = true)]
    pub systemd_cgroup: bool,
    /// The verb.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// `create`'s arguments, shared with `run`.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// The bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket to send the PTY master to.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// File to write the init's pid to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    pub no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long, hide = true)]
    pub no_new_keyring: bool,
    /// The container id.
    pub id: String,
}

/// `run`'s arguments.
#[derive(clap::Args)]
pub struct RunArgs {
    /// What `create` takes.
    #[command(flatten)]
    pub create: CreateArgs,
    /// Return once started.
    #[arg(short, long)]
    pub detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    pub keep: bool,
}

/// `exec`'s arguments.
#[derive(clap::Args)]
pub struct ExecArgs {
    /// A process.json describing the process.
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Allocate a terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Return once started.
    #[arg(short, long)]
    pub detach: bool,
    /// Unix socket to send the PTY master to.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// File to write the process's pid to.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Working directory.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Extra environment variables.
    #[arg(short, long)]
    pub env: Vec<String>,
    /// uid[:gid].
    #[arg(short, long)]
    pub user: Option<String>,
    /// The container id.
    pub id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true)]
    pub args: Vec<String>,
}

/// The verbs.
#[derive(Subcommand)]
pub enum Cmd {
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
    Run(RunArgs),
    /// Run another process in a running container.
    Exec(ExecArgs),
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
