//! Writing OCI `LinuxResources` into v1 hierarchies: only the files for values that are set,
//! each write's failure naming the file and the value.

use std::path::Path;

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxNetwork, LinuxResources,
};

use super::CgroupError;
use super::convert;
use super::fs;
use super::v1::V1Manager;

impl V1Manager {
    /// The container's directory in the hierarchy of `controller`, or an error naming the
    /// resource field that needed it.
    fn need(
        &self,
        controller: &'static str,
        field: &'static str,
        value: impl ToString,
    ) -> Result<&Path, CgroupError> {
        self.dir(controller)
            .ok_or_else(|| CgroupError::MissingController {
                field,
                value: value.to_string(),
                controller,
            })
    }

    /// Writes the resource limits of `r` that are set. Device rules are applied as
    /// "deny all, then each rule in order" (the OCI list itself usually starts with a deny-all).
    pub fn apply(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        if let Some(m) = r.memory() {
            self.apply_memory(m)?;
        }
        if let Some(c) = r.cpu() {
            self.apply_cpu(c)?;
        }
        if let Some(p) = r.pids() {
            let dir = self.need("pids", "pids.limit", p.limit())?;
            fs::write(dir, "pids.max", &convert::pids_max(p.limit()))?;
        }
        if let Some(b) = r.block_io() {
            self.apply_blkio(b)?;
        }
        if let Some(pages) = r.hugepage_limits() {
            for page in pages {
                convert::check_page_size(page.page_size())?;
                let dir = self.need("hugetlb", "hugepageLimits", page.limit())?;
                let file = format!("hugetlb.{}.limit_in_bytes", page.page_size());
                fs::write(dir, &file, &convert::limit_v1(page.limit()))?;
            }
        }
        if let Some(n) = r.network() {
            self.apply_network(n)?;
        }
        if let Some(rdma) = r.rdma() {
            for (device, limits) in rdma {
                if let Some(line) = convert::rdma_line(device, limits)? {
                    let dir = self.need("rdma", "rdma", &line)?;
                    fs::write(dir, "rdma.max", &line)?;
                }
            }
        }
        if let Some(devices) = r.devices() {
            self.apply_devices(devices)?;
        }
        if let Some(unified) = r.unified() {
            for (key, value) in unified {
                convert::check_unified_key(key)?;
                // Hybrid: the cgroup2 mount takes unified keys (runc does the same).
                let dir = self
                    .unified_dir()
                    .ok_or_else(|| CgroupError::InvalidValue {
                        field: "unified",
                        value: key.clone(),
                        reason: "no cgroup2 hierarchy is mounted on this cgroup v1 host",
                    })?;
                fs::write(dir, key, value)?;
            }
        }
        Ok(())
    }

    fn apply_memory(&self, m: &LinuxMemory) -> Result<(), CgroupError> {
        let any = m.limit().is_some()
            || m.reservation().is_some()
            || m.swap().is_some()
            || m.kernel().is_some()
            || m.kernel_tcp().is_some()
            || m.swappiness().is_some()
            || m.disable_oom_killer().is_some();
        if !any {
            return Ok(());
        }
        let value = m.limit().or(m.reservation()).unwrap_or(0);
        let dir = self.need("memory", "memory", value)?;

        // memory.memsw.* exists only with swap accounting (CONFIG_MEMCG_SWAP and swapaccount).
        const MEMSW: &str = "memory.memsw.limit_in_bytes";
        let swap = match m.swap() {
            Some(s) if fs::exists(dir, MEMSW) => Some(s),
            Some(s) => {
                tracing::warn!(
                    swap = s,
                    "swap accounting is off on this kernel ({MEMSW} is absent): swap limit ignored"
                );
                None
            }
            None => None,
        };
        const LIMIT: &str = "memory.limit_in_bytes";
        match (m.limit(), swap) {
            (Some(limit), Some(swap)) => {
                // The kernel keeps limit <= memsw at every step: raise memsw first when it
                // grows, lower the limit first when it shrinks (runc's order).
                let current = fs::read_u64(dir, MEMSW)?;
                let grows = swap < 0 || i128::from(current) < i128::from(swap);
                if grows {
                    fs::write(dir, MEMSW, &convert::limit_v1(swap))?;
                    fs::write(dir, LIMIT, &convert::limit_v1(limit))?;
                } else {
                    fs::write(dir, LIMIT, &convert::limit_v1(limit))?;
                    fs::write(dir, MEMSW, &convert::limit_v1(swap))?;
                }
            }
            (Some(limit), None) => {
                // An unlimited memory limit with swap unset means unlimited swap too; memsw
                // must be raised first or the kernel refuses the limit.
                if limit < 0 && fs::exists(dir, MEMSW) {
                    fs::write(dir, MEMSW, "-1")?;
                }
                fs::write(dir, LIMIT, &convert::limit_v1(limit))?;
            }
            (None, Some(swap)) => fs::write(dir, MEMSW, &convert::limit_v1(swap))?,
            (None, None) => {}
        }
        if let Some(v) = m.reservation() {
            fs::write(dir, "memory.soft_limit_in_bytes", &convert::limit_v1(v))?;
        }
        if let Some(v) = m.kernel() {
            fs::write(dir, "memory.kmem.limit_in_bytes", &convert::limit_v1(v))?;
        }
        if let Some(v) = m.kernel_tcp() {
            fs::write(dir, "memory.kmem.tcp.limit_in_bytes", &convert::limit_v1(v))?;
        }
        if let Some(v) = m.swappiness() {
            fs::write(dir, "memory.swappiness", &v.to_string())?;
        }
        if let Some(v) = m.disable_oom_killer() {
            fs::write(dir, "memory.oom_control", if v { "1" } else { "0" })?;
        }
        Ok(())
    }

