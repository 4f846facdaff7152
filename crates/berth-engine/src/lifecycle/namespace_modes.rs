//! `--pid`, `--ipc`, `--uts` and `--userns`: a container's own namespace (the default), the
//! host's, or another running container's, as dockerd offers them. Checked at create (the
//! mode is known, a named container exists) and applied to the spec at start, when the other
//! container's init is known.
//!
//! IPC as dockerd does it: a `private` container gets a tmpfs `/dev/shm` of its own in its
//! mount namespace; a `shareable` one gets a tmpfs mounted on the host at
//! `containers/<id>/shm` and bound in, so that a `container:<id>` peer can bind the same
//! directory (a mount inside another mount namespace cannot be bound from outside it).

use std::path::{Path, PathBuf};

use berth_api::container::HostConfig;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType, Mount, Spec};

use crate::error::{EngineError, Result};
use crate::table::Engine;

/// One namespace's mode.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode<'a> {
    /// Its own namespace.
    Private,
    /// IPC only: its own namespace, with a `/dev/shm` that others may join.
    Shareable,
    /// The host's.
    Host,
    /// That of the named container.
    Container(&'a str),
    /// IPC only: its own namespace and no `/dev/shm`.
    IpcNone,
}

fn pid_mode(hc: &HostConfig) -> Result<Mode<'_>> {
    match hc.pid_mode.as_str() {
        "" => Ok(Mode::Private),
        "host" => Ok(Mode::Host),
        m => match m.strip_prefix("container:") {
            Some(c) if !c.is_empty() => Ok(Mode::Container(c)),
            _ => Err(EngineError::Invalid(format!("invalid PID mode: {m}"))),
        },
    }
}

fn ipc_mode(hc: &HostConfig) -> Result<Mode<'_>> {
    match hc.ipc_mode.as_str() {
        "" | "private" => Ok(Mode::Private),
        "shareable" => Ok(Mode::Shareable),
        "host" => Ok(Mode::Host),
        "none" => Ok(Mode::IpcNone),
        m => match m.strip_prefix("container:") {
            Some(c) if !c.is_empty() => Ok(Mode::Container(c)),
            _ => Err(EngineError::Invalid(format!("invalid IPC mode: {m}"))),
        },
    }
}

fn uts_mode(hc: &HostConfig) -> Result<Mode<'_>> {
    match hc.uts_mode.as_str() {
        "" => Ok(Mode::Private),
        "host" => Ok(Mode::Host),
        m => Err(EngineError::Invalid(format!("invalid UTS mode: {m}"))),
    }
}

impl Engine {
    /// Checks the modes of a create request: known words, named containers that exist.
    pub(crate) fn check_namespace_modes(&self, hc: &HostConfig) -> Result<()> {
        for mode in [pid_mode(hc)?, ipc_mode(hc)?, uts_mode(hc)?] {
            if let Mode::Container(c) = mode {
                self.lookup(c)?;
            }
        }
        match hc.userns_mode.as_str() {
            // berth runs containers without a user namespace unless the runtime is told
            // otherwise, so `host` is what every container already gets.
            "" | "host" => Ok(()),
            m => Err(EngineError::Invalid(format!(
                "--userns={m} is not supported by berth: containers use the host's user \
                 namespace (userns remapping is not implemented)"
            ))),
        }
    }

    /// Applies the modes of `hc` to `spec`: drops a namespace shared with the host, points
    /// one at another container's, and gives `/dev/shm` the mode's meaning.
    pub(crate) fn apply_namespace_modes(
        &self,
        id: &str,
        hc: &HostConfig,
        spec: &mut Spec,
    ) -> Result<()> {
        let pid = self.namespace_target(pid_mode(hc)?, "pid", "PID")?;
        let ipc_mode = ipc_mode(hc)?;
        let ipc = self.namespace_target(ipc_mode.clone(), "ipc", "IPC")?;
        let uts = self.namespace_target(uts_mode(hc)?, "uts", "UTS")?;
        if let Some(linux) = spec.linux_mut() {
            let mut namespaces = linux.namespaces().clone().unwrap_or_default();
            for (typ, target) in [
                (LinuxNamespaceType::Pid, pid),
                (LinuxNamespaceType::Ipc, ipc),
                (LinuxNamespaceType::Uts, uts),
            ] {
                set_namespace(&mut namespaces, typ, target);
            }
            linux.set_namespaces(Some(namespaces));
        }
        if hc.uts_mode == "host" {
            // The host's hostname stays; the spec may not set one without a UTS namespace.
            spec.set_hostname(None);
            spec.set_domainname(None);
        }
        let mut mounts = spec.mounts().clone().unwrap_or_default();
        let shm = Path::new("/dev/shm");
        let shm_source = match ipc_mode {
            Mode::Host => Some(PathBuf::from("/dev/shm")),
            Mode::Shareable => Some(self.mount_shareable_shm(id, hc.shm_size)?),
            Mode::Container(c) => {
                let donor = self.lookup(c)?;
                if donor.record().host_config.ipc_mode != "shareable" {
                    return Err(EngineError::Invalid(
                        "non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
                            .into(),
                    ));
                }
                Some(self.shm_dir(&donor.id))
            }
            Mode::IpcNone | Mode::Private => None,
        };
        if ipc_mode == Mode::IpcNone || shm_source.is_some() {
            mounts.retain(|m| m.destination() != shm);
        }
        if let Some(src) = shm_source {
            mounts.push(bind_mount(&src, shm));
        }
        spec.set_mounts(Some(mounts));
        Ok(())
    }

