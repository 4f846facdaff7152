//! `-v`/`--mount`/`--tmpfs`/`--volumes-from` of create and run, and `volume create|ls|
//! inspect|rm|prune`, as the docker CLI sends and prints them.

use std::collections::BTreeMap;

use anyhow::bail;
use berth_api::container::{
    BindOptions, DriverConfig, EmptyObject, MountSpec, TmpfsOptions, VolumeOptions,
};
use berth_api::volume::{Volume, VolumeCreateOptions, VolumeListResponse, VolumePruneResponse};
use hyper::Method;
use serde_json::Value;

use super::{error_line, filters_json, print_rows, print_value};
use crate::cli::{CreateArgs, VolumeArgs, VolumeCommand};
use crate::client::{Client, enc, query};
use crate::format::units::{human_size, ram_in_bytes};

/// The storage part of a create request.
#[derive(Debug, Default)]
pub struct Storage {
    /// `-v SRC:DST[:OPTS]`.
    pub binds: Option<Vec<String>>,
    /// `-v DST` (anonymous volumes) go into the config's `Volumes`.
    pub volumes: Option<BTreeMap<String, EmptyObject>>,
    /// `--mount`.
    pub mounts: Option<Vec<MountSpec>>,
    /// `--tmpfs`.
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `--volumes-from`.
    pub volumes_from: Option<Vec<String>>,
}

fn some<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Splits the storage flags the way the docker CLI does: a `-v` with a source is a bind
/// (or named volume), a bare destination an anonymous volume.
pub fn mount_flags(args: &CreateArgs) -> anyhow::Result<Storage> {
    let mut binds = Vec::new();
    let mut volumes = BTreeMap::new();
    for v in &args.volume {
        if v.is_empty() {
            bail!(
                "invalid argument \"\" for \"-v, --volume\" flag: volume specification cannot be an empty string"
            );
        }
        if v.contains(':') {
            binds.push(v.clone());
        } else {
            volumes.insert(v.clone(), EmptyObject::default());
        }
    }
    let mut mounts = Vec::new();
    for m in &args.mount {
        mounts
            .push(parse_mount(m).map_err(|e| {
                anyhow::anyhow!("invalid argument {m:?} for \"--mount\" flag: {e}")
            })?);
    }
    let tmpfs: BTreeMap<String, String> = args
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((p, o)) => (p.to_owned(), o.to_owned()),
            None => (t.clone(), String::new()),
        })
        .collect();
    Ok(Storage {
        binds: some(binds),
        volumes: (!volumes.is_empty()).then_some(volumes),
        mounts: some(mounts),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        volumes_from: some(args.volumes_from.clone()),
    })
}

fn parse_bool(key: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" => Ok(true),
        "0" | "f" | "false" => Ok(false),
        _ => bail!("invalid value for {key}: {v}"),
    }
}

fn key_value(v: &str) -> (String, String) {
    match v.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => (v.to_owned(), String::new()),
    }
}

