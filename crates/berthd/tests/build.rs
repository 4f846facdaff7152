//! `docker build` (the CLI's classic builder, no buildx here), `berth build`, docker-py's
//! and compose's builds against berthd: the image each build makes is run or inspected to
//! prove what it holds; the caches, failures and refusals are checked by their effects.

mod engine_harness;

use std::path::Path;

use engine_harness::{Daemon, ok};

/// Writes `files` (path, content) under a fresh directory of the daemon's temp dir.
fn context(d: &Daemon, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let root = d.dir.path().join(name);
    for (p, content) in files {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(&f, content).expect("write");
    }
    root
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Containers of the daemon (all states): a build must leave none behind.
fn containers(d: &Daemon) -> Vec<String> {
    ok(&d.docker(&["ps", "-aq"]), "ps")
        .lines()
        .map(str::to_owned)
        .collect()
}

const MULTI: &str = r#"ARG BASE=busybox
FROM $BASE AS build
ARG GREETING=hi
RUN mkdir -p /out && echo "$GREETING" > /out/greeting
COPY app/ /out/app/
FROM busybox
COPY --from=build /out /opt
WORKDIR /opt/app
HEALTHCHECK --interval=5s --retries=2 CMD test -f /opt/greeting
USER 1234:1234
ENTRYPOINT ["/bin/sh", "/opt/app/main.sh"]
CMD ["arg1"]
"#;

#[test]
fn multi_stage_build_runs_and_caches_through_the_docker_cli() {
    let d = Daemon::start();
    let ctx = context(
        &d,
        "multi",
        &[
            ("Dockerfile", MULTI),
            (
                "app/main.sh",
                "echo \"main $(cat /opt/greeting) in $(pwd) as $(id -u):$(id -g) with $1\"\n",
            ),
            ("app/skip.log", "excluded\n"),
            ("app/keep.log", "kept by the exception\n"),
            ("secret.txt", "excluded\n"),
            (".dockerignore", "*.txt\napp/*.log\n!app/keep.log\n"),
        ],
    );
    let out = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "docker build",
    );
    // dockerd's classic stream, as the CLI prints it.
    assert!(out.contains("Step 1/12 : ARG BASE=busybox"), "{out}");
    assert!(out.contains("Step 2/12 : FROM $BASE AS build"), "{out}");
    assert!(out.contains(" ---> Running in "), "{out}");
    assert!(
        out.contains(" ---> Removed intermediate container "),
        "{out}"
    );
    assert!(out.contains("Successfully built "), "{out}");
    assert!(out.contains("Successfully tagged acc:1"), "{out}");
    assert!(containers(&d).is_empty(), "build containers left behind");

    // The image runs: the entrypoint, the stage's ARG, WORKDIR, USER and CMD.
    let run = ok(&d.docker(&["run", "--rm", "acc:1"]), "run acc:1");
    assert_eq!(run.trim(), "main hey in /opt/app as 1234:1234 with arg1");
    // .dockerignore with an exception: keep.log came, skip.log and secret.txt did not.
    let ls = ok(
        &d.docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "ls",
            "acc:1",
            "-A",
            "/opt/app",
            "/opt",
        ]),
        "ls",
    );
    assert!(ls.contains("keep.log") && ls.contains("main.sh"), "{ls}");
    assert!(
        !ls.contains("skip.log") && !ls.contains("secret.txt"),
        "{ls}"
    );
    let cfg = ok(
        &d.docker(&[
            "inspect",
            "-f",
            "{{json .Config.Healthcheck}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}",
            "acc:1",
        ]),
        "inspect",
    );
    assert_eq!(
        cfg.trim(),
        r#"{"Test":["CMD-SHELL","test -f /opt/greeting"],"Interval":5000000000,"Retries":2}|1234:1234|/opt/app|["/bin/sh","/opt/app/main.sh"]|["arg1"]"#
    );
    // One history entry per instruction of the last stage, on top of busybox's.
    let history = ok(
        &d.docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "acc:1",
        ]),
        "history",
    );
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 1 + 6, "{history}");
    assert_eq!(lines[0], r#"/bin/sh -c #(nop)  CMD ["arg1"]"#);
    assert!(
        lines[5].starts_with("/bin/sh -c #(nop)  COPY --from="),
        "{history}"
    );

    // A rebuild takes every step below a FROM from the cache (9), and gives the same image.
    let id1 = ok(&d.docker(&["inspect", "-f", "{{.Id}}", "acc:1"]), "id");
    let again = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "rebuild",
    );
    assert_eq!(again.matches(" ---> Using cache").count(), 9, "{again}");
    assert!(!again.contains("Running in"), "{again}");
    let id2 = ok(&d.docker(&["inspect", "-f", "{{.Id}}", "acc:1"]), "id");
    assert_eq!(id1, id2);

    // Changing one copied file rebuilds from its COPY on, and only from there.
    std::fs::write(ctx.join("app/main.sh"), "echo changed\n").expect("edit");
    let changed = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "build after a change",
    );
    let copy_at = changed.find("COPY app/ /out/app/").expect("copy step");
    let (before, after) = changed.split_at(copy_at);
    assert_eq!(before.matches("Using cache").count(), 2, "{changed}");
    assert_eq!(after.matches("Using cache").count(), 0, "{changed}");
    assert_eq!(
        ok(&d.docker(&["run", "--rm", "acc:1"]), "run").trim(),
        "changed"
    );
    assert!(containers(&d).is_empty());
}
