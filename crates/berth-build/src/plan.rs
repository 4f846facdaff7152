//! The planner: which stages to build, in which order, from which bases, with which
//! build arguments.
//!
//! ARG scoping follows Docker's documented rules: ARGs before the first FROM are global
//! and usable only in FROM lines (and `--platform`) unless a stage re-declares them
//! (`ARG NAME` without a value takes the global value); `--build-arg` overrides a declared
//! ARG's default; the proxy ARGs (`HTTP_PROXY`, ...) are predefined and need no
//! declaration; `TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT`,
//! `BUILDPLATFORM`, `BUILDOS`, `BUILDARCH`, `BUILDVARIANT` are set in the global scope and
//! visible in a stage once declared there.

use std::collections::{BTreeMap, BTreeSet};

use crate::instructions::{ArgDecl, Command};
use crate::shell::{Env, LexError, Lexer};
use crate::{Dockerfile, expand};

/// The predefined proxy arguments: usable without an ARG, left out of the image history.
pub const PROXY_ARGS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// An OCI platform (`linux/amd64`, `linux/arm/v7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub arch: String,
    /// `v7`, or empty.
    pub variant: String,
}

impl Platform {
    /// The platform berth runs on.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        };
        Platform {
            os: "linux".into(),
            arch: arch.into(),
            variant: String::new(),
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('/');
        let os = it.next().filter(|s| !s.is_empty())?.to_ascii_lowercase();
        let arch = it.next().filter(|s| !s.is_empty())?.to_ascii_lowercase();
        let variant = it.next().unwrap_or("").to_ascii_lowercase();
        if it.next().is_some() {
            return None;
        }
        Some(Platform { os, arch, variant })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

/// What a build was asked for (the `POST /build` query, minus I/O).
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// `--target`: build up to this stage (name or index); the last stage otherwise.
    pub target: Option<String>,
    /// The platform to build for.
    pub target_platform: Platform,
    /// The platform building.
    pub build_platform: Platform,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            build_args: BTreeMap::new(),
            target: None,
            target_platform: Platform::host(),
            build_platform: Platform::host(),
        }
    }
}

/// Why a Dockerfile cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Only ARGs, no FROM.
    #[error("dockerfile contains no stages to build")]
    NoStages,
    /// Two stages with the same name.
    #[error("{0} stage name already used")]
    DuplicateStage(String),
    /// `--target` names no stage.
    #[error("failed to reach build target {0} in Dockerfile")]
    Target(String),
    /// A FROM that expands to nothing.
    #[error("dockerfile parse error on line {line}: base name ({base}) should not be blank")]
    BlankBase {
        /// The FROM line.
        line: usize,
        /// The base as written.
        base: String,
    },
    /// `COPY --from=3` in stage 1.
    #[error(
        "dockerfile parse error on line {line}: invalid from flag value {from}: refers to current or future build stage"
    )]
    FutureStage {
        /// The instruction line.
        line: usize,
        /// The value.
        from: String,
    },
    /// A `--platform` that is not `os/arch[/variant]`.
    #[error("dockerfile parse error on line {line}: failed to parse platform {platform}")]
    Platform {
        /// The FROM line.
        line: usize,
        /// The expanded value.
        platform: String,
    },
    /// A FROM or global ARG that does not expand.
    #[error("dockerfile parse error on line {line}: {source}")]
    Lex {
        /// The line.
        line: usize,
        /// The expansion error.
        #[source]
        source: LexError,
    },
    /// A COPY `--from` with a variable, or a RUN `--mount` that does not parse.
    #[error("dockerfile parse error on line {line}: {source}")]
    Expand {
        /// The line.
        line: usize,
        /// The error.
        #[source]
        source: expand::ExpandError,
    },
}

/// Where a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `FROM scratch`.
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image reference (expanded).
    Image(String),
}

/// Where COPY `--from` or a RUN bind/cache mount's `from=` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An earlier stage's result.
    Stage(usize),
    /// An image reference.
    Image(String),
}