/// docker's `--mount` CSV (cli/opts/mount.go).
pub fn parse_mount(spec: &str) -> anyhow::Result<MountSpec> {
    let mut m = MountSpec {
        r#type: "volume".into(),
        ..MountSpec::default()
    };
    let mut bind = BindOptions::default();
    let mut vol = VolumeOptions::default();
    let mut tmpfs = TmpfsOptions::default();
    let (mut has_bind, mut has_vol, mut has_tmpfs) = (false, false, false);
    for field in spec.split(',') {
        let Some((key, val)) = field.split_once('=') else {
            match field.to_ascii_lowercase().as_str() {
                "readonly" | "ro" => m.read_only = true,
                "volume-nocopy" => {
                    vol.no_copy = true;
                    has_vol = true;
                }
                "bind-nonrecursive" => {
                    bind.non_recursive = true;
                    has_bind = true;
                }
                _ => bail!("invalid field '{field}' must be a key=value pair"),
            }
            continue;
        };
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "type" => m.r#type = val.to_owned(),
            "source" | "src" => m.source = val.to_owned(),
            "target" | "dst" | "destination" => m.target = val.to_owned(),
            "readonly" | "ro" => m.read_only = parse_bool(&key, val)?,
            "consistency" => m.consistency = val.to_owned(),
            "bind-propagation" => {
                bind.propagation = val.to_owned();
                has_bind = true;
            }
            "bind-nonrecursive" => {
                bind.non_recursive = parse_bool(&key, val)?;
                has_bind = true;
            }
            "bind-recursive" => {
                has_bind = true;
                match val {
                    "enabled" => {}
                    "disabled" => bind.non_recursive = true,
                    "writable" => bind.read_only_non_recursive = true,
                    "readonly" => bind.read_only_force_recursive = true,
                    _ => bail!(
                        "invalid value for {key}: {val} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"
                    ),
                }
            }
            "volume-subpath" => {
                vol.subpath = val.to_owned();
                has_vol = true;
            }
            "volume-nocopy" => {
                vol.no_copy = parse_bool(&key, val)?;
                has_vol = true;
            }
            "volume-label" => {
                let (k, v) = key_value(val);
                vol.labels.get_or_insert_with(BTreeMap::new).insert(k, v);
                has_vol = true;
            }
            "volume-driver" => {
                vol.driver_config
                    .get_or_insert_with(DriverConfig::default)
                    .name = val.to_owned();
                has_vol = true;
            }
            "volume-opt" => {
                let (k, v) = key_value(val);
                vol.driver_config
                    .get_or_insert_with(DriverConfig::default)
                    .options
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k, v);
                has_vol = true;
            }
            "tmpfs-size" => {
                tmpfs.size_bytes = ram_in_bytes(val)
                    .ok_or_else(|| anyhow::anyhow!("invalid value for {key}: {val}"))?;
                has_tmpfs = true;
            }
            "tmpfs-mode" => {
                tmpfs.mode = u32::from_str_radix(val, 8)
                    .map_err(|_| anyhow::anyhow!("invalid value for {key}: {val}"))?;
                has_tmpfs = true;
            }
            _ => bail!("unexpected key '{key}' in '{field}'"),
        }
    }
    if m.r#type.is_empty() {
        bail!("type is required");
    }
    if m.target.is_empty() {
        bail!("target is required");
    }
    for (set, kind, prefix) in [
        (has_bind, "bind", "bind"),
        (has_vol, "volume", "volume"),
        (has_tmpfs, "tmpfs", "tmpfs"),
    ] {
        if set && m.r#type != kind {
            bail!(
                "cannot mix '{prefix}-*' options with mount type '{}'",
                m.r#type
            );
        }
    }
    m.bind_options = has_bind.then_some(bind);
    m.volume_options = has_vol.then_some(vol);
    m.tmpfs_options = has_tmpfs.then_some(tmpfs);
    Ok(m)
}

