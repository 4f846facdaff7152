//! What a cgroup reports for `docker stats`: memory, cpu and pids, the same shape for v1 and v2.
//!
//! A part is `None` when its controller is not available for this cgroup (not mounted on v1,
//! not enabled on v2); it is never filled with made-up zeros.

use std::collections::BTreeMap;
use std::path::Path;

use super::{CgroupError, fs};

/// On v1 an unlimited memory limit reads back as `PAGE_COUNTER_MAX * PAGE_SIZE`, just below
/// `i64::MAX`; anything at or above this is "no limit".
const V1_UNLIMITED: u64 = 0x7FFF_FFFF_FFFF_0000;

/// Memory, cpu and pids statistics of one cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CgroupStats {
    /// Memory usage and limit.
    pub memory: Option<MemoryStats>,
    /// Cpu time used and throttling.
    pub cpu: Option<CpuStats>,
    /// Number of tasks and their limit.
    pub pids: Option<PidsStats>,
    /// Block I/O per device (v1 `blkio.throttle.*`, v2 `io.stat`).
    pub blkio: Option<BlkioStats>,
}

/// Block I/O counters, as `(major, minor, op, value)`. v1 ops are `Read`, `Write`, `Sync`,
/// `Async`, `Discard`, `Total`; v2 ops are `read`, `write`, `discard` (docker passes each on
/// as the kernel spells it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlkioStats {
    /// Bytes (v1 `io_service_bytes`, v2 `rbytes`/`wbytes`/`dbytes`).
    pub service_bytes: Vec<(u64, u64, String, u64)>,
    /// Operations (v1 `io_serviced`, v2 `rios`/`wios`/`dios`).
    pub serviced: Vec<(u64, u64, String, u64)>,
}

/// Parses a v1 `blkio.throttle.io_service_bytes_recursive`-shaped file: `8:0 Read 4096`
/// lines and a final `Total n`.
pub(crate) fn parse_v1_blkio(text: &str) -> Vec<(u64, u64, String, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (dev, op, v) = (w.next()?, w.next()?, w.next()?);
            let (ma, mi) = dev.split_once(':')?;
            Some((
                ma.parse().ok()?,
                mi.parse().ok()?,
                op.to_string(),
                v.parse().ok()?,
            ))
        })
        .collect()
}

/// Parses v2 `io.stat`: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`.
pub(crate) fn parse_v2_io(text: &str) -> BlkioStats {
    let mut b = BlkioStats::default();
    for l in text.lines() {
        let mut w = l.split_whitespace();
        let Some((ma, mi)) = w.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(ma), Ok(mi)) = (ma.parse::<u64>(), mi.parse::<u64>()) else {
            continue;
        };
        for kv in w {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u64>() else { continue };
            let (list, op) = match k {
                "rbytes" => (&mut b.service_bytes, "read"),
                "wbytes" => (&mut b.service_bytes, "write"),
                "dbytes" => (&mut b.service_bytes, "discard"),
                "rios" => (&mut b.serviced, "read"),
                "wios" => (&mut b.serviced, "write"),
                "dios" => (&mut b.serviced, "discard"),
                _ => continue,
            };
            list.push((ma, mi, op.to_string(), v));
        }
    }
    b
}

/// Memory statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoryStats {
    /// Current usage in bytes (v1 `memory.usage_in_bytes`, v2 `memory.current`).
    pub usage: u64,
    /// Highest usage seen in bytes (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`; `None` on
    /// v2 kernels before 5.19, which lack `memory.peak`).
    pub max_usage: Option<u64>,
    /// The limit in bytes; `None` when unlimited.
    pub limit: Option<u64>,
    /// The raw `memory.stat` (v1 keys such as `total_inactive_file`, v2 keys such as
    /// `inactive_file`), as Docker's API passes it on.
    pub stat: BTreeMap<String, u64>,
}

/// Cpu statistics, all in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuStats {
    /// Total cpu time.
    pub total_ns: u64,
    /// Time in user mode.
    pub user_ns: u64,
    /// Time in kernel mode.
    pub system_ns: u64,
    /// Per-cpu total time (v1 `cpuacct.usage_percpu`; empty on v2).
    pub percpu_ns: Vec<u64>,
    /// Enforcement periods elapsed (0 without a cpu quota).
    pub nr_periods: u64,
    /// Periods in which the cgroup was throttled.
    pub nr_throttled: u64,
    /// Total time throttled.
    pub throttled_ns: u64,
}

/// Pids statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PidsStats {
    /// Tasks in the cgroup now.
    pub current: u64,
    /// The limit; `None` when unlimited (`max`).
    pub limit: Option<u64>,
}

/// Parses a flat-keyed file (`memory.stat`) into a map; lines that do not parse are skipped,
/// as new kernels add keys with other shapes.
pub(crate) fn parse_flat(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// A v1 memory limit as read back: `None` when unlimited.
pub(crate) fn v1_limit(value: u64) -> Option<u64> {
    (value < V1_UNLIMITED).then_some(value)
}

/// Reads v1 `pids.current`/`pids.max` or v2 (same file names) from `dir`.
pub(crate) fn read_pids_stats(dir: &Path) -> Result<PidsStats, CgroupError> {
    Ok(PidsStats {
        current: fs::read_u64(dir, "pids.current")?,
        limit: fs::read_max(dir, "pids.max")?,
    })
}

/// Parses a space-separated list of numbers (`cpuacct.usage_percpu`).
pub(crate) fn parse_list(path: &Path, text: &str) -> Result<Vec<u64>, CgroupError> {
    text.split_whitespace()
        .map(|v| fs::parse_u64(path, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_map_skips_odd_lines() {
        let m = parse_flat("cache 4096\nrss 8192\nweird\nbad x\n");
        assert_eq!(m.get("cache"), Some(&4096));
        assert_eq!(m.get("rss"), Some(&8192));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn blkio_files_parse() {
        let v1 = parse_v1_blkio("8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n");
        assert_eq!(
            v1,
            [(8, 0, "Read".into(), 4096), (8, 0, "Write".into(), 8192)]
        );
        let v2 = parse_v2_io("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
        assert_eq!(v2.service_bytes[1], (8, 0, "write".into(), 20));
        assert_eq!(v2.serviced[0], (8, 0, "read".into(), 1));
    }

    #[test]
    fn v1_unlimited_is_none() {
        assert_eq!(v1_limit(9_223_372_036_854_771_712), None);
        assert_eq!(v1_limit(67_108_864), Some(67_108_864));
    }
}