/// One stage to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStage {
    /// Index in [`Dockerfile::stages`].
    pub index: usize,
    /// `AS name`.
    pub name: Option<String>,
    /// The base.
    pub base: Base,
    /// `--platform`, expanded and parsed.
    pub platform: Option<Platform>,
    /// Other stages this one reads (base, `COPY --from`, `RUN --mount=from=`), ascending.
    pub depends_on: Vec<usize>,
    /// Images read by `COPY --from` or mounts (resolved before the stage runs).
    pub images: Vec<String>,
}

/// A planned build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The stages needed for the target, in build order (each after its dependencies).
    pub stages: Vec<PlannedStage>,
    /// The target stage's index in [`Dockerfile::stages`].
    pub target: usize,
    /// Global ARGs with a value, in declaration order (predefined platform args first).
    pub global_args: Vec<(String, String)>,
    /// `--build-arg`s no needed stage declares (dockerd warns about them).
    pub unused_build_args: Vec<String>,
    /// The build arguments as given.
    pub build_args: BTreeMap<String, String>,
    /// The escape token, for expanding the stages' instructions.
    pub escape: char,
}

fn platform_args(o: &BuildOptions) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for (prefix, p) in [("BUILD", &o.build_platform), ("TARGET", &o.target_platform)] {
        v.push((format!("{prefix}PLATFORM"), p.to_string()));
        v.push((format!("{prefix}OS"), p.os.clone()));
        v.push((format!("{prefix}ARCH"), p.arch.clone()));
        v.push((format!("{prefix}VARIANT"), p.variant.clone()));
    }
    v
}

fn set(list: &mut Vec<(String, String)>, k: &str, v: String) {
    match list.iter_mut().find(|(key, _)| key == k) {
        Some(e) => e.1 = v,
        None => list.push((k.to_string(), v)),
    }
}

