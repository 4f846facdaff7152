//! docker's management groups (`container`, `image`, `system`, `builder`, `checkpoint`) and
//! the flags of verbs that both a group and a top-level shortcut have. Each subcommand
//! reuses the flags of its shortcut (`container ls` = `ps`, `image rm` = `rmi`, ...).

use clap::{ArgAction, Args, Subcommand};

use crate::cli::{
    AttachArgs, CreateArgs, EventsArgs, ExecArgs, FormatArgs, ImagesArgs, ImportArgs, KillArgs,
    LoadArgs, LogsArgs, PortArgs, PsArgs, PullArgs, PushArgs, RmArgs, RmiArgs, RunArgs, SaveArgs,
    StartArgs, StopArgs, TagArgs, WaitArgs,
};
use crate::cli_ops::{
    ContainerPruneArgs, ContainersArgs, RenameArgs, StatsArgs, TopArgs, UpdateArgs,
};

/// `diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The container.
    pub container: String,
}

/// `export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short, long)]
    pub output: Option<String>,
    /// The container.
    pub container: String,
}

/// `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format (docker's `-H` is berth's global
    /// `--host` short flag, so only the long form is taken).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub human: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE').
    #[arg(long)]
    pub format: Option<String>,
    /// Show history for the given platform.
    #[arg(long)]
    pub platform: Option<String>,
    /// The image.
    pub image: String,
}

/// `commit`.
#[derive(Debug, Clone, Args)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>").
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image.
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause container during commit.
    #[arg(short, long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true")]
    pub pause: bool,
    /// The container.
    pub container: String,
    /// REPOSITORY[:TAG].
    pub repository: Option<String>,
}

/// `cp`.
#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Suppress progress output during copy.
    #[arg(short, long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH or a local path (`-` for a tar on stdin).
    pub src: String,
    /// CONTAINER:DEST_PATH or a local path (`-` for a tar on stdout).
    pub dst: String,
}

/// `container inspect`.
#[derive(Debug, Clone, Args)]
pub struct ContainerInspectArgs {
    /// Format output using a custom template ('json', 'TEMPLATE').
    #[arg(short, long)]
    pub format: Option<String>,
    /// Display total file sizes.
    #[arg(short, long)]
    pub size: bool,
    /// The containers.
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `image inspect`.
#[derive(Debug, Clone, Args)]
pub struct ImageInspectArgs {
    /// Format output using a custom template ('json', 'TEMPLATE').
    #[arg(short, long)]
    pub format: Option<String>,
    /// Inspect a specific platform of the multi-platform image.
    #[arg(long)]
    pub platform: Option<String>,
    /// The images.
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `image prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>").
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `system prune`.
#[derive(Debug, Clone, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<key>=<value>").
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Prune anonymous volumes.
    #[arg(long)]
    pub volumes: bool,
}

/// `system df`.
#[derive(Debug, Clone, Args)]
pub struct DfArgs {
    /// Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE').
    #[arg(long)]
    pub format: Option<String>,
    /// Show detailed information on space usage.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `builder prune`.
#[derive(Debug, Clone, Args)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=24h").
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Amount of disk space to keep for cache.
    #[arg(long)]
    pub keep_storage: Option<String>,
    /// Amount of disk space always allowed to keep for cache.
    #[arg(long)]
    pub reserved_space: Option<String>,
    /// Maximum amount of disk space allowed to keep for cache.
    #[arg(long)]
    pub max_used_space: Option<String>,
    /// Target amount of free disk space after pruning.
    #[arg(long)]
    pub min_free_space: Option<String>,
}

/// `search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Filter output based on conditions provided.
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print search using a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Max number of search results.
    #[arg(long)]
    pub limit: Option<i64>,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// The term to search for.
    pub term: String,
}

/// `checkpoint create`.
#[derive(Debug, Clone, Args)]
pub struct CheckpointCreateArgs {
    /// Use a custom checkpoint storage directory.
    #[arg(long)]
    pub checkpoint_dir: Option<String>,
    /// Leave the container running after checkpoint.
    #[arg(long)]
    pub leave_running: bool,
    /// The container.
    pub container: String,
    /// The checkpoint's name.
    pub checkpoint: String,
}

/// `checkpoint ls` / `checkpoint rm`.
#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    /// Use a custom checkpoint storage directory.
    #[arg(long)]
    pub checkpoint_dir: Option<String>,
    /// The container.
    pub container: String,
    /// The checkpoint's name (for `rm`).
    pub checkpoint: Option<String>,
}

