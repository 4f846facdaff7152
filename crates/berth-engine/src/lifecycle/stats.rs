//! `stats`: docker's `StatsResponse` from the container's cgroup (v1 or v2, through
//! `berth-runtime`'s reader), the host's `/proc/stat` and `/proc/meminfo`, and the
//! interfaces of the container's network namespace (`/proc/<pid>/net/dev`).
//!
//! A stream sends a sample a second, each with the previous one's CPU as `precpu_stats`
//! (what clients compute CPU % from). A single sample (`stream=false`) takes its `precpu`
//! from the container's last sample when one is recent, otherwise from a second reading
//! 10 ms earlier, so `docker stats --no-stream` answers at once rather than after a second.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_api::container::{
    BlkioEntry, BlkioStats, ContainerStats, CpuStats, CpuUsage, MemoryStats, NetworkStats,
    PidsStats, ThrottlingData,
};
use berth_runtime::cgroups::CgroupStats;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::model::ZERO_TIME;
use crate::table::{Container, Engine};

/// How often a stream samples.
const INTERVAL: Duration = Duration::from_secs(1);
/// How old a cached sample may be to serve as a one-shot's `precpu`.
const FRESH: Duration = Duration::from_secs(10);
/// The gap between the two readings of a one-shot without a cached sample.
const GAP: Duration = Duration::from_millis(10);

/// The last sample of each container, by ID.
#[derive(Debug, Default)]
pub(crate) struct LastSamples(Mutex<HashMap<String, (Instant, ContainerStats)>>);

impl LastSamples {
    fn get(&self, id: &str) -> Option<ContainerStats> {
        let g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.get(id)
            .filter(|(t, _)| t.elapsed() < FRESH)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, id: &str, s: &ContainerStats) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.retain(|_, (t, _)| t.elapsed() < FRESH);
        g.insert(id.to_owned(), (Instant::now(), s.clone()));
    }
}

/// How stats are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsOptions {
    /// A sample a second until the client goes or the container stops.
    pub stream: bool,
    /// With `stream=false`: one reading, no `precpu`.
    pub one_shot: bool,
}

impl Engine {
    /// `GET /containers/{id}/stats`. The first sample is taken before this returns, so a
    /// failure is the request's error.
    pub async fn stats(
        &self,
        name: &str,
        opts: StatsOptions,
    ) -> Result<mpsc::Receiver<Result<ContainerStats>>> {
        let c = self.lookup(name)?;
        let (tx, rx) = mpsc::channel(1);
        if !c.status().has_process() {
            // docker answers a stopped container with one empty sample
            let rec = c.record();
            let _ = tx
                .send(Ok(ContainerStats {
                    name: rec.name,
                    id: rec.id,
                    read: ZERO_TIME.into(),
                    preread: ZERO_TIME.into(),
                    ..Default::default()
                }))
                .await;
            return Ok(rx);
        }
        let mut cur = self.sample(&c).await?;
        if !opts.stream {
            if !opts.one_shot {
                let prev = match self.inner.stats.get(&c.id) {
                    Some(p) => p,
                    None => {
                        tokio::time::sleep(GAP).await;
                        let next = self.sample(&c).await?;
                        std::mem::replace(&mut cur, next)
                    }
                };
                with_previous(&mut cur, &prev);
            }
            self.inner.stats.put(&c.id, &cur);
            let _ = tx.send(Ok(cur)).await;
            return Ok(rx);
        }
        let engine = self.clone();
        tokio::spawn(async move {
            let mut prev: Option<ContainerStats> = engine.inner.stats.get(&c.id);
            loop {
                if let Some(p) = &prev {
                    with_previous(&mut cur, p);
                }
                engine.inner.stats.put(&c.id, &cur);
                if tx.send(Ok(cur.clone())).await.is_err() {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(INTERVAL) => {}
                    () = tx.closed() => return,
                }
                if !c.status().has_process() {
                    return;
                }
                prev = Some(cur);
                cur = match engine.sample(&c).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
            }
        });
        Ok(rx)
    }

