//! The daemon settings that can change while it runs: dockerd's reloadable keys that
//! berth has (`debug`, `log-level`, `live-restore`, `shutdown-timeout`,
//! `insecure-registries`). SIGHUP re-reads the configuration file and applies them; every
//! other key takes a restart, as in dockerd.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use crate::daemon_config::{ConfigError, FileConfig, merge};

/// How long open connections (events, attach, logs -f) may delay the stop at most.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The reloadable settings' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloadable {
    /// `debug` (`-D`).
    pub debug: bool,
    /// `log-level` (`-l`).
    pub log_level: String,
    /// `live-restore`: containers outlive the daemon.
    pub live_restore: bool,
    /// `shutdown-timeout`, in seconds.
    pub shutdown_timeout: u64,
    /// `insecure-registries` (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// `registry-mirrors` (`--registry-mirror`): Docker Hub's mirrors.
    pub registry_mirrors: Vec<String>,
}

/// Which reloadable settings were given as flags: the file may not set those too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GivenFlags {
    /// `-D`.
    pub debug: bool,
    /// `-l`.
    pub log_level: bool,
    /// `--live-restore`.
    pub live_restore: bool,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: bool,
    /// `--insecure-registry`.
    pub insecure_registries: bool,
    /// `--registry-mirror`.
    pub registry_mirrors: bool,
}

impl Reloadable {
    /// The values from the command line (`self`, flags or their defaults) and `file`, by
    /// dockerd's rule: the file replaces a default; a key both given and in the file is an
    /// error naming it.
    pub fn with_file(&self, given: GivenFlags, file: &FileConfig) -> Result<Self, ConfigError> {
        Ok(Reloadable {
            debug: merge("debug", self.debug, given.debug, file.debug)?,
            log_level: merge(
                "log-level",
                self.log_level.clone(),
                given.log_level,
                file.log_level.clone(),
            )?,
            live_restore: merge(
                "live-restore",
                self.live_restore,
                given.live_restore,
                file.live_restore,
            )?,
            shutdown_timeout: merge(
                "shutdown-timeout",
                self.shutdown_timeout,
                given.shutdown_timeout,
                file.shutdown_timeout,
            )?,
            insecure_registries: merge(
                "insecure-registries",
                self.insecure_registries.clone(),
                given.insecure_registries,
                file.insecure_registries.clone(),
            )?,
            registry_mirrors: merge(
                "registry-mirrors",
                self.registry_mirrors.clone(),
                given.registry_mirrors,
                file.registry_mirrors.clone(),
            )?,
        })
    }

    /// The tracing level: `debug` wins over `log-level`, as in dockerd.
    pub fn level(&self) -> Result<&'static str, String> {
        if self.debug {
            return Ok("debug");
        }
        Ok(match self.log_level.as_str() {
            "debug" | "trace" => "debug",
            "info" => "info",
            "warn" | "warning" => "warn",
            "error" | "fatal" | "panic" => "error",
            other => return Err(format!("invalid log-level {other:?}")),
        })
    }
}

/// The keys of `new` that differ from `old` and that only a restart applies.
pub fn restart_keys(old: &FileConfig, new: &FileConfig) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut check = |key, changed: bool| {
        if changed {
            keys.push(key);
        }
    };
    check("data-root", old.data_root != new.data_root);
    check("exec-root", old.exec_root != new.exec_root);
    check("hosts", old.hosts != new.hosts);
    check("pidfile", old.pidfile != new.pidfile);
    check("bridge", old.bridge != new.bridge);
    check(
        "default-address-pools",
        old.default_address_pools != new.default_address_pools,
    );
    check("group", old.group != new.group);
    keys
}

/// The settings in force, shared by the routes (`/info`), the registry client and the
/// shutdown path.
#[derive(Debug)]
pub struct LiveSettings(RwLock<Reloadable>);

impl LiveSettings {
    /// Settings with these values.
    pub fn new(values: Reloadable) -> Self {
        LiveSettings(RwLock::new(values))
    }

    /// A copy of the values in force.
    pub fn get(&self) -> Reloadable {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the values.
    pub fn set(&self, values: Reloadable) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = values;
    }

    /// How long the daemon may take to stop once signalled.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.get().shutdown_timeout)
    }

    /// How long open connections may delay the stop.
    pub fn shutdown_grace(&self) -> Duration {
        self.shutdown_timeout().min(SHUTDOWN_GRACE)
    }
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings::new(Reloadable {
            debug: false,
            log_level: "info".into(),
            live_restore: true,
            shutdown_timeout: 15,
            insecure_registries: Vec::new(),
            registry_mirrors: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(json: &str) -> FileConfig {
        FileConfig::parse(Path::new("daemon.json"), json).unwrap()
    }

    #[test]
    fn the_file_replaces_defaults_and_conflicts_with_given_flags() {
        let start = LiveSettings::default().get();
        let f = file(r#"{"debug":true,"shutdown-timeout":3,"insecure-registries":["r:5000"]}"#);
        let r = start.with_file(GivenFlags::default(), &f).unwrap();
        assert!(r.debug);
        assert_eq!(r.shutdown_timeout, 3);
        assert_eq!(r.insecure_registries, ["r:5000"]);
        assert_eq!(r.level().unwrap(), "debug");
        let given = GivenFlags {
            shutdown_timeout: true,
            ..GivenFlags::default()
        };
        let e = start.with_file(given, &f).unwrap_err().to_string();
        assert!(e.contains("shutdown-timeout"), "{e}");
        // A key removed from the file falls back to the flag's value.
        let r = start.with_file(GivenFlags::default(), &file("{}")).unwrap();
        assert_eq!(r, start);
    }

    #[test]
    fn static_keys_changed_are_named() {
        let old = file(r#"{"data-root":"/a","debug":true}"#);
        let new = file(r#"{"data-root":"/b","bridge":"x","debug":false}"#);
        assert_eq!(restart_keys(&old, &new), ["data-root", "bridge"]);
    }

    #[test]
    fn an_unknown_level_is_refused() {
        let mut r = LiveSettings::default().get();
        r.log_level = "loud".into();
        assert!(r.level().unwrap_err().contains("loud"));
    }
}
