//! `RUN --mount=type=cache|bind|tmpfs|secret|ssh,...` (BuildKit's `commands_runmount.go`).

/// The kind of a RUN mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    /// A read-only (by default) bind of the context or another stage/image.
    Bind,
    /// A persistent cache directory shared between builds.
    Cache,
    /// A fresh tmpfs.
    Tmpfs,
    /// A build secret file.
    Secret,
    /// The SSH agent socket.
    Ssh,
}

impl MountType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "bind" => MountType::Bind,
            "cache" => MountType::Cache,
            "tmpfs" => MountType::Tmpfs,
            "secret" => MountType::Secret,
            "ssh" => MountType::Ssh,
            _ => return None,
        })
    }

    /// The name as written in a Dockerfile.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Everyone writes at once (the default).
    Shared,
    /// Each writer gets its own copy.
    Private,
    /// Writers wait for each other.
    Locked,
}

/// A parsed `--mount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `type=` (bind by default).
    pub kind: MountType,
    /// `from=`: a stage or image (bind, cache).
    pub from: Option<String>,
    /// `source=`/`src=`: path in `from` (or the secret's id).
    pub source: Option<String>,
    /// `target=`/`dst=`/`destination=`.
    pub target: Option<String>,
    /// Read-only: explicit, or the type's default (bind, secret, ssh: yes; cache, tmpfs: no).
    pub read_only: bool,
    /// `size=` for tmpfs, in bytes.
    pub size_limit: Option<u64>,
    /// `id=` (cache id, secret id).
    pub id: Option<String>,
    /// `sharing=` for caches.
    pub sharing: Option<Sharing>,
    /// `required` for secret and ssh.
    pub required: bool,
    /// `env=` for secrets.
    pub env: Option<String>,
    /// `mode=` (octal) for cache, secret, ssh.
    pub mode: Option<u32>,
    /// `uid=`.
    pub uid: Option<u32>,
    /// `gid=`.
    pub gid: Option<u32>,
}

/// Why a `--mount` is refused (BuildKit's wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    /// The CSV itself is malformed.
    #[error("failed to parse csv mounts: {0}")]
    Csv(String),
    /// `type=nfs`.
    #[error("unsupported mount type {0:?}")]
    Type(String),
    /// A field without `=` that is not a known flag word.
    #[error("invalid field '{0}' must be a key=value pair")]
    NotKeyValue(String),
    /// A key the mount type does not take.
    #[error("unexpected key '{key}' for mount type '{kind}'")]
    KeyForType {
        /// The key.
        key: String,
        /// The mount type.
        kind: &'static str,
    },
    /// A key no mount has.
    #[error("unexpected key '{key}' in '{field}'")]
    UnknownKey {
        /// The key.
        key: String,
        /// The whole field.
        field: String,
    },
    /// A value that does not parse (`ro=maybe`, `uid=x`).
    #[error("invalid value for {key}: {value}")]
    Value {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `sharing=x`.
    #[error("unsupported sharing value {0:?}")]
    SharingValue(String),
    /// `from=$X` before expansion.
    #[error("'from' doesn't support variable expansion, define alias stage instead")]
    FromExpansion,
    /// mode/uid/gid on a bind or tmpfs mount.
    #[error("{field} not allowed for {kind:?} type mounts")]
    FileInfo {
        /// mode, uid or gid.
        field: &'static str,
        /// The mount type.
        kind: &'static str,
    },
    /// secret with from=.
    #[error("secret mount should not have a from")]
    SecretFrom,
    /// secret with sharing=.
    #[error("secret mount should not define sharing")]
    SecretSharing,
    /// secret without source, target or id.
    #[error("invalid secret mount. one of source, target required")]
    SecretNoTarget,
    /// secret with both source and id.
    #[error("both source and id can't be set")]
    SecretSourceAndId,
    /// sharing= on a non-cache mount.
    #[error("invalid cache sharing set for {0} mount")]
    SharingNotCache(&'static str),
    /// Expansion of a field failed.
    #[error("{0}")]
    Lex(String),
}

/// Splits one CSV record (Go's `encoding/csv` rules: `"` quotes a field, `""` is a quote).
pub(crate) fn csv_fields(s: &str) -> Result<Vec<String>, MountError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(MountError::Csv(
                            "extraneous or missing \" in quoted-field".into(),
                        ));
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => {}
                Some(_) => {
                    return Err(MountError::Csv(
                        "extraneous or missing \" in quoted-field".into(),
                    ));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field);
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some('"') => return Err(MountError::Csv("bare \" in non-quoted-field".into())),
                    Some(c) => field.push(c),
                }
            }
        }
        out.push(field);
    }
}

/// docker/go-units `RAMInBytes`: `64m`, `1.5GiB`, `100` (binary multiples).
pub(crate) fn ram_in_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let num_end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (num, unit) = s.split_at(num_end);
    let n: f64 = num.parse().ok()?;
    let unit = unit.trim_start_matches(' ').to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let mul: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return None,
    };
    let v = n * mul as f64;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