    /// One reading of everything but `precpu`.
    async fn sample(&self, c: &Container) -> Result<ContainerStats> {
        let rec = c.record();
        let own_net = !matches!(rec.host_config.network_mode.as_str(), "host" | "none")
            && !rec.host_config.network_mode.starts_with("container:");
        let pid = rec.state.pid;
        let engine = self.clone();
        let id = c.id.clone();
        let (cg, host, net) = tokio::task::spawn_blocking(move || {
            let cg = engine
                .cgroup(&id)?
                .stats()
                .map_err(|e| EngineError::Cgroup(id.clone(), e))?;
            let host = HostNumbers::read();
            let net = if own_net && pid > 0 {
                std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
                    .ok()
                    .map(|t| parse_net_dev(&t))
            } else {
                None
            };
            Ok::<_, EngineError>((cg, host, net))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        Ok(ContainerStats {
            name: rec.name,
            id: rec.id,
            read: now(),
            preread: ZERO_TIME.into(),
            networks: net,
            ..convert(&cg, &host)
        })
    }
}

/// Fills `precpu_stats` and `preread` from the previous sample.
fn with_previous(cur: &mut ContainerStats, prev: &ContainerStats) {
    cur.precpu_stats = prev.cpu_stats.clone();
    cur.preread = prev.read.clone();
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// What the host says: its CPU time, online CPUs and memory.
#[derive(Debug, Default)]
struct HostNumbers {
    system_cpu_ns: Option<u64>,
    online_cpus: Option<u32>,
    mem_total: Option<u64>,
}

impl HostNumbers {
    fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let (system_cpu_ns, online_cpus) = parse_proc_stat(&stat);
        HostNumbers {
            system_cpu_ns,
            online_cpus,
            mem_total: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024),
        }
    }
}

/// The host's CPU time in ns (user to softirq, as dockerd sums it, at 100 ticks a second)
/// and the number of CPUs listed.
fn parse_proc_stat(text: &str) -> (Option<u64>, Option<u32>) {
    let mut total = None;
    let mut cpus = 0u32;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("cpu ") {
            let ticks: u64 = rest
                .split_whitespace()
                .take(7)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum();
            total = Some(ticks * (1_000_000_000 / 100));
        } else if l.starts_with("cpu") {
            cpus += 1;
        }
    }
    (total, (cpus > 0).then_some(cpus))
}

/// The interfaces of `/proc/<pid>/net/dev` but loopback.
fn parse_net_dev(text: &str) -> BTreeMap<String, NetworkStats> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let v: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if v.len() < 12 {
                return None;
            }
            Some((
                name.to_owned(),
                NetworkStats {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_errors: v[2],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_errors: v[10],
                    tx_dropped: v[11],
                },
            ))
        })
        .collect()
}

fn entries(list: &[(u64, u64, String, u64)]) -> Vec<BlkioEntry> {
    list.iter()
        .map(|(major, minor, op, value)| BlkioEntry {
            major: *major,
            minor: *minor,
            op: op.clone(),
            value: *value,
        })
        .collect()
}

/// The cgroup's numbers in docker's shape.
fn convert(cg: &CgroupStats, host: &HostNumbers) -> ContainerStats {
    let cpu = cg.cpu.as_ref();
    let cpu_stats = CpuStats {
        cpu_usage: CpuUsage {
            total_usage: cpu.map_or(0, |c| c.total_ns),
            percpu_usage: cpu
                .filter(|c| !c.percpu_ns.is_empty())
                .map(|c| c.percpu_ns.clone()),
            usage_in_kernelmode: cpu.map_or(0, |c| c.system_ns),
            usage_in_usermode: cpu.map_or(0, |c| c.user_ns),
        },
        system_cpu_usage: host.system_cpu_ns,
        online_cpus: host.online_cpus,
        throttling_data: ThrottlingData {
            periods: cpu.map_or(0, |c| c.nr_periods),
            throttled_periods: cpu.map_or(0, |c| c.nr_throttled),
            throttled_time: cpu.map_or(0, |c| c.throttled_ns),
        },
    };
    let memory_stats = match &cg.memory {
        Some(m) => MemoryStats {
            usage: Some(m.usage),
            max_usage: m.max_usage,
            stats: Some(m.stat.clone()),
            limit: m.limit.or(host.mem_total),
        },
        None => MemoryStats::default(),
    };
    let pids_stats = match &cg.pids {
        Some(p) => PidsStats {
            current: Some(p.current),
            limit: p.limit,
        },
        None => PidsStats::default(),
    };
    let blkio_stats = match &cg.blkio {
        Some(b) => BlkioStats {
            io_service_bytes_recursive: Some(entries(&b.service_bytes)),
            io_serviced_recursive: Some(entries(&b.serviced)),
            ..Default::default()
        },
        None => BlkioStats::default(),
    };
    ContainerStats {
        cpu_stats,
        memory_stats,
        pids_stats,
        blkio_stats,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_time_and_count() {
        let stat = "cpu  10 0 10 80 0 0 0 5 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\nintr 1\n";
        assert_eq!(parse_proc_stat(stat), (Some(100 * 10_000_000), Some(2)));
    }

    #[test]
    fn net_dev_without_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    2000      20    1    2    0     0          0         0     3000      30    3    4    0     0       0          0\n";
        let m = parse_net_dev(text);
        assert_eq!(m.len(), 1);
        let e = &m["eth0"];
        assert_eq!(
            (e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped),
            (2000, 20, 1, 2)
        );
        assert_eq!(
            (e.tx_bytes, e.tx_packets, e.tx_errors, e.tx_dropped),
            (3000, 30, 3, 4)
        );
    }
}
