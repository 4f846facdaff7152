//! Instruction typing. Expectations from the behaviour of BuildKit's
//! `frontend/dockerfile/instructions/{parse_test,parse_heredoc_test,bflag_test,
//! commands_runmount}.go` (cases written here).

use super::*;
use crate::{ParseError, ParseErrorKind, parse};
use std::time::Duration;

fn commands(df: &str) -> Vec<Command> {
    let d = parse(df).unwrap();
    d.stages
        .into_iter()
        .flat_map(|s| s.instructions)
        .map(|i| i.command)
        .collect()
}

fn one(df: &str) -> Command {
    let mut c = commands(&format!("FROM a\n{df}\n"));
    assert_eq!(c.len(), 1, "{df}");
    c.remove(0)
}

fn err(df: &str) -> ParseError {
    parse(df).unwrap_err()
}

#[test]
fn unknown_instruction_names_its_line() {
    let e = err("FROM a\nRUN x\nFOO bar\n");
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 3: unknown instruction: FOO"
    );
}

#[test]
fn instructions_before_from() {
    let d = parse("ARG A=1\nARG B\nFROM x:${A}\n").unwrap();
    assert_eq!(d.meta_args.len(), 2);
    let e = err("ENV A=1\nFROM x\n");
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 1: no build stage in current context"
    );
}

#[test]
fn from_forms() {
    let d = parse("FROM --platform=$BUILDPLATFORM golang:1 AS Build\nFROM scratch\n").unwrap();
    assert_eq!(d.stages[0].from.name.as_deref(), Some("build"));
    assert_eq!(d.stages[0].from.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(d.stages[1].from.base, "scratch");
    assert_eq!(err("FROM a b\n").kind, ParseErrorKind::FromArguments);
    assert_eq!(
        err("FROM a AS 1x\n").kind,
        ParseErrorKind::InvalidStageName("1x".into())
    );
    assert_eq!(
        err("FROM a AS b$\n").kind,
        ParseErrorKind::InvalidStageName("b$".into())
    );
    assert_eq!(
        err("FROM --plat=x a\n").kind,
        ParseErrorKind::UnknownFlag("--plat".into())
    );
}

#[test]
fn env_and_label() {
    let Command::Env(kv) = one("ENV a=1 b=\"x y\"") else {
        panic!()
    };
    assert_eq!(kv[1].key, "b");
    assert_eq!(kv[1].value, "\"x y\"");
    assert!(!kv[1].no_delim);
    let Command::Env(kv) = one("ENV a b c") else {
        panic!()
    };
    assert_eq!((kv[0].value.as_str(), kv[0].no_delim), ("b c", true));
    assert_eq!(
        err("FROM a\nENV =x\n").kind,
        ParseErrorKind::BlankName("ENV")
    );
    assert_eq!(
        err("FROM a\nLABEL\n").kind,
        ParseErrorKind::AtLeastOneArgument("LABEL")
    );
}

#[test]
fn run_forms_and_flags() {
    let Command::Run(r) = one("RUN --mount=type=cache,target=/c --network=none echo $HOME") else {
        panic!()
    };
    assert_eq!(r.cmd.args, ["echo $HOME"]);
    assert!(r.cmd.prepend_shell);
    assert_eq!(r.network, NetworkMode::None);
    assert_eq!(r.mounts, ["type=cache,target=/c"]);
    let Command::Run(r) = one("RUN [\"/bin/echo\", \"a b\"]") else {
        panic!()
    };
    assert_eq!(r.cmd.args, ["/bin/echo", "a b"]);
    assert!(!r.cmd.prepend_shell);
    assert_eq!(
        err("FROM a\nRUN --network=bridge x\n").kind,
        ParseErrorKind::NetworkMode("bridge".into())
    );
    assert_eq!(
        err("FROM a\nRUN --security=x y\n").kind,
        ParseErrorKind::Security("x".into())
    );
    assert_eq!(
        err("FROM a\nRUN --network x\n").kind,
        ParseErrorKind::MissingFlagValue("--network".into())
    );
    assert_eq!(
        err("FROM a\nRUN --network=none --network=host x\n").kind,
        ParseErrorKind::DuplicateFlag("--network".into())
    );
    assert_eq!(
        err("FROM a\nRUN --mount=from=$X,target=/x y\n").kind,
        ParseErrorKind::Mount(MountError::FromExpansion)
    );
}

#[test]
fn run_heredoc_argv() {
    let sh = ["/bin/sh".to_string(), "-c".to_string()];
    let Command::Run(r) = one("RUN <<EOF\necho a\necho b\nEOF") else {
        panic!()
    };
    assert_eq!(r.cmd.argv(&sh).args, ["/bin/sh", "-c", "echo a\necho b\n"]);
    let Command::Run(r) = one("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF") else {
        panic!()
    };
    let a = r.cmd.argv(&sh);
    assert_eq!(a.args, ["/dev/pipes/EOF"]);
    assert_eq!(
        a.script_file.unwrap().data,
        "#!/usr/bin/env python3\nprint(1)\n"
    );
    let Command::Run(r) = one("RUN python3 <<EOF >out\nprint(1)\nEOF") else {
        panic!()
    };
    assert_eq!(
        r.cmd.argv(&sh).args,
        ["/bin/sh", "-c", "python3 <<EOF >out\nprint(1)\nEOF"]
    );
    let Command::Run(r) = one("RUN <<-EOF\n\techo a\n\tEOF") else {
        panic!()
    };
    assert_eq!(r.cmd.files[0].data, "echo a\n");
}

#[test]
fn copy_and_add() {
    let Command::Copy(c) = one(
        "COPY --from=build --chown=1:2 --chmod=0755 --link --exclude=*.md --exclude=x a b /dst/",
    ) else {
        panic!()
    };
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("1:2"));
    assert_eq!(c.chmod.as_deref(), Some("0755"));
    assert!(c.link);
    assert_eq!(c.excludes, ["*.md", "x"]);
    assert_eq!(c.paths.sources, ["a", "b"]);
    assert_eq!(c.paths.dest, "/dst/");
    let Command::Copy(c) = one("COPY [\"a b\", \"/c d\"]") else {
        panic!()
    };
    assert_eq!(
        (c.paths.sources.as_slice(), c.paths.dest.as_str()),
        (&["a b".to_string()][..], "/c d")
    );
    let Command::Copy(c) = one("COPY <<A <<-B x /dst/\none $X\nA\n\ttwo\n\tB") else {
        panic!()
    };
    assert_eq!(c.paths.sources, ["x"]);
    assert_eq!(c.paths.contents.len(), 2);
    assert_eq!(c.paths.contents[0].data, "one $X\n");
    assert_eq!(c.paths.contents[1].data, "two\n");
    let Command::Add(a) = one("ADD --checksum=sha256:ab --unpack=false x.tar /") else {
        panic!()
    };
    assert_eq!(a.unpack, Some(false));
    assert_eq!(a.checksum.as_deref(), Some("sha256:ab"));
    assert_eq!(
        err("FROM a\nCOPY x\n").kind,
        ParseErrorKind::NoDestination("COPY")
    );
    assert_eq!(
        err("FROM a\nCOPY x <<EOF\nEOF\n").kind,
        ParseErrorKind::HeredocDestination("COPY")
    );
    assert_eq!(
        err("FROM a\nCOPY --link=maybe x y\n").kind,
        ParseErrorKind::BoolFlag("--link".into(), "maybe".into())
    );
    assert_eq!(
        err("FROM a\nCOPY --link= x y\n").kind,
        ParseErrorKind::MissingFlagValue("--link".into())
    );
    assert_eq!(
        err("FROM a\nADD --from=x a b\n").kind,
        ParseErrorKind::UnknownFlag("--from".into())
    );
}

