//! The embedded DNS of user-defined networks, as docker's: a resolver at `127.0.0.11:53`
//! inside each container's namespace (UDP and TCP, see [`resolver`]) answering A, AAAA and PTR
//! for the names on every network the container is on (each network's [`zone::Zone`]), and
//! forwarding every other query to the host's resolvers or the container's `--dns`.

pub(crate) mod registry;
pub(crate) mod resolver;
pub mod wire;
pub mod zone;

use std::net::SocketAddr;

pub use resolver::RESOLVER_IP;

/// Errors of the resolver.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// Binding a resolver socket failed.
    #[error("bind dns socket on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Configuring a socket failed.
    #[error("configure dns socket")]
    Socket(#[source] std::io::Error),
    /// Spawning a thread failed.
    #[error("spawn dns thread")]
    Thread(#[source] std::io::Error),
    /// A thread entering the container's namespace panicked.
    #[error("dns namespace thread panicked")]
    Panicked,
    /// Entering the container's namespace failed.
    #[error("enter the container's network namespace")]
    Setns(#[source] std::io::Error),
    /// The resolver's runtime could not be built.
    #[error("start the dns runtime")]
    Runtime(#[source] std::io::Error),
    /// The DNAT to the resolver could not be installed or removed.
    #[error("resolver firewall rules")]
    Firewall(#[from] crate::firewall::FirewallError),
}

/// The nameservers of a resolv.conf text.
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()).flatten()
        })
        .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers() {
        let ns = parse_resolv_conf("# c\nnameserver 10.1.1.1\nsearch x\nnameserver ::1\n");
        assert_eq!(
            ns,
            vec!["10.1.1.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()]
        );
    }
}
