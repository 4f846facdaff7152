//! Pure conversions from OCI resource values to what the cgroup files take, shared by v1 and
//! v2 and unit-tested on their own. The formulas are the ones runc, crun and youki use, so a
//! container gets the same limits under any of them.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxRdma};

use super::CgroupError;

/// A memory-ish limit as the file takes it: `-1` (or any negative) means unlimited.
///
/// v1 files take `-1`; v2 files take `max`.
pub(crate) fn limit_v1(v: i64) -> String {
    if v < 0 {
        "-1".to_string()
    } else {
        v.to_string()
    }
}

/// A limit for a v2 file: negative means `max`.
pub(crate) fn limit_v2(v: i64) -> String {
    if v < 0 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

/// `pids.max`: the OCI spec says a limit of 0 or -1 (or below) is no limit.
pub(crate) fn pids_max(limit: i64) -> String {
    if limit <= 0 {
        "max".to_string()
    } else {
        limit.to_string()
    }
}

/// cpu.shares (v1, 2..262144, default 1024) → cpu.weight (v2, 1..10000, default 100).
///
/// The standard mapping of runc and the kernel docs: `1 + ((shares - 2) * 9999) / 262142`,
/// so 2 → 1, 1024 → 39, 262144 → 10000. Shares are clamped into range first.
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// blkio.weight (v1, 10..1000) → io.weight (v2, 1..10000): `1 + (w - 10) * 9999 / 990`.
pub(crate) fn blkio_to_io_weight(weight: u16) -> u64 {
    let w = u64::from(weight.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

/// v2 `memory.swap.max` from the OCI (v1-style) memory+swap total, following runc:
/// - swap unset (or 0) and limit -1: unlimited swap too;
/// - swap unset (or 0): leave `memory.swap.max` alone (`None`);
/// - swap -1: unlimited;
/// - otherwise swap must be ≥ limit and a limit must be set; the file gets `swap - limit`.
pub(crate) fn swap_v2(
    limit: Option<i64>,
    swap: Option<i64>,
) -> Result<Option<String>, CgroupError> {
    let swap = swap.unwrap_or(0);
    let limit = limit.unwrap_or(0);
    if swap == 0 {
        return Ok((limit == -1).then(|| "max".to_string()));
    }
    if swap < 0 {
        return Ok(Some("max".to_string()));
    }
    if limit <= 0 {
        return Err(CgroupError::InvalidValue {
            field: "memory.swap",
            value: swap.to_string(),
            reason: "a swap limit needs a memory limit",
        });
    }
    if swap < limit {
        return Err(CgroupError::InvalidValue {
            field: "memory.swap",
            value: swap.to_string(),
            reason: "memory+swap must be at least the memory limit",
        });
    }
    Ok(Some((swap - limit).to_string()))
}

/// v2 `cpu.max`: `"$quota $period"` with `max` for no quota, `None` when neither is set.
pub(crate) fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    if quota.is_none() && period.is_none() {
        return None;
    }
    let q = match quota {
        Some(q) if q > 0 => q.to_string(),
        _ => "max".to_string(),
    };
    match period {
        Some(p) if p > 0 => Some(format!("{q} {p}")),
        // The kernel keeps the current period when only the quota is written.
        _ => Some(q),
    }
}

/// A v1 `devices.allow`/`devices.deny` line for an OCI device rule: `c 1:3 rwm`, `a`.
///
/// Returns `None` for FIFO rules (`p`), which the devices controller does not govern.
pub(crate) fn device_rule(rule: &LinuxDeviceCgroup) -> Option<String> {
    let typ = match rule.typ().unwrap_or_default() {
        // The kernel reads only the `a` of an all-devices rule (access is always all).
        LinuxDeviceType::A => return Some("a".to_string()),
        LinuxDeviceType::B => "b",
        LinuxDeviceType::C | LinuxDeviceType::U => "c",
        LinuxDeviceType::P => return None,
    };
    let num = |n: Option<i64>| match n {
        Some(n) if n >= 0 => n.to_string(),
        _ => "*".to_string(),
    };
    let access = rule.access().as_deref().unwrap_or("rwm");
    let access = if access.is_empty() { "rwm" } else { access };
    Some(format!(
        "{typ} {}:{} {access}",
        num(rule.major()),
        num(rule.minor())
    ))
}

/// Checks a v2 `unified` key: a plain file name, no path separators or dot-dot.
pub(crate) fn check_unified_key(key: &str) -> Result<(), CgroupError> {
    if key.is_empty() || key.contains('/') || key == "." || key == ".." || !key.contains('.') {
        return Err(CgroupError::InvalidValue {
            field: "unified",
            value: key.to_string(),
            reason: "not a cgroup file name",
        });
    }
    Ok(())
}

/// An `rdma.max` line (`mlx4_0 hca_handle=2 hca_object=2000`), `None` when no limit is set.
pub(crate) fn rdma_line(device: &str, r: &LinuxRdma) -> Result<Option<String>, CgroupError> {
    if device.is_empty() || device.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(CgroupError::InvalidValue {
            field: "rdma",
            value: device.to_string(),
            reason: "not an rdma device name",
        });
    }
    if r.hca_handles().is_none() && r.hca_objects().is_none() {
        return Ok(None);
    }
    let mut line = device.to_string();
    if let Some(h) = r.hca_handles() {
        line.push_str(&format!(" hca_handle={h}"));
    }
    if let Some(o) = r.hca_objects() {
        line.push_str(&format!(" hca_object={o}"));
    }
    Ok(Some(line))
}

/// Checks a hugepage size such as `2MB`, `1GB` (it becomes part of a file name).
pub(crate) fn check_page_size(size: &str) -> Result<(), CgroupError> {
    let ok = size.len() >= 3
        && (size.ends_with("KB") || size.ends_with("MB") || size.ends_with("GB"))
        && size[..size.len() - 2].bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(CgroupError::InvalidValue {
            field: "hugepageLimits.pageSize",
            value: size.to_string(),
            reason: "expected a size such as 2MB or 1GB",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    #[test]
    fn shares_weight_standard_points() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(0), 1);
        assert_eq!(shares_to_weight(u64::MAX), 10_000);
    }

    #[test]
    fn blkio_weight_to_io_weight() {
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(500), 4950);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
    }

    #[test]
    fn swap_conversion_follows_runc() -> Result<(), CgroupError> {
        assert_eq!(swap_v2(Some(100), Some(300))?, Some("200".to_string()));
        assert_eq!(swap_v2(Some(100), Some(100))?, Some("0".to_string()));
        assert_eq!(swap_v2(Some(100), Some(-1))?, Some("max".to_string()));
        assert_eq!(swap_v2(Some(-1), None)?, Some("max".to_string()));
        assert_eq!(swap_v2(Some(100), None)?, None);
        assert!(swap_v2(Some(300), Some(100)).is_err());
        assert!(swap_v2(None, Some(100)).is_err());
        Ok(())
    }

    #[test]
    fn cpu_max_values() {
        assert_eq!(cpu_max(None, None), None);
        assert_eq!(
            cpu_max(Some(50_000), Some(100_000)).as_deref(),
            Some("50000 100000")
        );
        assert_eq!(
            cpu_max(Some(-1), Some(100_000)).as_deref(),
            Some("max 100000")
        );
        assert_eq!(cpu_max(Some(20_000), None).as_deref(), Some("20000"));
    }

    #[test]
    fn pids_max_values() {
        assert_eq!(pids_max(0), "max");
        assert_eq!(pids_max(-1), "max");
        assert_eq!(pids_max(64), "64");
    }

    #[test]
    fn device_rules() -> Result<(), Box<dyn std::error::Error>> {
        let r = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(1)
            .minor(3)
            .access("rwm")
            .build()?;
        assert_eq!(device_rule(&r).as_deref(), Some("c 1:3 rwm"));
        let r = LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(LinuxDeviceType::C)
            .major(136)
            .access("rwm")
            .build()?;
        assert_eq!(device_rule(&r).as_deref(), Some("c 136:* rwm"));
        let r = LinuxDeviceCgroupBuilder::default()
            .allow(false)
            .access("rwm")
            .build()?;
        assert_eq!(device_rule(&r).as_deref(), Some("a"));
        Ok(())
    }

    #[test]
    fn unified_keys_and_page_sizes() {
        assert!(check_unified_key("memory.high").is_ok());
        assert!(check_unified_key("../x").is_err());
        assert!(check_unified_key("cgroup").is_err());
        assert!(check_page_size("2MB").is_ok());
        assert!(check_page_size("1GB").is_ok());
        assert!(check_page_size("../2MB").is_err());
    }
}
