//! Log drivers and their options, checked at create and turned into the shim's flags at
//! start.
//!
//! - `json-file` (the default): docker's format, rotated by the shim. Options `max-size`
//!   (docker's decimal sizes: `10m` is 10 000 000 bytes), `max-file` (at least 1) and
//!   `compress`. Beyond docker, a container that sets no `max-size` is rotated anyway at
//!   [`DEFAULT_MAX_SIZE`] × [`DEFAULT_MAX_FILE`] files, so a chatty container cannot fill the
//!   disk (`docs/logging.md`).
//! - `local`: honoured as a rotated json-file log with the local driver's defaults (20 MB ×
//!   5 files, compressed); `docker logs` reads it the same way.
//! - `none`: no log; `logs` answers dockerd's "does not support reading".
//!
//! Other drivers get dockerd's "no log driver named ... is registered"; other options its
//! "unknown log opt ... for ... log driver". `labels`, `env`, `tag` and their `-regex`
//! forms (which docker adds to each entry) are refused by name.

use std::collections::BTreeMap;

use berth_api::container::LogConfig;

use crate::error::{EngineError, Result};

/// The default `max-size` of a json-file log without one (20 MB).
pub const DEFAULT_MAX_SIZE: u64 = 20_000_000;
/// The default `max-file` of a json-file log without `max-size`.
pub const DEFAULT_MAX_FILE: u32 = 3;

/// How the shim writes a container's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// No log (`none`).
    Off,
    /// json-file, rotated at `max_size` (0: never) keeping `max_file` files.
    File {
        /// Bytes per file; 0 never rotates.
        max_size: u64,
        /// Files kept, the live one included.
        max_file: u32,
        /// Gzip rotated files.
        compress: bool,
    },
}

impl crate::table::Engine {
    /// Sets the daemon's `log-driver` and `log-opts` (daemon.json), checked as a container's
    /// would be. See [`Engine::merge_default_log_config`] for how containers get them.
    pub fn set_default_log_config(&self, mut cfg: LogConfig) -> Result<()> {
        validate(&mut cfg)?;
        *self
            .inner
            .default_log
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = cfg;
        Ok(())
    }

    /// dockerd's merge: a container that names no driver gets the daemon's; one whose driver
    /// is the daemon's gets the daemon's options for the keys it does not set; one that
    /// names another driver keeps only its own options.
    pub(crate) fn merge_default_log_config(&self, cfg: &mut LogConfig) {
        let default = self.default_log_config();
        if cfg.r#type.is_empty() {
            cfg.r#type = default.r#type.clone();
        }
        if cfg.r#type == default.r#type {
            let own = cfg.config.get_or_insert_with(BTreeMap::new);
            for (k, v) in default.config.unwrap_or_default() {
                own.entry(k).or_insert(v);
            }
        }
    }

    /// The daemon's default log driver and options.
    pub fn default_log_config(&self) -> LogConfig {
        let cfg = self
            .inner
            .default_log
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if cfg.r#type.is_empty() {
            return LogConfig {
                r#type: "json-file".into(),
                config: cfg.config,
            };
        }
        cfg
    }
}

/// Checks a container's log config (and names the default driver).
pub fn validate(cfg: &mut LogConfig) -> Result<()> {
    if cfg.r#type.is_empty() {
        cfg.r#type = "json-file".into();
    }
    mode(cfg).map(|_| ())
}