#[test]
fn single_dash_is_an_argument() {
    let Command::Copy(c) = one("COPY -x a b") else {
        panic!()
    };
    assert_eq!(c.paths.sources, ["-x", "a"]);
}

#[test]
fn healthcheck() {
    let Command::Healthcheck(h) =
        one("HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f x")
    else {
        panic!()
    };
    assert_eq!(
        h,
        Healthcheck::Cmd {
            test: vec!["CMD-SHELL".into(), "curl -f x".into()],
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(90),
            start_period: Duration::ZERO,
            start_interval: Duration::ZERO,
            retries: 3,
        }
    );
    let Command::Healthcheck(Healthcheck::Cmd { test, .. }) =
        one("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]")
    else {
        panic!()
    };
    assert_eq!(test, ["CMD", "/bin/check", "-q"]);
    assert_eq!(
        one("HEALTHCHECK none"),
        Command::Healthcheck(Healthcheck::None)
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK NONE x\n").kind,
        ParseErrorKind::HealthcheckNoneArgs
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK CMD\n").kind,
        ParseErrorKind::HealthcheckMissingCommand
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK FOO x\n").kind,
        ParseErrorKind::HealthcheckType("FOO".into())
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK --interval=1us CMD x\n").kind,
        ParseErrorKind::IntervalTooShort("interval".into())
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK --interval=5 CMD x\n").kind,
        ParseErrorKind::InvalidDuration("5".into())
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK --retries=-1 CMD x\n").kind,
        ParseErrorKind::NegativeRetries(-1)
    );
    assert_eq!(
        err("FROM a\nHEALTHCHECK --retries=x CMD x\n").kind,
        ParseErrorKind::InvalidRetries("x".into())
    );
}

