//! `-p`/`-P`/`--network` of create and run, `port`, and `network create|ls|inspect|rm|connect|
//! disconnect|prune`.

use std::collections::BTreeMap;

use anyhow::bail;
use berth_api::container::{EndpointSettings, NetworkingConfig, PortBinding};
use berth_api::network::{
    IpamConfig, NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse, NetworkResource,
};
use berth_image::config::port::{PortSpecError, Proto, parse_range, split_proto};
use hyper::Method;
use serde_json::Value;

use super::{error_line, print_rows, print_value};
use crate::cli::{NetworkArgs, NetworkCommand, PortArgs};
use crate::client::Client;

/// Port bindings per `PORT/PROTO`.
pub type Bindings = BTreeMap<String, Option<Vec<PortBinding>>>;

/// Parses `-p [ip:][hostPort[-range]:]containerPort[-range][/proto]` (tcp or udp) into
/// `bindings` and the exposed ports; the port ranges and the protocol are read as every port
/// spec is ([`berth_image::config::port`]).
pub fn parse_publish(spec: &str, bindings: &mut Bindings) -> anyhow::Result<()> {
    let (rest, proto) = split_proto(spec);
    let proto = match Proto::parse(proto) {
        Ok(p @ (Proto::Tcp | Proto::Udp)) => p,
        _ => bail!("invalid proto: {proto}"),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => bail!("invalid port format for --publish: {spec}"),
    };
    if !ip.is_empty() && ip.parse::<std::net::Ipv4Addr>().is_err() {
        bail!("invalid IP address: {ip}");
    }
    let (cs, ce) = match parse_range(container) {
        Ok((cs, ce)) if cs > 0 => (cs, ce),
        _ => bail!("invalid containerPort: {container}"),
    };
    let host_range = if host.is_empty() {
        None
    } else {
        // One host port or a range of the container range's length.
        match parse_range(host) {
            Ok((hs, he)) if hs == he || he - hs == ce - cs => Some((hs, he)),
            Err(PortSpecError::Port(_)) => bail!("invalid hostPort: {host}"),
            _ => bail!(
                "invalid ranges specified for container and host Ports: {container} and {host}"
            ),
        }
    };
    for (i, port) in (cs..=ce).enumerate() {
        let host_port = match host_range {
            None => String::new(),
            Some((hs, he)) if hs == he && ce != cs => format!("{hs}-{he}"),
            Some((hs, _)) => (hs as usize + i).to_string(),
        };
        bindings
            .entry(format!("{port}/{proto}"))
            .or_default()
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: ip.to_owned(),
                host_port,
            });
    }
    Ok(())
}

/// The `NetworkingConfig` for `--network NAME --network-alias A`.
pub fn networking_config(network: &str, aliases: &[String]) -> Option<NetworkingConfig> {
    if aliases.is_empty() {
        return None;
    }
    let mut eps = BTreeMap::new();
    eps.insert(
        network.to_owned(),
        EndpointSettings {
            aliases: Some(aliases.to_vec()),
            ..EndpointSettings::default()
        },
    );
    Some(NetworkingConfig {
        endpoints_config: Some(eps),
    })
}

