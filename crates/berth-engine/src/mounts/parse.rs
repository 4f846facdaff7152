//! docker's mount syntaxes → [`MountRecord`]s, as moby's Linux parser reads them: `-v`
//! strings (`Binds`), `--mount` specs (`Mounts`), `--tmpfs` destinations and
//! `--volumes-from` entries, with dockerd's error messages. Pure: the only look at the host
//! is whether a `--mount type=bind` source exists.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use berth_api::container::MountSpec;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// What a mount point is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host path.
    #[default]
    Bind,
    /// A volume.
    Volume,
    /// A tmpfs made for the container (`--mount type=tmpfs`).
    Tmpfs,
}

impl MountKind {
    /// docker's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Volume => "volume",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// One mount point of a container, kept in its record (docker's `MountPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MountRecord {
    /// Bind, volume or tmpfs.
    pub kind: MountKind,
    /// Path in the container (clean, absolute).
    pub destination: String,
    /// Bind: the host path. Volume: its data directory (filled in when resolved).
    pub source: String,
    /// The volume's name (empty for an anonymous one until it is made).
    pub name: String,
    /// The volume's driver.
    pub driver: String,
    /// Writable.
    pub rw: bool,
    /// The `-v` mode string as given (`ro,Z`); `z` for volumes without one.
    pub mode: String,
    /// Bind propagation (`rprivate` unless asked).
    pub propagation: String,
    /// Propagation was asked for explicitly.
    pub explicit_propagation: bool,
    /// `bind-nonrecursive`.
    pub non_recursive: bool,
    /// Read-only only at the top (`bind-recursive=writable`).
    pub ro_non_recursive: bool,
    /// Copy the image's content into the volume when it is empty.
    pub copy_data: bool,
    /// Mount this path inside the volume instead of its root.
    pub subpath: String,
    /// tmpfs options (`size=64m,mode=1777`).
    pub tmpfs_data: String,
    /// A missing bind source is made (`-v`, `bind-create-src`) rather than refused.
    pub create_source: bool,
    /// The volume was made for this container without a name (`rm -v` removes it).
    pub anonymous: bool,
}

/// A parsed mount and what a volume made for it gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planned {
    /// The mount point.
    pub mount: MountRecord,
    /// Driver options of a volume made for it.
    pub driver_opts: BTreeMap<String, String>,
    /// Labels of a volume made for it.
    pub labels: BTreeMap<String, String>,
}

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "slave", "rslave", "shared", "rshared",
];

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

fn invalid_spec(raw: &str) -> String {
    format!("invalid volume specification: '{raw}'")
}

fn invalid_mode(mode: &str) -> EngineError {
    invalid(format!("invalid mode: {mode}"))
}

/// moby's `linuxValidMountMode`: each kind of option at most once.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0u8; 5];
    for o in mode.split(',') {
        let i = match o {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            p if PROPAGATIONS.contains(&p) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[i] += 1;
    }
    counts.iter().all(|c| *c <= 1)
}

fn mode_propagation(mode: &str) -> Option<&str> {
    mode.split(',').find(|o| PROPAGATIONS.contains(o))
}

/// `path.Clean` of an absolute path.
pub fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(n) => out.push(n.to_str().unwrap_or_default()),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    format!("/{}", out.join("/"))
}

/// moby's checks of a mount target: set, absolute, not `/`.
pub fn validate_target(target: &str) -> std::result::Result<(), String> {
    if target.is_empty() {
        return Err("field Target must not be empty".into());
    }
    if clean(target) == "/" && target.starts_with('/') {
        return Err("invalid specification: destination can't be '/'".into());
    }
    if !target.starts_with('/') {
        return Err(format!(
            "invalid mount path: '{target}' mount path must be absolute"
        ));
    }
    Ok(())
}

fn mount_config(kind: &str, err: impl std::fmt::Display) -> EngineError {
    invalid(format!("invalid mount config for type \"{kind}\": {err}"))
}

/// The local driver's volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_volume_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{name:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )))
    }
}

