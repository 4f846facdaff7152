//! Typed instructions (BuildKit's `frontend/dockerfile/instructions`): each syntax node
//! becomes one [`Command`] with its flags checked. Values stay unexpanded; see
//! [`crate::expand`] for which words are expanded and when.

mod duration;
mod flags;
mod mount;

pub use mount::{Mount, MountError, MountType, Sharing, parse_mount};

use std::time::Duration;

use self::flags::{Flags, Kind};
use crate::error::ParseErrorKind;
use crate::parser::{Heredoc, Node, chomp_heredoc_content, parse_heredoc};

/// A `key=value` pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key, unexpanded.
    pub key: String,
    /// The value, unexpanded (quotes still in).
    pub value: String,
    /// Written in the old `ENV key value` form.
    pub no_delim: bool,
}

/// One `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// The name.
    pub key: String,
    /// The default, if given.
    pub value: Option<String>,
}

/// A heredoc written as a file (RUN) or copied as a source (COPY/ADD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    /// The heredoc's name (also the file name for COPY).
    pub name: String,
    /// The body (tabs already stripped for `<<-`).
    pub data: String,
    /// The body is subject to variable expansion (marker not quoted).
    pub expand: bool,
    /// It was `<<-`.
    pub chomp: bool,
}

/// The command of RUN, CMD and ENTRYPOINT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// Shell form: one string; exec form: the argv.
    pub args: Vec<String>,
    /// Shell form: run through the stage's SHELL.
    pub prepend_shell: bool,
    /// Heredoc bodies (RUN only).
    pub files: Vec<InlineFile>,
}

impl CommandLine {
    /// The argv to run, given the stage's shell (BuildKit's `dispatchRun` heredoc rules):
    /// a lone heredoc runs its body as the script (`#!` bodies are returned as a file to
    /// mount and execute); other heredocs are re-attached for the shell to read.
    pub fn argv(&self, shell: &[String]) -> RunArgv {
        let mut args = self.args.clone();
        let mut script_file = None;
        if let (Some(first), [only]) = (args.first().cloned(), self.files.as_slice())
            && args.len() == 1
            && self.prepend_shell
            && matches!(parse_heredoc(&first), Ok(Some(_)))
        {
            if only.data.starts_with("#!") {
                script_file = Some(only.clone());
                args = vec![format!("/dev/pipes/{}", only.name)];
            } else {
                args = vec![only.data.clone()];
            }
        } else if !self.files.is_empty() && args.len() == 1 {
            let mut s = args[0].clone();
            for f in &self.files {
                s.push('\n');
                s.push_str(&f.data);
                s.push_str(&f.name);
            }
            args = vec![s];
        }
        if self.prepend_shell && script_file.is_none() {
            let mut v = shell.to_vec();
            v.extend(args);
            args = v;
        }
        RunArgv { args, script_file }
    }
}

/// What to execute for a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgv {
    /// The argv.
    pub args: Vec<String>,
    /// A `#!` heredoc to make executable at `/dev/pipes/<name>` first.
    pub script_file: Option<InlineFile>,
}

/// `RUN --network=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// The build's network (`default`).
    #[default]
    Default,
    /// No network at all.
    None,
    /// The host's network.
    Host,
}

/// `RUN --security=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// The default profile.
    #[default]
    Sandbox,
    /// All capabilities, no seccomp (needs an entitlement).
    Insecure,
}

/// RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// What to run.
    pub cmd: CommandLine,
    /// `--mount` values as written; [`parse_mount`] them after expansion.
    pub mounts: Vec<String>,
    /// `--network`.
    pub network: NetworkMode,
    /// `--security`.
    pub security: Security,
}

/// Sources and destination of COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcesAndDest {
    /// Context (or stage/image) paths and globs, unexpanded.
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub contents: Vec<InlineFile>,
    /// The destination, unexpanded.
    pub dest: String,
}

