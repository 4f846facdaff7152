//! What a container asks of one network beyond aliases: a static IPv4 address (`--ip`), a MAC
//! address, links (`--link NAME:ALIAS`, an alias only this container resolves) and driver
//! options, checked as dockerd checks them before anything is made.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use berth_api::container::EndpointSettings;
use berth_net::Network;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// A container's settings on one network, as recorded at create or connect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EndpointOpts {
    /// `--ip`.
    #[serde(default)]
    pub ipv4: Option<Ipv4Addr>,
    /// `--mac-address`, lower-case.
    #[serde(default)]
    pub mac: Option<String>,
    /// `NAME:ALIAS` (ALIAS is NAME when not given).
    #[serde(default)]
    pub links: Vec<String>,
    /// Endpoint driver options, kept for inspect.
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
}

impl EndpointOpts {
    /// The MAC as bytes.
    pub fn mac_bytes(&self) -> Option<[u8; 6]> {
        self.mac.as_deref().and_then(parse_mac)
    }

    /// The links as (alias, name).
    pub fn link_pairs(&self) -> Vec<(String, String)> {
        self.links
            .iter()
            .filter_map(|l| l.split_once(':'))
            .map(|(name, alias)| (alias.to_owned(), name.to_owned()))
            .collect()
    }
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| {
            (p.len() == 2)
                .then(|| u8::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    parts.try_into().ok()
}

/// dockerd's wrapping of an endpoint's errors.
fn invalid(net: &str, msg: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid(format!(
        "invalid config for network {net}: invalid endpoint settings:\n{msg}"
    ))
}

/// Checks `ep` against `net` (and, for the container's primary network, `host_links`, the
/// `HostConfig.Links` the CLI sends for `--link`).
pub(crate) fn check(
    net: &Network,
    ep: Option<&EndpointSettings>,
    host_links: &[String],
) -> Result<EndpointOpts> {
    let mut out = EndpointOpts::default();
    let user_defined = net.name != "bridge";
    let links: Vec<&String> = ep
        .and_then(|e| e.links.as_ref())
        .into_iter()
        .flatten()
        .chain(host_links)
        .collect();
    if !links.is_empty() && !user_defined {
        return Err(EngineError::Invalid(
            "--link is not supported by berth on the default bridge (legacy links); use a user-defined network, whose names resolve".into(),
        ));
    }
    for l in links {
        let (name, alias) = l.split_once(':').unwrap_or((l, l));
        let (name, alias) = (name.trim_start_matches('/'), alias.trim_start_matches('/'));
        if name.is_empty() || alias.is_empty() {
            return Err(EngineError::Invalid(format!("invalid link: {l}")));
        }
        let link = format!("{name}:{alias}");
        if !out.links.contains(&link) {
            out.links.push(link);
        }
    }
    let Some(ep) = ep else {
        return Ok(out);
    };
    if let Some(ipam) = &ep.ipam_config {
        if !ipam.ipv6_address.is_empty() {
            return Err(invalid(
                &net.name,
                "IPv6 addresses are not supported by berth yet (--ip6)",
            ));
        }
        if ipam.link_local_ips.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(invalid(
                &net.name,
                "link-local addresses are not supported by berth (--link-local-ip)",
            ));
        }
        if !ipam.ipv4_address.is_empty() {
            let ip: Ipv4Addr = ipam
                .ipv4_address
                .parse()
                .ok()
                .filter(|ip: &Ipv4Addr| !ip.is_unspecified())
                .ok_or_else(|| {
                    invalid(
                        &net.name,
                        format!("invalid IPv4 address: {}", ipam.ipv4_address),
                    )
                })?;
            if !user_defined {
                return Err(EngineError::Invalid(
                    "user specified IP address is supported on user defined networks only".into(),
                ));
            }
            net.addresses
                .check_static(ip)
                .map_err(|e| invalid(&net.name, e))?;
            out.ipv4 = Some(ip);
        }
    }
    if !ep.mac_address.is_empty() {
        let mac = parse_mac(&ep.mac_address).ok_or_else(|| {
            invalid(
                &net.name,
                format!("invalid MAC address: {}", ep.mac_address),
            )
        })?;
        if mac[0] & 1 != 0 {
            return Err(invalid(
                &net.name,
                format!(
                    "invalid MAC address: {} (a multicast address)",
                    ep.mac_address
                ),
            ));
        }
        out.mac = Some(ep.mac_address.to_ascii_lowercase());
    }
    let opts = ep.driver_opts.clone().unwrap_or_default();
    let refused: Vec<&String> = opts
        .keys()
        .filter(|k| k.starts_with("com.docker.network."))
        .collect();
    if !refused.is_empty() {
        return Err(EngineError::Invalid(format!(
            "endpoint driver options not supported by berth: {}",
            refused
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    out.driver_opts = opts;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::EndpointIpamConfig;

    fn net(name: &str, user_subnet: bool) -> Network {
        let mut addresses = berth_net::ipam::Addresses::new("172.28.0.0/16".parse().unwrap(), None)
            .unwrap()
            .with_range(Some("172.28.5.0/24".parse().unwrap()), BTreeMap::new())
            .unwrap();
        addresses.user_subnet = user_subnet;
        Network {
            name: name.into(),
            id: "id".into(),
            bridge: "b".into(),
            addresses,
            internal: false,
            dns: true,
            labels: BTreeMap::new(),
            mtu: 1500,
        }
    }

    fn ep(ip: &str) -> EndpointSettings {
        EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: ip.into(),
                ..EndpointIpamConfig::default()
            }),
            ..EndpointSettings::default()
        }
    }

    #[test]
    fn static_addresses_are_checked_with_dockerds_messages() {
        let n = net("front", true);
        assert_eq!(
            check(&n, Some(&ep("172.28.5.24")), &[]).unwrap().ipv4,
            Some(Ipv4Addr::new(172, 28, 5, 24))
        );
        let e = check(&n, Some(&ep("172.28.1.9")), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid config for network front: invalid endpoint settings:\nno configured subnet or ip-range contain the IP address 172.28.1.9"
        );
        let e = check(&net("auto", false), Some(&ep("172.28.5.24")), &[]).unwrap_err();
        assert!(
            e.to_string().ends_with(
                "user specified IP address is supported only when connecting to networks with user configured subnets"
            ),
            "{e}"
        );
        assert!(check(&n, Some(&ep("300.1.1.1")), &[]).is_err());
    }

    #[test]
    fn mac_links_and_driver_opts() {
        let n = net("front", true);
        let e = EndpointSettings {
            mac_address: "02:42:AC:11:00:02".into(),
            links: Some(vec!["up:bar".into()]),
            driver_opts: Some(BTreeMap::from([(
                "com.docker-py.setting".into(),
                "on".into(),
            )])),
            ..EndpointSettings::default()
        };
        let o = check(&n, Some(&e), &["/db".into()]).unwrap();
        assert_eq!(o.mac.as_deref(), Some("02:42:ac:11:00:02"));
        assert_eq!(o.links, ["up:bar", "db:db"]);
        assert_eq!(o.link_pairs()[0], ("bar".to_owned(), "up".to_owned()));
        let bad = EndpointSettings {
            driver_opts: Some(BTreeMap::from([(
                "com.docker.network.endpoint.sysctls".into(),
                "x".into(),
            )])),
            ..EndpointSettings::default()
        };
        assert!(
            check(&n, Some(&bad), &[])
                .unwrap_err()
                .to_string()
                .contains("com.docker.network.endpoint.sysctls")
        );
        assert!(check(&net("bridge", false), None, &["a:b".into()]).is_err());
    }
}