/// A `-v` string (moby `ParseMountRaw`): `dst`, `src:dst` or `src:dst:mode`; an absolute
/// source is a bind (made when missing), anything else a volume name.
pub fn parse_bind(raw: &str, volume_driver: &str) -> Result<Planned> {
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid(invalid_spec(raw)));
    }
    let (source, target, mode) = match parts.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] => {
            if valid_mode(dst) {
                return Err(invalid(invalid_spec(raw)));
            }
            (*src, *dst, "")
        }
        [src, dst, mode] => (*src, *dst, *mode),
        _ => return Err(invalid(invalid_spec(raw))),
    };
    if !valid_mode(mode) {
        return Err(invalid_mode(mode));
    }
    let bind = source.starts_with('/');
    let kind = if bind { "bind" } else { "volume" };
    let wrap = |e: String| invalid(format!("{}: {}", invalid_spec(raw), e));
    validate_target(target).map_err(|e| wrap(mount_config(kind, e).message()))?;
    let rw = !mode.split(',').any(|o| o == "ro");
    let mut m = MountRecord {
        destination: clean(target),
        rw,
        mode: mode.to_owned(),
        ..MountRecord::default()
    };
    if bind {
        m.kind = MountKind::Bind;
        m.source = clean(source);
        m.create_source = true;
        m.explicit_propagation = mode_propagation(mode).is_some();
        m.propagation = mode_propagation(mode).unwrap_or("rprivate").to_owned();
    } else {
        if !source.is_empty() {
            validate_volume_name(source).map_err(|e| wrap(e.message()))?;
        }
        m.kind = MountKind::Volume;
        m.name = source.to_owned();
        m.anonymous = source.is_empty();
        m.driver = volume_driver.to_owned();
        m.copy_data = !mode.split(',').any(|o| o == "nocopy");
        if m.mode.is_empty() {
            m.mode = "z".into();
        }
    }
    Ok(Planned {
        mount: m,
        ..Planned::default()
    })
}

/// A `--mount` spec (moby `ParseMountSpec`).
pub fn parse_spec(spec: &MountSpec) -> Result<Planned> {
    let kind = spec.r#type.as_str();
    let extra = |name: &str| mount_config(kind, format!("field {name} must not be specified"));
    if kind != "bind" && spec.bind_options.is_some() {
        return Err(extra("BindOptions"));
    }
    if kind != "volume" && spec.volume_options.is_some() {
        return Err(extra("VolumeOptions"));
    }
    if kind != "tmpfs" && spec.tmpfs_options.is_some() {
        return Err(extra("TmpfsOptions"));
    }
    validate_target(&spec.target).map_err(|e| mount_config(kind, e))?;
    let mut m = MountRecord {
        destination: clean(&spec.target),
        rw: !spec.read_only,
        ..MountRecord::default()
    };
    let mut planned = Planned::default();
    match kind {
        "bind" => {
            if spec.source.is_empty() {
                return Err(mount_config(kind, "field Source must not be empty"));
            }
            let opts = spec.bind_options.clone().unwrap_or_default();
            if !opts.propagation.is_empty() && !PROPAGATIONS.contains(&opts.propagation.as_str()) {
                return Err(mount_config(
                    kind,
                    format!("invalid propagation mode: {}", opts.propagation),
                ));
            }
            if !spec.source.starts_with('/') {
                return Err(mount_config(
                    kind,
                    format!(
                        "invalid mount path: '{}' mount path must be absolute",
                        spec.source
                    ),
                ));
            }
            if opts.read_only_non_recursive && opts.read_only_force_recursive {
                return Err(invalid(
                    "mount options conflict: ReadOnlyNonRecursive && ReadOnlyForceRecursive",
                ));
            }
            if !opts.create_mountpoint && std::fs::symlink_metadata(&spec.source).is_err() {
                return Err(mount_config(
                    kind,
                    format!("bind source path does not exist: {}", spec.source),
                ));
            }
            m.kind = MountKind::Bind;
            m.source = clean(&spec.source);
            m.create_source = opts.create_mountpoint;
            m.explicit_propagation = !opts.propagation.is_empty();
            m.propagation = if opts.propagation.is_empty() {
                "rprivate".into()
            } else {
                opts.propagation
            };
            m.non_recursive = opts.non_recursive;
            m.ro_non_recursive = opts.read_only_non_recursive;
        }
        "volume" => {
            let opts = spec.volume_options.clone().unwrap_or_default();
            if !opts.subpath.is_empty() {
                if spec.source.is_empty() {
                    return Err(mount_config(
                        kind,
                        "must not set Subpath when using anonymous volumes",
                    ));
                }
                if !is_local(&opts.subpath) {
                    return Err(mount_config(
                        kind,
                        "subpath must be a relative path within the volume",
                    ));
                }
            }
            if !spec.source.is_empty() {
                validate_volume_name(&spec.source)?;
            }
            m.kind = MountKind::Volume;
            m.name = spec.source.clone();
            m.anonymous = spec.source.is_empty();
            m.copy_data = !opts.no_copy;
            m.subpath = opts.subpath.clone();
            m.mode = "z".into();
            if let Some(d) = &opts.driver_config {
                m.driver = d.name.clone();
                planned.driver_opts = d.options.clone().unwrap_or_default();
            }
            planned.labels = opts.labels.unwrap_or_default();
        }
        "tmpfs" => {
            if !spec.source.is_empty() {
                return Err(mount_config(kind, "field Source must not be specified"));
            }
            m.kind = MountKind::Tmpfs;
            m.tmpfs_data = tmpfs_data(spec).map_err(|e| mount_config(kind, e))?;
        }
        "" => return Err(mount_config(kind, "mount type unknown")),
        other => {
            return Err(invalid(format!(
                "mount type {other:?} is not supported by berth"
            )));
        }
    }
    planned.mount = m;
    Ok(planned)
}

