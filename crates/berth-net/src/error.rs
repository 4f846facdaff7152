//! The driver's errors: one variant per failing step, a [`kind`](Error::kind) for the engine's
//! mapping onto HTTP status codes, and teardown failures collected, never stopped at the first.

use std::net::SocketAddrV4;

use crate::dns::DnsError;
use crate::firewall::FirewallError;
use crate::ipam::IpamError;
use crate::netlink::NetlinkError;

/// Errors of the driver.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Address management refused.
    #[error(transparent)]
    Ipam(#[from] IpamError),
    /// A netlink job failed.
    #[error("netlink")]
    Netlink(#[from] NetlinkError),
    /// A firewall change failed.
    #[error("firewall")]
    Firewall(#[from] FirewallError),
    /// The DNS server could not start.
    #[error("dns server")]
    Dns(#[from] DnsError),
    /// A bridge name the kernel would refuse.
    #[error("invalid bridge name {0:?} (1 to 15 characters, no '/' or whitespace)")]
    BridgeName(String),
    /// The host port is taken (docker's message).
    #[error("Bind for {addr} failed: port is already allocated")]
    PortAllocated {
        /// The host address and port.
        addr: SocketAddrV4,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
    /// The veth of an earlier run of the container is still being deleted in the background
    /// (see [`crate::LinkTeardown::Background`]); attaching now could race that deletion.
    #[error("veth {0} of an earlier run of this container is still being deleted; try again")]
    StillDeleting(String),
    /// A link of the bridge's name exists with another address (another daemon's, or
    /// left behind): reused only when its address matches, as dockerd does.
    #[error(
        "bridge {bridge} already exists{}: it is reused only when its address matches; choose another bridge name (--bridge) or remove it (ip link del {bridge})",
        if .addresses.is_empty() { String::new() } else { format!(" with address {}", .addresses.join(", ")) }
    )]
    BridgeExists {
        /// The bridge's name.
        bridge: String,
        /// Its IPv4 addresses.
        addresses: Vec<String>,
    },
    /// The network still has attachments.
    #[error("error while removing network: network {0} has active endpoints")]
    InUse(String),
    /// An operation failed and so did part of undoing it.
    #[error("{cause} (and cleanup failed: {})", list(cleanup))]
    CleanupFailed {
        /// The first failure.
        #[source]
        cause: Box<Error>,
        /// Every failure while undoing.
        cleanup: Vec<TeardownError>,
    },
    /// Teardown failed; every failure is listed.
    #[error("teardown failed: {}", list(.0))]
    Teardown(Vec<TeardownError>),
}

/// The class of an error, for the engine's mapping onto HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input (a subnet, gateway, address or bridge name): 400.
    InvalidArgument,
    /// Refused by a rule (an overlapping pool, a network in use): 403, as docker answers.
    Forbidden,
    /// Something already taken (an address, a host port, a link name).
    Conflict,
    /// The host failed (netlink, nft, sysctl, DNS socket, teardown): 500.
    Internal,
}

impl Error {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Ipam(e) => match e {
                IpamError::PoolOverlap { .. } | IpamError::PoolExhausted => ErrorKind::Forbidden,
                IpamError::AddressInUse(_) => ErrorKind::Conflict,
                IpamError::Exhausted(_) => ErrorKind::Forbidden,
                IpamError::InvalidPool { .. }
                | IpamError::BadRange { .. }
                | IpamError::BadAux { .. }
                | IpamError::StaticOnDynamic(_)
                | IpamError::NotInRange(_)
                | IpamError::SubnetTooSmall(_)
                | IpamError::BadGateway { .. }
                | IpamError::BadAddress { .. } => ErrorKind::InvalidArgument,
            },
            Error::BridgeName(_) => ErrorKind::InvalidArgument,
            Error::InUse(_) => ErrorKind::Forbidden,
            Error::PortAllocated { .. }
            | Error::Netlink(NetlinkError::LinkExists(_))
            | Error::BridgeExists { .. } => ErrorKind::Conflict,
            Error::CleanupFailed { cause, .. } => cause.kind(),
            Error::Netlink(_)
            | Error::Firewall(_)
            | Error::Dns(_)
            | Error::Teardown(_)
            | Error::StillDeleting(_) => ErrorKind::Internal,
        }
    }
}

fn list(errs: &[TeardownError]) -> String {
    errs.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One failure during teardown.
#[derive(Debug, thiserror::Error)]
pub enum TeardownError {
    /// Deleting a link failed.
    #[error("delete link {name}: {source}")]
    Link {
        /// The link.
        name: String,
        /// The error.
        #[source]
        source: NetlinkError,
    },
    /// Removing firewall rules failed.
    #[error("remove firewall rules of {what}: {source}")]
    Firewall {
        /// What the rules were for.
        what: String,
        /// The error.
        #[source]
        source: FirewallError,
    },
}

/// `cause`, with the failures of undoing it when there were any.
pub(crate) fn with_cleanup(cause: Error, cleanup: Vec<TeardownError>) -> Error {
    if cleanup.is_empty() {
        cause
    } else {
        Error::CleanupFailed {
            cause: Box::new(cause),
            cleanup,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let overlap = Error::Ipam(IpamError::PoolOverlap {
            subnet: "10.0.0.0/24".parse().unwrap_or_default(),
            with: "x".into(),
        });
        assert_eq!(overlap.kind(), ErrorKind::Forbidden);
        assert_eq!(Error::InUse("n".into()).kind(), ErrorKind::Forbidden);
        assert_eq!(
            Error::BridgeName("".into()).kind(),
            ErrorKind::InvalidArgument
        );
    }
}
