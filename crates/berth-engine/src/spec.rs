//! A container record (its merged config and host config) turned into an OCI runtime spec
//! with docker's defaults, at start time as docker does it (the user is resolved in the
//! mounted rootfs, the hostname files are bind-mounted from the container's directory).
//!
//! The defaults (capabilities, masked and read-only paths, mounts, device rules, the seccomp
//! profile) come from `berth-runtime`'s `defaults` and `seccomp::profile`: pure functions over
//! data, the one reason the engine depends on the runtime crate (see the crate docs).

use std::path::{Path, PathBuf};

use berth_api::container::HostConfig;
use berth_runtime::defaults;
use berth_runtime::seccomp::profile;
use oci_spec::runtime::{
    BoxBuilder, Capability, Linux, LinuxCapabilities, LinuxCpu, LinuxDeviceCgroup, LinuxMemory,
    LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources, Mount, PosixRlimit,
    PosixRlimitBuilder, PosixRlimitType, Process, Root, Spec, User,
};

use crate::blkio;
use crate::devices;
use crate::error::{EngineError, Result};
use crate::etcfiles;
use crate::init_binary;
use crate::model::ContainerRecord;
use crate::security_opts::{self, Seccomp, SecurityOpts};
use crate::user;

/// docker's default `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `KEY=v` lists merged as docker's `ReplaceOrAppendEnvValues`: a later key replaces an
/// earlier one in place; a bare `KEY` (no `=`) in `over` removes it.
pub fn merge_env(base: &[String], over: &[String]) -> Vec<String> {
    let key = |s: &str| s.split_once('=').map_or(s, |(k, _)| k).to_owned();
    let mut out: Vec<String> = base.to_vec();
    for e in over {
        let k = key(e);
        let pos = out.iter().position(|x| key(x) == k);
        match (pos, e.contains('=')) {
            (Some(i), true) => out[i] = e.clone(),
            (Some(i), false) => {
                out.remove(i);
            }
            (None, true) => out.push(e.clone()),
            (None, false) => {}
        }
    }
    out
}

/// Every capability this kernel and the runtime know, as `CAP_*` names.
fn all_capability_names() -> Vec<String> {
    let mut all: Vec<String> = berth_runtime::capabilities::all_capabilities()
        .into_iter()
        .map(berth_runtime::capabilities::name)
        .collect();
    all.sort();
    all
}

fn capabilities(rec: &ContainerRecord) -> Result<Vec<String>> {
    let hc = &rec.host_config;
    if hc.privileged {
        return Ok(all_capability_names());
    }
    // docker's "ALL", else the canonical "CAP_*" form.
    let norm = |c: &str| {
        if c.eq_ignore_ascii_case("ALL") {
            "ALL".to_owned()
        } else {
            berth_runtime::capabilities::canonical_name(c)
        }
    };
    let mut caps: Vec<String> = defaults::DEFAULT_CAPABILITIES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let drops: Vec<String> = hc.cap_drop.iter().flatten().map(|c| norm(c)).collect();
    if drops.iter().any(|d| d == "ALL") {
        caps.clear();
    }
    caps.retain(|c| !drops.contains(c));
    for add in hc.cap_add.iter().flatten().map(|c| norm(c)) {
        if add == "ALL" {
            return Ok(all_capability_names());
        }
        if !caps.contains(&add) {
            caps.push(add);
        }
    }
    Ok(caps)
}

fn parse_caps(names: &[String]) -> Result<Vec<Capability>> {
    names
        .iter()
        .map(|n| {
            berth_runtime::capabilities::parse_capability(n)
                .map_err(|_| EngineError::Invalid(format!("unknown capability: {n:?}")))
        })
        .collect()
}

fn resources(rec: &ContainerRecord, extra_rules: Vec<LinuxDeviceCgroup>) -> Result<LinuxResources> {
    let hc = &rec.host_config;
    let mut r = limits(hc);
    let mut rules = defaults::default_device_rules();
    rules.extend(extra_rules);
    r.set_devices(Some(rules));
    // create dropped the weights (with a warning) where the kernel has no weight file and
    // checked the devices; a device gone since then fails the start.
    r.set_block_io(blkio::block_io(hc)?);
    Ok(r)
}

