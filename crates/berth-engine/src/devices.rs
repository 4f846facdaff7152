//! `--device`, `--device-cgroup-rule` and the devices of `--privileged`, as dockerd gives
//! them: a host device node becomes a `linux.devices` entry (made with mknod in the
//! container's `/dev`) plus a device cgroup rule allowing exactly its type, numbers and
//! permissions; a directory gives every device under it; `--privileged` gives every host
//! device and allows all.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use berth_api::container::{DeviceMapping, HostConfig};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};

use crate::error::{EngineError, Result};

/// The devices and rules a container adds to docker's defaults.
#[derive(Debug, Default)]
pub struct Devices {
    /// Nodes to make in the container.
    pub nodes: Vec<LinuxDevice>,
    /// Device cgroup rules to append.
    pub rules: Vec<LinuxDeviceCgroup>,
}

fn invalid(msg: String) -> EngineError {
    EngineError::Invalid(msg)
}

/// The host device at `path` (symlinks followed, as dockerd does), or `None` for a file that
/// is not a device.
fn device_at(path: &Path, in_container: &Path) -> Result<Option<LinuxDevice>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        invalid(format!(
            "error gathering device information while adding custom device {:?}: {e}",
            path.display().to_string()
        ))
    })?;
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        LinuxDeviceType::C
    } else if ft.is_block_device() {
        LinuxDeviceType::B
    } else {
        return Ok(None);
    };
    let rdev = meta.rdev();
    let mut d = LinuxDevice::default();
    d.set_path(in_container.to_path_buf());
    d.set_typ(typ);
    d.set_major(nix::sys::stat::major(rdev) as i64);
    d.set_minor(nix::sys::stat::minor(rdev) as i64);
    d.set_file_mode(Some(meta.mode() & 0o777));
    d.set_uid(Some(meta.uid()));
    d.set_gid(Some(meta.gid()));
    Ok(Some(d))
}

fn allow(
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(true);
    r.set_typ(Some(typ));
    r.set_major(major);
    r.set_minor(minor);
    r.set_access(Some(access.to_owned()));
    r
}

fn rule_for(d: &LinuxDevice, access: &str) -> LinuxDeviceCgroup {
    allow(d.typ(), Some(d.major()), Some(d.minor()), access)
}

/// Every device node under `dir`, skipping what runc's `HostDevices` skips (pseudo-terminal
/// slaves, shm, mqueue, the console).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    const SKIP: [&str; 7] = ["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if !SKIP.iter().any(|s| e.file_name() == *s) {
                walk(&path, out);
            }
        } else if (ft.is_char_device() || ft.is_block_device()) && e.file_name() != "console" {
            out.push(path);
        }
    }
}

/// Checks `--device` permissions: a non-empty subset of `rwm`.
fn valid_access(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| "rwm".contains(c))
}

fn mapping(m: &DeviceMapping, out: &mut Devices) -> Result<()> {
    let host = Path::new(&m.path_on_host);
    let access = if m.cgroup_permissions.is_empty() {
        "rwm"
    } else {
        m.cgroup_permissions.as_str()
    };
    if !valid_access(access) {
        return Err(invalid(format!("invalid device mode: {access}")));
    }
    let target = if m.path_in_container.is_empty() {
        host.to_path_buf()
    } else {
        PathBuf::from(&m.path_in_container)
    };
    if !host.is_absolute() || !target.is_absolute() {
        return Err(invalid(format!(
            "invalid device mapping {}:{}: paths must be absolute",
            m.path_on_host, m.path_in_container
        )));
    }
    if std::fs::metadata(host).is_ok_and(|md| md.is_dir()) {
        let mut found = Vec::new();
        walk(host, &mut found);
        for p in found {
            let rel = p.strip_prefix(host).unwrap_or(&p);
            if let Some(d) = device_at(&p, &target.join(rel))? {
                out.rules.push(rule_for(&d, access));
                out.nodes.push(d);
            }
        }
        return Ok(());
    }
    match device_at(host, &target)? {
        Some(d) => {
            out.rules.push(rule_for(&d, access));
            out.nodes.push(d);
            Ok(())
        }
        None => Err(invalid(format!(
            "error gathering device information while adding custom device {:?}: not a device node",
            m.path_on_host
        ))),
    }
}

/// Parses `c 1:3 mr`, `a *:* rwm`, `b 8:* r`.
pub fn parse_rule(rule: &str) -> Result<LinuxDeviceCgroup> {
    let bad = || invalid(format!("invalid device cgroup rule format: '{rule}'"));
    let parts: Vec<&str> = rule.split_whitespace().collect();
    let [typ, numbers, access] = parts[..] else {
        return Err(bad());
    };
    let typ = match typ {
        "a" => LinuxDeviceType::A,
        "c" => LinuxDeviceType::C,
        "b" => LinuxDeviceType::B,
        _ => return Err(bad()),
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    let number = |n: &str| -> Result<Option<i64>> {
        if n == "*" {
            Ok(None)
        } else {
            n.parse::<u32>()
                .map(|v| Some(i64::from(v)))
                .map_err(|_| bad())
        }
    };
    if !valid_access(access) || access.len() > 3 {
        return Err(bad());
    }
    Ok(allow(typ, number(major)?, number(minor)?, access))
}

/// What `hc` adds to docker's default devices and rules.
pub fn for_host_config(hc: &HostConfig) -> Result<Devices> {
    let mut out = Devices::default();
    if hc.privileged {
        let mut found = Vec::new();
        walk(Path::new("/dev"), &mut found);
        for p in found {
            // A node that vanished while walking is not an error.
            if let Ok(Some(d)) = device_at(&p, &p) {
                out.nodes.push(d);
            }
        }
        out.rules.push(allow(LinuxDeviceType::A, None, None, "rwm"));
    }
    for m in hc.devices.iter().flatten() {
        mapping(m, &mut out)?;
    }
    for r in hc.device_cgroup_rules.iter().flatten() {
        out.rules.push(parse_rule(r)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_as_dockerd_writes_them() {
        let r = parse_rule("c 1:3 mr").unwrap();
        assert_eq!(
            (r.typ(), r.major(), r.minor(), r.access().as_deref()),
            (Some(LinuxDeviceType::C), Some(1), Some(3), Some("mr"))
        );
        let r = parse_rule("a *:* rwm").unwrap();
        assert_eq!((r.major(), r.minor()), (None, None));
        for bad in [
            "c 1:3",
            "x 1:3 r",
            "c 1-3 r",
            "c a:3 r",
            "c 1:3 rwx",
            "c 1:3 rwmm",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_device_mapping_allows_exactly_that_device() {
        let m = DeviceMapping {
            path_on_host: "/dev/null".into(),
            path_in_container: "/dev/mynull".into(),
            cgroup_permissions: "rw".into(),
        };
        let mut out = Devices::default();
        mapping(&m, &mut out).unwrap();
        assert_eq!(out.nodes.len(), 1);
        assert_eq!(out.nodes[0].path(), Path::new("/dev/mynull"));
        assert_eq!((out.nodes[0].major(), out.nodes[0].minor()), (1, 3));
        assert_eq!(out.rules[0].access().as_deref(), Some("rw"));
        let m = DeviceMapping {
            path_on_host: "/etc/hostname".into(),
            ..DeviceMapping::default()
        };
        assert!(mapping(&m, &mut Devices::default()).is_err());
    }
}