fn parse_bool(key: &str, value: &str) -> Result<bool, MountError> {
    // Go's strconv.ParseBool.
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(MountError::Value {
            key: key.into(),
            value: value.into(),
        }),
    }
}

/// Expands one `--mount` value (the error is the expansion's message).
pub type MountExpander<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Parses a `--mount` value. Without an expander only the checks BuildKit does at parse
/// time run; with one, each value is expanded and the whole mount is checked.
pub fn parse_mount(val: &str, expand: Option<MountExpander<'_>>) -> Result<Mount, MountError> {
    let mut m = Mount {
        kind: MountType::Bind,
        from: None,
        source: None,
        target: None,
        read_only: false,
        size_limit: None,
        id: None,
        sharing: None,
        required: false,
        env: None,
        mode: None,
        uid: None,
        gid: None,
    };
    let mut ro_auto = true;
    for field in csv_fields(val)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(value) = value else {
            if expand.is_none() {
                continue;
            }
            match key.as_str() {
                "readonly" | "ro" => {
                    m.read_only = true;
                    ro_auto = false;
                }
                "readwrite" | "rw" => {
                    m.read_only = false;
                    ro_auto = false;
                }
                "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                    m.required = true;
                }
                "required" => {
                    return Err(MountError::KeyForType {
                        key,
                        kind: m.kind.as_str(),
                    });
                }
                _ => return Err(MountError::NotKeyValue(field.clone())),
            }
            continue;
        };
        let value = match expand {
            Some(f) => f(value).map_err(MountError::Lex)?,
            None if key == "from" => {
                if let Some(i) = value.find('$')
                    && i != value.len() - 1
                {
                    return Err(MountError::FromExpansion);
                }
                value.to_string()
            }
            None => continue,
        };
        let bad = |key: &str, value: &str| MountError::Value {
            key: key.into(),
            value: value.into(),
        };
        match key.as_str() {
            "type" => m.kind = MountType::parse(&value).ok_or(MountError::Type(value))?,
            "from" => m.from = Some(value),
            "source" | "src" => m.source = Some(value),
            "target" | "dst" | "destination" => m.target = Some(value),
            "readonly" | "ro" => {
                m.read_only = parse_bool(&key, &value)?;
                ro_auto = false;
            }
            "readwrite" | "rw" => {
                m.read_only = !parse_bool(&key, &value)?;
                ro_auto = false;
            }
            "required" => {
                if !matches!(m.kind, MountType::Secret | MountType::Ssh) {
                    return Err(MountError::KeyForType {
                        key,
                        kind: m.kind.as_str(),
                    });
                }
                m.required = parse_bool(&key, &value)?;
            }
            "size" => {
                if m.kind != MountType::Tmpfs {
                    return Err(MountError::KeyForType {
                        key,
                        kind: m.kind.as_str(),
                    });
                }
                m.size_limit = Some(ram_in_bytes(&value).ok_or_else(|| bad(&key, &value))?);
            }
            "id" => m.id = Some(value),
            "sharing" => {
                m.sharing = Some(match value.to_ascii_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => return Err(MountError::SharingValue(value)),
                })
            }
            "mode" => {
                m.mode = Some(u32::from_str_radix(&value, 8).map_err(|_| bad("mode", &value))?)
            }
            "uid" => m.uid = Some(value.parse().map_err(|_| bad("uid", &value))?),
            "gid" => m.gid = Some(value.parse().map_err(|_| bad("gid", &value))?),
            "env" => m.env = Some(value),
            _ => return Err(MountError::UnknownKey { key, field }),
        }
    }
    let file_info = matches!(
        m.kind,
        MountType::Secret | MountType::Ssh | MountType::Cache
    );
    if !file_info {
        for (field, set) in [
            ("mode", m.mode.is_some()),
            ("uid", m.uid.is_some()),
            ("gid", m.gid.is_some()),
        ] {
            if set {
                return Err(MountError::FileInfo {
                    field,
                    kind: m.kind.as_str(),
                });
            }
        }
    }
    if ro_auto {
        m.read_only = !matches!(m.kind, MountType::Cache | MountType::Tmpfs);
    }
    if m.kind == MountType::Secret {
        if m.from.is_some() {
            return Err(MountError::SecretFrom);
        }
        if m.sharing.is_some() {
            return Err(MountError::SecretSharing);
        }
        if m.source.is_none() && m.target.is_none() && m.id.is_none() {
            return Err(MountError::SecretNoTarget);
        }
        if m.source.is_some() && m.id.is_some() {
            return Err(MountError::SecretSourceAndId);
        }
    }
    if m.sharing.is_some() && m.kind != MountType::Cache {
        return Err(MountError::SharingNotCache(m.kind.as_str()));
    }
    Ok(m)
}
