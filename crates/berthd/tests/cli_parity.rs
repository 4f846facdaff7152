//! The same command lines through the docker CLI and berth's against one berthd: stdout,
//! stderr and exit code must match once ids and relative times are normalised. Covers the
//! listing and inspect commands with their `--format`s (templates using range, with,
//! if/else, variables, index, json, join, table and nested fields), the management groups,
//! prunes, errors, and `berth --help` against `docker --help`.

mod engine_harness;

use std::process::Output;

use engine_harness::{Daemon, ok, stderr, stdout};

/// Hex runs of 64 or 12 characters become `<id>`; `N seconds`/`Less than a second` become
/// `<t>` (the two CLIs run a moment apart).
fn normalise(s: &str) -> String {
    // The docker CLI's own notice when its buildx plugin is not installed.
    let legacy = "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.\n            Install the buildx component to build images with BuildKit:\n            https://docs.docker.com/go/buildx/\n\n";
    let s = s
        .replace(legacy, "")
        .replace("Less than a second", "<t>")
        .replace("About a minute", "<t>");
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let hex_end = (i..chars.len())
            .find(|&j| !chars[j].is_ascii_hexdigit() || chars[j].is_ascii_uppercase())
            .unwrap_or(chars.len());
        let boundary_before = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let len = hex_end - i;
        if boundary_before && (len == 64 || len == 12) {
            out.push_str("<id>");
            i = hex_end;
            continue;
        }
        // "12 seconds" -> "<t>"
        if chars[i].is_ascii_digit() && boundary_before {
            let num_end = (i..chars.len())
                .find(|&j| !chars[j].is_ascii_digit())
                .unwrap_or(chars.len());
            let rest: String = chars[num_end..].iter().take(8).collect();
            if rest.starts_with(" second") {
                out.push_str("<t>");
                i = num_end + " second".len();
                if chars.get(i) == Some(&'s') {
                    i += 1;
                }
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    // Column widths follow the raw times ("9 seconds" / "10 seconds"): compare cells, not
    // padding (alignment itself is unit-tested in crates/berth/src/format).
    let out = out.replace("<t>s", "<t>");
    let mut squeezed = String::with_capacity(out.len());
    let mut spaces = 0;
    for c in out.chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        match spaces {
            0 => {}
            1 => squeezed.push(' '),
            _ => squeezed.push_str("   "),
        }
        spaces = 0;
        squeezed.push(c);
    }
    squeezed
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        normalise(&stdout(o)),
        normalise(&stderr(o))
    )
}

/// Runs `args` through both CLIs; returns a description of the difference, if any.
fn differ(d: &Daemon, args: &[&str]) -> Option<String> {
    let docker = show(&d.docker(args));
    let berth = show(&d.berth(args));
    (docker != berth).then(|| format!("{args:?}\n=== docker\n{docker}=== berth\n{berth}"))
}

/// Asserts every line gives the same output through both CLIs (all differences reported).
fn assert_same(d: &Daemon, lines: &[&[&str]]) {
    let diffs: Vec<String> = lines.iter().filter_map(|l| differ(d, l)).collect();
    assert!(
        diffs.is_empty(),
        "{} of {} command lines differ:\n{}",
        diffs.len(),
        lines.len(),
        diffs.join("\n")
    );
}