/// Go's `filepath.IsLocal`: relative, not empty, never above its start.
fn is_local(p: &str) -> bool {
    if p.is_empty() || p.starts_with('/') {
        return false;
    }
    let mut depth: i32 = 0;
    for c in Path::new(p).components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::CurDir => {}
            _ => return false,
        }
    }
    true
}

/// moby's `ConvertTmpfsOptions`.
fn tmpfs_data(spec: &MountSpec) -> std::result::Result<String, String> {
    let mut raw: Vec<String> = Vec::new();
    if spec.read_only {
        raw.push("ro".into());
    }
    let Some(o) = &spec.tmpfs_options else {
        return Ok(raw.join(","));
    };
    if o.mode != 0 {
        raw.push(format!("mode={:o}", o.mode));
    }
    if o.size_bytes != 0 {
        let mut size = o.size_bytes;
        let mut suffix = "";
        for (s, div) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
            if size % div == 0 {
                size /= div;
                suffix = s;
                break;
            }
        }
        raw.push(format!("size={size}{suffix}"));
    }
    for opt in o.options.iter().flatten() {
        match opt.as_slice() {
            [k] if k == "exec" || k == "noexec" => raw.push(k.clone()),
            [k, v] if k == "exec" || k == "noexec" => raw.push(format!("{k}={v}")),
            [k] | [k, _] => return Err(format!("invalid option: {k}")),
            _ => return Err("invalid option array length".into()),
        }
    }
    Ok(raw.join(","))
}

/// A `--volumes-from` entry: the container and the mode (`rw` by default); propagation
/// and copy modes are refused, as moby does.
pub fn parse_volumes_from(spec: &str) -> Result<(String, String)> {
    if spec.is_empty() {
        return Err(invalid(
            "volumes-from specification cannot be an empty string",
        ));
    }
    let (id, mode) = spec.split_once(':').unwrap_or((spec, ""));
    if mode.is_empty() {
        return Ok((id.to_owned(), "rw".into()));
    }
    if !valid_mode(mode) || mode_propagation(mode).is_some() || mode.contains("nocopy") {
        return Err(invalid_mode(mode));
    }
    Ok((id.to_owned(), mode.to_owned()))
}

