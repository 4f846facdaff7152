//! What config-only instructions do to the image config (BuildKit's `dispatchCmd`,
//! `dispatchEntrypoint`, `dispatchEnv`, ...), and the history comment each records.
//! RUN, COPY, ADD and ARG change more than the config and are the driver's business.

use berth_image::config::port::{PortRange, PortSpecError};

use crate::executor::{HealthConfig, ImageConfig};
use crate::instructions::{Command, CommandLine, Healthcheck};

/// The shell used for shell-form commands when the image sets none.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// A config instruction with a value dockerd refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `STOPSIGNAL FOO`.
    #[error("Invalid signal: {0}")]
    Signal(String),
    /// `EXPOSE 80/foo`, `EXPOSE x`, `EXPOSE 90-80`.
    #[error(transparent)]
    Port(#[from] PortSpecError),
}

/// A stage's image config as its instructions change it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageConfig {
    /// The config so far (the base image's, then each instruction's changes).
    pub config: ImageConfig,
    /// A CMD was set in this stage (so ENTRYPOINT keeps it).
    cmd_set: bool,
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quote_list(v: &[String]) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    format!("[{}]", items.join(" "))
}

/// `/bin/sh -c #(nop)  ENV a=b`: how dockerd's classic builder records a config-only step.
pub fn nop_created_by(shell: &[String], comment: &str) -> String {
    let mut parts: Vec<&str> = shell.iter().map(String::as_str).collect();
    parts.push("#(nop) ");
    parts.push(comment);
    parts.join(" ")
}

impl StageConfig {
    /// Starts from the base image's config.
    pub fn new(base: ImageConfig) -> Self {
        StageConfig {
            config: base,
            cmd_set: false,
        }
    }

    /// The shell for shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        match &self.config.shell {
            Some(s) if !s.is_empty() => s.clone(),
            _ => DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn with_shell(&self, c: &CommandLine) -> Vec<String> {
        if c.prepend_shell {
            let mut v = self.shell();
            v.extend(c.args.iter().cloned());
            v
        } else {
            c.args.clone()
        }
    }