/// A running container with a label, a port and a volume; an exited one; a network and a
/// volume with labels.
fn scene(d: &Daemon) {
    ok(
        &d.docker(&["network", "create", "--label", "team=blue", "pn"]),
        "network create",
    );
    ok(
        &d.docker(&["volume", "create", "--label", "keep=yes", "pv"]),
        "volume create",
    );
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "web",
            "--label",
            "tier=web",
            "--label",
            "x=1",
            "-p",
            "127.0.0.1::80",
            "-v",
            "pv:/data",
            "-e",
            "A=1",
            "busybox",
            "sleep",
            "1000",
        ]),
        "run web",
    );
    ok(&d.docker(&["network", "connect", "pn", "web"]), "connect");
    let done = d.docker(&["run", "--name", "done", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(done.status.code(), Some(3), "{}", stderr(&done));
}

#[test]
fn templates_match_docker() {
    let d = Daemon::start();
    scene(&d);
    let f = |t: &'static str| -> Vec<&'static str> { vec!["inspect", "-f", t, "web"] };
    let templates: Vec<Vec<&str>> = vec![
        f("{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Image}}"),
        f("{{range .NetworkSettings.Networks}}[{{.NetworkID}}]{{end}}"),
        f("{{range $name, $net := .NetworkSettings.Networks}}{{$name}} {{end}}"),
        f("{{range $i, $e := .Config.Cmd}}{{$i}}={{$e}};{{end}}"),
        f(
            "{{index .Config.Labels \"tier\"}}|{{index .Config.Cmd 0}}|{{index .Config.Labels \"nope\"}}",
        ),
        f("{{json .Config.Labels}}"),
        f("{{json .Config.Cmd}} {{json .State.ExitCode}}"),
        f("{{join .Config.Cmd \",\"}}"),
        f("{{with .State}}{{.Status}}/{{.ExitCode}}{{end}}"),
        f("{{with .Config.Labels.nope}}yes{{else}}no{{end}}"),
        f(
            "{{if .State.Running}}up{{else}}down{{end}} {{if eq .State.Status \"exited\"}}x{{else if eq .State.Status \"running\"}}r{{end}}",
        ),
        f("{{$n := .Name}}{{$s := .State}}{{$n}}:{{$s.Status}}"),
        f(
            "{{(index .Mounts 0).Name}} {{(index .Mounts 0).Destination}} {{range .Mounts}}{{.Type}}{{end}}",
        ),
        f("{{len .Config.Cmd}} {{len .Config.Labels}} {{printf \"%s-%d\" .Name .State.ExitCode}}"),
        f(
            "{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}} {{split \"a:b\" \":\"}}",
        ),
        f(
            "{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostIp}}{{end}}",
        ),
        f("{{.Config.Labels}} {{.Config.Cmd}} {{.HostConfig.Privileged}}"),
        f("{{- range .Config.Env}}\n{{.}}\n{{- end}}"),
        f("{{.State.Health}}{{.Nope}}"),
        f("{{and .State.Running .Config.Tty}} {{or .Config.Tty \"no\"}} {{not .State.Paused}}"),
        f("{{truncate .Name 3}}|{{pad .Name 1 2}}|"),
        f("{{println .Name}}{{print 1 2}}"),
        f("{{/* comment */}}{{.Name -}}   {{- .Driver}}"),
        vec!["inspect", "-f", "{{.Name}}", "web", "done"],
        vec!["container", "inspect", "-f", "{{.State.ExitCode}}", "done"],
        vec![
            "image",
            "inspect",
            "-f",
            "{{index .RepoTags 0}} {{.Config.Cmd}} {{.Os}}",
            "busybox",
        ],
        vec![
            "ps",
            "-a",
            "--format",
            "table {{.Names}}\t{{.Image}}\t{{.Label \"tier\"}}",
        ],
        vec![
            "ps",
            "-a",
            "--format",
            "{{.Names}}: {{json .Names}} {{.State}}",
        ],
        vec![
            "ps",
            "--format",
            "{{range split .Labels \",\"}}<{{.}}>{{end}}",
        ],
        vec![
            "ps",
            "--format",
            "table {{.ID}}\t{{upper .Names}}\t{{.Command}}",
        ],
        vec![
            "images",
            "--format",
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}",
        ],
        vec![
            "images",
            "--format",
            "{{if eq .Tag \"latest\"}}{{.Repository}}{{end}}",
        ],
        vec![
            "network",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{json .Labels}}",
            "pn",
        ],
        vec![
            "network",
            "ls",
            "--format",
            "table {{.Name}}\t{{.Driver}}\t{{.Scope}}",
        ],
        vec![
            "volume",
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}",
            "pv",
        ],
        vec!["volume", "ls", "--format", "table {{.Name}}\t{{.Driver}}"],
        vec![
            "version",
            "--format",
            "{{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}}",
        ],
        vec![
            "info",
            "--format",
            "{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}} {{.Images}}",
        ],
        vec![
            "history",
            "--format",
            "{{.CreatedBy}}|{{.Comment}}",
            "busybox",
        ],
        // Errors worded as Go's.
        vec!["inspect", "-f", "{{.Name", "web"],
        vec!["inspect", "-f", "{{nofunc .Name}}", "web"],
        vec!["inspect", "-f", "{{index .Config.Cmd 9}}", "web"],
        vec!["ps", "--format", "{{.Names"],
        vec!["ps", "-a", "--format", "{{.Names}} {{.Nope}}"],
        vec!["images", "--format", "{{.Nope}}"],
    ];
    let lines: Vec<&[&str]> = templates.iter().map(Vec::as_slice).collect();
    assert_same(&d, &lines);
    // `--format json`: the same JSON (key order aside: docker prints its struct's order).
    let as_json = |o: Output| -> serde_json::Value {
        serde_json::from_str(&ok(&o, "inspect --format json")).expect("JSON")
    };
    assert_eq!(
        as_json(d.docker(&["inspect", "--format", "json", "web", "done"])),
        as_json(d.berth(&["inspect", "--format", "json", "web", "done"]))
    );
}

