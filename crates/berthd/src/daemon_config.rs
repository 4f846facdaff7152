//! `/etc/berth/daemon.json` (or `--config-file`): dockerd's keys that apply to berth.
//!
//! As dockerd: an unknown key is an error naming it; a key given both in the file and as a
//! flag on the command line is an error naming both values; otherwise a file value replaces
//! the flag's default. Every key berth knows it honours.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_api::container::Ulimit;
use serde::Deserialize;

/// The default configuration file.
pub const DEFAULT_PATH: &str = "/etc/berth/daemon.json";

/// One `default-address-pools` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    /// The range (`172.17.0.0/16`).
    pub base: String,
    /// The prefix length of each subnet.
    pub size: u8,
}

/// The file's keys (dockerd's names).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    /// `data-root`.
    pub data_root: Option<PathBuf>,
    /// `exec-root`.
    pub exec_root: Option<PathBuf>,
    /// `hosts`.
    pub hosts: Option<Vec<String>>,
    /// `pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `bridge`.
    pub bridge: Option<String>,
    /// `bip`: the default bridge's address and prefix.
    pub bip: Option<String>,
    /// `default-address-pools`.
    pub default_address_pools: Option<Vec<PoolEntry>>,
    /// `insecure-registries`.
    pub insecure_registries: Option<Vec<String>>,
    /// `registry-mirrors`: Docker Hub's mirrors, tried before it.
    pub registry_mirrors: Option<Vec<String>>,
    /// `live-restore`.
    pub live_restore: Option<bool>,
    /// `shutdown-timeout` (seconds).
    pub shutdown_timeout: Option<u64>,
    /// `dns`: DNS servers of containers that set none.
    pub dns: Option<Vec<String>>,
    /// `debug`.
    pub debug: Option<bool>,
    /// `log-level`.
    pub log_level: Option<String>,
    /// `group`: the API socket's group.
    pub group: Option<String>,
    /// `log-driver` (`json-file`, `local`, `none`; checked by the engine).
    pub log_driver: Option<String>,
    /// `log-opts` (the driver's options; checked by the engine).
    pub log_opts: Option<BTreeMap<String, String>>,
    /// `default-ulimits`: dockerd's `{"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}`.
    pub default_ulimits: Option<BTreeMap<String, Ulimit>>,
}

/// Why the configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not valid JSON of known keys (serde names an unknown key).
    #[error("invalid configuration file {0}: {1}")]
    Parse(PathBuf, serde_json::Error),
    /// A key given both in the file and as a flag.
    #[error(
        "the following directives are specified both as a flag and in the configuration file: {key}: (from flag: {flag}, from file: {file})"
    )]
    Conflict {
        /// The key.
        key: &'static str,
        /// The flag's value.
        flag: String,
        /// The file's value.
        file: String,
    },
}

impl FileConfig {
    /// Reads `path`; a missing file is an empty configuration unless `required`.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Self::default());
            }
            Err(e) => return Err(ConfigError::Read(path.into(), e)),
        };
        Self::parse(path, &text)
    }

    /// Parses the file's text; an unknown key is an error naming it.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        serde_json::from_str(text).map_err(|e| ConfigError::Parse(path.into(), e))
    }
}

/// Takes `key` from the file unless the flag was given on the command line; both is an error.
pub fn merge<T: std::fmt::Debug>(
    key: &'static str,
    flag: T,
    flag_given: bool,
    file: Option<T>,
) -> Result<T, ConfigError> {
    match (flag_given, file) {
        (true, Some(f)) => Err(ConfigError::Conflict {
            key,
            flag: format!("{flag:?}"),
            file: format!("{f:?}"),
        }),
        (false, Some(f)) => Ok(f),
        (_, None) => Ok(flag),
    }
}

/// The gid of `group` from `/etc/group`.
pub fn group_id(group: &str) -> Option<u32> {
    if let Ok(gid) = group.parse() {
        return Some(gid);
    }
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(group))
            .then(|| f.nth(1).and_then(|g| g.parse().ok()))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<FileConfig, ConfigError> {
        FileConfig::parse(Path::new("daemon.json"), t)
    }

    #[test]
    fn known_keys_parse() {
        let c = parse(
            r#"{"data-root":"/d","live-restore":false,"shutdown-timeout":3,
            "default-address-pools":[{"base":"10.9.0.0/16","size":24}],
            "log-driver":"json-file","group":"docker","debug":true}"#,
        )
        .unwrap();
        assert_eq!(c.data_root.as_deref(), Some(Path::new("/d")));
        assert_eq!(c.live_restore, Some(false));
        assert_eq!(c.shutdown_timeout, Some(3));
        assert_eq!(c.default_address_pools.unwrap()[0].size, 24);
    }

    #[test]
    fn container_defaults_parse() {
        let c = parse(
            r#"{"dns":["10.0.0.2"],
            "default-ulimits":{"nofile":{"Name":"nofile","Soft":1024,"Hard":2048}}}"#,
        )
        .unwrap();
        assert_eq!(c.dns.unwrap(), ["10.0.0.2"]);
        let u = &c.default_ulimits.unwrap()["nofile"];
        assert_eq!((u.name.as_str(), u.soft, u.hard), ("nofile", 1024, 2048));
    }

    #[test]
    fn unknown_and_unsupported_keys_are_named() {
        let e = parse(r#"{"data-rot":"/d"}"#).unwrap_err().to_string();
        assert!(e.contains("data-rot"), "{e}");
    }

    #[test]
    fn a_key_in_both_places_is_a_conflict_else_the_file_wins_over_defaults() {
        assert_eq!(merge("shutdown-timeout", 15, false, Some(3)).unwrap(), 3);
        assert_eq!(merge("shutdown-timeout", 4, true, None).unwrap(), 4);
        let e = merge("debug", true, true, Some(false))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("debug: (from flag: true, from file: false)"),
            "{e}"
        );
    }

    #[test]
    fn root_group_resolves() {
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-berth-test"), None);
    }
}
