//! docker's management groups mapped onto the verbs (`container ls` is `ps`), and the
//! verbs only a group has: `system prune`, `builder prune`, `checkpoint`, plus `search`,
//! `completion` and `man`.

use std::io::Write;

use clap::CommandFactory;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{Cli, Command, InspectArgs};
use crate::cli_groups::{
    BuilderPruneArgs, CheckpointCommand, CompletionArgs, ContainerCommand, ImageCommand, ManArgs,
    SearchArgs, Shell, SystemCommand, SystemPruneArgs,
};
use crate::client::{Client, enc, query};
use crate::format::units::human_size;

use super::{filters_json, print_rows};

/// A group's subcommand as the top-level verb docker also has for it (`container ls` is
/// `ps`, `image rm` is `rmi`); commands only a group has are returned unchanged.
pub fn shortcut(command: Command) -> Command {
    match command {
        Command::Container(c) => match c {
            ContainerCommand::Attach(a) => Command::Attach(a),
            ContainerCommand::Commit(a) => Command::Commit(a),
            ContainerCommand::Cp(a) => Command::Cp(a),
            ContainerCommand::Create(a) => Command::Create(a),
            ContainerCommand::Diff(a) => Command::Diff(a),
            ContainerCommand::Exec(a) => Command::Exec(a),
            ContainerCommand::Export(a) => Command::Export(a),
            ContainerCommand::Inspect(a) => Command::Inspect(InspectArgs {
                format: a.format,
                kind: Some("container".into()),
                size: a.size,
                names: a.containers,
            }),
            ContainerCommand::Kill(a) => Command::Kill(a),
            ContainerCommand::Logs(a) => Command::Logs(a),
            ContainerCommand::Ls(a) => Command::Ps(a),
            ContainerCommand::Pause(a) => Command::Pause(a),
            ContainerCommand::Port(a) => Command::Port(a),
            ContainerCommand::Rename(a) => Command::Rename(a),
            ContainerCommand::Restart(a) => Command::Restart(a),
            ContainerCommand::Rm(a) => Command::Rm(a),
            ContainerCommand::Run(a) => Command::Run(a),
            ContainerCommand::Start(a) => Command::Start(a),
            ContainerCommand::Stats(a) => Command::Stats(a),
            ContainerCommand::Stop(a) => Command::Stop(a),
            ContainerCommand::Top(a) => Command::Top(a),
            ContainerCommand::Unpause(a) => Command::Unpause(a),
            ContainerCommand::Update(a) => Command::Update(a),
            ContainerCommand::Wait(a) => Command::Wait(a),
            c @ ContainerCommand::Prune(_) => Command::Container(c),
        },
        Command::Image(c) => match c {
            ImageCommand::History(a) => Command::History(a),
            ImageCommand::Import(a) => Command::Import(a),
            ImageCommand::Inspect(a) => Command::Inspect(InspectArgs {
                format: a.format,
                kind: Some("image".into()),
                size: false,
                names: a.images,
            }),
            ImageCommand::Load(a) => Command::Load(a),
            ImageCommand::Ls(a) => Command::Images(a),
            ImageCommand::Pull(a) => Command::Pull(a),
            ImageCommand::Push(a) => Command::Push(a),
            ImageCommand::Rm(a) => Command::Rmi(a),
            ImageCommand::Save(a) => Command::Save(a),
            ImageCommand::Tag(a) => Command::Tag(a),
            c @ ImageCommand::Prune(_) => Command::Image(c),
        },
        Command::System(c) => match c {
            SystemCommand::Events(a) => Command::Events(a),
            SystemCommand::Info(a) => Command::Info(a),
            c => Command::System(c),
        },
        c => c,
    }
}

