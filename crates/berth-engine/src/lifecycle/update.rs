//! `update`: new memory, cpu and pids limits written to the live cgroup and stored (the
//! next start's spec is built from the stored record), and a new restart policy.

use berth_api::container::{ContainerUpdateBody, ContainerUpdateResponse};
use oci_spec::runtime::LinuxPids;

use crate::error::{EngineError, Result};
use crate::lifecycle::create::validate_host_config;
use crate::spec;
use crate::table::Engine;

impl Engine {
    /// `POST /containers/{id}/update`. A field berth cannot change is refused by name
    /// (`options::POLICY`, section `ContainerUpdate`).
    pub async fn update(
        &self,
        name: &str,
        u: ContainerUpdateBody,
    ) -> Result<ContainerUpdateResponse> {
        crate::options::refuse_unsupported_update(&u)?;
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        let rec = c.record();
        let mut hc = rec.host_config.clone();
        if u.memory != 0 {
            hc.memory = u.memory;
        }
        if u.memory_swap != 0 {
            hc.memory_swap = u.memory_swap;
        }
        if hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory {
            return Err(EngineError::Invalid(if u.memory_swap == 0 {
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time".into()
            } else {
                "Minimum memoryswap limit should be larger than memory limit, see usage".into()
            }));
        }
        if u.memory_reservation != 0 {
            hc.memory_reservation = u.memory_reservation;
        }
        if u.cpu_shares != 0 {
            hc.cpu_shares = u.cpu_shares;
        }
        if u.nano_cpus != 0 {
            if hc.cpu_quota > 0 && u.cpu_quota == 0 {
                return Err(EngineError::Invalid(
                    "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set".into(),
                ));
            }
            hc.nano_cpus = u.nano_cpus;
        }
        if u.cpu_quota != 0 {
            if hc.nano_cpus > 0 && u.nano_cpus == 0 {
                return Err(EngineError::Invalid(
                    "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set".into(),
                ));
            }
            hc.cpu_quota = u.cpu_quota;
        }
        if u.cpu_period != 0 {
            hc.cpu_period = u.cpu_period;
        }
        if !u.cpuset_cpus.is_empty() {
            hc.cpuset_cpus = u.cpuset_cpus.clone();
        }
        if !u.cpuset_mems.is_empty() {
            hc.cpuset_mems = u.cpuset_mems.clone();
        }
        if let Some(l) = u.pids_limit {
            hc.pids_limit = Some(l);
        }
        if !u.restart_policy.name.is_empty() {
            if hc.auto_remove && u.restart_policy.name != "no" {
                return Err(EngineError::Invalid(
                    "Restart policy cannot be updated because AutoRemove is enabled for the container".into(),
                ));
            }
            hc.restart_policy = u.restart_policy.clone();
        }
        validate_host_config(&mut hc)?;
        if c.status().has_process() {
            let mut r = spec::limits(&hc);
            if u.pids_limit.is_some_and(|l| l <= 0) {
                // 0 or -1: back to unlimited
                let mut p = LinuxPids::default();
                p.set_limit(-1);
                r.set_pids(Some(p));
            }
            self.with_cgroup(&c.id, move |cg| cg.apply(&r)).await?;
        }
        let rec = self.save(&c, |r| r.host_config = hc)?;
        self.emit(&rec, "update", &[]);
        Ok(ContainerUpdateResponse::default())
    }
}