    fn apply_cpu(&self, c: &LinuxCpu) -> Result<(), CgroupError> {
        let cfs = c.shares().is_some()
            || c.quota().is_some()
            || c.period().is_some()
            || c.burst().is_some()
            || c.realtime_period().is_some()
            || c.realtime_runtime().is_some()
            || c.idle().is_some();
        if cfs {
            let value = c.shares().map(|s| s.to_string()).unwrap_or_default();
            let dir = self.need("cpu", "cpu", value)?;
            if let Some(shares) = c.shares() {
                fs::write(dir, "cpu.shares", &shares.to_string())?;
            }
            // The period first; if the kernel refuses it (EINVAL: old quota / new period
            // would exceed the parent's bandwidth) and a quota follows, retry after it.
            let mut period_pending = None;
            if let Some(period) = c.period() {
                let p = period.to_string();
                match fs::write(dir, "cpu.cfs_period_us", &p) {
                    Ok(()) => {}
                    Err(CgroupError::Write { ref source, .. })
                        if source.raw_os_error() == Some(libc::EINVAL) && c.quota().is_some() =>
                    {
                        period_pending = Some(p);
                    }
                    Err(e) => return Err(e),
                }
            }
            if let Some(quota) = c.quota() {
                fs::write(dir, "cpu.cfs_quota_us", &convert::limit_v1(quota))?;
            }
            if let Some(p) = period_pending {
                fs::write(dir, "cpu.cfs_period_us", &p)?;
            }
            if let Some(burst) = c.burst() {
                fs::write(dir, "cpu.cfs_burst_us", &burst.to_string())?;
            }
            if let Some(p) = c.realtime_period() {
                fs::write(dir, "cpu.rt_period_us", &p.to_string())?;
            }
            if let Some(r) = c.realtime_runtime() {
                fs::write(dir, "cpu.rt_runtime_us", &r.to_string())?;
            }
            if let Some(idle) = c.idle() {
                fs::write(dir, "cpu.idle", &idle.to_string())?;
            }
        }
        if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
            let dir = self.need("cpuset", "cpu.cpus", cpus)?;
            fs::write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
            let dir = self.need("cpuset", "cpu.mems", mems)?;
            fs::write(dir, "cpuset.mems", mems)?;
        }
        Ok(())
    }

    fn apply_blkio(&self, b: &LinuxBlockIo) -> Result<(), CgroupError> {
        let dir = || self.need("blkio", "blockIO", "");
        if let Some(w) = b.weight() {
            let dir = self.need("blkio", "blockIO.weight", w)?;
            // CFQ's blkio.weight on old kernels, BFQ's blkio.bfq.weight on current ones.
            let file = fs::pick(
                dir,
                &["blkio.weight", "blkio.bfq.weight"],
                "blockIO.weight",
                w,
            )?;
            fs::write(dir, file, &w.to_string())?;
        }
        if let Some(w) = b.leaf_weight() {
            let dir = dir()?;
            let file = fs::pick(dir, &["blkio.leaf_weight"], "blockIO.leafWeight", w)?;
            fs::write(dir, file, &w.to_string())?;
        }
        for wd in b.weight_device().iter().flatten() {
            let dir = dir()?;
            if let Some(w) = wd.weight() {
                let line = format!("{}:{} {w}", wd.major(), wd.minor());
                let files = ["blkio.weight_device", "blkio.bfq.weight_device"];
                let file = fs::pick(dir, &files, "blockIO.weightDevice", &line)?;
                fs::write(dir, file, &line)?;
            }
            if let Some(w) = wd.leaf_weight() {
                let line = format!("{}:{} {w}", wd.major(), wd.minor());
                let files = ["blkio.leaf_weight_device"];
                let file = fs::pick(dir, &files, "blockIO.weightDevice.leafWeight", &line)?;
                fs::write(dir, file, &line)?;
            }
        }
        let throttles = [
            (
                b.throttle_read_bps_device(),
                "blkio.throttle.read_bps_device",
            ),
            (
                b.throttle_write_bps_device(),
                "blkio.throttle.write_bps_device",
            ),
            (
                b.throttle_read_iops_device(),
                "blkio.throttle.read_iops_device",
            ),
            (
                b.throttle_write_iops_device(),
                "blkio.throttle.write_iops_device",
            ),
        ];
        for (list, file) in throttles {
            for t in list.iter().flatten() {
                let line = format!("{}:{} {}", t.major(), t.minor(), t.rate());
                let dir = self.need("blkio", "blockIO.throttle", &line)?;
                fs::write(dir, file, &line)?;
            }
        }
        Ok(())
    }

    fn apply_network(&self, n: &LinuxNetwork) -> Result<(), CgroupError> {
        if let Some(id) = n.class_id() {
            let dir = self.need("net_cls", "network.classID", id)?;
            fs::write(dir, "net_cls.classid", &id.to_string())?;
        }
        for p in n.priorities().iter().flatten() {
            let line = format!("{} {}", p.name(), p.priority());
            let dir = self.need("net_prio", "network.priorities", &line)?;
            fs::write(dir, "net_prio.ifpriomap", &line)?;
        }
        Ok(())
    }

    fn apply_devices(&self, devices: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
        if devices.is_empty() {
            return Ok(());
        }
        let dir = self.need("devices", "devices", "")?;
        fs::write(dir, "devices.deny", "a")?;
        for rule in devices {
            let Some(line) = convert::device_rule(rule) else {
                continue;
            };
            let file = if rule.allow() {
                "devices.allow"
            } else {
                "devices.deny"
            };
            fs::write(dir, file, &line)?;
        }
        Ok(())
    }
}