/// docker's `[y/N]` question, answered by a line of stdin; anything but y/yes (or end of
/// input) declines.
pub fn confirm(warning: &str) -> anyhow::Result<bool> {
    print!("{warning} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let a = answer.trim().to_lowercase();
    Ok(a == "y" || a == "yes")
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PruneReport {
    containers_deleted: Option<Vec<String>>,
    networks_deleted: Option<Vec<String>>,
    volumes_deleted: Option<Vec<String>>,
    images_deleted: Option<Vec<Value>>,
    caches_deleted: Option<Vec<String>>,
    space_reclaimed: Option<u64>,
}

fn section(title: &str, items: &[String]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let mut out = format!("{title}:\n");
    for i in items {
        out.push_str(i);
        out.push('\n');
    }
    Some(out)
}

/// One prune call: its reclaimed space and docker's text for it (empty when nothing went).
async fn prune_one(client: &Client, path: &str) -> anyhow::Result<(u64, Option<String>)> {
    let r: PruneReport = client.post_json(path, &json!({})).await?;
    let mut text = None;
    if let Some(c) = &r.containers_deleted {
        text = section("Deleted Containers", c);
    }
    if let Some(n) = &r.networks_deleted {
        text = section("Deleted Networks", n);
    }
    if let Some(v) = &r.volumes_deleted {
        text = section("Deleted Volumes", v);
    }
    if let Some(i) = &r.images_deleted {
        let lines: Vec<String> = i
            .iter()
            .flat_map(|d| {
                let u = d["Untagged"].as_str().map(|u| format!("untagged: {u}"));
                let x = d["Deleted"].as_str().map(|x| format!("deleted: {x}"));
                u.into_iter().chain(x)
            })
            .collect();
        text = section("Deleted Images", &lines);
    }
    if let Some(c) = &r.caches_deleted {
        text = section("Deleted build cache objects", c);
    }
    Ok((r.space_reclaimed.unwrap_or(0), text))
}

/// `berth system prune`: containers, networks, (anonymous volumes,) images and build cache.
pub async fn system_prune(client: &Client, args: &SystemPruneArgs) -> anyhow::Result<i32> {
    if !args.force {
        let mut warning = String::from(
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
        );
        if args.volumes {
            warning.push_str("  - all anonymous volumes not used by at least one container\n");
        }
        if args.all {
            warning.push_str("  - all images without at least one container associated to them\n  - all build cache\n");
        } else {
            warning.push_str("  - all dangling images\n  - unused build cache\n");
        }
        warning.push_str("\nAre you sure you want to continue?");
        if !confirm(&warning)? {
            return Ok(0);
        }
    }
    let filters = filters_json(&args.filter)?;
    let with_dangling = |dangling: bool| -> anyhow::Result<Option<String>> {
        let mut flags = args.filter.clone();
        flags.push(format!("dangling={dangling}"));
        filters_json(&flags)
    };
    let mut paths = vec![
        format!(
            "/containers/prune{}",
            query(&[("filters", filters.clone())])
        ),
        format!("/networks/prune{}", query(&[("filters", filters.clone())])),
    ];
    if args.volumes {
        paths.push(format!(
            "/volumes/prune{}",
            query(&[("filters", filters.clone())])
        ));
    }
    paths.push(format!(
        "/images/prune{}",
        query(&[("filters", with_dangling(!args.all)?)])
    ));
    paths.push(format!(
        "/build/prune{}",
        query(&[
            ("all", args.all.then(|| "1".to_string())),
            ("filters", filters.clone()),
        ])
    ));
    let mut total = 0u64;
    for p in paths {
        let (space, text) = prune_one(client, &p).await?;
        total += space;
        if let Some(t) = text {
            println!("{t}");
        }
    }
    println!(
        "Total reclaimed space: {}",
        human_size(i64::try_from(total).unwrap_or(i64::MAX))
    );
    Ok(0)
}

/// `berth builder prune` → `POST /build/prune`.
pub async fn builder_prune(client: &Client, args: &BuilderPruneArgs) -> anyhow::Result<i32> {
    if !args.force {
        let warning = if args.all {
            "WARNING! This will remove all build cache. Are you sure you want to continue?"
        } else {
            "WARNING! This will remove all dangling build cache. Are you sure you want to continue?"
        };
        if !confirm(warning)? {
            return Ok(0);
        }
    }
    let bytes = |s: &Option<String>| -> anyhow::Result<Option<String>> {
        match s.as_deref() {
            None => Ok(None),
            Some(v) => match crate::format::units::ram_in_bytes(v) {
                Some(b) => Ok(Some(b.to_string())),
                None => anyhow::bail!("invalid size: '{v}'"),
            },
        }
    };
    let q = query(&[
        ("all", args.all.then(|| "1".to_string())),
        ("filters", filters_json(&args.filter)?),
        ("keep-storage", bytes(&args.keep_storage)?),
        ("reserved-space", bytes(&args.reserved_space)?),
        ("max-used-space", bytes(&args.max_used_space)?),
        ("min-free-space", bytes(&args.min_free_space)?),
    ]);
    let (space, text) = prune_one(client, &format!("/build/prune{q}")).await?;
    if let Some(t) = text {
        println!("{t}");
    }
    println!(
        "Total reclaimed space: {}",
        human_size(i64::try_from(space).unwrap_or(i64::MAX))
    );
    Ok(0)
}

/// `berth search TERM` → `GET /images/search`.
pub async fn search(client: &Client, args: &SearchArgs) -> anyhow::Result<i32> {
    let q = query(&[
        ("term", Some(args.term.clone())),
        ("limit", args.limit.map(|l| l.to_string())),
        ("filters", filters_json(&args.filter)?),
    ]);
    let results: Vec<Value> = client.get(&format!("/images/search{q}")).await?;
    let rows: Vec<Value> = results
        .iter()
        .map(|r| {
            let desc = r["description"].as_str().unwrap_or("").replace('\n', " ");
            let desc = if args.no_trunc {
                desc
            } else {
                crate::format::ellipsis(&desc, 45)
            };
            let flag = |k: &str| {
                if r[k].as_bool() == Some(true) {
                    "[OK]"
                } else {
                    ""
                }
            };
            json!({
                "Name": r["name"], "Description": desc,
                "StarCount": r["star_count"].as_i64().unwrap_or(0).to_string(),
                "IsOfficial": flag("is_official"), "IsAutomated": flag("is_automated"),
            })
        })
        .collect();
    let label = |f: &str| match f {
        "Name" => Some("NAME"),
        "Description" => Some("DESCRIPTION"),
        "StarCount" => Some("STARS"),
        "IsOfficial" => Some("OFFICIAL"),
        "IsAutomated" => Some("AUTOMATED"),
        _ => None,
    };
    print_rows(
        &rows,
        args.format.as_deref(),
        "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
        label,
    )?;
    Ok(0)
}

/// `berth checkpoint create|ls|rm` → `/containers/{id}/checkpoints`.
pub async fn checkpoint(client: &Client, command: &CheckpointCommand) -> anyhow::Result<i32> {
    match command {
        CheckpointCommand::Create(a) => {
            let body = json!({
                "CheckpointID": a.checkpoint,
                "CheckpointDir": a.checkpoint_dir.clone().unwrap_or_default(),
                "Exit": !a.leave_running,
            });
            let path = format!("/containers/{}/checkpoints", enc(&a.container));
            let _: Value = client.post_json(&path, &body).await?;
            println!("{}", a.checkpoint);
        }
        CheckpointCommand::Ls(a) => {
            let q = query(&[("dir", a.checkpoint_dir.clone())]);
            let list: Vec<Value> = client
                .get(&format!("/containers/{}/checkpoints{q}", enc(&a.container)))
                .await?;
            let rows: Vec<Value> = list.iter().map(|c| json!({"Name": c["Name"]})).collect();
            print_rows(&rows, None, "table {{.Name}}", |f| {
                (f == "Name").then_some("CHECKPOINT NAME")
            })?;
        }
        CheckpointCommand::Rm(a) => {
            let Some(name) = &a.checkpoint else {
                anyhow::bail!("\"checkpoint rm\" requires exactly 2 arguments.");
            };
            let q = query(&[("dir", a.checkpoint_dir.clone())]);
            let path = format!(
                "/containers/{}/checkpoints/{}{q}",
                enc(&a.container),
                enc(name)
            );
            client.call(hyper::Method::DELETE, &path).await?;
        }
    }
    Ok(0)
}

/// `berth completion bash|zsh|fish`.
pub fn completion(args: &CompletionArgs) -> anyhow::Result<i32> {
    use clap_complete::{generate, shells};
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    match args.shell {
        Shell::Bash => generate(shells::Bash, &mut cmd, "berth", &mut out),
        Shell::Zsh => generate(shells::Zsh, &mut cmd, "berth", &mut out),
        Shell::Fish => generate(shells::Fish, &mut cmd, "berth", &mut out),
    }
    Ok(0)
}

/// `berth man DIR`: `berth.1` and one page per command and subcommand (`berth-image-ls.1`).
pub fn man(args: &ManArgs) -> anyhow::Result<i32> {
    let dir = std::path::Path::new(&args.dir);
    std::fs::create_dir_all(dir)?;
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, dir)?;
    Ok(0)
}