/// `berth volume ...`.
pub async fn volume(client: &Client, args: &VolumeArgs) -> anyhow::Result<i32> {
    match &args.command {
        VolumeCommand::Create {
            driver,
            label,
            opt,
            name,
        } => {
            let req = VolumeCreateOptions {
                name: name.clone().unwrap_or_default(),
                driver: driver.clone(),
                driver_opts: Some(opt.iter().map(|o| key_value(o)).collect()),
                labels: Some(label.iter().map(|l| key_value(l)).collect()),
            };
            let v: Volume = client.post_json("/volumes/create", &req).await?;
            println!("{}", v.name);
            Ok(0)
        }
        VolumeCommand::Ls {
            filter,
            format,
            quiet,
        } => {
            let path = format!("/volumes{}", query(&[("filters", filters_json(filter)?)]));
            let list: VolumeListResponse = client.get(&path).await?;
            let rows: Vec<Value> = list
                .volumes
                .unwrap_or_default()
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "Name": v.name,
                        "Driver": v.driver,
                        "Scope": v.scope,
                        "Mountpoint": v.mountpoint,
                        "Labels": v.labels.iter().flatten()
                            .map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                        // Usage and cluster fields docker's row has; berth reports none.
                        "Availability": "N/A", "Group": "N/A", "Links": "N/A",
                        "Size": "N/A", "Status": "N/A",
                    })
                })
                .collect();
            let default = if *quiet {
                "{{.Name}}"
            } else {
                "table {{.Driver}}\t{{.Name}}"
            };
            print_rows(&rows, format.as_deref().or(Some(default)), default, |f| {
                Some(match f {
                    "Name" => "VOLUME NAME",
                    "Driver" => "DRIVER",
                    "Scope" => "SCOPE",
                    "Mountpoint" => "MOUNTPOINT",
                    "Labels" => "LABELS",
                    _ => return None,
                })
            })?;
            Ok(0)
        }
        VolumeCommand::Inspect { format, volumes } => {
            let mut out = Vec::new();
            let mut code = 0;
            for v in volumes {
                match client.get::<Value>(&format!("/volumes/{}", enc(v))).await {
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
        VolumeCommand::Rm { force, volumes } => {
            let mut code = 0;
            for v in volumes {
                let path = format!(
                    "/volumes/{}{}",
                    enc(v),
                    query(&[("force", force.then(|| "1".to_owned()))])
                );
                match client.call(Method::DELETE, &path).await {
                    Ok(_) => println!("{v}"),
                    Err(e) => {
                        eprintln!("{}", error_line(&e));
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
        VolumeCommand::Prune { all, filter, force } => {
            let what = if *all {
                "all local volumes not used by at least one container"
            } else {
                "anonymous local volumes not used by at least one container"
            };
            if !force
                && !super::groups::confirm(&format!(
                    "WARNING! This will remove {what}.\nAre you sure you want to continue?"
                ))?
            {
                return Ok(0);
            }
            let mut filter = filter.clone();
            if *all {
                filter.push("all=true".into());
            }
            let path = format!(
                "/volumes/prune{}",
                query(&[("filters", filters_json(&filter)?)])
            );
            let r: VolumePruneResponse = client.post_json(&path, &serde_json::json!({})).await?;
            let deleted = r.volumes_deleted.unwrap_or_default();
            if !deleted.is_empty() {
                println!("Deleted Volumes:");
                for n in deleted {
                    println!("{n}");
                }
                println!();
            }
            println!(
                "Total reclaimed space: {}",
                human_size(r.space_reclaimed as i64)
            );
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_csv_as_docker_reads_it() {
        let m = parse_mount("type=bind,src=/a,dst=/b,readonly,bind-propagation=rslave").unwrap();
        assert_eq!(
            (m.r#type.as_str(), m.source.as_str(), m.target.as_str()),
            ("bind", "/a", "/b")
        );
        assert!(m.read_only);
        assert_eq!(m.bind_options.unwrap().propagation, "rslave");
        let m = parse_mount("target=/d,volume-nocopy,volume-opt=type=tmpfs").unwrap();
        assert_eq!(m.r#type, "volume");
        let vo = m.volume_options.unwrap();
        assert!(vo.no_copy);
        assert_eq!(vo.driver_config.unwrap().options.unwrap()["type"], "tmpfs");
        let m = parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        let t = m.tmpfs_options.unwrap();
        assert_eq!((t.size_bytes, t.mode), (1 << 20, 0o1770));
        assert!(
            parse_mount("type=bind,src=/a")
                .unwrap_err()
                .to_string()
                .contains("target is required")
        );
        assert!(parse_mount("type=tmpfs,dst=/a,volume-nocopy").is_err());
        assert!(
            parse_mount("dst=/a,bogus=1")
                .unwrap_err()
                .to_string()
                .contains("unexpected key")
        );
    }
}