#[test]
fn listings_and_groups_match_docker() {
    let d = Daemon::start();
    scene(&d);
    assert_same(
        &d,
        &[
            &["ps"],
            &["ps", "-a"],
            &["ps", "-a", "-q"],
            &["ps", "-a", "--no-trunc"],
            &["ps", "-a", "--format", "json"],
            &["ps", "-a", "--filter", "label=tier=web"],
            &["ps", "-a", "--filter", "label=tier"],
            &["ps", "-a", "--filter", "status=exited"],
            &["ps", "-a", "--filter", "name=^we"],
            &["ps", "-a", "--filter", "ancestor=busybox"],
            &["ps", "-a", "--filter", "exited=3"],
            &["ps", "-a", "--filter", "volume=pv"],
            &["ps", "-a", "--filter", "network=pn"],
            &["ps", "-a", "--filter", "bogus=1"],
            &["container", "ls", "-a"],
            &["container", "list", "-q"],
            &["images"],
            &["images", "-q"],
            &["images", "--no-trunc"],
            &["images", "--format", "json"],
            &["images", "--filter", "reference=busy*"],
            &["images", "--filter", "dangling=true"],
            &["image", "ls"],
            &["image", "list", "-q"],
            &["network", "ls"],
            &["network", "ls", "-q"],
            &["network", "ls", "--filter", "label=team=blue"],
            &["network", "ls", "--format", "json", "--filter", "name=pn"],
            &["volume", "ls"],
            &["volume", "ls", "-q"],
            &["volume", "ls", "--filter", "label=keep"],
            &["volume", "ls", "--format", "json"],
            &["history", "busybox"],
            &["history", "-q", "busybox"],
            &["history", "--no-trunc", "busybox"],
            &["image", "history", "busybox"],
            &["port", "web"],
            &["port", "web", "80"],
            &["container", "port", "web", "80/tcp"],
            &["wait", "done"],
            &["container", "wait", "done"],
            &["system", "df"],
            &["system", "df", "-v"],
            &[
                "system",
                "df",
                "--format",
                "{{.Type}} {{.TotalCount}} {{.Active}}",
            ],
            &["container", "diff", "web"],
            &["container", "top", "web"],
            &["inspect", "nosuch"],
            &["inspect", "-f", "{{.Name}} {{.Driver}}", "pn", "pv"],
            &["inspect", "--type", "volume", "-f", "{{.Mountpoint}}", "pv"],
            &["inspect", "--type", "network", "-f", "{{.Scope}}", "pn"],
            &["inspect", "--type", "bogus", "pn"],
            &["container", "inspect", "nosuch"],
            &["image", "inspect", "nosuch"],
            &["image", "rm", "nosuch"],
            &["volume", "inspect", "nosuch"],
            &["network", "inspect", "nosuch"],
            &["port", "nosuch"],
            &["builder", "prune", "-f"],
            &["search", "busybox"],
            &[
                "stats",
                "--no-stream",
                "--format",
                "{{.Name}} {{.Container}}",
                "web",
            ],
            &[
                "container",
                "stats",
                "--no-stream",
                "--format",
                "{{.Name}}",
                "web",
            ],
        ],
    );
    // psFormat and imagesFormat of config.json stand in for --format.
    let config = d.dir.path().join("docker-config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.json"),
        r#"{"psFormat": "table {{.Names}}\\t{{.Label \"tier\"}}", "imagesFormat": "{{.Repository}}:{{.Tag}}"}"#,
    )
    .expect("write config.json");
    assert_same(
        &d,
        &[
            &["ps", "-a"],
            &["images"],
            &["ps", "--format", "{{.Names}}"],
        ],
    );
    assert!(stdout(&d.berth(&["ps", "-a"])).starts_with("NAMES"));
}

