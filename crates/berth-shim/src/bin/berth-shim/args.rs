//! Command-line flags (documented in the crate docs). Parsed by hand: a shim per container
//! should not carry an argument-parsing library.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_shim::logfile::Rotation;

/// The shim's flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub id: String,
    pub bundle: PathBuf,
    pub state_dir: PathBuf,
    pub runtime_root: PathBuf,
    pub log: PathBuf,
    pub stdin: bool,
    pub defer_start: bool,
    pub debug_log: Option<PathBuf>,
    /// Rotation of the log (`--log-max-size`, `--log-max-file`, `--log-compress`).
    pub rotation: Rotation,
    /// Write no log (docker's `none` driver).
    pub no_log: bool,
}

pub const USAGE: &str = "usage: berth-shim --id ID --bundle DIR --state-dir DIR --runtime-root DIR --log FILE [--stdin] [--defer-start] [--debug-log FILE] [--log-max-size BYTES] [--log-max-file N] [--log-compress] [--no-log]";

impl Args {
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> anyhow::Result<Args> {
        let mut it = args.into_iter();
        let (mut id, mut bundle, mut state_dir, mut runtime_root, mut log, mut debug_log) =
            (None, None, None, None, None, None);
        let (mut stdin, mut defer_start) = (false, false);
        let mut rotation = Rotation::NEVER;
        let mut no_log = false;
        while let Some(a) = it.next() {
            let a = a
                .into_string()
                .map_err(|a| anyhow::anyhow!("unknown argument {a:?}\n{USAGE}"))?;
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(OsString::from(v))),
                _ => (a.clone(), None),
            };
            let mut value = |name: &str| -> anyhow::Result<OsString> {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .with_context(|| format!("{name} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--id" => {
                    id = Some(
                        value("--id")?
                            .into_string()
                            .map_err(|_| anyhow::anyhow!("--id is not UTF-8"))?,
                    )
                }
                "--bundle" => bundle = Some(PathBuf::from(value("--bundle")?)),
                "--state-dir" => state_dir = Some(PathBuf::from(value("--state-dir")?)),
                "--runtime-root" => runtime_root = Some(PathBuf::from(value("--runtime-root")?)),
                "--log" => log = Some(PathBuf::from(value("--log")?)),
                "--debug-log" => debug_log = Some(PathBuf::from(value("--debug-log")?)),
                "--log-max-size" => {
                    rotation.max_size = value("--log-max-size")?
                        .to_str()
                        .and_then(|v| v.parse().ok())
                        .with_context(|| format!("--log-max-size takes a number\n{USAGE}"))?
                }
                "--log-max-file" => {
                    rotation.max_file = value("--log-max-file")?
                        .to_str()
                        .and_then(|v| v.parse().ok())
                        .filter(|n| *n >= 1)
                        .with_context(|| format!("--log-max-file takes a number >= 1\n{USAGE}"))?
                }
                "--log-compress" => rotation.compress = true,
                "--no-log" => no_log = true,
                "--stdin" => stdin = true,
                "--defer-start" => defer_start = true,
                _ => bail!("unknown argument {a:?}\n{USAGE}"),
            }
        }
        let id: String = id.with_context(|| format!("--id is required\n{USAGE}"))?;
        if id.is_empty() || id.contains('/') || id.starts_with('.') {
            bail!("invalid container id {id:?}");
        }
        Ok(Args {
            id,
            bundle: bundle.with_context(|| format!("--bundle is required\n{USAGE}"))?,
            state_dir: state_dir.with_context(|| format!("--state-dir is required\n{USAGE}"))?,
            runtime_root: runtime_root
                .with_context(|| format!("--runtime-root is required\n{USAGE}"))?,
            log: log.with_context(|| format!("--log is required\n{USAGE}"))?,
            stdin,
            defer_start,
            debug_log,
            rotation,
            no_log,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> anyhow::Result<Args> {
        Args::parse(a.iter().map(OsString::from))
    }

    #[test]
    fn all_flags() {
        let a = parse(&[
            "--id",
            "c1",
            "--bundle",
            "/b",
            "--state-dir=/s",
            "--runtime-root",
            "/r",
            "--log",
            "/l",
            "--stdin",
            "--defer-start",
        ])
        .unwrap();
        assert_eq!(a.id, "c1");
        assert_eq!(a.state_dir, PathBuf::from("/s"));
        assert!(a.stdin && a.defer_start && a.debug_log.is_none());
    }

    #[test]
    fn errors_name_the_flag() {
        let e = parse(&["--id"]).unwrap_err().to_string();
        assert!(e.contains("--id needs a value"), "{e}");
        let e = parse(&["--id", "x", "--bundle", "/b"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--state-dir is required"), "{e}");
        let e = parse(&["--frob"]).unwrap_err().to_string();
        assert!(e.contains("unknown argument"), "{e}");
        let e = parse(&["--id", "../x"]).unwrap_err().to_string();
        assert!(e.contains("invalid container id"), "{e}");
    }
}
