//! The files docker bind-mounts over the image's: `/etc/hostname`, `/etc/hosts` and
//! `/etc/resolv.conf`, written under `DATA_ROOT/containers/<id>/` (each replaced whole).
//!
//! At create they are written for a container without an address: `/etc/hosts` has docker's
//! localhost lines, the hostname on 127.0.0.1 and the `--add-host` lines; `resolv.conf` is the
//! host's without loopback nameservers (unreachable from another namespace), or docker's
//! fallback. A container on a bridge network gets them rewritten at start, connect and
//! disconnect by [`crate::network`] (its address in `hosts`, the embedded resolver at
//! 127.0.0.11 on user networks).

use std::path::Path;

use berth_api::container::HostConfig;

use crate::error::{EngineError, Result};

/// File names inside the container directory.
pub const HOSTNAME: &str = "hostname";
/// See [`HOSTNAME`].
pub const HOSTS: &str = "hosts";
/// See [`HOSTNAME`].
pub const RESOLV_CONF: &str = "resolv.conf";

/// Replaces a file the container sees (hosts, resolv.conf, ...) whole.
pub(crate) fn write_atomic(path: &Path, body: &str) -> Result<()> {
    berth_runtime::fsutil::write_atomic(path, body.as_bytes(), Default::default())
        .map_err(|e| EngineError::io("write", path, e))
}

/// docker's `/etc/hosts` for a container without a network address.
pub fn hosts(hostname: &str, extra: &[String]) -> String {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    for e in extra {
        // `host:ip` (the IP may contain colons).
        if let Some((host, ip)) = e.split_once(':') {
            s.push_str(&format!("{ip}\t{host}\n"));
        }
    }
    s.push_str(&format!("127.0.0.1\t{hostname}\n"));
    s
}

/// The container's resolv.conf from the host's and the request's DNS settings.
pub fn resolv_conf(host: &str, hc: &HostConfig) -> String {
    let mut nameservers: Vec<String> = Vec::new();
    let mut search: Vec<String> = Vec::new();
    let mut options: Vec<String> = Vec::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ns) = words.next()
                    && !ns.starts_with("127.")
                    && ns != "::1"
                {
                    nameservers.push(ns.to_owned());
                }
            }
            Some("search") | Some("domain") => search = words.map(str::to_owned).collect(),
            Some("options") => options.extend(words.map(str::to_owned)),
            _ => {}
        }
    }
    if let Some(dns) = hc.dns.as_ref().filter(|d| !d.is_empty()) {
        nameservers = dns.clone();
    }
    if nameservers.is_empty() {
        nameservers = vec!["8.8.8.8".to_owned(), "8.8.4.4".to_owned()];
    }
    if let Some(s) = hc.dns_search.as_ref().filter(|d| !d.is_empty()) {
        search = s.clone();
    }
    if let Some(o) = hc.dns_options.as_ref().filter(|d| !d.is_empty()) {
        options = o.clone();
    }
    let mut out = String::new();
    for ns in &nameservers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

/// Writes the three files into `dir`.
pub fn write_all(dir: &Path, hostname: &str, hc: &HostConfig) -> Result<()> {
    write_atomic(&dir.join(HOSTNAME), &format!("{hostname}\n"))?;
    write_atomic(
        &dir.join(HOSTS),
        &hosts(hostname, hc.extra_hosts.as_deref().unwrap_or_default()),
    )?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    write_atomic(&dir.join(RESOLV_CONF), &resolv_conf(&host, hc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_drops_loopback_and_falls_back() {
        let hc = HostConfig::default();
        let r = resolv_conf("nameserver 127.0.0.53\nsearch example.com\n", &hc);
        assert_eq!(
            r,
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch example.com\n"
        );
        let r = resolv_conf("nameserver 10.0.0.1\noptions ndots:2\n", &hc);
        assert_eq!(r, "nameserver 10.0.0.1\noptions ndots:2\n");
        let hc = HostConfig {
            dns: Some(vec!["1.1.1.1".into()]),
            ..HostConfig::default()
        };
        assert_eq!(resolv_conf("", &hc), "nameserver 1.1.1.1\n");
    }

    #[test]
    fn hosts_has_localhost_and_extras() {
        let h = hosts("abc", &["db:10.0.0.2".into()]);
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.2\tdb\n"));
        assert!(h.ends_with("127.0.0.1\tabc\n"));
    }
}
