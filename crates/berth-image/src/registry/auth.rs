//! Registry authentication: `WWW-Authenticate` challenges, credentials, and docker's
//! `config.json` (`{"auths": {"host": {"auth": base64("user:pass")}}}`, mode 0600), or
//! the credential helper it names (`credHelpers`, `credsStore`; see [`super::credhelper`]).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::credhelper::{self, HelperError};
use crate::ErrorKind;

/// A user name and password (or identity token as password).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

impl Credentials {
    /// The `Authorization: Basic ...` value.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`.
    Basic,
    /// `Bearer realm="...",service="...",scope="..."`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The service to ask a token for.
        service: Option<String>,
        /// The scope the registry wants (may be absent on `/v2/`).
        scope: Option<String>,
    },
}

/// Parses one `WWW-Authenticate` header value. Quoted values may contain commas and
/// escaped quotes; parameter names are case-insensitive.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
}

/// docker `config.json` errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// Reading or writing the file failed.
    #[error("access docker config {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is not valid JSON.
    #[error("parse docker config {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// An `auth` entry is not base64 of `user:password`.
    #[error("invalid auth entry for {0} in docker config")]
    InvalidAuth(String),
    /// The credential helper the config names failed.
    #[error(transparent)]
    Helper(#[from] HelperError),
}

impl ConfigFileError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConfigFileError::Io { .. } => ErrorKind::Internal,
            ConfigFileError::Helper(HelperError::InvalidName(_)) => ErrorKind::InvalidArgument,
            ConfigFileError::Helper(_) => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// The key docker uses in `auths` for a registry host (Docker Hub has a legacy URL).
pub fn auth_key(host: &str) -> String {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".to_owned()
        }
        h => h.to_owned(),
    }
}

