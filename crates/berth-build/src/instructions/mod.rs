//! Typed instructions (BuildKit's `frontend/dockerfile/instructions`): each syntax node
//! becomes one [`Command`] with its flags checked. Values stay unexpanded; see
//! [`crate::expand`] for which words are expanded and when.

mod duration;
mod flags;
mod mount;
mod parse;

pub use mount::{Mount, MountError, MountType, Sharing, parse_mount};
pub use parse::type_node;

use std::time::Duration;

use crate::parser::parse_heredoc;

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

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