/// Resolves stages, ARG scope, the target and the stages it needs.
pub fn plan(df: &Dockerfile, opts: &BuildOptions) -> Result<Plan, PlanError> {
    if df.stages.is_empty() {
        return Err(PlanError::NoStages);
    }
    let lex = Lexer::new(df.directives.escape);
    let mut global = platform_args(opts);
    let mut declared: BTreeSet<String> = BTreeSet::new();
    for ins in &df.meta_args {
        let Command::Arg(decls) = &ins.command else {
            continue;
        };
        for d in decls {
            declared.insert(d.key.clone());
            let value = match (opts.build_args.get(&d.key), &d.value) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(default)) => Some(lex.process_word(default, &global).map_err(
                    |source| PlanError::Lex {
                        line: ins.line,
                        source,
                    },
                )?),
                (None, None) => None,
            };
            if let Some(v) = value {
                set(&mut global, &d.key, v);
            }
        }
    }

    let names: Vec<Option<String>> = df.stages.iter().map(|s| s.from.name.clone()).collect();
    for (i, n) in names.iter().enumerate() {
        if let Some(n) = n
            && names[..i].iter().any(|m| m.as_ref() == Some(n))
        {
            return Err(PlanError::DuplicateStage(n.clone()));
        }
    }
    let find_stage = |name: &str, before: usize| -> Option<usize> {
        let lower = name.to_lowercase();
        names[..before]
            .iter()
            .position(|n| n.as_deref() == Some(lower.as_str()))
    };

    let mut planned = Vec::with_capacity(df.stages.len());
    for (i, stage) in df.stages.iter().enumerate() {
        let base_word = lex
            .process_word(&stage.from.base, &global)
            .map_err(|source| PlanError::Lex {
                line: stage.line,
                source,
            })?;
        if base_word.is_empty() {
            return Err(PlanError::BlankBase {
                line: stage.line,
                base: stage.from.base.clone(),
            });
        }
        let base = if base_word.eq_ignore_ascii_case("scratch") {
            Base::Scratch
        } else if let Some(s) = find_stage(&base_word, i) {
            Base::Stage(s)
        } else {
            Base::Image(base_word)
        };
        let platform = match &stage.from.platform {
            None => None,
            Some(p) => {
                let v = lex
                    .process_word(p, &global)
                    .map_err(|source| PlanError::Lex {
                        line: stage.line,
                        source,
                    })?;
                Some(Platform::parse(&v).ok_or(PlanError::Platform {
                    line: stage.line,
                    platform: v,
                })?)
            }
        };
        let mut deps = BTreeSet::new();
        if let Base::Stage(s) = base {
            deps.insert(s);
        }
        let mut images = Vec::new();
        let mut add_source = |from: &str, line: usize| -> Result<(), PlanError> {
            match source_of(from, i, &find_stage) {
                Ok(Source::Stage(s)) => {
                    deps.insert(s);
                }
                Ok(Source::Image(img)) => {
                    if !images.contains(&img) {
                        images.push(img);
                    }
                }
                Err(()) => {
                    return Err(PlanError::FutureStage {
                        line,
                        from: from.to_string(),
                    });
                }
            }
            Ok(())
        };
        for ins in &stage.instructions {
            match &ins.command {
                Command::Copy(c) => {
                    if let Some(from) = &c.from {
                        if lex.process_word(from, &crate::shell::NoEnv).as_deref() != Ok(from) {
                            return Err(PlanError::Expand {
                                line: ins.line,
                                source: expand::ExpandError::FromVariable,
                            });
                        }
                        add_source(from, ins.line)?;
                    }
                }
                Command::Run(r) => {
                    for m in &r.mounts {
                        let parsed = crate::instructions::parse_mount(m, None).map_err(|e| {
                            PlanError::Expand {
                                line: ins.line,
                                source: e.into(),
                            }
                        })?;
                        if let Some(from) = parsed.from {
                            add_source(&from, ins.line)?;
                        }
                    }
                }
                _ => {}
            }
        }
        planned.push(PlannedStage {
            index: i,
            name: stage.from.name.clone(),
            base,
            platform,
            depends_on: deps.into_iter().collect(),
            images,
        });
    }

    let target = match &opts.target {
        None => df.stages.len() - 1,
        Some(t) => find_stage(t, df.stages.len())
            .or_else(|| t.parse::<usize>().ok().filter(|i| *i < df.stages.len()))
            .ok_or_else(|| PlanError::Target(t.clone()))?,
    };

    // Walk back from the target; every dependency has a smaller index, so ascending
    // index order is a valid build order.
    let mut needed = BTreeSet::from([target]);
    for i in (0..=target).rev() {
        if needed.contains(&i) {
            needed.extend(planned[i].depends_on.iter().copied());
        }
    }
    for s in &needed {
        for ins in &df.stages[*s].instructions {
            if let Command::Arg(decls) = &ins.command {
                declared.extend(decls.iter().map(|d| d.key.clone()));
            }
        }
    }
    let unused_build_args = opts
        .build_args
        .keys()
        .filter(|k| !declared.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
        .cloned()
        .collect();
    let stages = planned
        .into_iter()
        .filter(|p| needed.contains(&p.index))
        .collect();
    Ok(Plan {
        stages,
        target,
        global_args: global,
        unused_build_args,
        build_args: opts.build_args.clone(),
        escape: df.directives.escape,
    })
}

impl Plan {
    /// dockerd's warning for `--build-arg`s nothing declared, if any.
    pub fn unused_args_warning(&self) -> Option<String> {
        (!self.unused_build_args.is_empty()).then(|| {
            format!(
                "[Warning] One or more build-args [{}] were not consumed\n",
                self.unused_build_args.join(" ")
            )
        })
    }

    /// The `M` of `Step N/M`: global ARGs, then each planned stage's FROM and instructions.
    pub fn step_count(&self, df: &Dockerfile) -> usize {
        df.meta_args.len()
            + self
                .stages
                .iter()
                .map(|s| 1 + df.stages[s.index].instructions.len())
                .sum::<usize>()
    }
}

