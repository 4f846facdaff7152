//! Flags of the image verbs: `images`, `build`, `import`, `tag`, `rmi`, `pull`, `push`,
//! `save`, `load`, `login` and `logout` (docker's names and defaults).

use clap::{ArgAction, Args};

/// Flags of `images`.
#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs.
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
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    /// Only images of this repository (and tag).
    pub repository: Option<String>,
}

/// Flags of `build` (docker's classic builder flags).
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the "name:tag" format.
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile"); `-` reads it from stdin.
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    /// Set build-time variables.
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image.
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// Suppress the build output and print image ID on success.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write the image ID to the file.
    #[arg(long)]
    pub iidfile: Option<String>,
    /// Set metadata for an image.
    #[arg(long)]
    pub label: Vec<String>,
    /// Always attempt to pull a newer version of the image.
    #[arg(long)]
    pub pull: bool,
    /// Remove intermediate containers after a successful build.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub rm: bool,
    /// Always remove intermediate containers.
    #[arg(long = "force-rm")]
    pub force_rm: bool,
    /// Set the networking mode for the RUN instructions during build.
    #[arg(long)]
    pub network: Option<String>,
    /// Add a custom host-to-IP mapping ("host:ip").
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Images to consider as cache sources.
    #[arg(long = "cache-from")]
    pub cache_from: Vec<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// The context: a directory, or `-` for a tar on stdin.
    pub path: String,
}

/// Flags of `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image.
    #[arg(short = 'c', long)]
    pub change: Vec<String>,
    /// Set commit message for imported image.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// A tar file, or `-` for stdin.
    pub file: String,
    /// REPOSITORY[:TAG].
    pub reference: Option<String>,
}

/// Flags of `tag`.
#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    /// SOURCE_IMAGE[:TAG].
    pub source: String,
    /// TARGET_IMAGE[:TAG].
    pub target: String,
}

/// Flags of `rmi`.
#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Force removal of the image.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents.
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// Flags of `pull`.
#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress verbose output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// NAME[:TAG|@DIGEST].
    pub name: String,
}

/// Flags of `push`.
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// NAME[:TAG].
    pub name: String,
}

/// Flags of `save`.
#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Images.
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// Flags of `load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short = 'i', long)]
    pub input: Option<String>,
    /// Suppress the load output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Flags of `login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Username.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password.
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin.
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// SERVER.
    pub server: Option<String>,
}

/// Flags of `logout`.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// SERVER.
    pub server: Option<String>,
}