fn read_json(path: &Path) -> Result<Map<String, Value>, ConfigFileError> {
    match fs::read(path) {
        Ok(d) if d.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(d) => serde_json::from_slice(&d).map_err(|source| ConfigFileError::Parse {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Map::new()),
        Err(source) => Err(ConfigFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A config key's host (`https://host/v1/` → `host`).
fn key_host(k: &str) -> String {
    let k = k
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    k.split('/').next().unwrap_or(k).to_owned()
}

/// The credential helper serving `host`, as docker picks it: `credHelpers` (keyed by the
/// host, docker's key for it, or a URL of the host), else `credsStore`.
fn helper_for(doc: &Map<String, Value>, host: &str) -> Option<String> {
    let want = auth_key(host);
    if let Some(Value::Object(helpers)) = doc.get("credHelpers") {
        let found = helpers
            .get(host)
            .or_else(|| helpers.get(&want))
            .or_else(|| {
                helpers
                    .iter()
                    .find(|(k, _)| key_host(k) == host)
                    .map(|(_, v)| v)
            });
        if let Some(name) = found.and_then(Value::as_str).filter(|n| !n.is_empty()) {
            return Some(name.to_owned());
        }
    }
    doc.get("credsStore")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// The credentials for `host` from the docker config at `path`: from its credential
/// helper when it names one (which then answers alone, as with docker), else its `auths`
/// (also matched when the key is a URL such as `https://host/v1/`).
pub fn load_credentials(path: &Path, host: &str) -> Result<Option<Credentials>, ConfigFileError> {
    let doc = read_json(path)?;
    if let Some(helper) = helper_for(&doc, host) {
        return Ok(credhelper::get(&helper, &auth_key(host))?);
    }
    let Some(Value::Object(auths)) = doc.get("auths") else {
        return Ok(None);
    };
    let want = auth_key(host);
    let strip = key_host;
    let entry = auths
        .get(&want)
        .or_else(|| auths.iter().find(|(k, _)| strip(k) == host).map(|(_, v)| v));
    let Some(entry) = entry else { return Ok(None) };
    let bad = || ConfigFileError::InvalidAuth(host.to_owned());
    if let Some(auth) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let raw = STANDARD.decode(auth.trim()).map_err(|_| bad())?;
        let s = String::from_utf8(raw).map_err(|_| bad())?;
        let (u, p) = s.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credentials {
            username: u.to_owned(),
            password: p.to_owned(),
        }));
    }
    Ok(None)
}

/// `docker login`: stores the credentials for `host`, keeping every other key, written
/// temp-then-rename with mode 0600. With a credential helper for `host` the helper keeps
/// them and `auths` gets an empty entry, as docker writes it (the login is listed, no
/// secret is in the file).
pub fn save_credentials(
    path: &Path,
    host: &str,
    creds: &Credentials,
) -> Result<(), ConfigFileError> {
    let mut doc = read_json(path)?;
    let helper = helper_for(&doc, host);
    if let Some(h) = &helper {
        credhelper::store(h, &auth_key(host), creds)?;
    }
    let auths = doc
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Value::Object(a) = auths {
        let entry = if helper.is_some() {
            serde_json::json!({})
        } else {
            let auth = STANDARD.encode(format!("{}:{}", creds.username, creds.password));
            serde_json::json!({ "auth": auth })
        };
        a.insert(auth_key(host), entry);
    }
    write_json(path, &doc)
}

/// `docker logout`: removes `host`'s entry (and has its credential helper, if any, erase
/// it); true when there was an entry.
pub fn remove_credentials(path: &Path, host: &str) -> Result<bool, ConfigFileError> {
    let mut doc = read_json(path)?;
    if let Some(h) = helper_for(&doc, host) {
        credhelper::erase(&h, &auth_key(host))?;
    }
    let removed = match doc.get_mut("auths") {
        Some(Value::Object(a)) => a.remove(&auth_key(host)).is_some(),
        _ => false,
    };
    if removed {
        write_json(path, &doc)?;
    }
    Ok(removed)
}

fn write_json(path: &Path, doc: &Map<String, Value>) -> Result<(), ConfigFileError> {
    let err = |source| ConfigFileError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(err)?;
    let data = serde_json::to_vec_pretty(doc).map_err(|e| err(e.into()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".config-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(err)?;
    tmp.write_all(&data).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull,push".into()),
            })
        );
        let c =
            parse_challenge(r#"bearer Realm="http://127.0.0.1:5/t", error="insufficient_scope""#);
        assert!(
            matches!(c, Some(Challenge::Bearer { realm, service: None, scope: None }) if realm == "http://127.0.0.1:5/t")
        );
        assert_eq!(
            parse_challenge(r#"Bearer realm="a\"b""#),
            Some(Challenge::Bearer {
                realm: "a\"b".into(),
                service: None,
                scope: None
            })
        );
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
    }

    #[test]
    fn basic_and_unknown_challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        let c = Credentials {
            username: "u".into(),
            password: "p:w".into(),
        };
        assert_eq!(c.basic_header(), "Basic dTpwOnc=");
        assert!(!format!("{c:?}").contains("p:w"));
    }

    #[test]
    fn config_json_roundtrip_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        fs::write(&p, r#"{"auths":{},"psFormat":"x","HttpHeaders":{"a":"b"}}"#).unwrap();
        let creds = Credentials {
            username: "alice".into(),
            password: "s3cret".into(),
        };
        save_credentials(&p, "127.0.0.1:5000", &creds).unwrap();
        save_credentials(&p, "docker.io", &creds).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let doc: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        assert_eq!(doc["psFormat"], "x");
        assert_eq!(doc["auths"]["127.0.0.1:5000"]["auth"], "YWxpY2U6czNjcmV0");
        assert!(doc["auths"]["https://index.docker.io/v1/"].is_object());
        assert_eq!(
            load_credentials(&p, "127.0.0.1:5000").unwrap(),
            Some(creds.clone())
        );
        assert_eq!(load_credentials(&p, "docker.io").unwrap(), Some(creds));
        assert_eq!(load_credentials(&p, "other").unwrap(), None);
        assert!(remove_credentials(&p, "127.0.0.1:5000").unwrap());
        assert!(!remove_credentials(&p, "127.0.0.1:5000").unwrap());
        assert_eq!(load_credentials(&p, "127.0.0.1:5000").unwrap(), None);
        assert_eq!(
            load_credentials(&dir.path().join("none.json"), "x").unwrap(),
            None
        );
        fs::write(&p, r#"{"auths":{"h":{"auth":"!!"}}}"#).unwrap();
        assert_eq!(
            load_credentials(&p, "h").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn helper_chosen_as_docker_chooses_it() {
        let doc = |j: &str| serde_json::from_str::<Map<String, Value>>(j).unwrap();
        let d = doc(
            r#"{"credsStore":"pass","credHelpers":{"gcr.io":"gcloud","https://reg.lan:5000/v1/":"lan","https://index.docker.io/v1/":"hub"}}"#,
        );
        assert_eq!(helper_for(&d, "gcr.io").as_deref(), Some("gcloud"));
        assert_eq!(helper_for(&d, "reg.lan:5000").as_deref(), Some("lan"));
        assert_eq!(helper_for(&d, "docker.io").as_deref(), Some("hub"));
        assert_eq!(helper_for(&d, "quay.io").as_deref(), Some("pass"));
        assert_eq!(helper_for(&doc(r#"{"credsStore":""}"#), "quay.io"), None);
        assert_eq!(helper_for(&doc(r#"{"auths":{}}"#), "quay.io"), None);
    }
}