/// docker's tmpfs options for a container tmpfs: `noexec,nosuid,nodev` then the user's,
/// a later option replacing an earlier one of the same kind (moby `MergeTmpfsOptions`).
pub fn tmpfs_options(data: &str) -> Vec<String> {
    let opposite = |o: &str| -> Option<String> {
        match o.strip_prefix("no") {
            Some(rest) if ["exec", "suid", "dev", "atime", "diratime"].contains(&rest) => {
                Some(rest.to_owned())
            }
            _ if ["exec", "suid", "dev", "atime", "diratime"].contains(&o) => {
                Some(format!("no{o}"))
            }
            _ if o == "ro" => Some("rw".into()),
            _ if o == "rw" => Some("ro".into()),
            _ => None,
        }
    };
    let mut out: Vec<String> = Vec::new();
    let all = ["noexec", "nosuid", "nodev"]
        .into_iter()
        .chain(data.split(',').filter(|o| !o.is_empty()));
    for o in all {
        let key = o.split_once('=').map(|(k, _)| k);
        out.retain(|prev| {
            if let Some(k) = key {
                return prev.split_once('=').map(|(pk, _)| pk) != Some(k);
            }
            prev != o && opposite(o).as_deref() != Some(prev.as_str())
        });
        out.push(o.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::{BindOptions, TmpfsOptions, VolumeOptions};

    fn msg(r: Result<Planned>) -> String {
        r.err().map(|e| e.message()).unwrap_or_default()
    }

    #[test]
    fn bind_strings_as_docker_reads_them() {
        let p = parse_bind("/src/:/dst/x/..:ro,rslave", "").unwrap().mount;
        assert_eq!((p.kind, p.source.as_str()), (MountKind::Bind, "/src"));
        assert_eq!((p.destination.as_str(), p.rw), ("/dst", false));
        assert_eq!(p.propagation, "rslave");
        assert!(p.create_source && p.explicit_propagation);
        let v = parse_bind("data:/d", "").unwrap().mount;
        assert_eq!(
            (v.kind, v.name.as_str(), v.mode.as_str()),
            (MountKind::Volume, "data", "z")
        );
        assert!(v.copy_data && !v.anonymous);
        let n = parse_bind("data:/d:nocopy", "").unwrap().mount;
        assert!(!n.copy_data);
        let a = parse_bind("/anon", "").unwrap().mount;
        assert!(a.anonymous && a.name.is_empty());
    }

    #[test]
    fn bad_bind_strings_get_dockers_errors() {
        assert_eq!(msg(parse_bind("/a:/b:bogus", "")), "invalid mode: bogus");
        assert_eq!(msg(parse_bind("/a:/b:ro,rw", "")), "invalid mode: ro,rw");
        assert_eq!(
            msg(parse_bind("/a:/b:c:d", "")),
            "invalid volume specification: '/a:/b:c:d'"
        );
        assert_eq!(
            msg(parse_bind(":/b", "")),
            "invalid volume specification: ':/b'"
        );
        assert_eq!(
            msg(parse_bind("/a:rel", "")),
            "invalid volume specification: '/a:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"
        );
        assert!(
            msg(parse_bind("./rel:/b", ""))
                .contains("includes invalid characters for a local volume name")
        );
        assert!(msg(parse_bind("/a:/", "")).contains("destination can't be '/'"));
    }

    #[test]
    fn mount_specs() {
        let spec = MountSpec {
            r#type: "volume".into(),
            source: "v1".into(),
            target: "/data".into(),
            volume_options: Some(VolumeOptions {
                no_copy: true,
                subpath: "sub/dir".into(),
                ..VolumeOptions::default()
            }),
            ..MountSpec::default()
        };
        let m = parse_spec(&spec).unwrap().mount;
        assert!(!m.copy_data);
        assert_eq!(m.subpath, "sub/dir");
        let mut bad = spec.clone();
        bad.volume_options.as_mut().unwrap().subpath = "../x".into();
        assert!(msg(parse_spec(&bad)).contains("subpath must be a relative path"));
        let missing = MountSpec {
            r#type: "bind".into(),
            source: "/nonexistent/berth/src".into(),
            target: "/x".into(),
            ..MountSpec::default()
        };
        assert_eq!(
            msg(parse_spec(&missing)),
            "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent/berth/src"
        );
        let extra = MountSpec {
            r#type: "tmpfs".into(),
            target: "/x".into(),
            bind_options: Some(BindOptions::default()),
            ..MountSpec::default()
        };
        assert!(msg(parse_spec(&extra)).contains("field BindOptions must not be specified"));
        let t = MountSpec {
            r#type: "tmpfs".into(),
            target: "/t".into(),
            tmpfs_options: Some(TmpfsOptions {
                size_bytes: 64 << 20,
                mode: 0o1770,
                options: Some(vec![vec!["exec".into()]]),
            }),
            ..MountSpec::default()
        };
        assert_eq!(
            parse_spec(&t).unwrap().mount.tmpfs_data,
            "mode=1770,size=64m,exec"
        );
    }

    #[test]
    fn tmpfs_options_merge_as_docker() {
        assert_eq!(
            tmpfs_options("exec,size=1m,size=2m"),
            vec!["nosuid", "nodev", "exec", "size=2m"]
        );
        assert_eq!(tmpfs_options(""), vec!["noexec", "nosuid", "nodev"]);
    }

    #[test]
    fn volumes_from_modes() {
        assert_eq!(parse_volumes_from("c").unwrap(), ("c".into(), "rw".into()));
        assert_eq!(parse_volumes_from("c:ro").unwrap().1, "ro");
        assert!(parse_volumes_from("c:rshared").is_err());
        assert!(parse_volumes_from("").is_err());
    }
}