    /// Where a shareable container's `/dev/shm` is mounted on the host.
    fn shm_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("shm")
    }

    /// Mounts the host-side tmpfs of a shareable container's `/dev/shm`.
    fn mount_shareable_shm(&self, id: &str, size: i64) -> Result<PathBuf> {
        let dir = self.shm_dir(id);
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("create", &dir, e))?;
        let bytes = if size > 0 {
            size
        } else {
            berth_runtime::defaults::SHM_SIZE_BYTES as i64
        };
        let data = format!("mode=1777,size={}k", bytes / 1024);
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        if !is_mount_point(&dir) {
            mount(Some("shm"), &dir, Some("tmpfs"), flags, Some(data.as_str()))
                .map_err(|e| EngineError::io("mount tmpfs on", &dir, std::io::Error::from(e)))?;
        }
        Ok(dir)
    }

    /// Unmounts and removes a shareable container's `/dev/shm` (nothing when it has none).
    pub(crate) fn release_shm(&self, id: &str) -> Result<()> {
        let dir = self.shm_dir(id);
        if is_mount_point(&dir) {
            umount2(&dir, MntFlags::MNT_DETACH)
                .map_err(|e| EngineError::io("unmount", &dir, std::io::Error::from(e)))?;
        }
        match std::fs::remove_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(EngineError::io("remove", &dir, e))
            }
            _ => Ok(()),
        }
    }

    /// `None` for the host's namespace, `Some(None)` for a new one, `Some(Some(path))` to
    /// join another container's.
    fn namespace_target(
        &self,
        mode: Mode<'_>,
        proc_name: &str,
        what: &str,
    ) -> Result<Option<Option<PathBuf>>> {
        Ok(match mode {
            Mode::Private | Mode::Shareable | Mode::IpcNone => Some(None),
            Mode::Host => None,
            Mode::Container(c) => {
                let init = self.running_init(c, what)?;
                Some(Some(PathBuf::from(format!("/proc/{init}/ns/{proc_name}"))))
            }
        })
    }

    /// The pid of the running init of container `name`, or dockerd's error.
    fn running_init(&self, name: &str, what: &str) -> Result<i64> {
        let c = self.lookup(name)?;
        let rec = c.record();
        if !c.status().has_process() || rec.state.pid <= 0 {
            return Err(EngineError::Invalid(format!(
                "cannot join {what} of a non running container: {}",
                c.id
            )));
        }
        Ok(rec.state.pid)
    }
}

/// Whether `dir` is the root of a mount (its device differs from its parent's).
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(own), Some(Ok(parent))) = (
        std::fs::symlink_metadata(dir),
        dir.parent().map(std::fs::symlink_metadata),
    ) else {
        return false;
    };
    own.dev() != parent.dev()
}

fn set_namespace(
    namespaces: &mut Vec<LinuxNamespace>,
    typ: LinuxNamespaceType,
    target: Option<Option<PathBuf>>,
) {
    namespaces.retain(|n| n.typ() != typ);
    if let Some(path) = target {
        let mut ns = LinuxNamespace::default();
        ns.set_typ(typ);
        ns.set_path(path);
        namespaces.push(ns);
    }
}

fn bind_mount(src: &Path, dst: &Path) -> Mount {
    let mut m = Mount::default();
    m.set_destination(dst.to_path_buf());
    m.set_typ(Some("bind".to_owned()));
    m.set_source(Some(src.to_path_buf()));
    m.set_options(Some(vec!["rbind".to_owned(), "rprivate".to_owned()]));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_dockerd_spells_them() {
        let hc = |pid: &str, ipc: &str, uts: &str| HostConfig {
            pid_mode: pid.into(),
            ipc_mode: ipc.into(),
            uts_mode: uts.into(),
            ..HostConfig::default()
        };
        assert_eq!(pid_mode(&hc("host", "", "")).unwrap(), Mode::Host);
        assert_eq!(
            pid_mode(&hc("container:web", "", "")).unwrap(),
            Mode::Container("web")
        );
        assert_eq!(ipc_mode(&hc("", "shareable", "")).unwrap(), Mode::Shareable);
        assert_eq!(ipc_mode(&hc("", "none", "")).unwrap(), Mode::IpcNone);
        assert_eq!(uts_mode(&hc("", "", "host")).unwrap(), Mode::Host);
        for bad in [hc("hots", "", ""), hc("container:", "", "")] {
            assert!(pid_mode(&bad).is_err());
        }
        assert!(ipc_mode(&hc("", "container", "")).is_err());
        assert_eq!(
            uts_mode(&hc("", "", "container:x"))
                .unwrap_err()
                .to_string(),
            "invalid UTS mode: container:x"
        );
    }
}
