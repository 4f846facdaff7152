//! Docker's defaults as data: what a `docker run` container gets unless asked otherwise.
//!
//! Sources: moby `oci/caps/defaults.go` (capabilities) and `oci/defaults.go` (mounts, masked and
//! read-only paths, namespaces, device cgroup rules). The engine builds each container's spec
//! from these; [`default_spec`] assembles them into the template `berth-runtime spec` writes.

use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, Linux, LinuxCapabilities, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType,
    LinuxNamespace, LinuxNamespaceType, LinuxResources, Mount, Process, Root, Spec, User,
};

use crate::seccomp::{SeccompError, profile};

/// The capabilities a docker container keeps by default (moby `oci/caps/defaults.go`).
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Paths hidden from the container: a file gets `/dev/null` bound over it, a directory an empty
/// read-only tmpfs (moby `oci/defaults.go`, including `/sys/devices/virtual/powercap`, which
/// moby added for CVE-2020-8694).
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths remounted read-only inside the container (moby `oci/defaults.go`).
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The namespaces a docker container gets (moby `oci/defaults.go`). The cgroup namespace is
/// added by the daemon when the cgroup namespace mode is "private" (the default on cgroup v2).
pub const NAMESPACES: [LinuxNamespaceType; 5] = [
    LinuxNamespaceType::Mount,
    LinuxNamespaceType::Network,
    LinuxNamespaceType::Uts,
    LinuxNamespaceType::Pid,
    LinuxNamespaceType::Ipc,
];

/// The size of `/dev/shm` when the user does not pass `--shm-size`: 64 MiB.
pub const SHM_SIZE_BYTES: u64 = 64 * 1024 * 1024;

/// A mount as data: destination, type, source, options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultMount {
    /// Where it is mounted in the container.
    pub destination: &'static str,
    /// The filesystem type.
    pub typ: &'static str,
    /// The source (a name for pseudo filesystems).
    pub source: &'static str,
    /// The mount options, as in `linux.mounts[].options`.
    pub options: &'static [&'static str],
}