/// COPY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// What and where.
    pub paths: SourcesAndDest,
    /// `--from`: a stage name, stage index or image.
    pub from: Option<String>,
    /// `--chown=user:group`.
    pub chown: Option<String>,
    /// `--chmod=0755` (or symbolic).
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents`.
    pub parents: bool,
    /// `--exclude` patterns.
    pub excludes: Vec<String>,
}

/// ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    /// What and where.
    pub paths: SourcesAndDest,
    /// `--chown`.
    pub chown: Option<String>,
    /// `--chmod`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--keep-git-dir`.
    pub keep_git_dir: Option<bool>,
    /// `--checksum` of a remote source.
    pub checksum: Option<String>,
    /// `--unpack`.
    pub unpack: Option<bool>,
    /// `--exclude` patterns.
    pub excludes: Vec<String>,
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    /// `HEALTHCHECK [opts] CMD ...`.
    Cmd {
        /// `["CMD", argv...]` or `["CMD-SHELL", "cmd"]`, as in the image config.
        test: Vec<String>,
        /// `--interval` (zero: inherit the default).
        interval: Duration,
        /// `--timeout`.
        timeout: Duration,
        /// `--start-period`.
        start_period: Duration,
        /// `--start-interval`.
        start_interval: Duration,
        /// `--retries` (zero: default).
        retries: u32,
    },
}

/// FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From {
    /// The base: an image reference, a stage name or `scratch` (unexpanded).
    pub base: String,
    /// `AS name`, lower-cased.
    pub name: Option<String>,
    /// `--platform`, unexpanded.
    pub platform: Option<String>,
}

/// Every instruction but FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// ADD.
    Add(Add),
    /// ARG.
    Arg(Vec<ArgDecl>),
    /// CMD.
    Cmd(CommandLine),
    /// COPY.
    Copy(Copy),
    /// ENTRYPOINT.
    Entrypoint(CommandLine),
    /// ENV.
    Env(Vec<KeyValue>),
    /// EXPOSE.
    Expose(Vec<String>),
    /// HEALTHCHECK.
    Healthcheck(Healthcheck),
    /// LABEL.
    Label(Vec<KeyValue>),
    /// MAINTAINER (deprecated; sets the image's author).
    Maintainer(String),
    /// ONBUILD: the trigger as text for the image config, and parsed.
    Onbuild {
        /// The trigger as it goes into the image's `OnBuild` list.
        expression: String,
        /// The trigger, typed.
        trigger: Box<Instruction>,
    },
    /// RUN.
    Run(Run),
    /// SHELL.
    Shell(Vec<String>),
    /// STOPSIGNAL.
    StopSignal(String),
    /// USER.
    User(String),
    /// VOLUME.
    Volume(Vec<String>),
    /// WORKDIR.
    Workdir(String),
}

impl Command {
    /// The instruction name, upper-case.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Add(_) => "ADD",
            Command::Arg(_) => "ARG",
            Command::Cmd(_) => "CMD",
            Command::Copy(_) => "COPY",
            Command::Entrypoint(_) => "ENTRYPOINT",
            Command::Env(_) => "ENV",
            Command::Expose(_) => "EXPOSE",
            Command::Healthcheck(_) => "HEALTHCHECK",
            Command::Label(_) => "LABEL",
            Command::Maintainer(_) => "MAINTAINER",
            Command::Onbuild { .. } => "ONBUILD",
            Command::Run(_) => "RUN",
            Command::Shell(_) => "SHELL",
            Command::StopSignal(_) => "STOPSIGNAL",
            Command::User(_) => "USER",
            Command::Volume(_) => "VOLUME",
            Command::Workdir(_) => "WORKDIR",
        }
    }
}

/// An instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// First line (1-based).
    pub line: usize,
    /// Last line.
    pub end_line: usize,
    /// The instruction as written, continuations joined (for `Step n/m : ...`).
    pub original: String,
    /// What it does.
    pub command: Command,
}

/// A typed node: FROM starts a stage, everything else is a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// FROM.
    From(From),
    /// Anything else.
    Command(Command),
}

fn flags(node: &Node, defs: &[(&'static str, Kind)]) -> Result<Flags, ParseErrorKind> {
    Flags::parse(&node.flags, defs)
}

fn no_flags(node: &Node) -> Result<(), ParseErrorKind> {
    flags(node, &[]).map(|_| ())
}

fn exactly_one(node: &Node, name: &'static str) -> Result<String, ParseErrorKind> {
    match node.args.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ParseErrorKind::ExactlyOneArgument(name)),
    }
}

