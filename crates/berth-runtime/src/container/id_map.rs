//! The uid and gid maps of a container's new user namespace, written by the parent.

use std::path::PathBuf;

use nix::unistd::Pid;
use oci_spec::runtime::LinuxIdMapping;

use crate::error::Error;

/// Write `maps` to `/proc/<pid>/<file>` (`uid_map` or `gid_map`).
pub(super) fn write_id_map(pid: Pid, file: &str, maps: &[LinuxIdMapping]) -> Result<(), Error> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    let text: String = maps
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect();
    std::fs::write(&path, text).map_err(|e| Error::IdMap(path, e))
}
