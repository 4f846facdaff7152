//! Planner and stage variables. ARG scope cases follow Docker's Dockerfile reference
//! ("Understand how ARG and FROM interact", "Scope", "Predefined ARGs") and BuildKit's
//! `dockerfile2llb` behaviour.

use super::*;
use crate::instructions::{Command, Copy};
use crate::parse;

fn opts(args: &[(&str, &str)], target: Option<&str>) -> BuildOptions {
    BuildOptions {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        target: target.map(str::to_string),
        target_platform: Platform::parse("linux/amd64").unwrap(),
        build_platform: Platform::parse("linux/amd64").unwrap(),
    }
}

const MULTI: &str = "\
ARG BASE=busybox
ARG TAG
FROM ${BASE}:${TAG:-latest} AS deps
RUN echo deps
FROM deps AS build
COPY --from=deps /a /a
FROM scratch AS unused
FROM alpine AS test
COPY --from=build /b /b
FROM busybox
COPY --from=build /out /out
COPY --from=0 /x /x
COPY --from=nginx:latest /etc/nginx /etc/nginx
RUN --mount=type=bind,from=deps,target=/d true
";

#[test]
fn stages_bases_and_order() {
    let df = parse(MULTI).unwrap();
    let p = plan(&df, &opts(&[], None)).unwrap();
    assert_eq!(p.target, 4);
    let idx: Vec<usize> = p.stages.iter().map(|s| s.index).collect();
    assert_eq!(idx, [0, 1, 4], "unused and test stages are not built");
    assert_eq!(p.stages[0].base, Base::Image("busybox:latest".into()));
    assert_eq!(p.stages[1].base, Base::Stage(0));
    assert_eq!(p.stages[1].depends_on, [0]);
    assert_eq!(p.stages[2].depends_on, [0, 1]);
    assert_eq!(p.stages[2].images, ["nginx:latest"]);
    let p = plan(
        &df,
        &opts(&[("TAG", "1.36"), ("BASE", "alpine")], Some("TEST")),
    )
    .unwrap();
    assert_eq!(p.target, 3);
    let idx: Vec<usize> = p.stages.iter().map(|s| s.index).collect();
    assert_eq!(idx, [0, 1, 3]);
    assert_eq!(p.stages[0].base, Base::Image("alpine:1.36".into()));
    let p = plan(&df, &opts(&[], Some("unused"))).unwrap();
    assert_eq!(p.stages.len(), 1);
    assert_eq!(p.stages[0].base, Base::Scratch);
}

#[test]
fn target_errors_and_future_stages() {
    let df = parse(MULTI).unwrap();
    assert_eq!(
        plan(&df, &opts(&[], Some("nope"))).unwrap_err().to_string(),
        "failed to reach build target nope in Dockerfile"
    );
    let df = parse("FROM a\nCOPY --from=1 /x /x\nFROM b\n").unwrap();
    assert_eq!(
        plan(&df, &opts(&[], None)).unwrap_err().to_string(),
        "dockerfile parse error on line 2: invalid from flag value 1: refers to current or future build stage"
    );
    let df = parse("FROM a AS x\nCOPY --from=$X /x /x\n").unwrap();
    assert!(matches!(
        plan(&df, &opts(&[], None)).unwrap_err(),
        PlanError::Expand {
            line: 2,
            source: expand::ExpandError::FromVariable
        }
    ));
    let df = parse("ARG B\nFROM $B\n").unwrap();
    assert_eq!(
        plan(&df, &opts(&[], None)).unwrap_err().to_string(),
        "dockerfile parse error on line 2: base name ($B) should not be blank"
    );
    let df = parse("ARG X=1\n").unwrap();
    assert_eq!(
        plan(&df, &opts(&[], None)).unwrap_err(),
        PlanError::NoStages
    );
}

