//! Create-time checks of the numbers and names in a host config, with dockerd's messages:
//! resource ranges (checked so that no later arithmetic can wrap), sysctls that only a
//! container's own namespaces may take, and kernel features that decide between honouring
//! a field and dropping it with a warning (dockerd's `verifyPlatformContainerResources`).

use berth_api::container::HostConfig;
use berth_runtime::cgroups::{CgroupMounts, features};
use berth_runtime::sysctl::{self, OwnNamespaces};

use crate::error::{EngineError, Result};

/// The kernel's smallest and largest CFS period and smallest quota, in microseconds.
const CFS_PERIOD_MIN: i64 = 1_000;
const CFS_PERIOD_MAX: i64 = 1_000_000;
const CFS_QUOTA_MIN: i64 = 1_000;
/// `NanoCpus` becomes a quota over a 100 ms period: below 0.01 CPU it would be under the
/// kernel's 1 ms minimum quota.
const NANO_CPUS_MIN: i64 = 10_000_000;

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// Checks `hc` and drops what this kernel cannot do, returning dockerd's warnings for it.
pub(crate) fn check(hc: &mut HostConfig) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    check_memory(hc)?;
    check_cpu(hc)?;
    if !(-1000..=1000).contains(&hc.oom_score_adj) {
        return Err(invalid(format!(
            "Invalid value {}, range for oom score adj is [-1000, 1000]",
            hc.oom_score_adj
        )));
    }
    check_weights(hc, &mut warnings)?;
    crate::blkio::block_io(hc)?;
    check_sysctls(hc)?;
    check_ulimits(hc)?;
    check_memory_knobs(hc, &mut warnings)?;
    check_names(hc)?;
    // The devices and rules are made again at start; here their errors are 400s.
    crate::devices::for_host_config(hc)?;
    if hc.init == Some(true) {
        crate::init_binary::find()?;
    }
    Ok(warnings)
}

/// Block IO weights need a weight file in the kernel (BFQ): without one they are dropped with
/// dockerd's warnings. The kernel is asked once, and only when a weight is set.
fn check_weights(hc: &mut HostConfig, warnings: &mut Vec<String>) -> Result<()> {
    if hc.blkio_weight > 0 && !(10..=1000).contains(&hc.blkio_weight) {
        return Err(invalid("Range of blkio weight is from 10 to 1000"));
    }
    let per_device = hc
        .blkio_weight_device
        .as_ref()
        .is_some_and(|l| !l.is_empty());
    if (hc.blkio_weight == 0 && !per_device)
        || CgroupMounts::from_proc().is_ok_and(|m| features::blkio_weight_supported(&m))
    {
        return Ok(());
    }
    if hc.blkio_weight > 0 {
        warnings.push(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted. \
             Weight discarded."
                .to_owned(),
        );
        hc.blkio_weight = 0;
    }
    if per_device {
        warnings.push(
            "Your kernel does not support BlkioWeightDevice. Weight-device discarded.".to_owned(),
        );
        hc.blkio_weight_device = None;
    }
    Ok(())
}

fn check_ulimits(hc: &HostConfig) -> Result<()> {
    for u in hc.ulimits.iter().flatten() {
        crate::spec::rlimit_type(&u.name)?;
        if u.soft > u.hard {
            return Err(invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                u.soft, u.hard
            )));
        }
    }
    Ok(())
}

/// The v1-only memory knobs: honoured on v1, refused on a pure v2 host (no such files).
fn check_memory_knobs(hc: &HostConfig, warnings: &mut Vec<String>) -> Result<()> {
    let swappiness = hc.memory_swappiness.filter(|s| *s >= 0);
    let oom_kill_disable = hc.oom_kill_disable == Some(true);
    if crate::spec::cgroup_v2() {
        if swappiness.is_some() {
            return Err(invalid(
                "--memory-swappiness is not supported by berth on a cgroup v2 host:                  cgroup v2 has no per-cgroup swappiness",
            ));
        }
        if oom_kill_disable {
            return Err(invalid(
                "--oom-kill-disable is not supported by berth on a cgroup v2 host:                  cgroup v2 cannot disable the OOM killer",
            ));
        }
    }
    if oom_kill_disable && hc.memory == 0 {
        warnings.push(
            "OOM killer is disabled for the container, but no memory limit is set, this can              result in the system running out of resources."
                .to_owned(),
        );
    }
    Ok(())
}

/// Names berth honours for some values only: the runtime, the isolation, the cgroup
/// parent, security options (a bad seccomp profile is a 400 here, not a failed start).
fn check_names(hc: &HostConfig) -> Result<()> {
    match hc.runtime.as_str() {
        // berth's own runtime; docker clients name the default `runc`.
        "" | "runc" | "berth" => {}
        r => return Err(invalid(format!("unknown or invalid runtime name: {r}"))),
    }
    match hc.isolation.as_str() {
        "" | "default" => {}
        i => {
            return Err(invalid(format!(
                "Invalid isolation: {i:?} - linux only supports 'default'"
            )));
        }
    }
    if hc.cgroup_parent.split('/').any(|c| c == "..") {
        return Err(invalid(format!(
            "invalid --cgroup-parent {:?}: it may not contain ..",
            hc.cgroup_parent
        )));
    }
    let security = crate::security_opts::parse(hc.security_opt.as_deref().unwrap_or_default())?;
    if let crate::security_opts::Seccomp::Profile(json) = &security.seccomp {
        berth_runtime::seccomp::profile::from_docker_json(json, &[])
            .map_err(|e| invalid(format!("invalid seccomp profile: {e}")))?;
    }
    Ok(())
}