#[test]
fn events_and_prunes_match_docker() {
    let d = Daemon::start();
    let since = chrono_now(&d);
    ok(
        &d.docker(&["run", "--name", "e1", "busybox", "true"]),
        "run e1",
    );
    ok(&d.docker(&["rm", "e1"]), "rm e1");
    let until = chrono_now(&d);
    let window = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "events".into(),
            "--since".into(),
            since.clone(),
            "--until".into(),
            until.clone(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let lines = [
        window(&[
            "--filter",
            "container=e1",
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ]),
        window(&[
            "--filter",
            "event=start",
            "--format",
            "{{json .Actor.Attributes.image}}",
        ]),
        window(&[
            "--filter",
            "type=container",
            "--filter",
            "event=die",
            "--format",
            "{{.Status}} {{index .Actor.Attributes \"exitCode\"}}",
        ]),
        window(&["--filter", "event=destroy", "--format", "json"]),
    ];
    let lines: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<&[&str]> = lines.iter().map(Vec::as_slice).collect();
    assert_same(&d, &refs);
    let out = stdout(&d.berth(refs[0]));
    assert!(out.contains("container start e1"), "{out}");

    // Each prune on the same state made twice: first through docker, then through berth.
    let prunes: [(&[&str], &[&str]); 4] = [
        (
            &["run", "--name", "gone", "busybox", "true"],
            &["container", "prune", "-f"],
        ),
        (
            &["network", "create", "unused"],
            &["network", "prune", "-f"],
        ),
        (&["volume", "create", "anon1"], &["volume", "prune", "-af"]),
        (
            &["run", "--name", "gone2", "busybox", "true"],
            &["system", "prune", "-f"],
        ),
    ];
    for (setup, prune) in prunes {
        ok(&d.docker(setup), "setup");
        let docker = show(&d.docker(prune));
        ok(&d.docker(setup), "setup again");
        let berth = show(&d.berth(prune));
        assert_eq!(docker, berth, "{prune:?}");
    }
    // Without -f and no terminal, both decline and remove nothing.
    ok(
        &d.docker(&["run", "--name", "kept", "busybox", "true"]),
        "run kept",
    );
    assert_same(
        &d,
        &[
            &["container", "prune"],
            &["image", "prune", "-a"],
            &["network", "prune"],
            &["volume", "prune"],
            &["volume", "prune", "-a"],
            &["system", "prune"],
            &["system", "prune", "-a", "--volumes"],
        ],
    );
    ok(&d.docker(&["inspect", "kept"]), "kept is still there");
}

/// The daemon's clock as `docker events --since` takes it (seconds.nanoseconds).
fn chrono_now(d: &Daemon) -> String {
    let _ = d;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// The command names listed by a `--help` (the first word of each indented line of its
/// command sections).
fn command_names(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.ends_with("Commands:") {
            in_commands = true;
            continue;
        }
        if !line.starts_with("  ") {
            in_commands = false;
            continue;
        }
        if let (true, Some(w)) = (in_commands, line.split_whitespace().next()) {
            names.push(w.trim_end_matches('*').to_string());
        }
    }
    names.sort();
    names
}

#[test]
fn help_lists_dockers_commands() {
    let d = Daemon::start_without_bridge();
    let docker = command_names(&ok(&d.docker(&["--help"]), "docker --help"));
    let berth = command_names(&ok(&d.berth(&["--help"]), "berth --help"));
    // Out of scope (README): swarm and its objects, plugins, contexts, trust, manifest.
    let out_of_scope = [
        "config", "node", "secret", "service", "stack", "swarm", "plugin", "context", "trust",
        "manifest",
    ];
    let missing: Vec<&String> = docker
        .iter()
        .filter(|c| !out_of_scope.contains(&c.as_str()) && !berth.contains(c))
        .collect();
    // `build` is being written separately (crates/berth/src/commands/build.rs).
    let missing: Vec<&&String> = missing.iter().filter(|c| c.as_str() != "build").collect();
    assert!(
        missing.is_empty(),
        "berth lacks {missing:?}; it has {berth:?}"
    );
    for group in [
        "container",
        "image",
        "network",
        "volume",
        "system",
        "builder",
    ] {
        let dh = command_names(&ok(&d.docker(&[group, "--help"]), group));
        let bh = command_names(&ok(&d.berth(&[group, "--help"]), group));
        let lacking: Vec<&String> = dh
            .iter()
            // `volume update` is for swarm cluster volumes only.
            .filter(|c| !bh.contains(c) && c.as_str() != "build" && c.as_str() != "update")
            .collect();
        assert!(lacking.is_empty(), "berth {group} lacks {lacking:?}");
    }
}
