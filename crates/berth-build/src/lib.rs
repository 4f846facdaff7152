//! berth's Dockerfile front end: everything between the bytes of a Dockerfile and the
//! steps the engine runs, with no I/O of its own.
//!
//! ```text
//! text ──parse──► Dockerfile ──plan(options)──► Plan ──engine drives an Executor──► image
//!         (parser → instructions)     (stages, ARG scope, target, order)
//! ```
//!
//! - [`parser`] turns text into syntax nodes as BuildKit's `frontend/dockerfile/parser`
//!   does: parser directives (`escape`, `syntax`, `check`), comments, line continuations
//!   with the escape token (comment lines inside dropped, empty continuation lines warned
//!   about), JSON vs shell form, instruction flags, heredocs. Every node keeps its lines.
//! - [`instructions`] types the nodes (one struct per instruction, flags checked, RUN
//!   mounts parsed) and [`parse`] groups them into stages.
//! - [`shell`] is the word lexer (BuildKit's `lex.go`): quotes, escapes and every `${}`
//!   form; [`expand`] says which words of which instruction it applies to.
//! - [`mod@plan`] resolves the global ARGs, FROM bases (`scratch`, an earlier stage or an
//!   image), `--target`, and the stages the target needs in build order; [`StageVars`]
//!   carries a stage's ENV/ARG scope while it runs.
//! - [`dockerignore`] is moby/patternmatcher's matcher, translated to `regex`.
//! - [`context`] extracts the context tar (plain, gzip, bzip2, xz, zstd) confined to a
//!   directory and finds the Dockerfile in it; [`copy`] resolves COPY/ADD sources (Go
//!   globs), destination, `--chown` and `--chmod`; [`cache`] computes cache keys.
//! - [`config`] applies config-only instructions (ENV, CMD, ENTRYPOINT, ...) to the image
//!   config and gives the history comment dockerd records for each.
//! - [`executor`] is the lifecycle the engine implements to run a plan, and [`builder`]
//!   the loop that drives it and writes the classic progress stream.
//!
//! Behaviour follows BuildKit (which dockerd's classic builder also uses for parsing),
//! and error messages use its wording, prefixed as dockerd does:
//! `dockerfile parse error on line 3: unknown instruction: FOO`. Nothing here panics on
//! input: every index is checked, and the test suite feeds generated hostile input.
#![deny(unsafe_code)]

pub mod builder;
pub mod cache;
pub mod config;
pub mod context;
pub mod copy;
pub mod dockerignore;
pub mod error;
pub mod executor;
pub mod expand;
pub mod instructions;
pub mod parser;
pub mod plan;
pub mod shell;

pub use error::{ParseError, ParseErrorKind};
pub use executor::Executor;
pub use instructions::{Command, From, Instruction};
pub use parser::{Directives, Warning};
pub use plan::{Base, BuildOptions, Plan, PlanError, Platform, StageVars, plan};

use instructions::Typed;

/// A build stage: a FROM and the instructions under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The FROM.
    pub from: From,
    /// The FROM's line.
    pub line: usize,
    /// The FROM as written.
    pub original: String,
    /// Everything up to the next FROM.
    pub instructions: Vec<Instruction>,
}

/// A parsed and typed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// Parser directives.
    pub directives: Directives,
    /// Parser warnings (dockerd prints them with the build output).
    pub warnings: Vec<Warning>,
    /// ARGs before the first FROM (each a [`Command::Arg`]).
    pub meta_args: Vec<Instruction>,
    /// The stages in order.
    pub stages: Vec<Stage>,
}

/// Parses and types a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let ast = parser::parse_ast(text)?;
    let mut df = Dockerfile {
        directives: ast.directives,
        warnings: ast.warnings,
        meta_args: Vec::new(),
        stages: Vec::new(),
    };
    for node in &ast.nodes {
        let typed =
            instructions::type_node(node).map_err(|k| ParseError::new(node.start_line, k))?;
        let original = node.original.trim().to_string();
        match typed {
            Typed::From(from) => df.stages.push(Stage {
                from,
                line: node.start_line,
                original,
                instructions: Vec::new(),
            }),
            Typed::Command(command) => {
                let ins = Instruction {
                    line: node.start_line,
                    end_line: node.end_line,
                    original,
                    command,
                };
                match df.stages.last_mut() {
                    Some(stage) => stage.instructions.push(ins),
                    None if matches!(ins.command, Command::Arg(_)) => df.meta_args.push(ins),
                    None => {
                        return Err(ParseError::new(node.start_line, ParseErrorKind::NoStage));
                    }
                }
            }
        }
    }
    Ok(df)
}

/// Parses a base image's ONBUILD triggers (its config's `OnBuild` entries), which run
/// before the first instruction of a stage built on it. FROM, MAINTAINER and ONBUILD are
/// refused as triggers.
pub fn parse_triggers(expressions: &[String]) -> Result<Vec<Instruction>, ParseError> {
    let mut out = Vec::new();
    for expr in expressions {
        let ast = parser::parse_ast(expr)?;
        for node in &ast.nodes {
            let err = |k| ParseError::new(node.start_line, k);
            let cmd = node.command.to_ascii_uppercase();
            match cmd.as_str() {
                "ONBUILD" => return Err(err(ParseErrorKind::OnbuildChain)),
                "FROM" | "MAINTAINER" => return Err(err(ParseErrorKind::OnbuildTrigger(cmd))),
                _ => {}
            }
            let Typed::Command(command) = instructions::type_node(node).map_err(err)? else {
                return Err(err(ParseErrorKind::OnbuildTrigger("FROM".into())));
            };
            out.push(Instruction {
                line: node.start_line,
                end_line: node.end_line,
                original: node.original.trim().to_string(),
                command,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onbuild_triggers_round_trip() {
        let df =
            parse("FROM a\nONBUILD COPY <<EOF /x\nhi $A\nEOF\nONBUILD RUN echo one\n").unwrap();
        let exprs: Vec<String> = df.stages[0]
            .instructions
            .iter()
            .map(|i| match &i.command {
                Command::Onbuild { expression, .. } => expression.clone(),
                _ => unreachable!(),
            })
            .collect();
        let t = parse_triggers(&exprs).unwrap();
        assert_eq!(t.len(), 2);
        let Command::Copy(c) = &t[0].command else {
            panic!()
        };
        assert_eq!(c.paths.contents[0].data, "hi $A\n");
        assert!(matches!(t[1].command, Command::Run(_)));
        assert_eq!(
            parse_triggers(&["FROM x".into()]).unwrap_err().kind,
            ParseErrorKind::OnbuildTrigger("FROM".into())
        );
        assert!(parse_triggers(&["BOGUS x".into()]).is_err());
    }
}

#[cfg(test)]
mod hostile_tests;
