//! `--change` instructions, applied as `docker import`/`docker commit` apply them: a subset
//! of Dockerfile instructions that only touch the config (`CMD`, `ENTRYPOINT`, `ENV`,
//! `EXPOSE`, `HEALTHCHECK`, `LABEL`, `ONBUILD`, `STOPSIGNAL`, `USER`, `VOLUME`, `WORKDIR`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ContainerConfig, HealthConfig};
use crate::ErrorKind;

/// Why a `--change` instruction was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangeError {
    /// An instruction `import`/`commit` does not take (docker's message).
    #[error("{0} is not a valid change command")]
    NotAllowed(String),
    /// The instruction needs arguments.
    #[error("{0} requires at least one argument")]
    MissingArgument(String),
    /// `ENV`/`LABEL` word without `=` in the `K=V` form.
    #[error(
        "{instruction}: syntax error - can't find = in {word:?}. Must be of the form: name=value"
    )]
    NoEquals {
        /// The instruction.
        instruction: String,
        /// The offending word.
        word: String,
    },
    /// A port or port range that does not parse.
    #[error("invalid containerPort: {0}")]
    Port(String),
    /// A malformed `HEALTHCHECK`.
    #[error("HEALTHCHECK: {0}")]
    Healthcheck(String),
    /// A quote left open.
    #[error("{0}: unterminated quote")]
    Quote(String),
}

impl ChangeError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// Applies each instruction in order to `config`.
pub fn apply_changes(config: &mut ContainerConfig, changes: &[String]) -> Result<(), ChangeError> {
    let mut cmd_set = false;
    for line in changes {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, rest) = line
            .split_once(char::is_whitespace)
            .map(|(w, r)| (w, r.trim()))
            .unwrap_or((line, ""));
        let instr = word.to_ascii_lowercase();
        let upper = word.to_ascii_uppercase();
        let need = |r: &str| {
            if r.is_empty() {
                Err(ChangeError::MissingArgument(upper.clone()))
            } else {
                Ok(())
            }
        };
        match instr.as_str() {
            "cmd" => {
                config.cmd = Some(command(rest, config));
                cmd_set = true;
            }
            "entrypoint" => {
                let ep = command(rest, config);
                // An empty shell form clears the entrypoint, as in a Dockerfile.
                config.entrypoint = if rest.is_empty() { None } else { Some(ep) };
                if !cmd_set {
                    config.cmd = None;
                }
            }
            "env" => {
                need(rest)?;
                let env = config.env.get_or_insert_with(Vec::new);
                for (k, v) in name_values(&upper, rest)? {
                    let entry = format!("{k}={v}");
                    let prefix = format!("{k}=");
                    match env.iter_mut().find(|e| e.starts_with(&prefix) || **e == k) {
                        Some(e) => *e = entry,
                        None => env.push(entry),
                    }
                }
            }
            "label" => {
                need(rest)?;
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in name_values(&upper, rest)? {
                    labels.insert(k, v);
                }
            }
            "workdir" => {
                need(rest)?;
                let dir = unquote(&upper, rest)?.concat();
                let joined = if dir.starts_with('/') {
                    dir
                } else {
                    format!("/{}/{}", config.working_dir, dir)
                };
                config.working_dir = clean_abs(&joined);
            }
            "user" => {
                need(rest)?;
                config.user = unquote(&upper, rest)?.concat();
            }
            "stopsignal" => {
                need(rest)?;
                config.stop_signal = rest.to_owned();
            }
            "expose" => {
                need(rest)?;
                let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for spec in unquote(&upper, rest)? {
                    for p in expand_port(&spec)? {
                        ports.insert(p, Value::Object(Default::default()));
                    }
                }
            }
            "volume" => {
                need(rest)?;
                let vols = match json_array(rest) {
                    Some(v) => v,
                    None => unquote(&upper, rest)?,
                };
                let map = config.volumes.get_or_insert_with(BTreeMap::new);
                for v in vols {
                    if v.trim().is_empty() {
                        return Err(ChangeError::MissingArgument(upper.clone()));
                    }
                    map.insert(v, Value::Object(Default::default()));
                }
            }
            "onbuild" => {
                need(rest)?;
                config
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(rest.to_owned());
            }
            "healthcheck" => {
                need(rest)?;
                config.healthcheck = Some(healthcheck(rest, config)?);
            }
            _ => return Err(ChangeError::NotAllowed(instr)),
        }
    }
    Ok(())
}