#[test]
fn duplicate_stage_names_and_step_count() {
    let df = parse("FROM a AS x\nFROM b AS X\n").unwrap();
    assert_eq!(
        plan(&df, &opts(&[], None)).unwrap_err().to_string(),
        "x stage name already used"
    );
    let df = parse(MULTI).unwrap();
    let p = plan(&df, &opts(&[("B", "1"), ("A", "2")], None)).unwrap();
    // 2 global ARGs + stages 0 (FROM, RUN), 1 (FROM, COPY), 4 (FROM, 3 COPY, RUN).
    assert_eq!(p.step_count(&df), 2 + 2 + 2 + 5);
    assert_eq!(
        p.unused_args_warning().as_deref(),
        Some("[Warning] One or more build-args [A B] were not consumed\n")
    );
}

#[test]
fn a_later_stage_name_is_an_image() {
    // FROM only sees stages defined above it.
    let df = parse("FROM later\nFROM busybox AS later\n").unwrap();
    let p = plan(&df, &opts(&[], Some("0"))).unwrap();
    assert_eq!(p.stages[0].base, Base::Image("later".into()));
}

#[test]
fn platform_args_and_unused_build_args() {
    let df =
        parse("FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nARG USED\nFROM b\n")
            .unwrap();
    let p = plan(
        &df,
        &opts(
            &[("USED", "1"), ("NOPE", "2"), ("HTTP_PROXY", "http://p")],
            None,
        ),
    )
    .unwrap();
    assert_eq!(p.stages[0].platform, Platform::parse("linux/amd64"));
    assert_eq!(p.unused_build_args, ["NOPE"]);
    let df = parse("FROM --platform=linux busybox\n").unwrap();
    assert!(matches!(
        plan(&df, &opts(&[], None)),
        Err(PlanError::Platform { .. })
    ));
}

#[test]
fn stage_arg_scope() {
    let df = parse(
        "ARG V=global\nARG ONLY_GLOBAL=g\nFROM busybox\nARG V\nARG D=def-$V\nARG E\nENV V=env\n",
    )
    .unwrap();
    let p = plan(
        &df,
        &opts(&[("E", "from-cli"), ("HTTPS_PROXY", "http://p")], None),
    )
    .unwrap();
    let mut vars = StageVars::new(&p, &["PATH=/bin".to_string(), "HOME=/root".to_string()]);
    let lex = Lexer::new('\\');
    // Global args are not visible until declared in the stage.
    assert_eq!(
        lex.process_word("[$V][$ONLY_GLOBAL][$TARGETOS]", &vars)
            .unwrap(),
        "[][][]"
    );
    let stage = &df.stages[0];
    let apply =
        |vars: &mut StageVars, ins: &crate::Instruction| match vars.expand(&ins.command).unwrap() {
            Command::Arg(decls) => vars.declare_args(&decls).unwrap(),
            Command::Env(kvs) => kvs.iter().for_each(|kv| vars.set_env(&kv.key, &kv.value)),
            _ => {}
        };
    // Up to line 6 (ARG E), before the ENV.
    for ins in &stage.instructions[..3] {
        apply(&mut vars, ins);
    }
    assert_eq!(
        lex.process_word("$V|$D|$E|$HOME", &vars).unwrap(),
        "global|def-global|from-cli|/root"
    );
    apply(&mut vars, &stage.instructions[3]);
    // ENV shadows the ARG of the same name.
    assert_eq!(lex.process_word("$V", &vars).unwrap(), "env");
    assert_eq!(vars.image_env(), ["PATH=/bin", "HOME=/root", "V=env"]);
    assert_eq!(
        vars.run_env(),
        [
            "PATH=/bin",
            "HOME=/root",
            "V=env",
            "D=def-global",
            "E=from-cli",
            "HTTPS_PROXY=http://p"
        ]
    );
}

#[test]
fn run_history_records_build_args() {
    let df = parse("FROM a\nARG B=2\nARG A=1\nARG HTTP_PROXY\nENV B=env\n").unwrap();
    let p = plan(
        &df,
        &opts(
            &[("A", "cli"), ("HTTP_PROXY", "http://p"), ("NO_PROXY", "x")],
            None,
        ),
    )
    .unwrap();
    let mut vars = StageVars::new(&p, &[]);
    let argv = ["/bin/sh".to_string(), "-c".to_string(), "make".to_string()];
    assert_eq!(vars.run_created_by(&argv), "/bin/sh -c make");
    for ins in &df.stages[0].instructions {
        match &ins.command {
            Command::Arg(d) => vars.declare_args(d).unwrap(),
            Command::Env(kvs) => kvs.iter().for_each(|kv| vars.set_env(&kv.key, &kv.value)),
            _ => {}
        }
    }
    // B is shadowed by ENV; the declared proxy arg is recorded, the undeclared one is not.
    assert_eq!(
        vars.run_created_by(&argv),
        "|2 A=cli HTTP_PROXY=http://p /bin/sh -c make"
    );
    assert!(vars.run_env().contains(&"NO_PROXY=x".to_string()));
}

