//! Typing of syntax nodes: argument counts, flags, forms (BuildKit's `parse.go`).

use std::time::Duration;

use super::flags::{Flags, Kind};
use super::{
    Add, ArgDecl, Command, CommandLine, Copy, From, Healthcheck, InlineFile, Instruction, KeyValue,
    NetworkMode, Run, Security, SourcesAndDest, Typed, duration, parse_mount,
};
use crate::error::ParseErrorKind;
use crate::parser::{Heredoc, Node, chomp_heredoc_content, parse_heredoc};

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