/// JSON (exec) form, else shell form run by the image's shell (`/bin/sh -c` by default).
fn command(rest: &str, config: &ContainerConfig) -> Vec<String> {
    if let Some(v) = json_array(rest) {
        return v;
    }
    let mut v = config
        .shell
        .clone()
        .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    v.push(rest.to_owned());
    v
}

fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Splits into words, removing quotes and backslash escapes (shell-like, no expansion).
fn unquote(instr: &str, s: &str) -> Result<Vec<String>, ChangeError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(ChangeError::Quote(instr.to_owned())),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x) => cur.push(x),
                            None => return Err(ChangeError::Quote(instr.to_owned())),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(ChangeError::Quote(instr.to_owned())),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `K=V K2="v 2"`, or the legacy `K the rest of the line`.
fn name_values(instr: &str, rest: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let first = rest.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (k, v) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| ChangeError::NoEquals {
                instruction: instr.to_owned(),
                word: rest.to_owned(),
            })?;
        return Ok(vec![(k.to_owned(), unquote(instr, v.trim())?.join(" "))]);
    }
    unquote(instr, rest)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(ChangeError::NoEquals {
                instruction: instr.to_owned(),
                word: w,
            }),
        })
        .collect()
}

/// Lexically cleans an absolute path (`/a/./b/../c` → `/a/c`).
fn clean_abs(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

/// `80`, `80/udp`, `8000-8002/tcp` → `["80/tcp"]`, ...; port 0 is refused.
fn expand_port(spec: &str) -> Result<Vec<String>, ChangeError> {
    match super::port::PortRange::parse(spec) {
        Ok(r) if r.first > 0 => Ok(r.keys().collect()),
        _ => Err(ChangeError::Port(spec.to_owned())),
    }
}

/// `NONE`, or `[--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
/// [--retries=N] CMD command`.
fn healthcheck(rest: &str, config: &ContainerConfig) -> Result<HealthConfig, ChangeError> {
    let mut h = HealthConfig::default();
    let mut rest = rest.trim();
    if rest.eq_ignore_ascii_case("none") {
        h.test = vec!["NONE".to_owned()];
        return Ok(h);
    }
    while let Some(opt) = rest.strip_prefix("--") {
        let (flag, after) = opt.split_once(char::is_whitespace).unwrap_or((opt, ""));
        let (name, value) = flag
            .split_once('=')
            .ok_or_else(|| ChangeError::Healthcheck(format!("flag --{flag} needs a value")))?;
        match name {
            "interval" => h.interval = duration(value)?,
            "timeout" => h.timeout = duration(value)?,
            "start-period" => h.start_period = duration(value)?,
            "start-interval" => h.start_interval = duration(value)?,
            "retries" => {
                h.retries = value
                    .parse()
                    .map_err(|_| ChangeError::Healthcheck(format!("invalid retries {value:?}")))?
            }
            other => return Err(ChangeError::Healthcheck(format!("unknown flag: {other}"))),
        }
        rest = after.trim_start();
    }
    let (word, cmd) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !word.eq_ignore_ascii_case("cmd") {
        return Err(ChangeError::Healthcheck(format!(
            "unknown type {word:?} (CMD or NONE)"
        )));
    }
    let cmd = cmd.trim();
    if cmd.is_empty() {
        return Err(ChangeError::Healthcheck(
            "missing command after CMD".to_owned(),
        ));
    }
    h.test = match json_array(cmd) {
        Some(v) => std::iter::once("CMD".to_owned()).chain(v).collect(),
        None => {
            let _ = config;
            vec!["CMD-SHELL".to_owned(), cmd.to_owned()]
        }
    };
    Ok(h)
}

/// A Go duration (`1h2m3.5s`, `300ms`) in nanoseconds.
fn duration(s: &str) -> Result<i64, ChangeError> {
    let bad = || ChangeError::Healthcheck(format!("invalid duration {s:?}"));
    if s == "0" {
        return Ok(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * unit;
        rest = &rest[u..];
    }
    if total > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<ContainerConfig, ChangeError> {
        let mut c = ContainerConfig::default();
        let v: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        apply_changes(&mut c, &v)?;
        Ok(c)
    }

    fn s(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn cmd_and_entrypoint_forms() {
        let c = apply(&[r#"CMD ["sh", "-c", "echo hi"]"#]).unwrap();
        assert_eq!(c.cmd, s(&["sh", "-c", "echo hi"]));
        let c = apply(&["cmd echo $HOME"]).unwrap();
        assert_eq!(c.cmd, s(&["/bin/sh", "-c", "echo $HOME"]));
        let c = apply(&[r#"CMD ["a"]"#, r#"ENTRYPOINT ["/e"]"#]).unwrap();
        assert_eq!((c.entrypoint, c.cmd), (s(&["/e"]), s(&["a"])));
        // ENTRYPOINT without CMD in the same changes resets an inherited CMD.
        let mut c = ContainerConfig {
            cmd: s(&["old"]),
            ..Default::default()
        };
        apply_changes(&mut c, &["ENTRYPOINT top -b".to_owned()]).unwrap();
        assert_eq!(c.entrypoint, s(&["/bin/sh", "-c", "top -b"]));
        assert_eq!(c.cmd, None);
    }

    #[test]
    fn env_forms_replace_in_place() {
        let c = apply(&["ENV A=1 B=\"two words\"", "ENV C three words", "ENV A=x"]).unwrap();
        assert_eq!(c.env, s(&["A=x", "B=two words", "C=three words"]));
        assert!(matches!(
            apply(&["ENV A=1 B"]),
            Err(ChangeError::NoEquals { .. })
        ));
        assert!(matches!(
            apply(&["ENV"]),
            Err(ChangeError::MissingArgument(_))
        ));
        assert!(matches!(apply(&["ENV A=\"x"]), Err(ChangeError::Quote(_))));
    }

    #[test]
    fn workdir_user_labels_signal() {
        let c = apply(&[
            "WORKDIR /a",
            "WORKDIR b/../c",
            "USER 1000:1000",
            "LABEL x=y \"k 2\"=v",
            "STOPSIGNAL SIGINT",
        ])
        .unwrap();
        assert_eq!(c.working_dir, "/a/c");
        assert_eq!(c.user, "1000:1000");
        let l = c.labels.unwrap();
        assert_eq!(l["x"], "y");
        assert_eq!(l["k 2"], "v");
        assert_eq!(c.stop_signal, "SIGINT");
    }

    #[test]
    fn expose_and_volume() {
        let c = apply(&[
            "EXPOSE 80 53/udp 8000-8001",
            r#"VOLUME ["/data", "/logs"]"#,
            "VOLUME /x /y",
        ])
        .unwrap();
        let p: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(p, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let v: Vec<_> = c.volumes.unwrap().into_keys().collect();
        assert_eq!(v, ["/data", "/logs", "/x", "/y"]);
        assert_eq!(
            apply(&["EXPOSE 0"]).unwrap_err(),
            ChangeError::Port("0".into())
        );
        assert!(apply(&["EXPOSE 80/xyz"]).is_err());
        assert!(apply(&["EXPOSE 90-80"]).is_err());
        assert!(apply(&["EXPOSE 70000"]).is_err());
    }

    #[test]
    fn healthcheck_forms() {
        let c = apply(&["HEALTHCHECK --interval=5s --retries=2 CMD curl -f x"]).unwrap();
        let h = c.healthcheck.unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "curl -f x"]);
        assert_eq!((h.interval, h.retries), (5_000_000_000, 2));
        let c = apply(&[r#"HEALTHCHECK --timeout=1m30s CMD ["true"]"#]).unwrap();
        let h = c.healthcheck.unwrap();
        assert_eq!(h.test, ["CMD", "true"]);
        assert_eq!(h.timeout, 90_000_000_000);
        assert_eq!(
            apply(&["HEALTHCHECK NONE"])
                .unwrap()
                .healthcheck
                .unwrap()
                .test,
            ["NONE"]
        );
        assert!(apply(&["HEALTHCHECK --interval=5x CMD true"]).is_err());
        assert!(apply(&["HEALTHCHECK RUN true"]).is_err());
        assert_eq!(duration("300ms").unwrap(), 300_000_000);
        assert_eq!(duration("1h").unwrap(), 3_600_000_000_000);
    }

    #[test]
    fn other_instructions_are_refused_with_dockers_message() {
        let e = apply(&["RUN echo"]).unwrap_err();
        assert_eq!(e.to_string(), "run is not a valid change command");
        assert_eq!(
            apply(&["FROM x"]).unwrap_err(),
            ChangeError::NotAllowed("from".into())
        );
        assert!(apply(&["ADD a b"]).is_err());
        assert!(apply(&["COPY a b"]).is_err());
    }
}