#[test]
fn build_arg_beats_default_and_global_defaults_chain() {
    let df = parse("ARG A=1\nARG B=${A}2\nFROM x:$B\nARG B\nARG C=3\n").unwrap();
    let p = plan(&df, &opts(&[("C", "cli")], None)).unwrap();
    assert_eq!(p.stages[0].base, Base::Image("x:12".into()));
    let mut vars = StageVars::new(&p, &[]);
    for ins in &df.stages[0].instructions {
        if let Command::Arg(d) = &ins.command {
            vars.declare_args(d).unwrap();
        }
    }
    assert_eq!(vars.lookup("B").as_deref(), Some("12"));
    assert_eq!(vars.lookup("C").as_deref(), Some("cli"));
}

#[test]
fn expansion_per_instruction() {
    let df = parse(
        "FROM a\nARG D=/data\nWORKDIR $D/app\nCOPY --chown=${U:-1000} --from=x src/${F} $D/\nRUN echo $D\nEXPOSE ${P:-80} 443\nCOPY <<EOF <<'RAW' /x/\n\"$D\"\nEOF\n$D\nRAW\nLABEL \"k $D\"=\"v ${D}\"\nRUN --mount=type=cache,target=$D/cache true\n",
    )
    .unwrap();
    let p = plan(&df, &opts(&[], None)).unwrap();
    let mut vars = StageVars::new(&p, &[]);
    // Declare the ARG so later words can use it.
    let Command::Arg(d) = vars.expand(&df.stages[0].instructions[0].command).unwrap() else {
        panic!()
    };
    vars.declare_args(&d).unwrap();
    let Command::Workdir(w) = vars.expand(&df.stages[0].instructions[1].command).unwrap() else {
        panic!()
    };
    assert_eq!(w, "/data/app");
    let Command::Copy(Copy {
        chown, paths, from, ..
    }) = vars.expand(&df.stages[0].instructions[2].command).unwrap()
    else {
        panic!()
    };
    assert_eq!(chown.as_deref(), Some("1000"));
    assert_eq!(from.as_deref(), Some("x"));
    assert_eq!(paths.sources, ["src/"]);
    assert_eq!(paths.dest, "/data/");
    // RUN's command is left for the shell.
    let Command::Run(r) = vars.expand(&df.stages[0].instructions[3].command).unwrap() else {
        panic!()
    };
    assert_eq!(r.cmd.args, ["echo $D"]);
    assert_eq!(expand::run_mounts(&r, '\\', &vars).unwrap(), vec![]);
    let Command::Expose(ports) = vars.expand(&df.stages[0].instructions[4].command).unwrap() else {
        panic!()
    };
    // Sorted as written, before expansion (as BuildKit does).
    assert_eq!(ports, ["80", "443"]);
    let Command::Copy(c) = vars.expand(&df.stages[0].instructions[5].command).unwrap() else {
        panic!()
    };
    assert_eq!(
        c.paths.contents[0].data, "\"/data\"\n",
        "quotes kept, variables expanded"
    );
    assert_eq!(c.paths.contents[1].data, "$D\n", "quoted marker: literal");
    let Command::Label(l) = vars.expand(&df.stages[0].instructions[6].command).unwrap() else {
        panic!()
    };
    assert_eq!(
        (l[0].key.as_str(), l[0].value.as_str()),
        ("k /data", "v /data")
    );
    let Command::Run(r) = &df.stages[0].instructions[7].command else {
        panic!()
    };
    let m = expand::run_mounts(r, '\\', &vars).unwrap();
    assert_eq!(m[0].target.as_deref(), Some("/data/cache"));
}