/// `berth port CONTAINER [PORT[/PROTO]]`.
pub async fn port(client: &Client, args: &PortArgs) -> anyhow::Result<i32> {
    let v: Value = client
        .get(&format!("/containers/{}/json", args.container))
        .await?;
    let ports = v["NetworkSettings"]["Ports"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let want = args.port.as_ref().map(|p| {
        let (port, proto) = split_proto(p);
        format!("{port}/{proto}")
    });
    let mut found = false;
    for (key, binds) in &ports {
        if want.as_ref().is_some_and(|w| w != key) {
            continue;
        }
        for b in binds.as_array().into_iter().flatten() {
            found = true;
            let ip = b["HostIp"].as_str().unwrap_or("0.0.0.0");
            let hp = b["HostPort"].as_str().unwrap_or_default();
            if want.is_some() {
                println!("{ip}:{hp}");
            } else {
                println!("{key} -> {ip}:{hp}");
            }
        }
    }
    if !found && let Some(w) = want {
        bail!(
            "Error: No public port '{w}' published for {}",
            args.container
        );
    }
    Ok(0)
}

/// `berth network ...`.
pub async fn network(client: &Client, args: &NetworkArgs) -> anyhow::Result<i32> {
    match &args.command {
        NetworkCommand::Create {
            subnet,
            gateway,
            internal,
            label,
            driver,
            name,
        } => {
            let ipam = (subnet.is_some() || gateway.is_some()).then(|| berth_api::network::Ipam {
                driver: "default".into(),
                config: Some(vec![IpamConfig {
                    subnet: subnet.clone().unwrap_or_default(),
                    gateway: gateway.clone().unwrap_or_default(),
                    ip_range: String::new(),
                    auxiliary_addresses: None,
                }]),
                options: None,
            });
            let labels: BTreeMap<String, String> = label
                .iter()
                .map(|l| match l.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (l.clone(), String::new()),
                })
                .collect();
            let req = NetworkCreateRequest {
                name: name.clone(),
                check_duplicate: true,
                driver: driver.clone().unwrap_or_else(|| "bridge".into()),
                internal: *internal,
                ipam,
                labels: Some(labels),
                ..NetworkCreateRequest::default()
            };
            let r: NetworkCreateResponse = client.post_json("/networks/create", &req).await?;
            println!("{}", r.id);
            Ok(0)
        }
        NetworkCommand::Ls {
            filter,
            format,
            no_trunc,
            quiet,
        } => {
            let q = crate::client::query(&[("filters", super::filters_json(filter)?)]);
            let mut list: Vec<NetworkResource> = client.get(&format!("/networks{q}")).await?;
            // docker's CLI lists networks by name.
            list.sort_by(|a, b| a.name.cmp(&b.name));
            let rows: Vec<Value> = list
                .iter()
                .map(|n| {
                    let labels: Vec<String> =
                        n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let id = if *no_trunc {
                        n.id.as_str()
                    } else {
                        n.id.get(..12).unwrap_or(&n.id)
                    };
                    serde_json::json!({
                        "ID": id,
                        "Name": n.name,
                        "Driver": n.driver,
                        "Scope": n.scope,
                        "CreatedAt": crate::format::units::go_time_string(&n.created),
                        "IPv4": "false",
                        "IPv6": n.enable_ipv6.to_string(),
                        "Internal": n.internal.to_string(),
                        "Labels": labels.join(","),
                    })
                })
                .collect();
            let default = if *quiet {
                "{{.ID}}"
            } else {
                "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
            };
            print_rows(&rows, format.as_deref().or(Some(default)), default, |f| {
                Some(match f {
                    "ID" => "NETWORK ID",
                    "Name" => "NAME",
                    "Driver" => "DRIVER",
                    "Scope" => "SCOPE",
                    _ => return None,
                })
            })?;
            Ok(0)
        }
        NetworkCommand::Inspect { format, networks } => {
            let mut out = Vec::new();
            let mut code = 0;
            for n in networks {
                match client.get::<Value>(&format!("/networks/{n}")).await {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        eprintln!("{}", error_line(&e));
                        code = 1;
                    }
                }
            }
            match format {
                Some(f) => {
                    for v in &out {
                        print_value(v, Some(f))?;
                    }
                }
                None => println!("{}", serde_json::to_string_pretty(&out)?),
            }
            Ok(code)
        }
        NetworkCommand::Rm { networks } => {
            let mut code = 0;
            for n in networks {
                match client.call(Method::DELETE, &format!("/networks/{n}")).await {
                    Ok(_) => println!("{n}"),
                    Err(e) => {
                        eprintln!("{}", error_line(&e));
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        NetworkCommand::Connect {
            alias,
            network,
            container,
        } => {
            let body = serde_json::json!({
                "Container": container,
                "EndpointConfig": {"Aliases": alias},
            });
            client
                .post_json::<_, Value>(&format!("/networks/{network}/connect"), &body)
                .await?;
            Ok(0)
        }
        NetworkCommand::Disconnect {
            force,
            network,
            container,
        } => {
            let body = serde_json::json!({"Container": container, "Force": force});
            client
                .post_json::<_, Value>(&format!("/networks/{network}/disconnect"), &body)
                .await?;
            Ok(0)
        }
        NetworkCommand::Prune { force } => {
            if !force
                && !super::groups::confirm(
                    "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?",
                )?
            {
                return Ok(0);
            }
            let r: NetworkPruneResponse = client
                .post_json("/networks/prune", &serde_json::json!({}))
                .await?;
            let deleted = r.networks_deleted.unwrap_or_default();
            if !deleted.is_empty() {
                println!("Deleted Networks:");
                for n in deleted {
                    println!("{n}");
                }
                // docker prints its report with Println: a blank line ends it.
                println!();
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        let mut b = Bindings::new();
        parse_publish("127.0.0.1:8080:80", &mut b).unwrap();
        parse_publish("8000-8001:90-91/udp", &mut b).unwrap();
        parse_publish("443", &mut b).unwrap();
        parse_publish("53/UDP", &mut b).unwrap();
        assert!(b.contains_key("53/udp"));
        assert_eq!(b["80/tcp"].as_ref().unwrap()[0].host_ip, "127.0.0.1");
        assert_eq!(b["80/tcp"].as_ref().unwrap()[0].host_port, "8080");
        assert_eq!(b["91/udp"].as_ref().unwrap()[0].host_port, "8001");
        assert_eq!(b["443/tcp"].as_ref().unwrap()[0].host_port, "");
        assert!(parse_publish("8000-8002:80-81", &mut b).is_err());
        assert!(parse_publish("x:80", &mut b).is_err());
        assert!(parse_publish("80/sctpx", &mut b).is_err());
        let err = |s| {
            parse_publish(s, &mut Bindings::new())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err("80/sctp"), "invalid proto: sctp");
        assert_eq!(err("x:80"), "invalid hostPort: x");
        assert_eq!(err("0"), "invalid containerPort: 0");
        assert_eq!(err("81-80"), "invalid containerPort: 81-80");
        assert_eq!(
            err("90-80:80"),
            "invalid ranges specified for container and host Ports: 80 and 90-80"
        );
        assert_eq!(
            err("8000-8002:80-81"),
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"
        );
    }
}