    /// Applies an expanded config-only instruction; returns its history comment
    /// (`ENV a=b`), or `None` for RUN, COPY, ADD and ARG, which it leaves alone.
    pub fn apply(&mut self, cmd: &Command) -> Result<Option<String>, ConfigError> {
        let c = &mut self.config;
        let comment = match cmd {
            Command::Env(kvs) => {
                let mut msg = String::from("ENV");
                for kv in kvs {
                    // Replaced in place, as BuildKit's addEnv keeps the order.
                    let entry = format!("{}={}", kv.key, kv.value);
                    let same =
                        |e: &String| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == kv.key;
                    match c.env.iter_mut().find(|e| same(e)) {
                        Some(e) => *e = entry,
                        None => c.env.push(entry),
                    }
                    msg.push_str(&format!(" {}={}", kv.key, kv.value));
                }
                msg
            }
            Command::Label(kvs) => {
                let mut msg = String::from("LABEL");
                for kv in kvs {
                    c.labels.insert(kv.key.clone(), kv.value.clone());
                    msg.push_str(&format!(" {}={}", kv.key, kv.value));
                }
                msg
            }
            Command::Cmd(line) => {
                let args = self.with_shell(line);
                self.config.cmd = Some(args.clone());
                self.cmd_set = true;
                format!("CMD {}", go_quote_list(&args))
            }
            Command::Entrypoint(line) => {
                let args = self.with_shell(line);
                // `ENTRYPOINT []` clears it.
                self.config.entrypoint = (!args.is_empty()).then(|| args.clone());
                if !self.cmd_set {
                    self.config.cmd = None;
                }
                format!("ENTRYPOINT {}", go_quote_list(&args))
            }
            Command::Healthcheck(h) => {
                let hc = match h {
                    Healthcheck::None => HealthConfig {
                        test: vec!["NONE".into()],
                        interval: Default::default(),
                        timeout: Default::default(),
                        start_period: Default::default(),
                        start_interval: Default::default(),
                        retries: 0,
                    },
                    Healthcheck::Cmd {
                        test,
                        interval,
                        timeout,
                        start_period,
                        start_interval,
                        retries,
                    } => HealthConfig {
                        test: test.clone(),
                        interval: *interval,
                        timeout: *timeout,
                        start_period: *start_period,
                        start_interval: *start_interval,
                        retries: *retries,
                    },
                };
                let msg = format!("HEALTHCHECK {}", go_quote_list(&hc.test));
                c.healthcheck = Some(hc);
                msg
            }
            Command::Expose(ports) => {
                let mut added = Vec::new();
                for p in ports {
                    for spec in parse_port_spec(p)? {
                        if !c.exposed_ports.contains(&spec) {
                            c.exposed_ports.push(spec.clone());
                        }
                        added.push(spec);
                    }
                }
                format!("EXPOSE {}", added.join(" "))
            }
            Command::User(u) => {
                c.user = u.clone();
                format!("USER {u}")
            }
            Command::Volume(vols) => {
                for v in vols {
                    if !c.volumes.contains(v) {
                        c.volumes.push(v.clone());
                    }
                }
                format!("VOLUME [{}]", vols.join(" "))
            }
            Command::StopSignal(s) => {
                if !valid_signal(s) {
                    return Err(ConfigError::Signal(s.clone()));
                }
                c.stop_signal = Some(s.clone());
                format!("STOPSIGNAL {s}")
            }
            Command::Shell(s) => {
                c.shell = Some(s.clone());
                format!("SHELL [{}]", s.join(" "))
            }
            Command::Onbuild { expression, .. } => {
                c.on_build.push(expression.clone());
                format!("ONBUILD {expression}")
            }
            Command::Workdir(w) => {
                c.working_dir = normalize_workdir(&c.working_dir, w);
                format!("WORKDIR {}", c.working_dir)
            }
            Command::Maintainer(m) => {
                c.author = Some(m.clone());
                format!("MAINTAINER {m}")
            }
            Command::Run(_) | Command::Copy(_) | Command::Add(_) | Command::Arg(_) => {
                return Ok(None);
            }
        };
        Ok(Some(comment))
    }
}

/// WORKDIR: relative paths build on the current one; the result is cleaned.
pub fn normalize_workdir(current: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        let base = if current.is_empty() { "/" } else { current };
        format!("{base}/{path}")
    };
    crate::dockerignore::clean(&joined)
}

/// `80`, `80/udp`, `8000-8002/tcp` → `["80/tcp"]`, ... (docker's `nat.ParsePortSpecs`).
pub fn parse_port_spec(spec: &str) -> Result<Vec<String>, ConfigError> {
    Ok(PortRange::parse(spec)?.keys().collect())
}