/// `--from=name|index|image` as seen from stage `current`.
fn source_of(
    from: &str,
    current: usize,
    find_stage: &dyn Fn(&str, usize) -> Option<usize>,
) -> Result<Source, ()> {
    if let Some(s) = find_stage(from, current) {
        return Ok(Source::Stage(s));
    }
    if let Ok(n) = from.parse::<usize>() {
        return if n < current {
            Ok(Source::Stage(n))
        } else {
            Err(())
        };
    }
    Ok(Source::Image(from.to_string()))
}

/// A stage's variables while its instructions run: the base image's Env, ENV, and the
/// ARGs declared so far. The engine keeps one per stage, feeds it ENV and ARG in order,
/// and expands each instruction with [`StageVars::expand`].
#[derive(Debug, Clone)]
pub struct StageVars {
    escape: char,
    global: Vec<(String, String)>,
    build_args: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    args: Vec<(String, String)>,
}

impl StageVars {
    /// Starts a stage whose base image has `image_env` (`K=V` strings).
    pub fn new(plan: &Plan, image_env: &[String]) -> Self {
        let env = image_env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect();
        StageVars {
            escape: plan.escape,
            global: plan.global_args.clone(),
            build_args: plan.build_args.clone(),
            env,
            args: Vec::new(),
        }
    }

    /// Applies an ARG: `--build-arg` beats the default; with neither, the global value.
    pub fn declare_args(&mut self, decls: &[ArgDecl]) -> Result<(), LexError> {
        for d in decls {
            let value = if let Some(v) = self.build_args.get(&d.key) {
                Some(v.clone())
            } else if let Some(default) = &d.value {
                Some(Lexer::new(self.escape).process_word(default, &*self)?)
            } else {
                self.global
                    .iter()
                    .find(|(k, _)| *k == d.key)
                    .map(|(_, v)| v.clone())
            };
            if let Some(v) = value {
                set(&mut self.args, &d.key, v);
            }
        }
        Ok(())
    }

    /// Applies ENV (already expanded).
    pub fn set_env(&mut self, key: &str, value: &str) {
        set(&mut self.env, key, value.to_string());
    }

    /// The image's Env as it stands (`K=V`), for the committed config.
    pub fn image_env(&self) -> Vec<String> {
        self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// The environment a RUN step sees: the image Env, then declared ARGs not shadowed by
    /// an ENV, then proxy `--build-arg`s.
    pub fn run_env(&self) -> Vec<String> {
        let mut out = self.image_env();
        for (k, v) in &self.args {
            if !self.env.iter().any(|(e, _)| e == k) {
                out.push(format!("{k}={v}"));
            }
        }
        for p in PROXY_ARGS {
            if let Some(v) = self.build_args.get(p)
                && !self.args.iter().any(|(k, _)| k == p)
                && !self.env.iter().any(|(k, _)| k == p)
            {
                out.push(format!("{p}={v}"));
            }
        }
        out
    }

    /// The build arguments a RUN records (declared ARGs with a value that no ENV
    /// shadows), sorted: `K=V` each.
    pub fn run_build_args(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .args
            .iter()
            .filter(|(k, _)| !self.env.iter().any(|(e, _)| e == k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        v.sort();
        v
    }

    /// A RUN's history entry and cache text, as dockerd's classic builder writes it:
    /// `|2 A=1 B=2 /bin/sh -c make` when build arguments are in scope, else the argv.
    /// Undeclared proxy arguments stay out of it (they must not leak into the image).
    pub fn run_created_by(&self, argv: &[String]) -> String {
        let args = self.run_build_args();
        let mut parts = Vec::with_capacity(args.len() + argv.len() + 1);
        if !args.is_empty() {
            parts.push(format!("|{}", args.len()));
            parts.extend(args);
        }
        parts.extend(argv.iter().cloned());
        parts.join(" ")
    }

    /// Expands an instruction's words (see [`crate::expand`]).
    pub fn expand(&self, cmd: &Command) -> Result<Command, expand::ExpandError> {
        expand::expand_command(cmd, self.escape, self)
    }
}

impl Env for StageVars {
    fn lookup(&self, name: &str) -> Option<String> {
        // ENV shadows ARG (Docker's documented rule).
        self.env.lookup(name).or_else(|| self.args.lookup(name))
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