/// The log mode of a (validated) config.
pub fn mode(cfg: &LogConfig) -> Result<LogMode> {
    let driver = cfg.r#type.as_str();
    let empty = BTreeMap::new();
    let opts = cfg.config.as_ref().unwrap_or(&empty);
    match driver {
        "" | "json-file" | "local" => {}
        "none" => {
            if let Some(k) = opts.keys().next() {
                return Err(unknown_opt(k, driver));
            }
            return Ok(LogMode::Off);
        }
        other => {
            return Err(EngineError::Invalid(format!(
                "logger: no log driver named '{other}' is registered"
            )));
        }
    }
    let driver = if driver.is_empty() {
        "json-file"
    } else {
        driver
    };
    for k in opts.keys() {
        match k.as_str() {
            "max-size" | "max-file" | "compress" => {}
            "labels" | "labels-regex" | "env" | "env-regex" | "tag" if driver == "json-file" => {
                return Err(EngineError::Invalid(format!(
                    "--log-opt {k} is not supported by berth: log entries carry no attributes"
                )));
            }
            _ => return Err(unknown_opt(k, driver)),
        }
    }
    let local = driver == "local";
    let max_size = match opts.get("max-size").map(String::as_str) {
        Some("-1") => Some(0),
        Some(v) => Some(
            from_human_size(v)
                .ok_or_else(|| EngineError::Invalid(format!("invalid size: '{v}'")))?,
        ),
        None => None,
    };
    let max_file = match opts.get("max-file") {
        Some(v) => {
            let n: i64 = v.parse().map_err(|_| {
                EngineError::Invalid(format!("strconv.Atoi: parsing \"{v}\": invalid syntax"))
            })?;
            if n < 1 {
                return Err(EngineError::Invalid(
                    "max-file cannot be less than 1".into(),
                ));
            }
            Some(u32::try_from(n).unwrap_or(u32::MAX))
        }
        None => None,
    };
    let compress = match opts.get("compress").map(String::as_str) {
        Some(v) => Some(parse_bool(v).ok_or_else(|| {
            EngineError::Invalid(format!(
                "error enabling log compression: strconv.ParseBool: parsing \"{v}\": invalid syntax"
            ))
        })?),
        None => None,
    };
    // dockerd refuses max-file or compress without max-size; berth rotates by default, so
    // they apply to the default size (docker-py's tests pass max-file alone and expect it
    // accepted).
    Ok(match (local, max_size) {
        (true, _) => LogMode::File {
            max_size: max_size.unwrap_or(DEFAULT_MAX_SIZE),
            max_file: max_file.unwrap_or(5),
            compress: compress.unwrap_or(true),
        },
        (false, None) => LogMode::File {
            max_size: DEFAULT_MAX_SIZE,
            max_file: max_file.unwrap_or(DEFAULT_MAX_FILE),
            compress: compress.unwrap_or(false),
        },
        (false, Some(size)) => LogMode::File {
            max_size: size,
            max_file: max_file.unwrap_or(1),
            compress: compress.unwrap_or(false),
        },
    })
}

fn unknown_opt(key: &str, driver: &str) -> EngineError {
    EngineError::Invalid(format!("unknown log opt '{key}' for {driver} log driver"))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// go-units' `FromHumanSize`: decimal units (`10k` = 10 000, `1.5MB`, `20m`), case-blind.
fn from_human_size(v: &str) -> Option<u64> {
    let t = v.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1e3),
        'm' => (&t[..t.len() - 1], 1e6),
        'g' => (&t[..t.len() - 1], 1e9),
        't' => (&t[..t.len() - 1], 1e12),
        'p' => (&t[..t.len() - 1], 1e15),
        _ => (t, 1.0),
    };
    let n: f64 = num.trim().parse().ok()?;
    (n >= 0.0 && n.is_finite()).then_some((n * mult) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(driver: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            r#type: driver.into(),
            config: Some(
                opts.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        }
    }

    #[test]
    fn modes_and_refusals_as_dockerd() {
        assert_eq!(
            mode(&cfg("json-file", &[])).unwrap(),
            LogMode::File {
                max_size: DEFAULT_MAX_SIZE,
                max_file: DEFAULT_MAX_FILE,
                compress: false
            }
        );
        assert_eq!(
            mode(&cfg(
                "json-file",
                &[("max-size", "10k"), ("max-file", "3"), ("compress", "true")]
            ))
            .unwrap(),
            LogMode::File {
                max_size: 10_000,
                max_file: 3,
                compress: true
            }
        );
        assert_eq!(mode(&cfg("none", &[])).unwrap(), LogMode::Off);
        let msg = |c: LogConfig| mode(&c).unwrap_err().to_string();
        assert_eq!(
            msg(cfg("syslog", &[])),
            "logger: no log driver named 'syslog' is registered"
        );
        assert_eq!(
            msg(cfg("json-file", &[("max-sise", "1m")])),
            "unknown log opt 'max-sise' for json-file log driver"
        );
        assert_eq!(
            msg(cfg("json-file", &[("max-size", "x")])),
            "invalid size: 'x'"
        );
        assert_eq!(
            msg(cfg("json-file", &[("max-size", "1m"), ("max-file", "0")])),
            "max-file cannot be less than 1"
        );
        assert!(msg(cfg("json-file", &[("tag", "x")])).contains("not supported by berth"));
    }
}