fn kvps(args: &[String], name: &'static str) -> Result<Vec<KeyValue>, ParseErrorKind> {
    if args.is_empty() {
        return Err(ParseErrorKind::AtLeastOneArgument(name));
    }
    if !args.len().is_multiple_of(3) {
        return Err(ParseErrorKind::TooManyArguments(name));
    }
    args.chunks(3)
        .map(|c| {
            if c[0].is_empty() {
                return Err(ParseErrorKind::BlankName(name));
            }
            Ok(KeyValue {
                key: c[0].clone(),
                value: c[1].clone(),
                no_delim: c[2].is_empty(),
            })
        })
        .collect()
}

/// Shell form joins the words into one string; exec form keeps them.
fn command_line(node: &Node, args: &[String]) -> CommandLine {
    let args = if node.json || args.is_empty() {
        args.to_vec()
    } else {
        vec![args.join(" ")]
    };
    CommandLine {
        args,
        prepend_shell: !node.json,
        files: node.heredocs.iter().map(inline_file).collect(),
    }
}

fn inline_file(h: &Heredoc) -> InlineFile {
    InlineFile {
        name: h.name.clone(),
        data: if h.chomp {
            chomp_heredoc_content(&h.content)
        } else {
            h.content.clone()
        },
        expand: h.expand,
        chomp: h.chomp,
    }
}

fn sources_and_dest(node: &Node, name: &'static str) -> Result<SourcesAndDest, ParseErrorKind> {
    let Some((dest, srcs)) = node.args.split_last().filter(|(_, s)| !s.is_empty()) else {
        return Err(ParseErrorKind::NoDestination(name));
    };
    if matches!(parse_heredoc(dest), Ok(Some(_))) {
        return Err(ParseErrorKind::HeredocDestination(name));
    }
    let mut sources = Vec::new();
    let mut contents = Vec::new();
    for src in srcs {
        match parse_heredoc(src) {
            Ok(Some(h)) if !node.json => {
                let body = node.heredocs.iter().find(|d| d.name == h.name);
                let content = body.map(|d| d.content.clone()).unwrap_or_default();
                contents.push(InlineFile {
                    name: h.name.clone(),
                    data: if h.chomp {
                        chomp_heredoc_content(&content)
                    } else {
                        content
                    },
                    expand: h.expand,
                    chomp: h.chomp,
                });
            }
            _ => sources.push(src.clone()),
        }
    }
    Ok(SourcesAndDest {
        sources,
        contents,
        dest: dest.clone(),
    })
}

fn duration_flag(f: &Flags, name: &str) -> Result<Duration, ParseErrorKind> {
    let Some(v) = f.string(name).filter(|v| !v.is_empty()) else {
        return Ok(Duration::ZERO);
    };
    let ns = duration::parse_go_duration(&v).ok_or(ParseErrorKind::InvalidDuration(v))?;
    if ns == 0 {
        return Ok(Duration::ZERO);
    }
    if ns < 1_000_000 {
        return Err(ParseErrorKind::IntervalTooShort(name.to_string()));
    }
    Ok(Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX)))
}

fn healthcheck(node: &Node) -> Result<Healthcheck, ParseErrorKind> {
    let Some((typ, args)) = node.args.split_first() else {
        return Err(ParseErrorKind::AtLeastOneArgument("HEALTHCHECK"));
    };
    let typ = typ.to_ascii_uppercase();
    if typ == "NONE" {
        if !args.is_empty() {
            return Err(ParseErrorKind::HealthcheckNoneArgs);
        }
        no_flags(node)?;
        return Ok(Healthcheck::None);
    }
    let f = flags(
        node,
        &[
            ("interval", Kind::Str),
            ("timeout", Kind::Str),
            ("start-period", Kind::Str),
            ("start-interval", Kind::Str),
            ("retries", Kind::Str),
        ],
    )?;
    if typ != "CMD" {
        return Err(ParseErrorKind::HealthcheckType(typ));
    }
    let cmd = command_line(node, args);
    if cmd.args.is_empty() {
        return Err(ParseErrorKind::HealthcheckMissingCommand);
    }
    let head = if node.json { "CMD" } else { "CMD-SHELL" };
    let test = std::iter::once(head.to_string()).chain(cmd.args).collect();
    let retries = match f.string("retries").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => {
            let n: i64 = v
                .parse()
                .ok()
                .filter(|n: &i64| i32::try_from(*n).is_ok())
                .ok_or(ParseErrorKind::InvalidRetries(v))?;
            u32::try_from(n).map_err(|_| ParseErrorKind::NegativeRetries(n))?
        }
    };
    Ok(Healthcheck::Cmd {
        test,
        interval: duration_flag(&f, "interval")?,
        timeout: duration_flag(&f, "timeout")?,
        start_period: duration_flag(&f, "start-period")?,
        start_interval: duration_flag(&f, "start-interval")?,
        retries,
    })
}