/// The memory, cpu and pids limits of a host config (what `update` may change on a live
/// container; no device rules, no block I/O).
pub fn limits(hc: &HostConfig) -> LinuxResources {
    let mut r = LinuxResources::default();
    let swappiness = hc.memory_swappiness.filter(|s| *s >= 0);
    let oom_kill_disable = hc.oom_kill_disable == Some(true);
    if hc.memory > 0
        || hc.memory_reservation > 0
        || hc.memory_swap != 0
        || swappiness.is_some()
        || oom_kill_disable
    {
        let mut m = LinuxMemory::default();
        // create refused both on a cgroup v2 host, which has neither knob.
        if let Some(v) = swappiness.and_then(|v| u64::try_from(v).ok()) {
            m.set_swappiness(Some(v));
        }
        if oom_kill_disable {
            m.set_disable_oom_killer(Some(true));
        }
        if hc.memory > 0 {
            m.set_limit(Some(hc.memory));
        }
        if hc.memory_reservation > 0 {
            m.set_reservation(Some(hc.memory_reservation));
        }
        if hc.memory_swap != 0 {
            m.set_swap(Some(hc.memory_swap));
        } else if hc.memory > 0 {
            // docker's default: swap as large as the memory limit (total = 2 × memory);
            // create refused limits whose double does not fit.
            m.set_swap(Some(hc.memory.saturating_mul(2)));
        }
        r.set_memory(Some(m));
    }
    let mut cpu = LinuxCpu::default();
    let mut any_cpu = false;
    if hc.nano_cpus > 0 {
        cpu.set_period(Some(100_000));
        // create keeps NanoCpus within 0.01..=NCPU CPUs: no overflow, never a zero quota.
        cpu.set_quota(Some(hc.nano_cpus.saturating_mul(100_000) / 1_000_000_000));
        any_cpu = true;
    } else if hc.cpu_quota > 0 {
        cpu.set_quota(Some(hc.cpu_quota));
        if hc.cpu_period > 0 {
            cpu.set_period(Some(hc.cpu_period as u64));
        }
        any_cpu = true;
    }
    if hc.cpu_shares > 0 {
        cpu.set_shares(Some(hc.cpu_shares as u64));
        any_cpu = true;
    }
    if !hc.cpuset_cpus.is_empty() {
        cpu.set_cpus(Some(hc.cpuset_cpus.clone()));
        any_cpu = true;
    }
    if !hc.cpuset_mems.is_empty() {
        cpu.set_mems(Some(hc.cpuset_mems.clone()));
        any_cpu = true;
    }
    if any_cpu {
        r.set_cpu(Some(cpu));
    }
    if let Some(limit) = hc.pids_limit.filter(|l| *l > 0) {
        let mut p = LinuxPids::default();
        p.set_limit(limit);
        r.set_pids(Some(p));
    }
    r
}

fn bind(src: PathBuf, dst: &str, ro: bool) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dst));
    m.set_typ(Some("bind".to_owned()));
    m.set_source(Some(src));
    let mut opts = vec!["rbind".to_owned(), "rprivate".to_owned()];
    if ro {
        opts.push("ro".to_owned());
    }
    m.set_options(Some(opts));
    m
}

/// Makes the working directory in the rootfs when missing (as docker does), without
/// following symlinks out of it: an existing component that is a symlink stops the walk.
fn ensure_workdir(rootfs: &Path, cwd: &str, uid: u32, gid: u32) -> Result<()> {
    let mut p = rootfs.to_path_buf();
    for comp in Path::new(cwd).components() {
        if let std::path::Component::Normal(c) = comp {
            p.push(c);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => return Ok(()),
                Ok(_) => {}
                Err(_) => {
                    std::fs::create_dir(&p).map_err(|e| EngineError::io("create", &p, e))?;
                    std::os::unix::fs::chown(&p, Some(uid), Some(gid))
                        .map_err(|e| EngineError::io("chown", &p, e))?;
                }
            }
        }
    }
    Ok(())
}

/// The masked and read-only paths: docker's defaults, the request's own lists when it
/// gives them, none with `systempaths=unconfined`.
pub(crate) fn system_paths(hc: &HostConfig, security: &SecurityOpts) -> (Vec<String>, Vec<String>) {
    if security.systempaths_unconfined || hc.privileged {
        return (Vec::new(), Vec::new());
    }
    let or_default = |given: &Option<Vec<String>>, default: &[&str]| {
        given
            .clone()
            .unwrap_or_else(|| default.iter().map(|p| (*p).to_owned()).collect())
    };
    (
        or_default(&hc.masked_paths, &defaults::MASKED_PATHS),
        or_default(&hc.readonly_paths, &defaults::READONLY_PATHS),
    )
}

