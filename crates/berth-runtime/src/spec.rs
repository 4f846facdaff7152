//! Load a bundle's `config.json` and check what the runtime relies on, with errors that name
//! the offending field (`process.args`, `mounts[2].destination`, ...).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A loaded and checked bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub path: PathBuf,
    /// The root filesystem, absolute.
    pub rootfs: PathBuf,
    /// The parsed config.json.
    pub spec: Spec,
}

/// A bundle or its config.json is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The bundle directory cannot be resolved.
    #[error("bundle {0}")]
    Bundle(PathBuf, #[source] std::io::Error),
    /// config.json cannot be read.
    #[error("read {0}")]
    Read(PathBuf, #[source] std::io::Error),
    /// config.json is not JSON.
    #[error("parse {0}")]
    Syntax(PathBuf, #[source] serde_json::Error),
    /// A field holds a value of the wrong shape or an unknown name.
    #[error("config.json field {field}: {source}")]
    Field {
        /// Dotted path of the field.
        field: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// A field is missing or holds a value the runtime cannot use.
    #[error("config.json field {field}: {reason}")]
    Invalid {
        /// Dotted path of the field.
        field: String,
        /// Why it is refused.
        reason: String,
    },
    /// root.path does not exist.
    #[error("config.json field root.path: {0}")]
    Rootfs(PathBuf, #[source] std::io::Error),
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Load `<bundle>/config.json`, resolve `root.path` against the bundle and validate.
pub fn load(bundle: &Path) -> Result<Bundle, SpecError> {
    let path = std::path::absolute(bundle).map_err(|e| SpecError::Bundle(bundle.into(), e))?;
    let config = path.join("config.json");
    let bytes = std::fs::read(&config).map_err(|e| SpecError::Read(config.clone(), e))?;
    let spec = parse(&config, &bytes)?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| invalid("root", "missing"))?;
    let rootfs = path.join(root.path());
    let meta = std::fs::metadata(&rootfs).map_err(|e| SpecError::Rootfs(rootfs.clone(), e))?;
    if !meta.is_dir() {
        return Err(invalid(
            "root.path",
            format!("{} is not a directory", rootfs.display()),
        ));
    }
    validate(&spec)?;
    Ok(Bundle { path, rootfs, spec })
}

/// Parse config.json; on a type error, find the field it is in.
pub fn parse(config: &Path, bytes: &[u8]) -> Result<Spec, SpecError> {
    match serde_json::from_slice::<Spec>(bytes) {
        Ok(spec) => Ok(spec),
        Err(e) if e.is_syntax() || e.is_eof() => Err(SpecError::Syntax(config.into(), e)),
        Err(e) => {
            let value: Value =
                serde_json::from_slice(bytes).map_err(|e| SpecError::Syntax(config.into(), e))?;
            Err(locate(&value).unwrap_or(SpecError::Syntax(config.into(), e)))
        }
    }
}

/// Deserialize the sections one by one to name the field that fails.
fn locate(v: &Value) -> Option<SpecError> {
    use oci_spec::runtime as r;
    let p = &v["process"];
    let l = &v["linux"];
    let checks: [(&str, &Value, Probe); 18] = [
        ("process.user", &p["user"], probe::<r::User>),
        (
            "process.capabilities",
            &p["capabilities"],
            probe::<r::LinuxCapabilities>,
        ),
        (
            "process.rlimits",
            &p["rlimits"],
            probe::<Vec<r::PosixRlimit>>,
        ),
        ("process.args", &p["args"], probe::<Vec<String>>),
        ("process.env", &p["env"], probe::<Vec<String>>),
        ("process", p, probe::<r::Process>),
        ("root", &v["root"], probe::<r::Root>),
        ("mounts", &v["mounts"], probe::<Vec<r::Mount>>),
        ("hooks", &v["hooks"], probe::<r::Hooks>),
        (
            "linux.namespaces",
            &l["namespaces"],
            probe::<Vec<r::LinuxNamespace>>,
        ),
        (
            "linux.uidMappings",
            &l["uidMappings"],
            probe::<Vec<r::LinuxIdMapping>>,
        ),
        (
            "linux.gidMappings",
            &l["gidMappings"],
            probe::<Vec<r::LinuxIdMapping>>,
        ),
        ("linux.devices", &l["devices"], probe::<Vec<r::LinuxDevice>>),
        (
            "linux.resources",
            &l["resources"],
            probe::<r::LinuxResources>,
        ),
        (
            "linux.seccomp.syscalls",
            &l["seccomp"]["syscalls"],
            probe::<Vec<r::LinuxSyscall>>,
        ),
        ("linux.seccomp", &l["seccomp"], probe::<r::LinuxSeccomp>),
        ("linux", l, probe::<r::Linux>),
        ("", v, probe::<Spec>),
    ];
    for (field, value, check) in checks {
        if value.is_null() {
            continue;
        }
        if let Some(source) = check(value) {
            let field = if field.is_empty() {
                "(top level)"
            } else {
                field
            };
            let field = match (field, index_of_bad(value, check)) {
                (f, Some(i)) => format!("{f}[{i}]"),
                (f, None) => f.to_string(),
            };
            return Some(SpecError::Field { field, source });
        }
    }
    None
}

/// Deserializes a value as one type, returning the error if any.
type Probe = fn(&Value) -> Option<serde_json::Error>;

fn probe<T: DeserializeOwned>(v: &Value) -> Option<serde_json::Error> {
    T::deserialize(v).err()
}

/// For an array, the index of the first element that alone fails `check`.
fn index_of_bad(v: &Value, check: Probe) -> Option<usize> {
    let items = v.as_array()?;
    items
        .iter()
        .position(|item| check(&Value::Array(vec![item.clone()])).is_some())
}

/// The namespace types of a spec, in order, and whether each is joined by path.
pub fn namespaces(spec: &Spec) -> Vec<(LinuxNamespaceType, Option<PathBuf>)> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .map(|ns| ns.iter().map(|n| (n.typ(), n.path().clone())).collect())
        .unwrap_or_default()
}

/// Checks that need no I/O.
pub fn validate(spec: &Spec) -> Result<(), SpecError> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| invalid("process", "missing"))?;
    match process.args() {
        Some(args) if !args.is_empty() && !args[0].is_empty() => {}
        _ => return Err(invalid("process.args", "must name a program")),
    }
    if !process.cwd().is_absolute() {
        return Err(invalid(
            "process.cwd",
            format!("{} is not absolute", process.cwd().display()),
        ));
    }
    for (i, rl) in process.rlimits().iter().flatten().enumerate() {
        if rl.soft() > rl.hard() {
            return Err(invalid(
                format!("process.rlimits[{i}]"),
                format!("soft limit {} above hard limit {}", rl.soft(), rl.hard()),
            ));
        }
    }
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if !m.destination().is_absolute() {
            return Err(invalid(
                format!("mounts[{i}].destination"),
                format!("{} is not absolute", m.destination().display()),
            ));
        }
    }
    let ns = namespaces(spec);
    for (i, (typ, _)) in ns.iter().enumerate() {
        if ns[..i].iter().any(|(t, _)| t == typ) {
            return Err(invalid(
                format!("linux.namespaces[{i}]"),
                format!("namespace {typ} listed twice"),
            ));
        }
    }
    let new_user = ns
        .iter()
        .any(|(t, p)| *t == LinuxNamespaceType::User && p.is_none());
    if let Some(linux) = spec.linux() {
        let maps = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
            && linux.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
        if new_user && !maps {
            return Err(invalid(
                "linux.uidMappings",
                "a new user namespace needs uidMappings and gidMappings",
            ));
        }
        let has = |t: LinuxNamespaceType| ns.iter().any(|(n, _)| *n == t);
        if spec.hostname().is_some() && !has(LinuxNamespaceType::Uts) {
            return Err(invalid("hostname", "needs a uts namespace"));
        }
        // Only sysctls of namespaces the container has of its own: anything else would
        // change the host's value.
        let own = crate::sysctl::OwnNamespaces {
            ipc: has(LinuxNamespaceType::Ipc),
            net: has(LinuxNamespaceType::Network),
            uts: has(LinuxNamespaceType::Uts),
        };
        for key in linux.sysctl().iter().flat_map(|s| s.keys()) {
            crate::sysctl::check(key, own)
                .map_err(|e| invalid(format!("linux.sysctl.{key}"), e.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "process":{"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/"},
        "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}"#;

    fn with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(MINIMAL).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn minimal_config_is_valid() {
        let spec = parse(Path::new("config.json"), MINIMAL.as_bytes()).unwrap();
        validate(&spec).unwrap();
    }

    #[test]
    fn unknown_capability_names_its_field() {
        let bytes = with(|v| {
            v["process"]["capabilities"] = serde_json::json!({"bounding": ["CAP_NOPE"]});
        });
        let err = parse(Path::new("config.json"), &bytes).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("process.capabilities"), "{text}");
    }

    #[test]
    fn bad_mount_entry_names_its_index() {
        let bytes = with(|v| {
            v["mounts"] = serde_json::json!([{"destination": "/proc"}, {"destination": 5}]);
        });
        let text = parse(Path::new("config.json"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(text.contains("mounts[1]"), "{text}");
    }

    #[test]
    fn malformed_json_is_a_syntax_error() {
        let err = parse(Path::new("config.json"), b"{\"root\":").unwrap_err();
        assert!(matches!(err, SpecError::Syntax(..)), "{err}");
    }

    #[test]
    fn empty_args_and_relative_paths_are_refused() {
        let spec = parse(
            Path::new("c"),
            &with(|v| v["process"]["args"] = serde_json::json!([])),
        )
        .unwrap();
        assert!(
            validate(&spec)
                .unwrap_err()
                .to_string()
                .contains("process.args")
        );
        let spec = parse(
            Path::new("c"),
            &with(|v| v["mounts"] = serde_json::json!([{"destination": "proc"}])),
        )
        .unwrap();
        assert!(
            validate(&spec)
                .unwrap_err()
                .to_string()
                .contains("mounts[0].destination")
        );
    }

    #[test]
    fn user_namespace_needs_mappings() {
        let spec = parse(
            Path::new("c"),
            &with(|v| v["linux"]["namespaces"] = serde_json::json!([{"type": "user"}])),
        )
        .unwrap();
        assert!(
            validate(&spec)
                .unwrap_err()
                .to_string()
                .contains("uidMappings")
        );
    }
}
