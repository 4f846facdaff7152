//! Which sysctls a container may set: only those the kernel keeps per namespace, and only
//! when the container has that namespace of its own (runc's rule). Anything else would be
//! written to the host's value through the container's `/proc/sys` (`kernel.core_pattern`,
//! `vm.*`): a container changing the host.
//!
//! A pure function over the key and the container's namespaces, shared by the runtime's
//! spec validation and the engine's create-time check.

/// The namespaces that decide whether a sysctl is the container's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnNamespaces {
    /// The container has its own IPC namespace.
    pub ipc: bool,
    /// The container has a network namespace that is not the host's (its own, or another
    /// container's).
    pub net: bool,
    /// The container has its own UTS namespace.
    pub uts: bool,
}

/// Why a sysctl is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SysctlError {
    /// An IPC sysctl for a container that shares the host's IPC namespace.
    #[error("sysctl {0:?} is not allowed in the host's ipc namespace")]
    HostIpc(String),
    /// A `net.*` sysctl for a container in the host's network namespace.
    #[error("sysctl {0:?} is not allowed in the host's network namespace")]
    HostNet(String),
    /// `kernel.hostname`, which the hostname field sets.
    #[error("sysctl {0:?} is not allowed as it conflicts with the hostname setting")]
    Hostname(String),
    /// A sysctl the kernel does not keep per namespace: it would change the host.
    #[error("sysctl {0:?} is not in a separate kernel namespace: it would change the host")]
    NotNamespaced(String),
    /// A key that is not a sysctl name (empty, `..`, `/`).
    #[error("sysctl {0:?} is not a valid name")]
    InvalidName(String),
}

/// The IPC sysctls the kernel keeps per IPC namespace (besides `fs.mqueue.*`).
const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Checks that `key` may be set in a container with namespaces `own`.
pub fn check(key: &str, own: OwnNamespaces) -> Result<(), SysctlError> {
    let valid_name = !key.is_empty()
        && key
            .split(['.', '/'])
            .all(|part| !part.is_empty() && part != "..")
        && !key.starts_with('/');
    if !valid_name {
        return Err(SysctlError::InvalidName(key.to_owned()));
    }
    // `net/ipv4/ip_forward` and `net.ipv4.ip_forward` name the same file.
    let dotted = key.replace('/', ".");
    if IPC_SYSCTLS.contains(&dotted.as_str()) || dotted.starts_with("fs.mqueue.") {
        return if own.ipc {
            Ok(())
        } else {
            Err(SysctlError::HostIpc(key.to_owned()))
        };
    }
    if dotted.starts_with("net.") {
        return if own.net {
            Ok(())
        } else {
            Err(SysctlError::HostNet(key.to_owned()))
        };
    }
    match dotted.as_str() {
        "kernel.domainname" if own.uts => Ok(()),
        "kernel.hostname" if own.uts => Err(SysctlError::Hostname(key.to_owned())),
        _ => Err(SysctlError::NotNamespaced(key.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: OwnNamespaces = OwnNamespaces {
        ipc: true,
        net: true,
        uts: true,
    };

    #[test]
    fn namespaced_sysctls_pass_with_their_namespace() {
        for key in [
            "kernel.shmmax",
            "kernel.sem",
            "fs.mqueue.msg_max",
            "net.ipv4.ip_forward",
            "net/ipv4/ip_forward",
            "kernel.domainname",
        ] {
            assert_eq!(check(key, ALL), Ok(()), "{key}");
        }
    }

    #[test]
    fn host_wide_sysctls_are_refused() {
        for key in [
            "kernel.core_pattern",
            "vm.overcommit_memory",
            "kernel.panic",
            "fs.file-max",
            "kernel.msgmaxx",
        ] {
            assert_eq!(
                check(key, ALL),
                Err(SysctlError::NotNamespaced(key.into())),
                "{key}"
            );
        }
        assert!(matches!(
            check("kernel.hostname", ALL),
            Err(SysctlError::Hostname(_))
        ));
    }

    #[test]
    fn a_shared_namespace_refuses_its_sysctls() {
        let none = OwnNamespaces::default();
        assert!(matches!(
            check("kernel.shmmax", none),
            Err(SysctlError::HostIpc(_))
        ));
        assert!(matches!(
            check("net.ipv4.ip_forward", none),
            Err(SysctlError::HostNet(_))
        ));
        assert!(matches!(
            check("kernel.domainname", none),
            Err(SysctlError::NotNamespaced(_))
        ));
    }

    #[test]
    fn names_that_leave_proc_sys_are_invalid() {
        for key in ["", "../../etc/passwd", "net..x", "/net/ipv4", "net/../../x"] {
            assert!(
                matches!(check(key, ALL), Err(SysctlError::InvalidName(_))),
                "{key:?}"
            );
        }
    }
}