/// `/berth/<id>`, or `<parent>/<id>` with `--cgroup-parent` (cgroupfs semantics: the parent
/// is a path from the root of each hierarchy; create refused `..`).
pub(crate) fn cgroups_path(hc: &HostConfig, id: &str) -> PathBuf {
    let parent = hc.cgroup_parent.trim_matches('/');
    let parent = if parent.is_empty() { "berth" } else { parent };
    PathBuf::from(format!("/{parent}/{id}"))
}

/// `--ulimit` as the process's rlimits; create checked the names and that soft <= hard.
fn rlimits(hc: &HostConfig) -> Result<Option<Vec<PosixRlimit>>> {
    let Some(ulimits) = hc.ulimits.as_ref().filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    ulimits
        .iter()
        .map(|u| {
            PosixRlimitBuilder::default()
                .typ(rlimit_type(&u.name)?)
                .soft(u64::try_from(u.soft).unwrap_or(u64::MAX))
                .hard(u64::try_from(u.hard).unwrap_or(u64::MAX))
                .build()
                .map_err(|e| EngineError::Invalid(format!("--ulimit {}: {e}", u.name)))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The OCI rlimit of a docker ulimit name (`nofile` → `RLIMIT_NOFILE`).
pub(crate) fn rlimit_type(name: &str) -> Result<PosixRlimitType> {
    const NAMES: [&str; 16] = [
        "as",
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    if !NAMES.contains(&name) {
        return Err(EngineError::Invalid(format!("invalid ulimit type: {name}")));
    }
    let value = serde_json::Value::String(format!("RLIMIT_{}", name.to_ascii_uppercase()));
    serde_json::from_value(value)
        .map_err(|_| EngineError::Invalid(format!("invalid ulimit type: {name}")))
}

/// True on a pure cgroup v2 host.
pub(crate) fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// Builds the spec for `rec`, whose rootfs is mounted at `rootfs`, whose hostname files
/// are in `dir` and whose network namespace is pinned at `netns`.
pub fn build(rec: &ContainerRecord, rootfs: &Path, dir: &Path, netns: &Path) -> Result<Spec> {
    let cfg = &rec.config;
    let hc = &rec.host_config;
    let exec_user = user::resolve(
        rootfs,
        &cfg.user,
        hc.group_add.as_deref().unwrap_or_default(),
    )?;

    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", cfg.hostname),
    ];
    if cfg.tty {
        env.push("TERM=xterm".to_owned());
    }
    let mut env = merge_env(&env, cfg.env.as_deref().unwrap_or_default());
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", exec_user.home));
    }

    let cwd = if cfg.working_dir.is_empty() {
        "/".to_owned()
    } else {
        cfg.working_dir.clone()
    };
    ensure_workdir(rootfs, &cwd, exec_user.uid, exec_user.gid)?;

    let caps = capabilities(rec)?;
    let oci_caps: std::collections::HashSet<Capability> = parse_caps(&caps)?.into_iter().collect();
    let mut lc = LinuxCapabilities::default();
    lc.set_bounding(Some(oci_caps.clone()));
    lc.set_effective(Some(oci_caps.clone()));
    lc.set_permitted(Some(oci_caps));
    lc.set_inheritable(None);
    lc.set_ambient(None);

    let mut u = User::default();
    u.set_uid(exec_user.uid);
    u.set_gid(exec_user.gid);
    if !exec_user.additional_gids.is_empty() {
        u.set_additional_gids(Some(exec_user.additional_gids.clone()));
    }

    let mut args = vec![rec.path.clone()];
    args.extend(rec.args.iter().cloned());
    if hc.init == Some(true) {
        args = init_binary::wrap(args);
    }
    let mut process = Process::default();
    process.set_terminal(Some(cfg.tty));
    process.set_user(u);
    process.set_args(Some(args));
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from(cwd));
    process.set_capabilities(Some(lc));
    process.set_rlimits(rlimits(hc)?);
    if cfg.tty
        && let Some([h, w]) = hc
            .console_size
            .as_deref()
            .and_then(|s| <[u64; 2]>::try_from(s).ok())
        && h > 0
        && w > 0
    {
        let size = BoxBuilder::default()
            .height(h)
            .width(w)
            .build()
            .map_err(|e| EngineError::Invalid(format!("ConsoleSize: {e}")))?;
        process.set_console_size(Some(size));
    }
    let security = security_opts::parse(hc.security_opt.as_deref().unwrap_or_default())?;
    process.set_no_new_privileges(Some(security.no_new_privileges));
    if hc.oom_score_adj != 0 {
        // create keeps it within [-1000, 1000].
        process.set_oom_score_adj(i32::try_from(hc.oom_score_adj).ok());
    }

    let mut root = Root::default();
    root.set_path(rootfs.to_path_buf());
    root.set_readonly(Some(hc.readonly_rootfs));

    let mut mounts = defaults::default_mounts();
    if hc.privileged {
        // dockerd mounts /sys and the cgroup tree writable for a privileged container.
        for m in mounts.iter_mut() {
            if m.destination() == Path::new("/sys")
                || m.destination() == Path::new("/sys/fs/cgroup")
            {
                let opts = m.options().clone().unwrap_or_default();
                m.set_options(Some(
                    opts.into_iter()
                        .map(|o| if o == "ro" { "rw".to_owned() } else { o })
                        .collect(),
                ));
            }
        }
    }
    if hc.shm_size > 0 {
        for m in mounts.iter_mut() {
            if m.destination() == Path::new("/dev/shm") {
                let kib = hc.shm_size / 1024;
                m.set_options(Some(vec![
                    "rw".into(),
                    "nosuid".into(),
                    "noexec".into(),
                    "nodev".into(),
                    "mode=1777".into(),
                    format!("size={kib}k"),
                ]));
            }
        }
    }
    mounts.push(bind(
        dir.join(etcfiles::RESOLV_CONF),
        "/etc/resolv.conf",
        false,
    ));
    mounts.push(bind(dir.join(etcfiles::HOSTNAME), "/etc/hostname", false));
    if hc.init == Some(true) {
        mounts.push(bind(init_binary::find()?, init_binary::IN_CONTAINER, true));
    }
    mounts.push(bind(dir.join(etcfiles::HOSTS), "/etc/hosts", false));

    let mut namespaces = defaults::default_namespaces();
    for ns in namespaces.iter_mut() {
        if ns.typ() == LinuxNamespaceType::Network {
            ns.set_path(Some(netns.to_path_buf()));
        }
    }
    let cgroupns_private = match hc.cgroupns_mode.as_str() {
        "private" => true,
        "host" => false,
        _ => cgroup_v2(),
    };
    if cgroupns_private {
        let mut ns = LinuxNamespace::default();
        ns.set_typ(LinuxNamespaceType::Cgroup);
        namespaces.push(ns);
    }

    let mut linux = Linux::default();
    linux.set_namespaces(Some(namespaces));
    let (masked, readonly) = system_paths(hc, &security);
    linux.set_masked_paths(Some(masked));
    linux.set_readonly_paths(Some(readonly));
    let devices = devices::for_host_config(hc)?;
    if !devices.nodes.is_empty() {
        linux.set_devices(Some(devices.nodes));
    }
    linux.set_resources(Some(resources(rec, devices.rules)?));
    linux.set_cgroups_path(Some(cgroups_path(hc, &rec.id)));
    let seccomp = match &security.seccomp {
        // dockerd runs a privileged container without a filter.
        _ if hc.privileged => None,
        Seccomp::Default => Some(profile::docker_default(&caps).map_err(EngineError::Seccomp)?),
        Seccomp::Unconfined => None,
        Seccomp::Profile(json) => {
            profile::from_docker_json(json, &caps).map_err(EngineError::Seccomp)?
        }
    };
    linux.set_seccomp(seccomp);
    if let Some(s) = &hc.sysctls {
        linux.set_sysctl(Some(s.clone().into_iter().collect()));
    }

    let mut spec = Spec::default();
    spec.set_version("1.2.0".to_owned());
    spec.set_root(Some(root));
    spec.set_process(Some(process));
    spec.set_hostname(Some(cfg.hostname.clone()));
    if !cfg.domainname.is_empty() {
        spec.set_domainname(Some(cfg.domainname.clone()));
    }
    spec.set_mounts(Some(mounts));
    spec.set_annotations(hc.annotations.clone().map(|a| a.into_iter().collect()));
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// Writes `config.json` into the bundle directory (atomically).
pub fn write(spec: &Spec, bundle: &Path) -> Result<()> {
    let path = bundle.join("config.json");
    let json = serde_json::to_vec(spec).map_err(|e| EngineError::Spec(path.clone(), e.into()))?;
    berth_runtime::fsutil::write_atomic(&path, &json, Default::default())
        .map_err(|e| EngineError::Spec(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StateRecord;
    use berth_api::container::{ContainerConfig, HostConfig};

    fn record(cfg: ContainerConfig, hc: HostConfig) -> ContainerRecord {
        ContainerRecord {
            id: "0123456789abcdef".repeat(4),
            name: "/t".into(),
            created: String::new(),
            image_name: "busybox".into(),
            image_id: String::new(),
            lowers: vec![],
            path: "sh".into(),
            args: vec!["-c".into(), "true".into()],
            config: cfg,
            host_config: hc,
            state: StateRecord::default(),
            restart_count: 0,
            driver: "overlay2".into(),
            generation: 0,
            manually_stopped: false,
            mounts: Vec::new(),
        }
    }

    #[test]
    fn spec_has_dockers_defaults_and_the_request() {
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(rootfs.path().join("etc")).unwrap();
        std::fs::write(
            rootfs.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n",
        )
        .unwrap();
        let cfg = ContainerConfig {
            hostname: "0123456789ab".into(),
            user: "user".into(),
            tty: true,
            env: Some(vec!["FOO=bar".into(), "PATH=/custom".into()]),
            working_dir: "/srv/app".into(),
            ..ContainerConfig::default()
        };
        let hc = HostConfig {
            memory: 64 << 20,
            nano_cpus: 1_500_000_000,
            pids_limit: Some(20),
            cap_drop: Some(vec!["NET_RAW".into()]),
            cap_add: Some(vec!["SYS_TIME".into()]),
            ..HostConfig::default()
        };
        let rec = record(cfg, hc);
        let netns = Path::new("/run/berth/netns/x");
        let spec = build(&rec, rootfs.path(), Path::new("/c"), netns).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().clone().unwrap(), vec!["sh", "-c", "true"]);
        assert_eq!(p.terminal(), Some(true));
        assert_eq!((p.user().uid(), p.user().gid()), (1000, 1000));
        assert_eq!(p.cwd(), Path::new("/srv/app"));
        assert!(
            rootfs.path().join("srv/app").is_dir(),
            "the workdir is made"
        );
        let env = p.env().clone().unwrap();
        assert_eq!(
            env,
            vec![
                "PATH=/custom",
                "HOSTNAME=0123456789ab",
                "TERM=xterm",
                "FOO=bar",
                "HOME=/home/user"
            ]
        );
        let caps = p
            .capabilities()
            .as_ref()
            .unwrap()
            .bounding()
            .clone()
            .unwrap();
        assert!(caps.contains(&Capability::SysTime) && !caps.contains(&Capability::NetRaw));
        assert!(caps.contains(&Capability::Chown));
        assert_eq!(spec.hostname().as_deref(), Some("0123456789ab"));
        let linux = spec.linux().as_ref().unwrap();
        let r = linux.resources().as_ref().unwrap();
        assert_eq!(r.memory().as_ref().unwrap().limit(), Some(64 << 20));
        let cpu = r.cpu().as_ref().unwrap();
        assert_eq!((cpu.quota(), cpu.period()), (Some(150_000), Some(100_000)));
        assert_eq!(r.pids().as_ref().unwrap().limit(), 20);
        let net = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .find(|n| n.typ() == LinuxNamespaceType::Network)
            .unwrap();
        assert_eq!(net.path().as_deref(), Some(netns));
        assert!(linux.seccomp().is_some());
        assert_eq!(
            linux.masked_paths().as_ref().unwrap().len(),
            defaults::MASKED_PATHS.len()
        );
        let mounts = spec.mounts().as_ref().unwrap();
        for (dst, src) in [
            ("/etc/hostname", "/c/hostname"),
            ("/etc/hosts", "/c/hosts"),
            ("/etc/resolv.conf", "/c/resolv.conf"),
        ] {
            let m = mounts
                .iter()
                .find(|m| m.destination() == Path::new(dst))
                .unwrap();
            assert_eq!(m.source().as_deref(), Some(Path::new(src)));
        }
    }

    #[test]
    fn env_merge_replaces_in_place() {
        let base = vec!["PATH=/bin".to_string(), "A=1".into(), "B=2".into()];
        let over = vec!["A=x".to_string(), "C=3".into(), "B".into()];
        assert_eq!(merge_env(&base, &over), vec!["PATH=/bin", "A=x", "C=3"]);
    }
}
