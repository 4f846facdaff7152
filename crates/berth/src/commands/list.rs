//! `ps`: docker's columns and `--format` fields.

use berth_api::container::{ContainerSummary, Port};
use serde_json::{Value, json};

use super::filters_json;
use crate::cli::PsArgs;
use crate::client::{Client, query};
use crate::format::units::{ago, human_size};
use crate::format::{ellipsis, short_id};

/// docker's default `ps` table.
pub const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Column headers of `ps` fields.
pub fn label(field: &str) -> Option<&'static str> {
    Some(match field {
        "ID" => "CONTAINER ID",
        "Image" => "IMAGE",
        "Command" => "COMMAND",
        "CreatedAt" => "CREATED AT",
        "RunningFor" => "CREATED",
        "Ports" => "PORTS",
        "Status" => "STATUS",
        "State" => "STATE",
        "Size" => "SIZE",
        "Names" => "NAMES",
        "Labels" => "LABELS",
        "Mounts" => "MOUNTS",
        "Networks" => "NETWORKS",
        _ => return None,
    })
}

/// Ports as docker shows them: `0.0.0.0:8080->80/tcp, 443/tcp`.
pub fn format_ports(ports: &[Port]) -> String {
    let mut items: Vec<String> = ports
        .iter()
        .map(|p| match p.public_port {
            Some(public) => {
                let ip = if p.ip.is_empty() { "0.0.0.0" } else { &p.ip };
                format!("{ip}:{public}->{}/{}", p.private_port, p.r#type)
            }
            None => format!("{}/{}", p.private_port, p.r#type),
        })
        .collect();
    items.sort();
    items.dedup();
    items.join(", ")
}

/// One `ps` row's fields (docker's `ContainerContext`), truncated unless `no_trunc`.
pub fn row(c: &ContainerSummary, no_trunc: bool, now: i64) -> Value {
    let id = if no_trunc {
        c.id.clone()
    } else {
        short_id(&c.id)
    };
    let image = if c.image.starts_with("sha256:") && !no_trunc {
        short_id(&c.image)
    } else {
        c.image.clone()
    };
    // docker truncates, then quotes (`"docker-entrypoint.s…"`).
    let command = if no_trunc {
        c.command.clone()
    } else {
        ellipsis(&c.command, 20)
    };
    let command = format!("\"{}\"", command.replace('\\', "\\\\").replace('"', "\\\""));
    let names: Vec<&str> = c
        .names
        .iter()
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        .filter(|n| no_trunc || !n.contains('/'))
        .collect();
    let labels: Vec<String> = c
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let size = match (c.size_rw, c.size_root_fs) {
        (Some(rw), Some(total)) => format!("{} (virtual {})", human_size(rw), human_size(total)),
        (Some(rw), None) => human_size(rw),
        _ => "0B".into(),
    };
    let networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    let mounts: Vec<String> = c
        .mounts
        .iter()
        .map(|m| {
            if m.name.is_empty() {
                m.source.clone()
            } else {
                m.name.clone()
            }
        })
        .collect();
    let created_at = chrono::DateTime::from_timestamp(c.created, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    json!({
        "ID": id,
        "Image": image,
        "Command": command,
        "CreatedAt": created_at,
        "RunningFor": ago(c.created, now),
        "Ports": format_ports(&c.ports),
        "Status": c.status,
        "State": c.state,
        "Size": size,
        "Names": names.join(","),
        "Labels": labels.join(","),
        "Mounts": mounts.join(","),
        "Networks": networks.join(","),
        "LocalVolumes": c.mounts.iter().filter(|m| m.r#type == "volume").count().to_string(),
        "Platform": null,
    })
}

/// `berth ps`.
pub async fn ps(client: &Client, args: &PsArgs) -> anyhow::Result<i32> {
    // docker parses the format before listing, to know whether sizes are needed.
    let format = args
        .format
        .clone()
        .or_else(|| super::config_value("psFormat"));
    if let Some(f) = format.as_deref().filter(|f| *f != "json") {
        crate::format::template::Template::parse(f)
            .map_err(|e| super::Verbatim(format!("failed to parse template: {e}")))?;
    }
    let limit = if args.latest {
        Some(1)
    } else {
        args.last.filter(|n| *n > 0)
    };
    let q = query(&[
        ("all", (args.all || limit.is_some()).then(|| "1".into())),
        ("limit", limit.map(|n| n.to_string())),
        ("size", args.size.then(|| "1".into())),
        ("filters", filters_json(&args.filter)?),
    ]);
    let list: Vec<ContainerSummary> = client.get(&format!("/containers/json{q}")).await?;
    if args.quiet {
        for c in &list {
            println!(
                "{}",
                if args.no_trunc {
                    c.id.clone()
                } else {
                    short_id(&c.id)
                }
            );
        }
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Value> = list.iter().map(|c| row(c, args.no_trunc, now)).collect();
    let default = if args.size {
        format!("{DEFAULT_FORMAT}\t{{{{.Size}}}}")
    } else {
        DEFAULT_FORMAT.to_string()
    };
    super::print_rows_of(
        &rows,
        format.as_deref(),
        &default,
        label,
        Some("*formatter.ContainerContext"),
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::template::Template;
    use crate::format::write_table;

    fn sample() -> ContainerSummary {
        serde_json::from_value(json!({
            "Id": "8dfafdbc3a40aaaabbbbccccddddeeeeffff00001111222233334444555566667",
            "Names": ["/boring_feynman", "/other/link"],
            "Image": "busybox",
            "Command": "sh -c 'echo hello world; sleep 1000'",
            "Created": 1000,
            "State": "running",
            "Status": "Up 2 minutes",
            "Ports": [{"PrivatePort": 2222, "PublicPort": 3333, "Type": "tcp"},
                      {"PrivatePort": 80, "Type": "tcp"}],
            "Labels": {"a": "b"}
        }))
        .unwrap()
    }

    #[test]
    fn ps_row_fields() {
        let r = row(&sample(), false, 1090);
        assert_eq!(r["ID"], "8dfafdbc3a40");
        assert_eq!(r["Command"], "\"sh -c 'echo hello w…\"");
        assert_eq!(r["RunningFor"], "About a minute ago");
        assert_eq!(r["Ports"], "0.0.0.0:3333->2222/tcp, 80/tcp");
        assert_eq!(r["Names"], "boring_feynman");
        assert_eq!(r["Labels"], "a=b");
        let full = row(&sample(), true, 1090);
        assert_eq!(full["Command"], "\"sh -c 'echo hello world; sleep 1000'\"");
        assert_eq!(full["Names"], "boring_feynman,other/link");
    }

    #[test]
    fn ps_default_table() {
        let t = Template::parse(DEFAULT_FORMAT).unwrap();
        let lines = vec![
            t.header(label).unwrap(),
            t.render(&row(&sample(), false, 1090)).unwrap(),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &lines).unwrap();
        let out = String::from_utf8(out).unwrap();
        let mut it = out.lines();
        assert_eq!(
            it.next().unwrap(),
            "CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS         PORTS                            NAMES"
        );
        assert_eq!(
            it.next().unwrap(),
            "8dfafdbc3a40   busybox   \"sh -c 'echo hello w…\"   About a minute ago   Up 2 minutes   0.0.0.0:3333->2222/tcp, 80/tcp   boring_feynman"
        );
    }
}
