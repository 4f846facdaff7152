//! The lifecycle the engine implements to run a [`Plan`](crate::Plan); the builder loop
//! that drives it is [`crate::builder`].
//!
//! For each planned stage, in order, the builder:
//!
//! 1. **resolves the base**: [`Executor::resolve`] gives an image id and its config
//!    (`FROM image`; pulled if the policy says so), or the builder starts from
//!    [`Executor::scratch`] or from an earlier stage's result. The base's Env seeds the
//!    stage's [`StageVars`](crate::StageVars); its OnBuild triggers
//!    ([`parse_triggers`](crate::parse_triggers)) run first.
//! 2. for each instruction, expands it ([`StageVars::expand`](crate::StageVars::expand)),
//!    computes its [`CacheKey`] and asks [`Executor::cached`] for an image made from the
//!    same parent with the same key. On a hit the step is `Using cache` and nothing runs.
//! 3. on a miss:
//!    - RUN: [`Executor::create_run`] creates a container from the parent image with the
//!      step's argv (the stage's shell applied), user, workdir, env, mounts and network mode,
//!      with the default security profile and limits, and [`Executor::start`] runs it to
//!      completion. A non-zero exit fails the build (`The command '...' returned a
//!      non-zero code: N`).
//!    - COPY/ADD: [`Executor::copy`] creates a container (not started) from the parent and
//!      copies the sources (context, another stage's result, an image, heredoc bodies) in
//!      with the requested owner and mode.
//!    - config-only instructions (ENV, LABEL, CMD, ...) make no container; the builder
//!      only updates the [`ImageConfig`].
//! 4. **commits**: [`Executor::commit`] turns the container's changes into a layer on top
//!    of the parent (or, for config-only steps, an image with no new layer), records the
//!    history entry and the cache key, and returns the new image id. The container is then
//!    removed ([`Executor::remove`]) as described below.
//! 5. after the target stage, **writes the image**: [`Executor::tag`] names the final
//!    image. Intermediate images stay only as cache.
//!
//! Invariants: an image is only ever committed whole, and a failed or cancelled build
//! leaves no image but the committed cache entries. Containers follow docker's `rm` and
//! `forcerm` rules, so a failed build may leave one: a RUN's container is removed after its
//! commit unless `rm` is off; after a failed run only with `forcerm` or when the build was
//! cancelled (`rm` means "after a successful build": the failed container stays to be
//! inspected), after a failed commit only with `forcerm`. COPY, ADD and WORKDIR containers
//! are always removed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::instructions::{InlineFile, Mount, NetworkMode};
use crate::plan::Platform;

/// The parts of an image config a Dockerfile sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// `Env`, `K=V`.
    pub env: Vec<String>,
    /// `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `WorkingDir`.
    pub working_dir: String,
    /// `User`.
    pub user: String,
    /// `Labels`.
    pub labels: BTreeMap<String, String>,
    /// `ExposedPorts` (`80/tcp`).
    pub exposed_ports: Vec<String>,
    /// `Volumes`.
    pub volumes: Vec<String>,
    /// `Healthcheck`.
    pub healthcheck: Option<HealthConfig>,
    /// `StopSignal`.
    pub stop_signal: Option<String>,
    /// `OnBuild`.
    pub on_build: Vec<String>,
    /// `Shell` (the default is `["/bin/sh", "-c"]`).
    pub shell: Option<Vec<String>>,
    /// The image's `author` (MAINTAINER).
    pub author: Option<String>,
}

/// An image config's `Healthcheck`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`.
    pub test: Vec<String>,
    /// Zero means "inherit".
    pub interval: Duration,
    /// Zero means "inherit".
    pub timeout: Duration,
    /// Zero means "inherit".
    pub start_period: Duration,
    /// Zero means "inherit".
    pub start_interval: Duration,
    /// Zero means "inherit".
    pub retries: u32,
}

/// A resolved base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// Its id (`sha256:...`).
    pub id: String,
    /// Its config.
    pub config: ImageConfig,
}

/// What identifies a step for the cache: the parent and the step after expansion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheKey {
    /// The parent image id.
    pub parent: String,
    /// The instruction after expansion. For RUN, [`StageVars::run_created_by`] of its argv
    /// (so a changed ARG value misses the cache, as in dockerd) plus its mounts and network.
    ///
    /// [`StageVars::run_created_by`]: crate::StageVars::run_created_by
    pub instruction: String,
    /// For COPY/ADD: the digest of the copied files' content, modes and owners.
    pub content: Option<String>,
}

