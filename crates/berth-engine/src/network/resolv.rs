//! The container's `/etc/resolv.conf` as its networks want it: on a network with DNS,
//! `nameserver 127.0.0.11` (its resolver, which forwards other names to `--dns` or the host's
//! resolvers) with `options ndots:0` as docker writes it; otherwise the host's resolvers
//! (`etcfiles::resolv_conf`). Rewritten in place on `network connect`/`disconnect`: the file is
//! bind-mounted, so a rename would leave the container the old inode.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};

use berth_api::container::HostConfig;
use berth_net::dns::RESOLVER_IP;

use crate::error::{EngineError, Result};
use crate::etcfiles;
use crate::model::ContainerRecord;
use crate::table::Engine;

/// Where the container's resolver forwards what is not a container's name: its `--dns`
/// servers (empty: the driver's default, the host's resolvers).
pub(crate) fn dns_upstreams(hc: &HostConfig) -> Vec<SocketAddr> {
    hc.dns
        .iter()
        .flatten()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// The resolv.conf text: the embedded resolver's when `embedded`, else the host's.
pub(crate) fn text(hc: &HostConfig, embedded: bool) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let base = etcfiles::resolv_conf(&host, hc);
    if !embedded {
        return base;
    }
    let mut out = format!("nameserver {RESOLVER_IP}\n");
    let mut options = None;
    for line in base.lines() {
        if line.starts_with("nameserver") {
            continue;
        }
        if let Some(o) = line.strip_prefix("options") {
            options = Some(o.trim().to_owned());
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    // docker's default: a short name is tried as-is first (a container's name answers at
    // once) instead of after every search domain, each forwarded upstream.
    let options = match options {
        Some(o) if o.split_whitespace().any(|w| w.starts_with("ndots:")) => o,
        Some(o) => format!("ndots:0 {o}"),
        None => "ndots:0".to_owned(),
    };
    out.push_str(&format!("options {options}\n"));
    out
}

impl Engine {
    /// Writes the container's resolv.conf for its networks, in place.
    pub(crate) fn write_resolv_conf(&self, rec: &ContainerRecord, embedded: bool) -> Result<()> {
        let path = self.dir(&rec.id).join(etcfiles::RESOLV_CONF);
        let body = text(&self.with_default_dns(&rec.host_config), embedded);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| EngineError::io("open", &path, e))?;
        f.write_all(body.as_bytes())
            .map_err(|e| EngineError::io("write", &path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_resolver_with_ndots_0_and_upstreams_from_dns() {
        let hc = HostConfig {
            dns: Some(vec!["10.9.9.9".into(), "bad".into()]),
            dns_search: Some(vec!["example.org".into()]),
            ..HostConfig::default()
        };
        let t = text(&hc, true);
        assert!(t.starts_with("nameserver 127.0.0.11\n"), "{t}");
        assert!(!t.contains("10.9.9.9"), "{t}");
        assert!(t.contains("search example.org\n") && t.contains("options ndots:0\n"));
        assert_eq!(
            dns_upstreams(&hc),
            vec!["10.9.9.9:53".parse::<SocketAddr>().unwrap()]
        );
        let own = HostConfig {
            dns_options: Some(vec!["ndots:3".into()]),
            ..HostConfig::default()
        };
        assert!(text(&own, true).contains("options ndots:3\n"));
        assert!(text(&hc, false).contains("nameserver 10.9.9.9"));
    }
}