#[test]
fn simple_instructions() {
    assert_eq!(one("WORKDIR /app"), Command::Workdir("/app".into()));
    assert_eq!(one("USER 1000:1000"), Command::User("1000:1000".into()));
    assert_eq!(
        one("STOPSIGNAL SIGTERM"),
        Command::StopSignal("SIGTERM".into())
    );
    assert_eq!(
        one("MAINTAINER Jo <jo@x>"),
        Command::Maintainer("Jo <jo@x>".into())
    );
    assert_eq!(
        one("EXPOSE 8080/udp 80"),
        Command::Expose(vec!["80".into(), "8080/udp".into()])
    );
    assert_eq!(
        one("VOLUME [\"/a\", \"/b\"]"),
        Command::Volume(vec!["/a".into(), "/b".into()])
    );
    assert_eq!(
        one("SHELL [\"/bin/bash\", \"-c\"]"),
        Command::Shell(vec!["/bin/bash".into(), "-c".into()])
    );
    assert_eq!(
        one("ARG A B=2 C="),
        Command::Arg(vec![
            ArgDecl {
                key: "A".into(),
                value: None
            },
            ArgDecl {
                key: "B".into(),
                value: Some("2".into())
            },
            ArgDecl {
                key: "C".into(),
                value: Some(String::new())
            },
        ])
    );
    let Command::Entrypoint(e) = one("ENTRYPOINT [\"/bin/app\"]") else {
        panic!()
    };
    assert_eq!(e.args, ["/bin/app"]);
    let Command::Cmd(c) = one("CMD echo hi") else {
        panic!()
    };
    assert!(c.prepend_shell);
    assert_eq!(
        err("FROM a\nSHELL /bin/sh\n").kind,
        ParseErrorKind::NotJson("SHELL")
    );
    assert_eq!(
        err("FROM a\nWORKDIR\n").kind,
        ParseErrorKind::ExactlyOneArgument("WORKDIR")
    );
    assert_eq!(
        err("FROM a\nVOLUME [\"\"]\n").kind,
        ParseErrorKind::EmptyVolume
    );
    assert_eq!(
        err("FROM a\nWORKDIR --x=1 /a\n").kind,
        ParseErrorKind::UnknownFlag("--x".into())
    );
    assert_eq!(
        err("FROM a\nARG =x\n").kind,
        ParseErrorKind::BlankName("ARG")
    );
}

#[test]
fn onbuild() {
    let Command::Onbuild {
        expression,
        trigger,
    } = one("ONBUILD RUN echo hi")
    else {
        panic!()
    };
    assert_eq!(expression, "RUN echo hi");
    assert!(matches!(trigger.command, Command::Run(_)));
    let Command::Onbuild { expression, .. } = one("onbuild COPY <<EOF /x\nhello\nEOF") else {
        panic!()
    };
    assert_eq!(expression, "COPY <<EOF /x\nhello\nEOF");
    assert_eq!(
        err("FROM a\nONBUILD ONBUILD RUN x\n").kind,
        ParseErrorKind::OnbuildChain
    );
    assert_eq!(
        err("FROM a\nONBUILD FROM x\n").kind,
        ParseErrorKind::OnbuildTrigger("FROM".into())
    );
    assert_eq!(
        err("FROM a\nONBUILD MAINTAINER x\n").kind,
        ParseErrorKind::OnbuildTrigger("MAINTAINER".into())
    );
    assert_eq!(
        err("FROM a\nONBUILD\n").kind,
        ParseErrorKind::AtLeastOneArgument("ONBUILD")
    );
}