/// One RUN step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStep {
    /// The argv (shell prepended for the shell form).
    pub args: Vec<String>,
    /// The environment (image Env, ARGs, proxy args).
    pub env: Vec<String>,
    /// User to run as.
    pub user: String,
    /// Working directory.
    pub working_dir: String,
    /// `--mount`s, expanded.
    pub mounts: Vec<Mount>,
    /// `--network`.
    pub network: NetworkMode,
    /// A `#!` heredoc to provide at `/dev/pipes/<name>`.
    pub script_file: Option<InlineFile>,
}

/// Where copied files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// The build context.
    Context,
    /// An earlier stage's result image.
    Stage(String),
    /// An image (resolved like a base).
    Image(String),
}

/// One COPY or ADD step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyStep {
    /// Where the sources are read.
    pub from: CopySource,
    /// Source paths and globs, expanded.
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub contents: Vec<InlineFile>,
    /// The destination, expanded, resolved against the working directory.
    pub dest: String,
    /// `--chown`, expanded.
    pub chown: Option<String>,
    /// `--chmod`, expanded.
    pub chmod: Option<String>,
    /// ADD: unpack local tar archives.
    pub unpack_archives: bool,
    /// `--exclude` patterns.
    pub excludes: Vec<String>,
    /// `--parents`.
    pub parents: bool,
}

/// What the engine does for the builder. See the module doc for the order of calls; the
/// builder loop that calls it is [`crate::builder::build`].
pub trait Executor {
    /// The engine's error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// A container made for one step.
    type Container;

    /// Resolves `FROM reference` (pulling it when the policy says so); pull progress goes
    /// to `progress` as stream text.
    fn resolve(
        &mut self,
        reference: &str,
        platform: Option<&Platform>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<BaseImage, Self::Error>;

    /// The empty image `FROM scratch` starts from.
    fn scratch(&mut self) -> Result<BaseImage, Self::Error>;

    /// An image previously committed with this key, if it still exists.
    fn cached(&mut self, key: &CacheKey) -> Result<Option<String>, Self::Error>;

    /// Creates (does not start) the container of a RUN step from `parent` with the step's
    /// argv, user, workdir, env, mounts and network mode, with the default security profile
    /// and limits.
    fn create_run(&mut self, parent: &str, step: &RunStep) -> Result<Self::Container, Self::Error>;

    /// The container's id (for `Running in <id12>`).
    fn container_id(&self, container: &Self::Container) -> String;

    /// Starts a RUN container and waits for it; its output goes to `output` as it is
    /// produced (`true` for stderr). Returns the exit code.
    fn start(
        &mut self,
        container: &Self::Container,
        output: &mut dyn FnMut(bool, &[u8]),
    ) -> Result<i32, Self::Error>;

    /// The digest of what a COPY/ADD step would copy, as dockerd writes it in the history
    /// (`file:<hex>`, `dir:<hex>` or `multi:<hex>`), for its cache key. Heredoc sources
    /// are the builder's part of the key, not this.
    fn source_digest(&mut self, parent: &str, step: &CopyStep) -> Result<String, Self::Error>;

    /// Makes a container from `parent` and copies a COPY/ADD step's files into it (no
    /// sources and no contents: only makes the destination directory, as WORKDIR does).
    fn copy(&mut self, parent: &str, step: &CopyStep) -> Result<Self::Container, Self::Error>;

    /// Commits the container's changes (none for config-only steps) as a new image with
    /// `config`, one history entry `created_by`, and `key` for later cache lookups.
    fn commit(
        &mut self,
        parent: &str,
        container: Option<&Self::Container>,
        config: &ImageConfig,
        created_by: &str,
        key: &CacheKey,
    ) -> Result<String, Self::Error>;

    /// Removes a step's container (after commit, or after a failure).
    fn remove(&mut self, container: Self::Container) -> Result<(), Self::Error>;

    /// Tags the final image; returns the names as docker prints them (`x:latest`).
    fn tag(&mut self, image: &str, tags: &[String]) -> Result<Vec<String>, Self::Error>;
}
