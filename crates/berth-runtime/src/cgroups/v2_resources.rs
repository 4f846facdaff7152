//! Writing OCI `LinuxResources` into a v2 cgroup: only the files for values that are set, each
//! write's failure naming the file and the value.
//!
//! Device rules have no files on v2: they become an eBPF program attached to the cgroup
//! (`device_filter`).
//!
//! Not applied on v2, by design:
//! - v1-only memory knobs (`kernel`, `kernelTCP`, `swappiness`, `disableOOMKiller`) and
//!   `network` (net_cls/net_prio do not exist on v2): a warning when set, as runc does.
//! - `blockIO.leafWeight`: no v2 equivalent; a warning when set.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use super::v2::V2Manager;
use super::{CgroupError, convert, device_filter, fs};

impl V2Manager {
    /// Writes the resource limits of `r` that are set (see the module doc for what v2 skips).
    pub fn apply(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        let dir = self.dir();
        if let Some(m) = r.memory() {
            self.apply_memory(m)?;
        }
        if let Some(c) = r.cpu() {
            self.apply_cpu(c)?;
        }
        if let Some(p) = r.pids() {
            fs::write(dir, "pids.max", &convert::pids_max(p.limit()))?;
        }
        if let Some(b) = r.block_io() {
            self.apply_io(b)?;
        }
        for page in r.hugepage_limits().iter().flatten() {
            convert::check_page_size(page.page_size())?;
            let file = format!("hugetlb.{}.max", page.page_size());
            fs::write(dir, &file, &convert::limit_v2(page.limit()))?;
        }
        if let Some(n) = r.network()
            && (n.class_id().is_some() || n.priorities().is_some())
        {
            tracing::warn!("network classID/priorities do not exist on cgroup v2: ignored");
        }
        for (device, limits) in r.rdma().iter().flatten() {
            if let Some(line) = convert::rdma_line(device, limits)? {
                fs::write(dir, "rdma.max", &line)?;
            }
        }
        if let Some(devices) = r.devices().as_ref().filter(|d| !d.is_empty()) {
            device_filter::install(dir, devices)?;
        }
        // Last, so explicit unified keys win over the values derived above.
        for (key, value) in r.unified().iter().flatten() {
            convert::check_unified_key(key)?;
            fs::write(dir, key, value)?;
        }
        Ok(())
    }

    fn apply_memory(&self, m: &LinuxMemory) -> Result<(), CgroupError> {
        let dir = self.dir();
        // Validate swap before writing anything, so a bad value leaves the cgroup untouched.
        let swap = convert::swap_v2(m.limit(), m.swap())?;
        if let Some(limit) = m.limit() {
            fs::write(dir, "memory.max", &convert::limit_v2(limit))?;
        }
        if let Some(low) = m.reservation() {
            fs::write(dir, "memory.low", &convert::limit_v2(low))?;
        }
        if let Some(swap) = swap {
            // memory.swap.max exists only with swap accounting, as memsw on v1.
            if fs::exists(dir, "memory.swap.max") {
                fs::write(dir, "memory.swap.max", &swap)?;
            } else {
                tracing::warn!(
                    swap,
                    "swap accounting is off on this kernel (memory.swap.max is absent): swap limit ignored"
                );
            }
        }
        let v1_only = m.kernel().is_some()
            || m.kernel_tcp().is_some()
            || m.swappiness().is_some()
            || m.disable_oom_killer() == Some(true);
        if v1_only {
            tracing::warn!(
                "memory kernel/kernelTCP/swappiness/disableOOMKiller do not exist on cgroup v2: ignored"
            );
        }
        Ok(())
    }

    fn apply_cpu(&self, c: &LinuxCpu) -> Result<(), CgroupError> {
        let dir = self.dir();
        if c.realtime_period().is_some() || c.realtime_runtime().is_some() {
            let value = c
                .realtime_runtime()
                .map(|v| v.to_string())
                .unwrap_or_default();
            return Err(CgroupError::InvalidValue {
                field: "cpu.realtimeRuntime",
                value,
                reason: "realtime scheduling limits do not exist on cgroup v2",
            });
        }
        if let Some(shares) = c.shares().filter(|s| *s > 0) {
            let weight = convert::shares_to_weight(shares);
            fs::write(dir, "cpu.weight", &weight.to_string())?;
        }
        if let Some(max) = convert::cpu_max(c.quota(), c.period()) {
            fs::write(dir, "cpu.max", &max)?;
        }
        if let Some(burst) = c.burst() {
            fs::write(dir, "cpu.max.burst", &burst.to_string())?;
        }
        if let Some(idle) = c.idle() {
            fs::write(dir, "cpu.idle", &idle.to_string())?;
        }
        if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
            fs::write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
            fs::write(dir, "cpuset.mems", mems)?;
        }
        Ok(())
    }

    fn apply_io(&self, b: &LinuxBlockIo) -> Result<(), CgroupError> {
        let dir = self.dir();
        if let Some(w) = b.weight() {
            // BFQ takes the blkio range (1..1000) as is; io.weight (1..10000) is converted.
            let file = fs::pick(dir, &["io.bfq.weight", "io.weight"], "blockIO.weight", w)?;
            let value = if file == "io.bfq.weight" {
                w.to_string()
            } else {
                convert::blkio_to_io_weight(w).to_string()
            };
            fs::write(dir, file, &value)?;
        }
        if b.leaf_weight().is_some() {
            tracing::warn!("blockIO.leafWeight does not exist on cgroup v2: ignored");
        }
        for wd in b.weight_device().iter().flatten() {
            let Some(w) = wd.weight() else { continue };
            let dev = format!("{}:{}", wd.major(), wd.minor());
            let files = ["io.bfq.weight", "io.weight"];
            let file = fs::pick(dir, &files, "blockIO.weightDevice", format!("{dev} {w}"))?;
            let value = if file == "io.bfq.weight" {
                format!("{dev} {w}")
            } else {
                format!("{dev} {}", convert::blkio_to_io_weight(w))
            };
            fs::write(dir, file, &value)?;
        }
        let throttles = [
            (b.throttle_read_bps_device(), "rbps"),
            (b.throttle_write_bps_device(), "wbps"),
            (b.throttle_read_iops_device(), "riops"),
            (b.throttle_write_iops_device(), "wiops"),
        ];
        for (list, key) in throttles {
            for t in list.iter().flatten() {
                let line = format!("{}:{} {key}={}", t.major(), t.minor(), t.rate());
                fs::write(dir, "io.max", &line)?;
            }
        }
        Ok(())
    }
}
