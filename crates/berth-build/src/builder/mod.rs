//! The builder loop: runs a [`Plan`] through an [`Executor`], stage by stage, and writes
//! the classic builder's progress text (dockerd's `builder/dockerfile` package is the
//! reference for the order and wording of every line).
//!
//! Per stage: `Step n/m : FROM ...`, the base resolved (or an earlier stage's result),
//! the base's ONBUILD triggers (`# Executing 2 build triggers`), ` ---> <id12>`; then per
//! instruction `Step n/m : ...`, the instruction expanded against the stage's variables,
//! its cache key probed (` ---> Using cache`), else RUN in a container
//! (` ---> Running in <id12>`, the output, ` ---> Removed intermediate container <id12>`),
//! COPY/ADD into a container, or a config-only commit; then ` ---> <id12>`. After each
//! stage its image id goes out as an aux message; after the target, `Successfully built`
//! and one `Successfully tagged` per tag.
//!
//! Differences from dockerd, on purpose: config-only steps (ENV, CMD, ...) commit without
//! making a container (dockerd makes one it never starts and prints `Running in` for it),
//! and only the stages the target needs are built (dockerd's classic builder runs every
//! stage up to the target; BuildKit skips the unneeded ones, as here).
//!
//! Here: what a build is asked for ([`BuildSettings`]), what it says ([`Progress`]), how it
//! ends ([`Built`], [`BuildError`]) and [`build`], the entry point. The stage loop is in
//! `stages`, one instruction's dispatch in `dispatch`, RUN in `run`, COPY/ADD in `copy`,
//! and the cache probe, commit and container removal every step shares in `commit`.

mod commit;
mod copy;
mod dispatch;
mod run;
mod stages;

use std::collections::BTreeMap;

use crate::config::{ConfigError, StageConfig};
use crate::copy::CopyError;
use crate::executor::{BaseImage, Executor};
use crate::expand::ExpandError;
use crate::plan::{Plan, StageVars};
use crate::shell::LexError;
use crate::{Dockerfile, ParseError};

/// What a build was asked for, beyond the plan.
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// `nocache`: probe no cache.
    pub no_cache: bool,
    /// `rm`: remove a RUN's container after a successful step.
    pub remove: bool,
    /// `forcerm`: remove it whatever happens.
    pub force_remove: bool,
    /// `labels`: added as a last LABEL step of the target stage (as dockerd does).
    pub labels: BTreeMap<String, String>,
    /// `t`: names for the result.
    pub tags: Vec<String>,
}

impl Default for BuildSettings {
    fn default() -> Self {
        BuildSettings {
            no_cache: false,
            remove: true,
            force_remove: false,
            labels: BTreeMap::new(),
            tags: Vec::new(),
        }
    }
}

/// One piece of progress, in the order dockerd writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Text for `{"stream": ...}`.
    Stream(String),
    /// A stage's (and, last, the build's) image id, for `{"aux":{"ID": ...}}`.
    Aux(String),
}

/// Why a build stopped.
#[derive(Debug, thiserror::Error)]
pub enum BuildError<E: std::error::Error + 'static> {
    /// The engine failed.
    #[error("{0}")]
    Executor(#[source] E),
    /// A base's ONBUILD trigger does not parse.
    #[error(transparent)]
    Trigger(#[from] ParseError),
    /// An instruction does not expand.
    #[error("{0}")]
    Expand(#[from] ExpandError),
    /// An ARG default does not expand.
    #[error("{0}")]
    Lex(#[from] LexError),
    /// A config instruction with a bad value.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A COPY/ADD that cannot be done as written.
    #[error("{0}")]
    Copy(#[from] CopyError),
    /// `ADD https://...`: the engine fetches nothing.
    #[error(
        "ADD of a remote source is not supported by berth's builder (it fetches nothing from the network): {0}"
    )]
    Remote(String),
    /// A RUN exited non-zero (dockerd's wording).
    #[error("The command '{command}' returned a non-zero code: {code}")]
    NonZero {
        /// The argv, joined with spaces.
        command: String,
        /// The exit code.
        code: i32,
    },
    /// The build was cancelled.
    #[error("Build cancelled")]
    Cancelled,
    /// `COPY --from=name` naming a stage that was not built (cannot happen with a plan
    /// from [`crate::plan`]).
    #[error("stage {0} has not been built")]
    Stage(String),
}

/// The result of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The target's image id.
    pub id: String,
    /// The names it was tagged with.
    pub tags: Vec<String>,
}

/// `sha256:abcdef...` → `abcdef012345` (dockerd's `stringid.TruncateID`).
pub fn short_id(id: &str) -> &str {
    let hex = id.split_once(':').map_or(id, |(_, h)| h);
    hex.get(..12).unwrap_or(hex)
}

struct Builder<'a, X: Executor> {
    ex: &'a mut X,
    settings: &'a BuildSettings,
    progress: &'a mut dyn FnMut(Progress),
    cancelled: &'a dyn Fn() -> bool,
    escape: char,
    /// Built stages by index: their result image and config.
    results: BTreeMap<usize, BaseImage>,
    /// Stage names to indexes, for `COPY --from=name`.
    names: BTreeMap<String, usize>,
}

/// Where a stage stands while its instructions run.
struct StageState {
    image: String,
    vars: StageVars,
    config: StageConfig,
}

type Res<T, X> = Result<T, BuildError<<X as Executor>::Error>>;

/// Runs `plan` (made from `df`) through `ex`. `progress` gets the stream as it is made;
/// `cancelled` is asked between steps.
pub fn build<X: Executor>(
    ex: &mut X,
    df: &Dockerfile,
    plan: &Plan,
    settings: &BuildSettings,
    progress: &mut dyn FnMut(Progress),
    cancelled: &dyn Fn() -> bool,
) -> Res<Built, X> {
    let names = df
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.from.name.clone().map(|n| (n, i)))
        .collect();
    let mut b = Builder {
        ex,
        settings,
        progress,
        cancelled,
        escape: plan.escape,
        results: BTreeMap::new(),
        names,
    };
    b.run(df, plan)
}

#[cfg(test)]
mod tests;