/// `berth container ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum ContainerCommand {
    /// Attach local standard input, output, and error streams to a running container.
    Attach(AttachArgs),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Create a new container.
    Create(CreateArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(DiffArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Export a container's filesystem as a tar archive.
    Export(ExportArgs),
    /// Display detailed information on one or more containers.
    Inspect(ContainerInspectArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// List containers.
    #[command(aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Pause all processes within one or more containers.
    Pause(ContainersArgs),
    /// List port mappings or a specific mapping for the container.
    Port(PortArgs),
    /// Remove all stopped containers.
    Prune(ContainerPruneArgs),
    /// Rename a container.
    Rename(RenameArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Remove one or more containers.
    #[command(aliases = ["remove"])]
    Rm(RmArgs),
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(StatsArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Unpause all processes within one or more containers.
    Unpause(ContainersArgs),
    /// Update configuration of one or more containers.
    Update(UpdateArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(WaitArgs),
}

/// `berth image ...` (`image build` is `berth build`).
#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// Show the history of an image.
    History(HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Display detailed information on one or more images.
    Inspect(ImageInspectArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// List images.
    #[command(aliases = ["list"])]
    Ls(ImagesArgs),
    /// Remove unused images.
    Prune(PruneArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Remove one or more images.
    #[command(aliases = ["remove", "rmi"])]
    Rm(RmiArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
}

/// `berth system ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum SystemCommand {
    /// Show docker disk usage.
    Df(DfArgs),
    /// Get real time events from the server.
    Events(EventsArgs),
    /// Display system-wide information.
    Info(FormatArgs),
    /// Remove unused data.
    Prune(SystemPruneArgs),
}

/// `berth builder ...` (`builder build` is `berth build`).
#[derive(Debug, Clone, Subcommand)]
pub enum BuilderCommand {
    /// Remove build cache.
    Prune(BuilderPruneArgs),
}

/// `berth checkpoint ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum CheckpointCommand {
    /// Create a checkpoint from a running container.
    Create(CheckpointCreateArgs),
    /// List checkpoints for a container.
    #[command(aliases = ["list"])]
    Ls(CheckpointArgs),
    /// Remove a checkpoint.
    #[command(aliases = ["remove"])]
    Rm(CheckpointArgs),
}

/// Shells `berth completion` writes a script for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// `berth completion`.
#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell to write completions for.
    pub shell: Shell,
}

/// `berth man`: man pages for berth and each of its commands.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The directory to write `berth.1`, `berth-ps.1`, ... into.
    pub dir: String,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::cli::{Cli, Command};

    #[test]
    fn every_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn groups_parse_onto_their_verbs() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            crate::commands::groups::shortcut(cli.command)
        };
        assert!(matches!(parse(&["berth", "container", "ls", "-a"]), Command::Ps(a) if a.all));
        assert!(matches!(
            parse(&["berth", "container", "list"]),
            Command::Ps(_)
        ));
        assert!(matches!(
            parse(&["berth", "image", "ls"]),
            Command::Images(_)
        ));
        assert!(matches!(
            parse(&["berth", "image", "rm", "x"]),
            Command::Rmi(_)
        ));
        assert!(matches!(
            parse(&["berth", "image", "inspect", "-f", "{{.Id}}", "busybox"]),
            Command::Inspect(a) if a.kind.as_deref() == Some("image")
        ));
        assert!(matches!(
            parse(&["berth", "container", "inspect", "c"]),
            Command::Inspect(a) if a.kind.as_deref() == Some("container")
        ));
        assert!(matches!(
            parse(&["berth", "system", "info"]),
            Command::Info(_)
        ));
        assert!(matches!(
            parse(&["berth", "system", "events", "--filter", "type=container"]),
            Command::Events(_)
        ));
        assert!(matches!(
            parse(&["berth", "system", "prune", "-af", "--volumes"]),
            Command::System(_)
        ));
        assert!(matches!(
            parse(&["berth", "builder", "prune", "-a", "-f"]),
            Command::Builder(_)
        ));
        assert!(matches!(
            parse(&["berth", "image", "prune", "-a", "-f"]),
            Command::Image(_)
        ));
        assert!(
            matches!(parse(&["berth", "history", "--human=false", "busybox"]), Command::History(a) if !a.human)
        );
    }
}