#[test]
fn mounts() {
    let m = parse_mount(
        "type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1",
        Some(&|s: &str| Ok(s.to_string())),
    )
    .unwrap();
    assert_eq!(m.kind, MountType::Cache);
    assert_eq!(m.target.as_deref(), Some("/root/.cache"));
    assert_eq!(m.sharing, Some(Sharing::Locked));
    assert_eq!(m.mode, Some(0o700));
    assert_eq!(m.uid, Some(1));
    assert!(!m.read_only);
    let id = |s: &str| Ok(s.to_string());
    let m = parse_mount("target=/src,from=build,source=/out", Some(&id)).unwrap();
    assert_eq!(m.kind, MountType::Bind);
    assert!(m.read_only);
    let m = parse_mount("type=bind,target=/src,rw", Some(&id)).unwrap();
    assert!(!m.read_only);
    let m = parse_mount("type=tmpfs,target=/t,size=64m", Some(&id)).unwrap();
    assert_eq!(m.size_limit, Some(64 << 20));
    let m = parse_mount("type=secret,id=tok,required", Some(&id)).unwrap();
    assert!(m.required && m.read_only);
    let m = parse_mount("\"type=bind,x\",target=/a", None);
    assert!(m.is_ok());
    for (bad, want) in [
        ("type=nfs", MountError::Type("nfs".into())),
        (
            "type=bind,mode=0700",
            MountError::FileInfo {
                field: "mode",
                kind: "bind",
            },
        ),
        (
            "type=bind,size=1",
            MountError::KeyForType {
                key: "size".into(),
                kind: "bind",
            },
        ),
        (
            "type=cache,required",
            MountError::KeyForType {
                key: "required".into(),
                kind: "cache",
            },
        ),
        ("type=secret", MountError::SecretNoTarget),
        ("type=secret,src=a,id=b", MountError::SecretSourceAndId),
        (
            "type=bind,sharing=shared",
            MountError::SharingNotCache("bind"),
        ),
        ("type=cache,sharing=x", MountError::SharingValue("x".into())),
        (
            "type=cache,bogus=1",
            MountError::UnknownKey {
                key: "bogus".into(),
                field: "bogus=1".into(),
            },
        ),
        (
            "ro=maybe",
            MountError::Value {
                key: "ro".into(),
                value: "maybe".into(),
            },
        ),
        (
            "type=cache,uid=x",
            MountError::Value {
                key: "uid".into(),
                value: "x".into(),
            },
        ),
        ("weird", MountError::NotKeyValue("weird".into())),
    ] {
        assert_eq!(parse_mount(bad, Some(&id)).unwrap_err(), want, "{bad}");
    }
    assert!(matches!(
        parse_mount("a=\"b", None),
        Err(MountError::Csv(_))
    ));
}

#[test]
fn csv_and_sizes() {
    assert_eq!(
        mount::csv_fields("a,\"b,c\",\"d\"\"e\"").unwrap(),
        ["a", "b,c", "d\"e"]
    );
    assert_eq!(mount::csv_fields("").unwrap(), [""]);
    assert_eq!(mount::ram_in_bytes("1g"), Some(1 << 30));
    assert_eq!(mount::ram_in_bytes("1.5KiB"), Some(1536));
    assert_eq!(mount::ram_in_bytes("100"), Some(100));
    assert_eq!(mount::ram_in_bytes("x"), None);
}

#[test]
fn argument_counts() {
    for cmd in ["MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"] {
        let e = err(&format!("FROM a\n{cmd}\n"));
        assert_eq!(
            e.to_string(),
            format!("dockerfile parse error on line 2: {cmd} requires exactly one argument")
        );
    }
    for cmd in [
        "ENV",
        "LABEL",
        "ONBUILD",
        "HEALTHCHECK",
        "EXPOSE",
        "VOLUME",
        "ARG",
    ] {
        let e = err(&format!("FROM a\n{cmd}\n"));
        assert_eq!(
            e.to_string(),
            format!("dockerfile parse error on line 2: {cmd} requires at least one argument")
        );
    }
    for cmd in ["ADD", "COPY"] {
        let e = err(&format!("FROM a\n{cmd} arg1\n"));
        assert!(e.to_string().ends_with(&format!(
            "{cmd} requires at least two arguments, but only one was provided. Destination could not be determined"
        )));
    }
    assert_eq!(
        err("FROM a\nCOPY\t\n").kind,
        ParseErrorKind::NoDestination("COPY")
    );
    assert_eq!(
        err("FROM a\nMAINTAINER --boo joe@example.com\n").kind,
        ParseErrorKind::UnknownFlag("--boo".into())
    );
    assert_eq!(
        err("FROM a\nfoo bar\n").kind,
        ParseErrorKind::UnknownInstruction("foo".into())
    );
    for (v, ok) in [("50ns", false), ("0ms", true), ("1ms", true)] {
        let r = parse(&format!("FROM a\nHEALTHCHECK --interval={v} CMD x\n"));
        assert_eq!(r.is_ok(), ok, "{v}");
    }
}

#[test]
fn long_onbuild_chains_do_not_recurse() {
    let df = format!("FROM a\n{}RUN x\n", "ONBUILD ".repeat(8_000));
    assert_eq!(err(&df).kind, ParseErrorKind::OnbuildChain);
}