fn check_memory(hc: &HostConfig) -> Result<()> {
    if hc.memory < 0 || hc.memory_reservation < 0 {
        return Err(invalid("invalid memory limit: a negative value"));
    }
    if hc.memory > 0 && hc.memory < 6 * 1024 * 1024 {
        return Err(invalid("Minimum memory limit allowed is 6MB"));
    }
    // The default swap limit is twice the memory limit: it must fit.
    if hc.memory.checked_mul(2).is_none() {
        return Err(invalid(format!(
            "invalid memory limit {}: too large",
            hc.memory
        )));
    }
    if hc.memory_swap < -1 {
        return Err(invalid(format!(
            "invalid memory swap limit {}: -1 (unlimited) or a number of bytes",
            hc.memory_swap
        )));
    }
    if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
        return Err(invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if hc.memory == 0 && hc.memory_swap > 0 {
        return Err(invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    if hc.memory > 0 && hc.memory_reservation > hc.memory {
        return Err(invalid(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    if let Some(s) = hc.memory_swappiness
        && !(-1..=100).contains(&s)
    {
        return Err(invalid(format!(
            "Invalid value: {s}, valid memory swappiness range is 0-100"
        )));
    }
    Ok(())
}

fn check_cpu(hc: &HostConfig) -> Result<()> {
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if hc.nano_cpus != 0 && !(NANO_CPUS_MIN..=ncpu * 1_000_000_000).contains(&hc.nano_cpus) {
        return Err(invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if hc.nano_cpus > 0 && hc.cpu_period > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    if hc.nano_cpus > 0 && hc.cpu_quota > 0 {
        return Err(invalid(
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ));
    }
    if hc.cpu_shares < 0 {
        return Err(invalid(format!(
            "invalid CPU shares {}: a negative value",
            hc.cpu_shares
        )));
    }
    if hc.cpu_period != 0 && !(CFS_PERIOD_MIN..=CFS_PERIOD_MAX).contains(&hc.cpu_period) {
        return Err(invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if hc.cpu_quota != 0 && hc.cpu_quota != -1 && hc.cpu_quota < CFS_QUOTA_MIN {
        return Err(invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    Ok(())
}

/// The namespaces a container gets from its modes: `host` shares the host's.
pub(crate) fn own_namespaces(hc: &HostConfig) -> OwnNamespaces {
    OwnNamespaces {
        ipc: hc.ipc_mode != "host",
        net: hc.network_mode != "host",
        uts: hc.uts_mode != "host",
    }
}

fn check_sysctls(hc: &HostConfig) -> Result<()> {
    let own = own_namespaces(hc);
    for key in hc.sysctls.iter().flat_map(|s| s.keys()) {
        sysctl::check(key, own).map_err(|e| invalid(format!("--sysctl: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(hc: HostConfig) -> String {
        let mut hc = hc;
        check(&mut hc).expect_err("refused").to_string()
    }

    #[test]
    fn numbers_that_would_wrap_are_refused() {
        let msg = refused(HostConfig {
            memory: i64::MAX,
            ..HostConfig::default()
        });
        assert!(msg.contains("too large"), "{msg}");
        let msg = refused(HostConfig {
            nano_cpus: 1,
            ..HostConfig::default()
        });
        assert!(msg.starts_with("Range of CPUs is from 0.01"), "{msg}");
        let msg = refused(HostConfig {
            nano_cpus: i64::MAX,
            ..HostConfig::default()
        });
        assert!(msg.starts_with("Range of CPUs is from 0.01"), "{msg}");
        let msg = refused(HostConfig {
            oom_score_adj: 1001,
            ..HostConfig::default()
        });
        assert_eq!(
            msg,
            "Invalid value 1001, range for oom score adj is [-1000, 1000]"
        );
        let msg = refused(HostConfig {
            oom_score_adj: i64::MIN,
            ..HostConfig::default()
        });
        assert!(msg.contains("range for oom score adj"), "{msg}");
        let msg = refused(HostConfig {
            cpu_quota: 10,
            ..HostConfig::default()
        });
        assert_eq!(msg, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
        let msg = refused(HostConfig {
            cpu_period: i64::MAX,
            ..HostConfig::default()
        });
        assert!(msg.starts_with("CPU cfs period"), "{msg}");
    }

    #[test]
    fn host_sysctls_are_refused_naming_the_key() {
        let mut hc = HostConfig {
            sysctls: Some([("kernel.core_pattern".to_owned(), "|/x".to_owned())].into()),
            ..HostConfig::default()
        };
        let msg = check(&mut hc).unwrap_err().to_string();
        assert!(msg.contains("kernel.core_pattern"), "{msg}");
        let mut hc = HostConfig {
            network_mode: "host".into(),
            sysctls: Some([("net.ipv4.ip_forward".to_owned(), "1".to_owned())].into()),
            ..HostConfig::default()
        };
        let msg = check(&mut hc).unwrap_err().to_string();
        assert!(msg.contains("host's network namespace"), "{msg}");
        let mut hc = HostConfig {
            sysctls: Some([("net.ipv4.ip_forward".to_owned(), "1".to_owned())].into()),
            ..HostConfig::default()
        };
        check(&mut hc).unwrap();
    }
}