const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// docker's `signal.ParseSignal`: a number, a name with or without `SIG`, `RTMIN+n`.
pub fn valid_signal(s: &str) -> bool {
    if let Ok(n) = s.parse::<u32>() {
        return (1..=64).contains(&n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    if SIGNALS.contains(&name) || matches!(name, "IOT" | "POLL" | "CLD" | "RTMIN" | "RTMAX") {
        return true;
    }
    let rt = |prefix: &str, lim: u32| {
        name.strip_prefix(prefix)
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=lim).contains(&n))
    };
    rt("RTMIN+", 15) || rt("RTMAX-", 14)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, plan::StageVars};

    fn run(df: &str, base: ImageConfig) -> (StageConfig, Vec<String>) {
        let d = parse(df).unwrap();
        let p = crate::plan(&d, &Default::default()).unwrap();
        let vars = StageVars::new(&p, &base.env);
        let mut sc = StageConfig::new(base);
        let mut history = Vec::new();
        for ins in &d.stages[0].instructions {
            let c = vars.expand(&ins.command).unwrap();
            if let Some(h) = sc.apply(&c).unwrap() {
                history.push(nop_created_by(&sc.shell(), &h));
            }
        }
        (sc, history)
    }

    #[test]
    fn config_changes_and_history() {
        let base = ImageConfig {
            env: vec!["HOME=/root".into(), "PATH=/usr/bin".into()],
            cmd: Some(vec!["sh".into()]),
            working_dir: "/base".into(),
            ..Default::default()
        };
        let (sc, hist) = run(
            "FROM x\nENV PATH=/bin A=1\nLABEL a=b\nWORKDIR rel\nWORKDIR ../other/./x\nUSER app\nEXPOSE 80 53/udp 8000-8001\nVOLUME /data\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN echo hi\nMAINTAINER me\nENTRYPOINT [\"/app\"]\n",
            base,
        );
        let c = &sc.config;
        assert_eq!(c.env, ["HOME=/root", "PATH=/bin", "A=1"]);
        assert_eq!(c.labels.get("a").map(String::as_str), Some("b"));
        assert_eq!(c.working_dir, "/base/other/x");
        assert_eq!(c.user, "app");
        // EXPOSE sorts its words as written.
        assert_eq!(
            c.exposed_ports,
            ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]
        );
        assert_eq!(c.volumes, ["/data"]);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(c.healthcheck.as_ref().unwrap().test, ["CMD-SHELL", "true"]);
        assert_eq!(c.on_build, ["RUN echo hi"]);
        assert_eq!(c.author.as_deref(), Some("me"));
        // ENTRYPOINT without a CMD in this stage drops the inherited CMD.
        assert_eq!(c.entrypoint.as_deref(), Some(&["/app".to_string()][..]));
        assert_eq!(c.cmd, None);
        assert_eq!(hist[0], "/bin/sh -c #(nop)  ENV PATH=/bin A=1");
        assert_eq!(
            hist.last().unwrap(),
            "/bin/sh -c #(nop)  ENTRYPOINT [\"/app\"]"
        );
    }

    #[test]
    fn shell_form_uses_the_stage_shell_and_cmd_survives_entrypoint() {
        let (sc, hist) = run(
            "FROM x\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nCMD echo $HOME\nENTRYPOINT exec app\n",
            ImageConfig::default(),
        );
        let bash: Vec<String> = ["/bin/bash", "-eo", "pipefail", "-c"]
            .map(String::from)
            .to_vec();
        let mut cmd = bash.clone();
        cmd.push("echo $HOME".into());
        assert_eq!(sc.config.cmd, Some(cmd));
        assert_eq!(
            sc.config.entrypoint.as_ref().unwrap().last().unwrap(),
            "exec app"
        );
        assert_eq!(
            hist[1],
            "/bin/bash -eo pipefail -c #(nop)  CMD [\"/bin/bash\" \"-eo\" \"pipefail\" \"-c\" \"echo $HOME\"]"
        );
    }

    #[test]
    fn empty_entrypoint_clears_it() {
        let base = ImageConfig {
            entrypoint: Some(vec!["/old".into()]),
            ..Default::default()
        };
        let (sc, _) = run("FROM x\nENTRYPOINT []\n", base);
        assert_eq!(sc.config.entrypoint, None);
    }

    #[test]
    fn refused_values() {
        let mut sc = StageConfig::default();
        assert_eq!(
            sc.apply(&Command::StopSignal("SIGFOO".into())),
            Err(ConfigError::Signal("SIGFOO".into()))
        );
        for ok in ["SIGTERM", "TERM", "9", "SIGRTMIN+3", "RTMAX-1"] {
            assert!(valid_signal(ok), "{ok}");
        }
        for bad in ["0", "65", "SIGRTMIN+16", "", "sigterm"] {
            assert!(!valid_signal(bad), "{bad}");
        }
        let err = |s: &str| parse_port_spec(s).map_err(|e| e.to_string());
        assert_eq!(err("80/foo"), Err("invalid proto: foo".into()));
        assert_eq!(err("x"), Err("invalid containerPort: x".into()));
        assert_eq!(
            err("90-80"),
            Err("invalid range specified for containerPort: 90-80".into())
        );
        assert_eq!(err("70000"), Err("invalid containerPort: 70000".into()));
        assert_eq!(
            err("8000-8001/UDP"),
            Ok(vec!["8000/udp".into(), "8001/udp".into()])
        );
        assert_eq!(normalize_workdir("", "a"), "/a");
        assert_eq!(normalize_workdir("/x", "/abs/../y/"), "/y");
    }
}
