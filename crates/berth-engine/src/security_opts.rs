//! `--security-opt` as dockerd reads it: `no-new-privileges[:=]true|false`,
//! `seccomp=unconfined` or a Docker-format profile (the docker CLI sends the file's JSON),
//! `systempaths=unconfined`, and `label=`/`apparmor=` settings. berth applies no SELinux
//! label or AppArmor profile: those are accepted only on a host whose kernel has no such
//! LSM enabled (where dockerd has nothing to apply either), and refused elsewhere.

use crate::error::{EngineError, Result};

/// The seccomp choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seccomp {
    /// Docker's default profile.
    #[default]
    Default,
    /// No filter.
    Unconfined,
    /// A Docker-format profile's JSON.
    Profile(String),
}

/// The parsed security options of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityOpts {
    /// `no-new-privileges`.
    pub no_new_privileges: bool,
    /// The seccomp filter.
    pub seccomp: Seccomp,
    /// `systempaths=unconfined`: no masked or read-only paths.
    pub systempaths_unconfined: bool,
}

fn lsm_enabled(name: &str) -> bool {
    std::fs::read_to_string("/sys/kernel/security/lsm")
        .map(|l| l.split(',').any(|m| m.trim() == name))
        .unwrap_or(false)
}

fn bool_value(opt: &str, v: &str) -> Result<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(EngineError::Invalid(format!(
            "invalid --security-opt 2: {opt:?}"
        ))),
    }
}

/// Parses `opts`; unknown keys and what berth cannot apply are 400s naming the option.
pub fn parse(opts: &[String]) -> Result<SecurityOpts> {
    let mut out = SecurityOpts::default();
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        // dockerd takes `key=value` and the older `key:value`.
        let Some((key, value)) = opt.split_once('=').or_else(|| opt.split_once(':')) else {
            return Err(EngineError::Invalid(format!(
                "invalid --security-opt 1: {opt:?}"
            )));
        };
        match key {
            "no-new-privileges" => out.no_new_privileges = bool_value(opt, value)?,
            "seccomp" if value == "unconfined" => out.seccomp = Seccomp::Unconfined,
            "seccomp" => out.seccomp = Seccomp::Profile(value.to_owned()),
            "systempaths" if value == "unconfined" => out.systempaths_unconfined = true,
            "label" | "apparmor" => {
                let lsm = if key == "label" {
                    "selinux"
                } else {
                    "apparmor"
                };
                let noop = value == "disable" || value == "unconfined" || !lsm_enabled(lsm);
                if !noop {
                    return Err(EngineError::Invalid(format!(
                        "--security-opt {opt} is not supported by berth: it applies no \
                         {lsm} profiles or labels"
                    )));
                }
            }
            _ => {
                return Err(EngineError::Invalid(format!(
                    "invalid --security-opt 2: {opt:?}"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[&str]) -> Result<SecurityOpts> {
        parse(&opts.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn dockerd_spellings_parse() {
        let o = p(&[
            "no-new-privileges:true",
            "seccomp=unconfined",
            "systempaths=unconfined",
        ])
        .unwrap();
        assert!(o.no_new_privileges && o.systempaths_unconfined);
        assert_eq!(o.seccomp, Seccomp::Unconfined);
        assert!(!p(&["no-new-privileges=false"]).unwrap().no_new_privileges);
        assert!(p(&["no-new-privileges"]).unwrap().no_new_privileges);
        let o = p(&[r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#]).unwrap();
        assert!(matches!(o.seccomp, Seccomp::Profile(ref j) if j.contains("defaultAction")));
        p(&["label=disable", "apparmor=unconfined"]).unwrap();
    }

    #[test]
    fn unknown_options_are_refused() {
        for bad in [
            "bogus",
            "bogus=1",
            "no-new-privileges=maybe",
            "systempaths=strict",
        ] {
            assert!(p(&[bad]).is_err(), "{bad}");
        }
    }
}
