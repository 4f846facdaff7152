//! `pause`, `unpause`, `top`, `stats`, `update`, `rename` and `container prune`.

use std::io::Write;

use berth_api::container::{
    ContainerPruneResponse, ContainerStats, ContainerSummary, ContainerTopResponse,
    ContainerUpdateBody, ContainerUpdateResponse, RestartPolicy,
};
use hyper::Method;
use serde_json::{Value, json};

use super::{filters_json, for_each, print_rows};
use crate::cli::{ContainerPruneArgs, ContainersArgs, RenameArgs, StatsArgs, TopArgs, UpdateArgs};
use crate::client::{Client, enc, query};
use crate::format::short_id;
use crate::format::units::{bytes_size, human_size, ram_in_bytes};

/// `berth pause` / `berth unpause` (`verb` is the endpoint).
pub async fn pause(client: &Client, args: &ContainersArgs, verb: &str) -> anyhow::Result<i32> {
    Ok(for_each(&args.containers, |c| async move {
        client
            .call(Method::POST, &format!("/containers/{}/{verb}", enc(&c)))
            .await?;
        Ok(Some(c))
    })
    .await)
}

/// `berth rename`.
pub async fn rename(client: &Client, args: &RenameArgs) -> anyhow::Result<i32> {
    let q = query(&[("name", Some(args.new_name.clone()))]);
    client
        .call(
            Method::POST,
            &format!("/containers/{}/rename{q}", enc(&args.container)),
        )
        .await?;
    Ok(0)
}

/// `berth top`: docker's table (columns at least 20 wide, 3 spaces apart).
pub async fn top(client: &Client, args: &TopArgs) -> anyhow::Result<i32> {
    let ps = args.ps_args.join(" ");
    let q = query(&[("ps_args", (!ps.is_empty()).then_some(ps))]);
    let top: ContainerTopResponse = client
        .get(&format!("/containers/{}/top{q}", enc(&args.container)))
        .await?;
    let mut rows = vec![top.titles];
    rows.extend(top.processes);
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            let w = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count() + 3)
                .max()
                .unwrap_or(0);
            w.max(20)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}", w = widths[i]));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(0)
}

/// `berth update`.
pub async fn update(client: &Client, args: &UpdateArgs) -> anyhow::Result<i32> {
    let bytes = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
        match v.as_deref() {
            None => Ok(0),
            Some("-1") => Ok(-1),
            Some(s) => ram_in_bytes(s)
                .ok_or_else(|| anyhow::anyhow!("invalid argument {s:?} for \"{flag}\" flag")),
        }
    };
    let restart_policy = match args.restart.as_deref() {
        None => RestartPolicy::default(),
        Some(r) => {
            let (name, count) = match r.split_once(':') {
                Some((n, c)) => (
                    n,
                    c.parse()
                        .map_err(|_| anyhow::anyhow!("invalid restart policy format: {r}"))?,
                ),
                None => (r, 0),
            };
            RestartPolicy {
                name: name.to_owned(),
                maximum_retry_count: count,
            }
        }
    };
    let mut body = ContainerUpdateBody {
        memory: bytes("--memory", &args.memory)?,
        memory_swap: bytes("--memory-swap", &args.memory_swap)?,
        memory_reservation: bytes("--memory-reservation", &args.memory_reservation)?,
        nano_cpus: args.cpus.map_or(0, |c| (c * 1e9) as i64),
        cpu_shares: args.cpu_shares.unwrap_or(0),
        cpu_period: args.cpu_period.unwrap_or(0),
        cpu_quota: args.cpu_quota.unwrap_or(0),
        cpuset_cpus: args.cpuset_cpus.clone().unwrap_or_default(),
        cpuset_mems: args.cpuset_mems.clone().unwrap_or_default(),
        pids_limit: args.pids_limit,
        restart_policy,
        ..Default::default()
    };
    if let Some(w) = args.blkio_weight {
        body.other.insert("BlkioWeight".into(), json!(w));
    }
    let body = &body;
    Ok(for_each(&args.containers, |c| async move {
        let r: ContainerUpdateResponse = client
            .post_json(&format!("/containers/{}/update", enc(&c)), body)
            .await?;
        for w in r.warnings {
            eprintln!("{w}");
        }
        Ok(Some(c))
    })
    .await)
}

