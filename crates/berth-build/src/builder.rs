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

use std::collections::BTreeMap;

use crate::cache::inline_digest;
use crate::config::{ConfigError, StageConfig, nop_created_by};
use crate::copy::{CopyError, is_remote, resolve_dest};
use crate::executor::{BaseImage, CacheKey, CopySource, CopyStep, Executor, RunStep};
use crate::expand::{ExpandError, run_mounts};
use crate::instructions::{Command, Instruction, KeyValue, Mount, NetworkMode};
use crate::plan::{Base, Plan, StageVars};
use crate::shell::LexError;
use crate::{Dockerfile, ParseError, parse_triggers};

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

impl<X: Executor> Builder<'_, X> {
    fn say(&mut self, text: String) {
        (self.progress)(Progress::Stream(text));
    }

    fn check_cancel(&mut self) -> Res<(), X> {
        if (self.cancelled)() {
            self.say("Build cancelled\n".into());
            return Err(BuildError::Cancelled);
        }
        Ok(())
    }

    fn run(&mut self, df: &Dockerfile, plan: &Plan) -> Res<Built, X> {
        for w in &df.warnings {
            self.say(format!("[WARNING]: {}\n", w.message));
        }
        let label_step = self.label_instruction();
        let total = plan.step_count(df) + usize::from(label_step.is_some());
        let mut n = 1;
        for ins in &df.meta_args {
            self.say(format!("Step {n}/{total} : {}\n", ins.original));
            n += 1;
        }
        let mut last = String::new();
        for ps in &plan.stages {
            self.check_cancel()?;
            let stage = &df.stages[ps.index];
            self.say(format!("Step {n}/{total} : {}\n", stage.original));
            n += 1;
            let base = match &ps.base {
                Base::Scratch => self.ex.scratch().map_err(BuildError::Executor)?,
                Base::Stage(i) => self
                    .results
                    .get(i)
                    .cloned()
                    .ok_or_else(|| BuildError::Stage(i.to_string()))?,
                Base::Image(r) => {
                    let progress = &mut *self.progress;
                    let mut sink = |t: &str| progress(Progress::Stream(t.to_string()));
                    self.ex
                        .resolve(r, ps.platform.as_ref(), &mut sink)
                        .map_err(BuildError::Executor)?
                }
            };
            let mut config = base.config.clone();
            let triggers = std::mem::take(&mut config.on_build);
            let mut st = StageState {
                image: base.id.clone(),
                vars: StageVars::new(plan, &base.config.env),
                config: StageConfig::new(config),
            };
            if !triggers.is_empty() {
                let parsed = parse_triggers(&triggers)?;
                let s = if triggers.len() > 1 { "s" } else { "" };
                self.say(format!("# Executing {} build trigger{s}\n", triggers.len()));
                for t in &parsed {
                    self.check_cancel()?;
                    self.dispatch(&mut st, t)?;
                }
            }
            self.say(format!(" ---> {}\n", short_id(&st.image)));
            let is_target = ps.index == plan.target;
            let extra = if is_target { label_step.as_ref() } else { None };
            for ins in stage.instructions.iter().chain(extra) {
                self.check_cancel()?;
                self.say(format!("Step {n}/{total} : {}\n", ins.original));
                n += 1;
                self.dispatch(&mut st, ins)?;
                self.say(format!(" ---> {}\n", short_id(&st.image)));
            }
            (self.progress)(Progress::Aux(st.image.clone()));
            self.results.insert(
                ps.index,
                BaseImage {
                    id: st.image.clone(),
                    config: st.config.config.clone(),
                },
            );
            last = st.image;
        }
        if let Some(w) = plan.unused_args_warning() {
            self.say(w);
        }
        self.say(format!("Successfully built {}\n", short_id(&last)));
        let tags = if self.settings.tags.is_empty() {
            Vec::new()
        } else {
            self.ex
                .tag(&last, &self.settings.tags)
                .map_err(BuildError::Executor)?
        };
        for t in &tags {
            self.say(format!("Successfully tagged {t}\n"));
        }
        Ok(Built { id: last, tags })
    }

    /// `--label`s as the target's last step: `LABEL k=v ...`, keys sorted, values not
    /// expanded (dockerd's `buildLabelOptions`).
    fn label_instruction(&self) -> Option<Instruction> {
        if self.settings.labels.is_empty() {
            return None;
        }
        let kvs: Vec<KeyValue> = self
            .settings
            .labels
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
                no_delim: false,
            })
            .collect();
        let text: Vec<String> = kvs
            .iter()
            .map(|kv| format!("{:?}={:?}", kv.key, kv.value))
            .collect();
        Some(Instruction {
            line: 0,
            end_line: 0,
            original: format!("LABEL {}", text.join(" ")),
            command: Command::Label(kvs),
        })
    }

    /// Probes the cache for `key` unless `nocache`; on a hit the stage moves on to it.
    fn probe(&mut self, st: &mut StageState, key: &CacheKey) -> Res<bool, X> {
        if self.settings.no_cache {
            return Ok(false);
        }
        match self.ex.cached(key).map_err(BuildError::Executor)? {
            Some(id) => {
                self.say(" ---> Using cache\n".into());
                st.image = id;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn dispatch(&mut self, st: &mut StageState, ins: &Instruction) -> Res<(), X> {
        // `--label`s are taken as given; everything else is expanded first.
        let expanded = match &ins.command {
            Command::Arg(_) => ins.command.clone(),
            Command::Label(_) if ins.line == 0 => ins.command.clone(),
            other => st.vars.expand(other)?,
        };
        match &expanded {
            Command::Run(run) => {
                // Mounts are expanded from the instruction as written.
                let Command::Run(raw) = &ins.command else {
                    return Ok(());
                };
                let mounts = run_mounts(raw, self.escape, &st.vars)?;
                self.run_step(st, run, mounts)
            }
            Command::Copy(c) => {
                let from = match &c.from {
                    None => CopySource::Context,
                    Some(f) => self.copy_source(f)?,
                };
                let step = self.copy_step(
                    st,
                    from,
                    &c.paths,
                    c.chown.clone(),
                    c.chmod.clone(),
                    false,
                    c.excludes.clone(),
                    c.parents,
                )?;
                self.copy_commit(st, "COPY", step)
            }
            Command::Add(a) => {
                if let Some(r) = a.paths.sources.iter().find(|s| is_remote(s)) {
                    return Err(BuildError::Remote(r.clone()));
                }
                let step = self.copy_step(
                    st,
                    CopySource::Context,
                    &a.paths,
                    a.chown.clone(),
                    a.chmod.clone(),
                    a.unpack.unwrap_or(true),
                    a.excludes.clone(),
                    false,
                )?;
                self.copy_commit(st, "ADD", step)
            }
            Command::Arg(decls) => {
                st.vars.declare_args(decls)?;
                let mut text = String::from("ARG");
                for d in decls {
                    text.push(' ');
                    text.push_str(&d.key);
                    if let Some(v) = &d.value {
                        text.push('=');
                        text.push_str(v);
                    }
                }
                self.config_commit(st, &text)
            }
            Command::Workdir(_) => {
                let Some(comment) = st.config.apply(&expanded)? else {
                    return Ok(());
                };
                // WORKDIR makes its directory in a layer, as dockerd does.
                let created_by = nop_created_by(&st.config.shell(), &comment);
                let key = CacheKey::new(&st.image, &created_by, None);
                if self.probe(st, &key)? {
                    return Ok(());
                }
                let step = CopyStep {
                    from: CopySource::Context,
                    sources: Vec::new(),
                    contents: Vec::new(),
                    dest: format!("{}/", st.config.config.working_dir.trim_end_matches('/')),
                    chown: None,
                    chmod: None,
                    unpack_archives: false,
                    excludes: Vec::new(),
                    parents: false,
                };
                let c = self
                    .ex
                    .copy(&st.image, &step)
                    .map_err(BuildError::Executor)?;
                self.commit_container(st, c, &created_by, &key, false)
            }
            other => {
                if let Command::Env(kvs) = other {
                    for kv in kvs {
                        st.vars.set_env(&kv.key, &kv.value);
                    }
                }
                match st.config.apply(other)? {
                    Some(comment) => self.config_commit(st, &comment),
                    None => Ok(()),
                }
            }
        }
    }

    /// A config-only step: a nop history entry, no layer.
    fn config_commit(&mut self, st: &mut StageState, comment: &str) -> Res<(), X> {
        let created_by = nop_created_by(&st.config.shell(), comment);
        let key = CacheKey::new(&st.image, &created_by, None);
        if self.probe(st, &key)? {
            return Ok(());
        }
        st.image = self
            .ex
            .commit(&st.image, None, &st.config.config, &created_by, &key)
            .map_err(BuildError::Executor)?;
        Ok(())
    }

    fn run_step(
        &mut self,
        st: &mut StageState,
        run: &crate::instructions::Run,
        mounts: Vec<Mount>,
    ) -> Res<(), X> {
        let argv = run.cmd.argv(&st.config.shell());
        let created_by = st.vars.run_created_by(&argv.args);
        // Mounts and network change what a RUN sees, so they are part of its key (not
        // of its history text, as in BuildKit).
        let mut key_text = created_by.clone();
        for m in &mounts {
            key_text.push_str(&format!(" --mount={m:?}"));
        }
        if run.network != NetworkMode::Default {
            key_text.push_str(&format!(" --network={:?}", run.network));
        }
        if let Some(f) = &argv.script_file {
            key_text.push_str(&format!(
                " script={}",
                inline_digest(std::slice::from_ref(f))
            ));
        }
        let key = CacheKey::new(&st.image, &key_text, None);
        if self.probe(st, &key)? {
            return Ok(());
        }
        let step = RunStep {
            args: argv.args.clone(),
            env: st.vars.run_env(),
            user: st.config.config.user.clone(),
            working_dir: st.config.config.working_dir.clone(),
            mounts,
            network: run.network,
            script_file: argv.script_file.clone(),
        };
        let c = self
            .ex
            .create_run(&st.image, &st.config.config, &step)
            .map_err(BuildError::Executor)?;
        let cid = self.ex.container_id(&c);
        self.say(format!(" ---> Running in {}\n", short_id(&cid)));
        let started = {
            let progress = &mut *self.progress;
            // stderr in red, as dockerd's stderr formatter writes it.
            let mut out = |stderr: bool, b: &[u8]| {
                let text = String::from_utf8_lossy(b);
                progress(Progress::Stream(if stderr {
                    format!("\u{1b}[91m{text}\u{1b}[0m")
                } else {
                    text.into_owned()
                }))
            };
            self.ex.start(&c, &mut out)
        };
        let failure = match started {
            Ok(0) => None,
            Ok(code) => Some(BuildError::NonZero {
                command: argv.args.join(" "),
                code,
            }),
            Err(e) => Some(BuildError::Executor(e)),
        };
        if let Some(err) = failure {
            // `rm` removes only after success (docker's documented rule); `forcerm`
            // always; a cancelled build never leaves its container.
            if self.settings.force_remove || (self.cancelled)() {
                self.remove_container(c, true);
            }
            return Err(err);
        }
        self.commit_container(st, c, &created_by, &key, true)
    }

    /// Commits a step's container and removes it (reported for RUN containers only, the
    /// only ones dockerd makes and reports).
    fn commit_container(
        &mut self,
        st: &mut StageState,
        c: X::Container,
        created_by: &str,
        key: &CacheKey,
        report: bool,
    ) -> Res<(), X> {
        let committed = self
            .ex
            .commit(&st.image, Some(&c), &st.config.config, created_by, key);
        match committed {
            Ok(id) => {
                if self.settings.remove || self.settings.force_remove || !report {
                    self.remove_container(c, report);
                }
                st.image = id;
                Ok(())
            }
            Err(e) => {
                if self.settings.force_remove || !report {
                    self.remove_container(c, report);
                }
                Err(BuildError::Executor(e))
            }
        }
    }

    fn remove_container(&mut self, c: X::Container, report: bool) {
        let id = self.ex.container_id(&c);
        match self.ex.remove(c) {
            Ok(()) if report => {
                self.say(format!(
                    " ---> Removed intermediate container {}\n",
                    short_id(&id)
                ));
            }
            Ok(()) => {}
            Err(e) => self.say(format!(
                "Removing intermediate container {}: {e}\n",
                short_id(&id)
            )),
        }
    }

    fn copy_source(&self, from: &str) -> Res<CopySource, X> {
        let stage = self
            .names
            .get(&from.to_lowercase())
            .copied()
            .or_else(|| from.parse::<usize>().ok());
        match stage {
            Some(i) => self
                .results
                .get(&i)
                .map(|r| CopySource::Stage(r.id.clone()))
                .ok_or_else(|| BuildError::Stage(from.to_string())),
            None => Ok(CopySource::Image(from.to_string())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn copy_step(
        &self,
        st: &StageState,
        from: CopySource,
        paths: &crate::instructions::SourcesAndDest,
        chown: Option<String>,
        chmod: Option<String>,
        unpack_archives: bool,
        excludes: Vec<String>,
        parents: bool,
    ) -> Res<CopyStep, X> {
        let count = paths.sources.len() + paths.contents.len();
        let (mut dest, is_dir) = resolve_dest(&st.config.config.working_dir, &paths.dest, count)?;
        if is_dir && !dest.ends_with('/') {
            dest.push('/');
        }
        Ok(CopyStep {
            from,
            sources: paths.sources.clone(),
            contents: paths.contents.clone(),
            dest,
            chown,
            chmod,
            unpack_archives,
            excludes,
            parents,
        })
    }

    fn copy_commit(&mut self, st: &mut StageState, name: &str, step: CopyStep) -> Res<(), X> {
        let mut digest = if step.sources.is_empty() {
            String::new()
        } else {
            self.ex
                .source_digest(&st.image, &step)
                .map_err(BuildError::Executor)?
        };
        if !step.contents.is_empty() {
            let inline = inline_digest(&step.contents);
            digest = if digest.is_empty() {
                format!("file:{}", inline.trim_start_matches("sha256:"))
            } else {
                format!("multi:{digest}+{inline}")
            };
        }
        // dockerd: `COPY file:<hex> in /dest `, with the flags that change the result.
        let mut comment = format!("{name} ");
        if let Some(c) = &step.chown {
            comment.push_str(&format!("--chown={c} "));
        }
        if let Some(c) = &step.chmod {
            comment.push_str(&format!("--chmod={c} "));
        }
        match &step.from {
            CopySource::Context => {}
            CopySource::Stage(id) | CopySource::Image(id) => {
                comment.push_str(&format!("--from={id} "));
            }
        }
        comment.push_str(&format!("{digest} in {} ", step.dest));
        let created_by = nop_created_by(&st.config.shell(), &comment);
        let key = CacheKey::new(&st.image, &created_by, Some(digest));
        if self.probe(st, &key)? {
            return Ok(());
        }
        let c = self
            .ex
            .copy(&st.image, &step)
            .map_err(BuildError::Executor)?;
        self.commit_container(st, c, &created_by, &key, false)
    }
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