/// The mounts every docker container gets, in order (moby `oci/defaults.go`; `/dev/shm` with
/// the daemon's default `--shm-size` of 64 MiB).
pub const MOUNTS: [DefaultMount; 7] = [
    DefaultMount {
        destination: "/proc",
        typ: "proc",
        source: "proc",
        options: &["rw", "nosuid", "noexec", "nodev"],
    },
    DefaultMount {
        destination: "/dev",
        typ: "tmpfs",
        source: "tmpfs",
        options: &["rw", "nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    DefaultMount {
        destination: "/dev/pts",
        typ: "devpts",
        source: "devpts",
        options: &[
            "rw",
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    },
    DefaultMount {
        destination: "/sys",
        typ: "sysfs",
        source: "sysfs",
        options: &["ro", "nosuid", "noexec", "nodev"],
    },
    DefaultMount {
        destination: "/sys/fs/cgroup",
        typ: "cgroup",
        source: "cgroup",
        options: &["ro", "nosuid", "noexec", "nodev"],
    },
    DefaultMount {
        destination: "/dev/mqueue",
        typ: "mqueue",
        source: "mqueue",
        options: &["rw", "nosuid", "noexec", "nodev"],
    },
    DefaultMount {
        destination: "/dev/shm",
        typ: "tmpfs",
        source: "shm",
        options: &[
            "rw",
            "nosuid",
            "noexec",
            "nodev",
            "mode=1777",
            "size=65536k",
        ],
    },
];

/// A device node as data: path, major, minor (all character devices, mode 0666, root-owned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultDevice {
    /// The path in the container.
    pub path: &'static str,
    /// The major number.
    pub major: i64,
    /// The minor number.
    pub minor: i64,
}

/// The device nodes the runtime creates in every container's `/dev` (the OCI spec's default
/// devices; `/dev/ptmx` is a symlink to `pts/ptmx` and `/dev/console` the PTY, not listed).
pub const DEVICES: [DefaultDevice; 6] = [
    DefaultDevice {
        path: "/dev/null",
        major: 1,
        minor: 3,
    },
    DefaultDevice {
        path: "/dev/zero",
        major: 1,
        minor: 5,
    },
    DefaultDevice {
        path: "/dev/full",
        major: 1,
        minor: 7,
    },
    DefaultDevice {
        path: "/dev/random",
        major: 1,
        minor: 8,
    },
    DefaultDevice {
        path: "/dev/urandom",
        major: 1,
        minor: 9,
    },
    DefaultDevice {
        path: "/dev/tty",
        major: 5,
        minor: 0,
    },
];

/// The symlinks the runtime creates in every container's `/dev`: (link, target).
pub const DEV_SYMLINKS: [(&str, &str); 5] = [
    ("/dev/fd", "/proc/self/fd"),
    ("/dev/stdin", "/proc/self/fd/0"),
    ("/dev/stdout", "/proc/self/fd/1"),
    ("/dev/stderr", "/proc/self/fd/2"),
    ("/dev/ptmx", "pts/ptmx"),
];

/// A device cgroup rule as data: allow, type ('a', 'c', 'b'), major, minor (`None` is `*`),
/// access.
pub type DeviceRule = (bool, char, Option<i64>, Option<i64>, &'static str);

/// Docker's device cgroup rules (moby `oci/defaults.go` with runc's allowed devices, as
/// `devices.list` reads in a docker container): deny everything, allow `mknod` of any device,
/// then read/write/mknod of null, random, full, tty, zero, urandom, console, the pty slaves and
/// ptmx: the devices every container gets.
pub const DEVICE_RULES: [DeviceRule; 12] = [
    (false, 'a', None, None, "rwm"),
    (true, 'c', None, None, "m"),
    (true, 'b', None, None, "m"),
    (true, 'c', Some(1), Some(3), "rwm"),
    (true, 'c', Some(1), Some(8), "rwm"),
    (true, 'c', Some(1), Some(7), "rwm"),
    (true, 'c', Some(5), Some(0), "rwm"),
    (true, 'c', Some(1), Some(5), "rwm"),
    (true, 'c', Some(1), Some(9), "rwm"),
    (true, 'c', Some(5), Some(1), "rwm"),
    (true, 'c', Some(136), None, "rwm"),
    (true, 'c', Some(5), Some(2), "rwm"),
];

/// [`DEFAULT_CAPABILITIES`] as OCI capabilities.
pub fn default_capabilities() -> Capabilities {
    DEFAULT_CAPABILITIES
        .iter()
        .filter_map(|name| crate::capabilities::parse_capability(name).ok())
        .collect()
}

/// [`MOUNTS`] as OCI mounts.
pub fn default_mounts() -> Vec<Mount> {
    MOUNTS
        .iter()
        .map(|m| {
            let mut mount = Mount::default();
            mount.set_destination(PathBuf::from(m.destination));
            mount.set_typ(Some(m.typ.to_owned()));
            mount.set_source(Some(PathBuf::from(m.source)));
            mount.set_options(Some(m.options.iter().map(|o| (*o).to_owned()).collect()));
            mount
        })
        .collect()
}

/// [`DEVICES`] as OCI devices (character, mode 0666, owned by root).
pub fn default_devices() -> Vec<LinuxDevice> {
    DEVICES
        .iter()
        .map(|d| {
            let mut dev = LinuxDevice::default();
            dev.set_path(PathBuf::from(d.path));
            dev.set_typ(LinuxDeviceType::C);
            dev.set_major(d.major);
            dev.set_minor(d.minor);
            dev.set_file_mode(Some(0o666));
            dev.set_uid(Some(0));
            dev.set_gid(Some(0));
            dev
        })
        .collect()
}

/// [`DEVICE_RULES`] as OCI device cgroup rules.
pub fn default_device_rules() -> Vec<LinuxDeviceCgroup> {
    DEVICE_RULES
        .iter()
        .map(|&(allow, typ, major, minor, access)| {
            let mut rule = LinuxDeviceCgroup::default();
            rule.set_allow(allow);
            rule.set_typ(Some(match typ {
                'c' => LinuxDeviceType::C,
                'b' => LinuxDeviceType::B,
                _ => LinuxDeviceType::A,
            }));
            rule.set_major(major);
            rule.set_minor(minor);
            rule.set_access(Some(access.to_owned()));
            rule
        })
        .collect()
}

/// [`NAMESPACES`] as OCI namespaces (new ones, no paths).
pub fn default_namespaces() -> Vec<LinuxNamespace> {
    NAMESPACES
        .iter()
        .map(|&typ| {
            let mut ns = LinuxNamespace::default();
            ns.set_typ(typ);
            ns
        })
        .collect()
}

/// The spec `berth-runtime spec` writes: Docker's defaults for a container running `sh` as root
/// from `rootfs/`, with Docker's default seccomp profile for the default capabilities.
///
/// Differences from the spec docker writes, as a template should have them: a cgroup namespace
/// (docker adds it on cgroup v2), `noNewPrivileges` true and a read-only root (as runc's
/// template), hostname "berth".
pub fn default_spec() -> Result<Spec, SeccompError> {
    let caps = default_capabilities();
    let mut capabilities = LinuxCapabilities::default();
    capabilities.set_bounding(Some(caps.clone()));
    capabilities.set_effective(Some(caps.clone()));
    capabilities.set_permitted(Some(caps));
    // Docker stopped filling the inheritable set (CVE-2022-24769); ambient stays empty.
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);

    let mut process = Process::default();
    process.set_terminal(Some(false));
    process.set_user(User::default());
    process.set_args(Some(vec!["sh".to_owned()]));
    process.set_env(Some(vec![
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        "TERM=xterm".to_owned(),
    ]));
    process.set_cwd(PathBuf::from("/"));
    process.set_capabilities(Some(capabilities));
    process.set_rlimits(None);
    process.set_no_new_privileges(Some(true));

    let mut root = Root::default();
    root.set_path(PathBuf::from("rootfs"));
    root.set_readonly(Some(true));

    let mut namespaces = default_namespaces();
    let mut cgroup = LinuxNamespace::default();
    cgroup.set_typ(LinuxNamespaceType::Cgroup);
    namespaces.push(cgroup);

    let mut resources = LinuxResources::default();
    resources.set_devices(Some(default_device_rules()));

    let seccomp = profile::docker_default(
        &DEFAULT_CAPABILITIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<Vec<_>>(),
    )?;

    let mut linux = Linux::default();
    linux.set_namespaces(Some(namespaces));
    linux.set_masked_paths(Some(MASKED_PATHS.iter().map(|p| (*p).to_owned()).collect()));
    linux.set_readonly_paths(Some(
        READONLY_PATHS.iter().map(|p| (*p).to_owned()).collect(),
    ));
    linux.set_resources(Some(resources));
    linux.set_devices(None);
    linux.set_seccomp(Some(seccomp));

    let mut spec = Spec::default();
    spec.set_version("1.2.0".to_owned());
    spec.set_root(Some(root));
    spec.set_process(Some(process));
    spec.set_hostname(Some("berth".to_owned()));
    spec.set_mounts(Some(default_mounts()));
    spec.set_annotations(None);
    spec.set_linux(Some(linux));
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_capabilities_are_dockers_fourteen() {
        assert_eq!(default_capabilities().len(), DEFAULT_CAPABILITIES.len());
    }

    #[test]
    fn default_spec_round_trips_through_json() {
        let spec = match default_spec() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let json = match serde_json::to_string(&spec) {
            Ok(j) => j,
            Err(e) => panic!("{e}"),
        };
        let back: Spec = match serde_json::from_str(&json) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(back, spec);
        let process = back.process().as_ref();
        assert_eq!(
            process.and_then(|p| p.args().clone()),
            Some(vec!["sh".to_owned()])
        );
        assert_eq!(process.and_then(|p| p.terminal()), Some(false));
        let mounts = back.mounts().clone().unwrap_or_default();
        let devpts = mounts
            .iter()
            .find(|m| m.destination() == &PathBuf::from("/dev/pts"));
        assert!(devpts.is_some_and(|m| {
            m.options()
                .as_ref()
                .is_some_and(|o| o.iter().any(|x| x == "ptmxmode=0666"))
        }));
        let seccomp = back.linux().as_ref().and_then(|l| l.seccomp().clone());
        assert!(seccomp.is_some_and(|s| !s.syscalls().clone().unwrap_or_default().is_empty()));
    }

    #[test]
    fn default_spec_seccomp_compiles() {
        let spec = match default_spec() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let Some(seccomp) = spec.linux().as_ref().and_then(|l| l.seccomp().clone()) else {
            panic!("no seccomp section");
        };
        match crate::seccomp::compile(&seccomp) {
            Ok(p) => assert!(!p.is_empty()),
            Err(e) => panic!("{e}"),
        }
    }
}