/// `berth container prune`.
pub async fn prune(client: &Client, args: &ContainerPruneArgs) -> anyhow::Result<i32> {
    if !args.force
        && !super::groups::confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
        )?
    {
        return Ok(0);
    }
    let q = query(&[("filters", filters_json(&args.filter)?)]);
    let r: ContainerPruneResponse = client
        .post_json(&format!("/containers/prune{q}"), &json!({}))
        .await?;
    if !r.containers_deleted.is_empty() {
        println!("Deleted Containers:");
        for id in &r.containers_deleted {
            println!("{id}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        human_size(i64::try_from(r.space_reclaimed).unwrap_or(i64::MAX))
    );
    Ok(0)
}

/// `berth stats`: one table with `--no-stream`, else redrawn every second.
pub async fn stats(client: &Client, args: &StatsArgs) -> anyhow::Result<i32> {
    loop {
        let names: Vec<String> = if args.containers.is_empty() {
            let q = query(&[("all", args.all.then(|| "1".to_owned()))]);
            let list: Vec<ContainerSummary> = client.get(&format!("/containers/json{q}")).await?;
            list.into_iter().map(|c| c.id).collect()
        } else {
            args.containers.clone()
        };
        let mut rows = Vec::with_capacity(names.len());
        let mut code = 0;
        for n in &names {
            let s: anyhow::Result<ContainerStats> = client
                .get(&format!("/containers/{}/stats?stream=false", enc(n)))
                .await;
            match s {
                Ok(s) => rows.push(row(n, &s, args.no_trunc)),
                Err(e) => {
                    eprintln!("{}", super::error_line(&e));
                    code = 1;
                }
            }
        }
        if !args.no_stream {
            // docker's redraw: clear the screen, cursor home
            print!("\x1b[2J\x1b[H");
        }
        print_rows(&rows, args.format.as_deref(), DEFAULT_TABLE, label)?;
        if args.no_stream {
            return Ok(code);
        }
        std::io::stdout().flush()?;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

fn label(key: &str) -> Option<&'static str> {
    Some(match key {
        "ID" => "CONTAINER ID",
        "Container" => "CONTAINER",
        "Name" => "NAME",
        "CPUPerc" => "CPU %",
        "MemUsage" => "MEM USAGE / LIMIT",
        "MemPerc" => "MEM %",
        "NetIO" => "NET I/O",
        "BlockIO" => "BLOCK I/O",
        "PIDs" => "PIDS",
        _ => return None,
    })
}

/// One row as the docker CLI computes it from a sample.
fn row(asked: &str, s: &ContainerStats, no_trunc: bool) -> Value {
    let cpu = cpu_percent(s);
    let usage = s.memory_stats.usage.unwrap_or(0);
    let st = s.memory_stats.stats.clone().unwrap_or_default();
    // docker subtracts the inactive file cache (v1 total_inactive_file, v2 inactive_file)
    let cache = st
        .get("total_inactive_file")
        .or_else(|| st.get("inactive_file"))
        .copied()
        .filter(|c| *c < usage)
        .unwrap_or(0);
    let mem = usage - cache;
    let limit = s.memory_stats.limit.unwrap_or(0);
    let mem_pct = if limit > 0 {
        mem as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let (rx, tx) = s
        .networks
        .iter()
        .flatten()
        .fold((0u64, 0u64), |(r, t), (_, n)| {
            (r + n.rx_bytes, t + n.tx_bytes)
        });
    let (rd, wr) = s
        .blkio_stats
        .io_service_bytes_recursive
        .iter()
        .flatten()
        .fold((0u64, 0u64), |(r, w), e| {
            match e.op.to_ascii_lowercase().as_str() {
                "read" => (r + e.value, w),
                "write" => (r, w + e.value),
                _ => (r, w),
            }
        });
    let size = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let id = if no_trunc {
        s.id.clone()
    } else {
        short_id(&s.id)
    };
    json!({
        "Container": asked,
        "ID": id,
        "Name": s.name.trim_start_matches('/'),
        "CPUPerc": format!("{cpu:.2}%"),
        "MemUsage": format!("{} / {}", bytes_size(size(mem)), bytes_size(size(limit))),
        "MemPerc": format!("{mem_pct:.2}%"),
        "NetIO": format!("{} / {}", human_size(size(rx)), human_size(size(tx))),
        "BlockIO": format!("{} / {}", human_size(size(rd)), human_size(size(wr))),
        "PIDs": s.pids_stats.current.unwrap_or(0).to_string(),
    })
}

/// docker's CPU %: the container's share of the host's CPU time between the two samples,
/// times the number of CPUs.
fn cpu_percent(s: &ContainerStats) -> f64 {
    let cpu =
        s.cpu_stats.cpu_usage.total_usage as f64 - s.precpu_stats.cpu_usage.total_usage as f64;
    let system = s.cpu_stats.system_cpu_usage.unwrap_or(0) as f64
        - s.precpu_stats.system_cpu_usage.unwrap_or(0) as f64;
    let cpus = s.cpu_stats.online_cpus.map(f64::from).unwrap_or_else(|| {
        s.cpu_stats
            .cpu_usage
            .percpu_usage
            .as_ref()
            .map_or(1.0, |p| p.len() as f64)
    });
    if system > 0.0 && cpu > 0.0 {
        cpu / system * cpus * 100.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_as_docker() {
        let mut s = ContainerStats::default();
        s.cpu_stats.cpu_usage.total_usage = 300;
        s.precpu_stats.cpu_usage.total_usage = 100;
        s.cpu_stats.system_cpu_usage = Some(2000);
        s.precpu_stats.system_cpu_usage = Some(1000);
        s.cpu_stats.online_cpus = Some(2);
        assert!((cpu_percent(&s) - 40.0).abs() < 1e-9);
        s.precpu_stats = s.cpu_stats.clone();
        assert_eq!(cpu_percent(&s), 0.0);
    }
}
