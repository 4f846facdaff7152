//! Which words of which instruction are expanded, as BuildKit's dispatcher does it.
//!
//! Expanded with the stage's variables (ENV, ARG, the base image's Env): ENV and LABEL
//! keys and values, ADD/COPY sources, destination, `--chown`, `--chmod`, ADD's
//! `--checksum`, WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE (split into words), ARG
//! defaults, RUN `--mount` values, and COPY/ADD heredoc bodies whose marker was not quoted
//! (quotes kept). Not expanded: RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK commands (the shell
//! does that at run time), MAINTAINER and ONBUILD (expanded when triggered). FROM and its
//! `--platform` use only the global ARGs ([`mod@crate::plan`]); COPY `--from` is never
//! expanded and is refused if it contains a variable.

use crate::instructions::{
    Command, Copy, InlineFile, KeyValue, Mount, MountError, Run, parse_mount,
};
use crate::shell::{Env, LexError, Lexer};

/// Why an instruction could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    /// A word did not expand.
    #[error(transparent)]
    Lex(#[from] LexError),
    /// `COPY --from=$X`.
    #[error(
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
    )]
    FromVariable,
    /// A `--mount` that is invalid once expanded.
    #[error(transparent)]
    Mount(#[from] MountError),
}

struct Expander<'a> {
    lex: Lexer,
    env: &'a dyn Env,
}

impl Expander<'_> {
    fn word(&self, w: &str) -> Result<String, LexError> {
        self.lex.process_word(w, self.env)
    }

    fn opt(&self, w: &Option<String>) -> Result<Option<String>, LexError> {
        w.as_deref().map(|w| self.word(w)).transpose()
    }

    fn all(&self, ws: &[String]) -> Result<Vec<String>, LexError> {
        ws.iter().map(|w| self.word(w)).collect()
    }

    fn kvs(&self, kvs: &[KeyValue]) -> Result<Vec<KeyValue>, LexError> {
        kvs.iter()
            .map(|kv| {
                Ok(KeyValue {
                    key: self.word(&kv.key)?,
                    value: self.word(&kv.value)?,
                    no_delim: kv.no_delim,
                })
            })
            .collect()
    }

    /// Heredoc bodies keep their quotes (BuildKit's `ExpandRaw`).
    fn contents(&self, files: &[InlineFile]) -> Result<Vec<InlineFile>, LexError> {
        let mut raw = Lexer::new('\\');
        raw.skip_process_quotes = true;
        files
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if f.expand {
                    f.data = raw.process_word(&f.data, self.env)?;
                }
                Ok(f)
            })
            .collect()
    }
}

/// Returns `cmd` with its expandable words expanded against `env`.
pub fn expand_command(cmd: &Command, escape: char, env: &dyn Env) -> Result<Command, ExpandError> {
    let x = Expander {
        lex: Lexer::new(escape),
        env,
    };
    Ok(match cmd {
        Command::Env(kvs) => Command::Env(x.kvs(kvs)?),
        Command::Label(kvs) => Command::Label(x.kvs(kvs)?),
        Command::Add(a) => {
            let mut a = a.clone();
            a.chown = x.opt(&a.chown)?;
            a.chmod = x.opt(&a.chmod)?;
            a.checksum = x.opt(&a.checksum)?;
            a.paths.sources = x.all(&a.paths.sources)?;
            a.paths.dest = x.word(&a.paths.dest)?;
            a.paths.contents = x.contents(&a.paths.contents)?;
            Command::Add(a)
        }
        Command::Copy(c) => Command::Copy(expand_copy(c, &x)?),
        Command::Workdir(w) => Command::Workdir(x.word(w)?),
        Command::User(u) => Command::User(x.word(u)?),
        Command::Volume(v) => Command::Volume(x.all(v)?),
        Command::StopSignal(s) => Command::StopSignal(x.word(s)?),
        Command::Expose(ports) => {
            let mut out = Vec::new();
            for p in ports {
                out.extend(x.lex.process_words(p, env)?);
            }
            Command::Expose(out)
        }
        // ARG defaults are expanded by the stage's variable scope as it declares them.
        other => other.clone(),
    })
}

fn expand_copy(c: &Copy, x: &Expander<'_>) -> Result<Copy, ExpandError> {
    if let Some(from) = &c.from
        && Lexer::new(x.lex.escape).process_word(from, &crate::shell::NoEnv)? != *from
    {
        return Err(ExpandError::FromVariable);
    }
    let mut c = c.clone();
    c.chown = x.opt(&c.chown)?;
    c.chmod = x.opt(&c.chmod)?;
    c.paths.sources = x.all(&c.paths.sources)?;
    c.paths.dest = x.word(&c.paths.dest)?;
    c.paths.contents = x.contents(&c.paths.contents)?;
    Ok(c)
}

/// The RUN's `--mount`s, each value expanded and the mount checked.
pub fn run_mounts(run: &Run, escape: char, env: &dyn Env) -> Result<Vec<Mount>, ExpandError> {
    let lex = Lexer::new(escape);
    let f = |w: &str| lex.process_word(w, env).map_err(|e| e.to_string());
    run.mounts
        .iter()
        .map(|m| parse_mount(m, Some(&f)).map_err(ExpandError::from))
        .collect()
}
