//! Command-line arguments: docker's verbs and flags. No logic lives here.

use clap::{ArgAction, Args, Parser, Subcommand};

pub use crate::cli_groups::{
    BuilderCommand, CheckpointCommand, CommitArgs, CompletionArgs, ContainerCommand, CpArgs,
    DiffArgs, ExportArgs, HistoryArgs, ImageCommand, ManArgs, SearchArgs, SystemCommand,
};
pub use crate::cli_images::{
    BuildArgs, ImagesArgs, ImportArgs, LoadArgs, LoginArgs, LogoutArgs, PullArgs, PushArgs,
    RmiArgs, SaveArgs, TagArgs,
};
pub use crate::cli_objects::{NetworkArgs, NetworkCommand, VolumeArgs, VolumeCommand};
pub use crate::cli_ops::{
    ContainerPruneArgs, ContainersArgs, LogHealthArgs, RenameArgs, StatsArgs, TopArgs, UpdateArgs,
};

/// berth: a Docker-compatible container engine client.
#[derive(Debug, Parser)]
#[command(name = "berth", version, disable_help_subcommand = true)]
pub struct Cli {
    /// Daemon socket to connect to (unix:///path).
    #[arg(
        short = 'H',
        long = "host",
        env = "DOCKER_HOST",
        global = true,
        default_value = "unix:///run/berth/berth.sock"
    )]
    pub host: String,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(CreateArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Attach local standard input, output, and error streams to a running container.
    Attach(AttachArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// List containers.
    #[command(alias = "ls")]
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(WaitArgs),
    /// Return low-level information on containers or images.
    Inspect(InspectArgs),
    /// List images.
    Images(ImagesArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Show the berth version information.
    Version(FormatArgs),
    /// Display system-wide information.
    Info(FormatArgs),
    /// Get real time events from the server.
    Events(EventsArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Log in to a registry.
    Login(LoginArgs),
    /// Log out from a registry.
    Logout(LogoutArgs),
    /// List port mappings or a specific mapping for the container.
    Port(PortArgs),
    /// Manage networks.
    Network(NetworkArgs),
    /// Manage volumes.
    Volume(VolumeArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(DiffArgs),
    /// Export a container's filesystem as a tar archive.
    Export(ExportArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Search Docker Hub for images.
    Search(SearchArgs),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage berth.
    #[command(subcommand)]
    System(SystemCommand),
    /// Manage builds.
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Manage checkpoints.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Pause all processes within one or more containers.
    Pause(ContainersArgs),
    /// Unpause all processes within one or more containers.
    Unpause(ContainersArgs),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(StatsArgs),
    /// Update configuration of one or more containers.
    Update(UpdateArgs),
    /// Rename a container.
    Rename(RenameArgs),
    /// Manage containers.
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Write a shell completion script (bash, zsh or fish) to standard output.
    Completion(CompletionArgs),
    /// Write man pages for berth and its commands into a directory.
    #[command(hide = true)]
    Man(ManArgs),
}

/// Flags of `create` (and `run`).
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Assign a name to the container.
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name.
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Set meta data on a container.
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Memory limit.
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Number of CPUs.
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<i64>,
    /// Signal to stop the container.
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Publish a container's port(s) to the host: [ip:][hostPort:]containerPort[/proto].
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports.
    #[arg(long)]
    pub expose: Vec<String>,
    /// Connect a container to a network (bridge, host, none, container:NAME or a name).
    #[arg(long = "network", alias = "net")]
    pub network: Option<String>,
    /// Add a network-scoped alias for the container.
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// Bind mount a volume ([SRC:]DST[:OPTS]).
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container (type=bind|volume|tmpfs,...).
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory (PATH[:OPTS]).
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s) (NAME[:ro|rw]).
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Optional volume driver for the container.
    #[arg(long = "volume-driver")]
    pub volume_driver: Option<String>,
    /// Logging and health-check flags.
    #[command(flatten)]
    pub log_health: LogHealthArgs,
    /// The image.
    pub image: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Flags of `run`.
#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Run container in background and print container ID.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// The create flags.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// Flags of `attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Do not attach STDIN.
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (without a TTY).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// The container.
    pub container: String,
}

/// Flags of `exec`.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give extended privileges to the command.
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]").
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// The container, the command and its arguments.
    #[arg(required = true, num_args = 2.., trailing_var_arg = true, allow_hyphen_values = true,
          value_name = "CONTAINER COMMAND")]
    pub args: Vec<String>,
}

/// Flags of `start`.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals.
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Flags of `stop` and `restart`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Signal to send to the container.
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long = "time", alias = "timeout")]
    pub time: Option<i64>,
    /// Containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Flags of `kill`.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container.
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Flags of `rm`.
#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Flags of `ps`.
#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Format output using a Go template, `table`, or `json`.
    #[arg(long)]
    pub format: Option<String>,
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long = "last")]
    pub last: Option<i64>,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Display total file sizes.
    #[arg(short = 's', long)]
    pub size: bool,
}

/// Flags of `logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs.
    #[arg(short = 'n', long)]
    pub tail: Option<String>,
    /// Show logs since timestamp or relative (e.g. 42m).
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp or relative (e.g. 42m).
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// The container.
    pub container: String,
}

/// Flags of `wait`.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Flags of `inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a Go template.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Return JSON for the specified type (container or image).
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Display total file sizes if the type is container.
    #[arg(short = 's', long)]
    pub size: bool,
    /// Names or IDs.
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// `--format` alone (`version`, `info`).
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Format output using a Go template or `json`.
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// Flags of `events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided.
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a Go template or `json`.
    #[arg(long)]
    pub format: Option<String>,
}

/// Flags of `port`.
#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    /// The container.
    pub container: String,
    /// PORT[/PROTO].
    pub port: Option<String>,
}
