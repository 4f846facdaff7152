//! Which namespaces a container gets: new ones are created by the `clone` flags, existing ones
//! (a `path` in the spec) are opened by the parent and joined with `setns` by the child, the
//! pid namespace by the parent around the `clone` so the child lands in it.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::Mode;
use oci_spec::runtime::LinuxNamespaceType;

/// A namespace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// Opening a namespace file failed.
    #[error("open {kind} namespace {path}")]
    Open {
        /// Namespace type.
        kind: &'static str,
        /// Its path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: nix::Error,
    },
    /// setns(2) failed.
    #[error("join {kind} namespace {path}")]
    Join {
        /// Namespace type.
        kind: &'static str,
        /// Its path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: nix::Error,
    },
    /// unshare(2) of the cgroup namespace failed.
    #[error("unshare cgroup namespace")]
    UnshareCgroup(#[source] nix::Error),
    /// This namespace type is not supported.
    #[error("{0} namespace is not supported")]
    Unsupported(&'static str),
}

/// A namespace to join, opened by the parent.
#[derive(Debug)]
pub struct Join {
    /// The namespace type's clone flag.
    pub flag: CloneFlags,
    /// Its short name ("net", "mnt", ...).
    pub kind: &'static str,
    /// Where it was opened from.
    pub path: PathBuf,
    /// The open namespace file.
    pub fd: OwnedFd,
}

/// The namespace plan of one container process.
#[derive(Debug)]
pub struct Plan {
    /// Flags for `clone`: the new namespaces except cgroup (unshared by the child later).
    pub clone_flags: CloneFlags,
    /// A new cgroup namespace is wanted: the child unshares it once in its cgroup.
    pub new_cgroup: bool,
    /// A new user namespace is created: the parent writes the id maps.
    pub new_user: bool,
    /// The pid namespace to create the child in (joined by the parent around clone).
    pub pid: Option<Join>,
    /// The user namespace to join (first).
    pub user: Option<Join>,
    /// The other namespaces to join, in order.
    pub others: Vec<Join>,
    /// A new or joined mount namespace exists (rootfs set-up is possible).
    pub new_mount: bool,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            clone_flags: CloneFlags::empty(),
            new_cgroup: false,
            new_user: false,
            pid: None,
            user: None,
            others: Vec::new(),
            new_mount: false,
        }
    }
}

/// Short name of a namespace type, as in /proc/<pid>/ns.
pub fn kind(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Time => "time",
    }
}

fn flag(t: LinuxNamespaceType) -> Result<CloneFlags, NamespaceError> {
    Ok(match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => return Err(NamespaceError::Unsupported("time")),
    })
}

/// Open a namespace file.
pub fn open_ns(t: LinuxNamespaceType, path: &Path) -> Result<Join, NamespaceError> {
    let kind = kind(t);
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).map_err(|source| {
        NamespaceError::Open {
            kind,
            path: path.into(),
            source,
        }
    })?;
    Ok(Join {
        flag: flag(t)?,
        kind,
        path: path.into(),
        fd,
    })
}

/// Plan the namespaces of a container's init from the spec's list.
pub fn plan(list: &[(LinuxNamespaceType, Option<PathBuf>)]) -> Result<Plan, NamespaceError> {
    let mut plan = Plan::default();
    for (t, path) in list {
        match path {
            None => {
                let f = flag(*t)?;
                match t {
                    LinuxNamespaceType::Cgroup => plan.new_cgroup = true,
                    _ => plan.clone_flags |= f,
                }
                plan.new_user |= *t == LinuxNamespaceType::User;
                plan.new_mount |= *t == LinuxNamespaceType::Mount;
            }
            Some(path) => {
                let join = open_ns(*t, path)?;
                match t {
                    LinuxNamespaceType::Pid => plan.pid = Some(join),
                    LinuxNamespaceType::User => plan.user = Some(join),
                    _ => {
                        plan.new_mount |= *t == LinuxNamespaceType::Mount;
                        plan.others.push(join)
                    }
                }
            }
        }
    }
    Ok(plan)
}

/// Plan an exec into the running process `pid`: join each of the spec's namespaces through
/// `/proc/<pid>/ns/<kind>`.
pub fn plan_exec(
    pid: nix::unistd::Pid,
    list: &[(LinuxNamespaceType, Option<PathBuf>)],
) -> Result<Plan, NamespaceError> {
    let mut plan = Plan::default();
    for (t, _) in list {
        if *t == LinuxNamespaceType::Time {
            continue;
        }
        let path = PathBuf::from(format!("/proc/{pid}/ns/{}", kind(*t)));
        let join = open_ns(*t, &path)?;
        match t {
            LinuxNamespaceType::Pid => plan.pid = Some(join),
            LinuxNamespaceType::User => plan.user = Some(join),
            // The mount namespace last: after it, /proc/<pid> may no longer resolve.
            _ => plan.others.push(join),
        }
    }
    plan.others
        .sort_by_key(|j| j.flag == CloneFlags::CLONE_NEWNS);
    Ok(plan)
}

/// Join a namespace.
pub fn join(j: &Join) -> Result<(), NamespaceError> {
    setns(j.fd.as_fd(), j.flag).map_err(|source| NamespaceError::Join {
        kind: j.kind,
        path: j.path.clone(),
        source,
    })
}

/// In the child: join the user namespace (if any), then the others.
pub fn join_all(plan: &Plan) -> Result<(), NamespaceError> {
    if let Some(user) = &plan.user {
        join(user)?;
    }
    for j in &plan.others {
        join(j)?;
    }
    Ok(())
}

/// In the child, once the parent put it in its cgroup: a new cgroup namespace rooted there.
pub fn unshare_cgroup() -> Result<(), NamespaceError> {
    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(NamespaceError::UnshareCgroup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_namespaces_become_clone_flags_but_cgroup_waits() {
        let list = [
            (LinuxNamespaceType::Pid, None),
            (LinuxNamespaceType::Cgroup, None),
            (LinuxNamespaceType::Mount, None),
            (LinuxNamespaceType::User, None),
        ];
        let plan = plan(&list).unwrap();
        assert_eq!(
            plan.clone_flags,
            CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUSER
        );
        assert!(plan.new_cgroup && plan.new_user && plan.new_mount);
    }

    #[test]
    fn joined_namespaces_are_opened() {
        let list = [(
            LinuxNamespaceType::Network,
            Some(PathBuf::from("/proc/self/ns/net")),
        )];
        let plan = plan(&list).unwrap();
        assert!(plan.clone_flags.is_empty());
        assert_eq!(plan.others.len(), 1);
        assert_eq!(plan.others[0].kind, "net");
    }

    #[test]
    fn a_missing_namespace_path_is_named() {
        let list = [(
            LinuxNamespaceType::Ipc,
            Some(PathBuf::from("/nonexistent/ns")),
        )];
        let err = plan(&list).unwrap_err().to_string();
        assert_eq!(err, "open ipc namespace /nonexistent/ns");
    }
}