fn run(node: &Node) -> Result<Run, ParseErrorKind> {
    let f = flags(
        node,
        &[
            ("mount", Kind::Strs),
            ("network", Kind::Str),
            ("security", Kind::Str),
        ],
    )?;
    let mounts = f.strings("mount");
    for m in &mounts {
        parse_mount(m, None)?;
    }
    let network = match f.string("network").as_deref() {
        None | Some("default") => NetworkMode::Default,
        Some("none") => NetworkMode::None,
        Some("host") => NetworkMode::Host,
        Some(other) => return Err(ParseErrorKind::NetworkMode(other.to_string())),
    };
    let security = match f.string("security").as_deref() {
        None | Some("sandbox") => Security::Sandbox,
        Some("insecure") => Security::Insecure,
        Some(other) => return Err(ParseErrorKind::Security(other.to_string())),
    };
    Ok(Run {
        cmd: command_line(node, &node.args),
        mounts,
        network,
        security,
    })
}

fn onbuild(node: &Node) -> Result<Command, ParseErrorKind> {
    let Some(sub) = node.sub.as_deref() else {
        return Err(ParseErrorKind::AtLeastOneArgument("ONBUILD"));
    };
    no_flags(node)?;
    let trigger = sub.command.to_ascii_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err(ParseErrorKind::OnbuildChain),
        "MAINTAINER" | "FROM" => return Err(ParseErrorKind::OnbuildTrigger(trigger)),
        _ => {}
    }
    // The expression is the line without its ONBUILD keyword, heredocs re-attached.
    let trimmed = node.original.trim_start();
    let mut expression = trimmed
        .get(node.command.len()..)
        .unwrap_or("")
        .trim_start()
        .to_string();
    for h in &node.heredocs {
        expression.push('\n');
        expression.push_str(&h.content);
        expression.push_str(&h.name);
    }
    let mut sub = sub.clone();
    sub.heredocs = node.heredocs.clone();
    let Typed::Command(command) = type_node(&sub)? else {
        return Err(ParseErrorKind::OnbuildTrigger("FROM".into()));
    };
    Ok(Command::Onbuild {
        expression,
        trigger: Box::new(Instruction {
            line: node.start_line,
            end_line: node.end_line,
            original: sub.original.clone(),
            command,
        }),
    })
}

fn from(node: &Node) -> Result<From, ParseErrorKind> {
    let name = match node.args.as_slice() {
        [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            let lower = name.to_lowercase();
            let mut chars = lower.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
                });
            if !valid {
                return Err(ParseErrorKind::InvalidStageName(name.clone()));
            }
            Some(lower)
        }
        [_] => None,
        _ => return Err(ParseErrorKind::FromArguments),
    };
    let f = flags(node, &[("platform", Kind::Str)])?;
    Ok(From {
        base: node.args[0].clone(),
        name,
        platform: f.string("platform").filter(|p| !p.is_empty()),
    })
}

/// Types one syntax node.
pub fn type_node(node: &Node) -> Result<Typed, ParseErrorKind> {
    let cmd = node.command.to_ascii_lowercase();
    let c = match cmd.as_str() {
        "from" => return from(node).map(Typed::From),
        "env" => {
            no_flags(node)?;
            Command::Env(kvps(&node.args, "ENV")?)
        }
        "label" => {
            no_flags(node)?;
            Command::Label(kvps(&node.args, "LABEL")?)
        }
        "maintainer" => {
            let m = exactly_one(node, "MAINTAINER")?;
            no_flags(node)?;
            Command::Maintainer(m)
        }
        "add" => {
            if node.args.len() < 2 {
                return Err(ParseErrorKind::NoDestination("ADD"));
            }
            let f = flags(
                node,
                &[
                    ("chown", Kind::Str),
                    ("chmod", Kind::Str),
                    ("link", Kind::Bool),
                    ("keep-git-dir", Kind::Bool),
                    ("checksum", Kind::Str),
                    ("unpack", Kind::Bool),
                    ("exclude", Kind::Strs),
                ],
            )?;
            Command::Add(Add {
                paths: sources_and_dest(node, "ADD")?,
                chown: f.string("chown").filter(|s| !s.is_empty()),
                chmod: f.string("chmod").filter(|s| !s.is_empty()),
                link: f.bool("link").unwrap_or(false),
                keep_git_dir: f.bool("keep-git-dir"),
                checksum: f.string("checksum").filter(|s| !s.is_empty()),
                unpack: f.bool("unpack"),
                excludes: f.strings("exclude"),
            })
        }
        "copy" => {
            if node.args.len() < 2 {
                return Err(ParseErrorKind::NoDestination("COPY"));
            }
            let f = flags(
                node,
                &[
                    ("chown", Kind::Str),
                    ("from", Kind::Str),
                    ("chmod", Kind::Str),
                    ("link", Kind::Bool),
                    ("exclude", Kind::Strs),
                    ("parents", Kind::Bool),
                ],
            )?;
            Command::Copy(Copy {
                paths: sources_and_dest(node, "COPY")?,
                from: f.string("from").filter(|s| !s.is_empty()),
                chown: f.string("chown").filter(|s| !s.is_empty()),
                chmod: f.string("chmod").filter(|s| !s.is_empty()),
                link: f.bool("link").unwrap_or(false),
                parents: f.bool("parents").unwrap_or(false),
                excludes: f.strings("exclude"),
            })
        }
        "onbuild" => onbuild(node)?,
        "workdir" => {
            let w = exactly_one(node, "WORKDIR")?;
            no_flags(node)?;
            Command::Workdir(w)
        }
        "run" => Command::Run(run(node)?),
        "cmd" => {
            no_flags(node)?;
            Command::Cmd(command_line(node, &node.args))
        }
        "entrypoint" => {
            no_flags(node)?;
            Command::Entrypoint(command_line(node, &node.args))
        }
        "healthcheck" => Command::Healthcheck(healthcheck(node)?),
        "expose" => {
            if node.args.is_empty() {
                return Err(ParseErrorKind::AtLeastOneArgument("EXPOSE"));
            }
            no_flags(node)?;
            let mut ports = node.args.clone();
            ports.sort();
            Command::Expose(ports)
        }
        "user" => {
            let u = exactly_one(node, "USER")?;
            no_flags(node)?;
            Command::User(u)
        }
        "volume" => {
            if node.args.is_empty() {
                return Err(ParseErrorKind::AtLeastOneArgument("VOLUME"));
            }
            no_flags(node)?;
            let mut vols = Vec::with_capacity(node.args.len());
            for v in &node.args {
                let v = v.trim();
                if v.is_empty() {
                    return Err(ParseErrorKind::EmptyVolume);
                }
                vols.push(v.to_string());
            }
            Command::Volume(vols)
        }
        "stopsignal" => {
            let s = exactly_one(node, "STOPSIGNAL")?;
            no_flags(node)?;
            Command::StopSignal(s)
        }
        "arg" => {
            if node.args.is_empty() {
                return Err(ParseErrorKind::AtLeastOneArgument("ARG"));
            }
            no_flags(node)?;
            let mut decls = Vec::new();
            for a in &node.args {
                decls.push(match a.split_once('=') {
                    Some(("", _)) => return Err(ParseErrorKind::BlankName("ARG")),
                    Some((k, v)) => ArgDecl {
                        key: k.to_string(),
                        value: Some(v.to_string()),
                    },
                    None => ArgDecl {
                        key: a.clone(),
                        value: None,
                    },
                });
            }
            Command::Arg(decls)
        }
        "shell" => {
            no_flags(node)?;
            if node.args.is_empty() {
                return Err(ParseErrorKind::AtLeastOneArgument("SHELL"));
            }
            if !node.json {
                return Err(ParseErrorKind::NotJson("SHELL"));
            }
            Command::Shell(node.args.clone())
        }
        _ => return Err(ParseErrorKind::UnknownInstruction(node.command.clone())),
    };
    Ok(Typed::Command(c))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
