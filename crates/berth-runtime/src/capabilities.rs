//! Capability sets: the bounding set, then effective, permitted, inheritable and ambient.
//!
//! The container's init calls [`drop_bounding`] while it is still fully privileged (dropping
//! from the bounding set needs `CAP_SETPCAP`), then sets `PR_SET_KEEPCAPS` ([`keep_caps`]),
//! switches to the container's user, and calls [`apply`], which sets the four other sets to
//! exactly the spec's (after `setuid` the effective set is empty and the permitted set is what
//! keepcaps kept).
//!
//! Capabilities the running kernel does not know are skipped with a warning, as runc does; names
//! berth does not know at all are refused when the spec or the engine's input is parsed
//! ([`parse_capability`]).

use std::collections::HashSet;
use std::str::FromStr;

use caps::{CapSet, CapsHashSet};
use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities};

/// Setting capabilities failed.
#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    /// A capability name berth does not know.
    #[error("unknown capability {name:?}")]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The spec asks for an effective capability the permitted set does not hold.
    #[error("{set} capabilities: {cap} is not in the {needs} set")]
    NotSubset {
        /// The set asking, e.g. "effective".
        set: &'static str,
        /// The capability, e.g. "CAP_NET_ADMIN".
        cap: String,
        /// The set that must hold it, e.g. "permitted".
        needs: &'static str,
    },
    /// Dropping a capability from the bounding set failed.
    #[error("bounding capabilities: drop {cap}")]
    DropBounding {
        /// The capability, e.g. "CAP_SYS_ADMIN".
        cap: String,
        /// The caps crate's error.
        #[source]
        source: caps::errors::CapsError,
    },
    /// The kernel refused a set (capset(2)).
    #[error("{set} capabilities: set to [{caps}]")]
    Set {
        /// The set, e.g. "permitted".
        set: &'static str,
        /// The capabilities asked for, comma separated.
        caps: String,
        /// The caps crate's error.
        #[source]
        source: caps::errors::CapsError,
    },
    /// Raising a capability in the ambient set failed.
    #[error("ambient capabilities: raise {cap}")]
    RaiseAmbient {
        /// The capability.
        cap: String,
        /// The caps crate's error.
        #[source]
        source: caps::errors::CapsError,
    },
    /// Clearing the ambient set failed.
    #[error("ambient capabilities: clear")]
    ClearAmbient(#[source] caps::errors::CapsError),
    /// Setting or clearing `PR_SET_KEEPCAPS` failed.
    #[error("set keepcaps to {keep}")]
    KeepCaps {
        /// The value asked for.
        keep: bool,
        /// The caps crate's error.
        #[source]
        source: caps::errors::CapsError,
    },
}

/// A capability name as docker and the OCI spec write it ("net_admin", "NET_ADMIN",
/// "cap_net_admin") in the canonical form, "CAP_NET_ADMIN", whether or not berth knows it.
/// The engine compares `--cap-add`/`--cap-drop` names in this form and the seccomp profile's
/// capability conditions are matched in it.
pub fn canonical_name(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

/// Parse a capability name as docker and the OCI spec write it: "CAP_NET_ADMIN", "NET_ADMIN",
/// any case.
pub fn parse_capability(name: &str) -> Result<Capability, CapsError> {
    let canonical = canonical_name(name.trim());
    let unknown = || CapsError::Unknown {
        name: name.to_owned(),
    };
    caps::Capability::from_str(&canonical).map_err(|_| unknown())?;
    serde_json::from_value(serde_json::Value::String(canonical)).map_err(|_| unknown())
}

/// Every capability berth knows that the calling process may still grant (its bounding
/// set), e.g. for `--cap-add ALL` or `--privileged`: a capability outside it could never
/// be raised, and asking for it would fail the container's start (runc leaves such
/// capabilities out too).
pub fn all_capabilities() -> Capabilities {
    let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_else(|_| caps::all());
    caps::all()
        .into_iter()
        .filter(|c| bounding.contains(c))
        .filter_map(|c| to_oci(c).ok())
        .collect()
}

/// The canonical name of a capability: "CAP_NET_ADMIN".
pub fn name(cap: Capability) -> String {
    format!("CAP_{cap}")
}

/// Drop every capability not in `keep` from the calling thread's bounding set. Call while still
/// privileged (needs `CAP_SETPCAP`), before changing user.
pub fn drop_bounding(keep: &Capabilities) -> Result<(), CapsError> {
    let supported = caps::runtime::thread_all_supported();
    let keep = to_kernel_set(keep, "bounding", &supported)?;
    for cap in supported {
        if keep.contains(&cap) {
            continue;
        }
        // Dropping needs CAP_SETPCAP even when there is nothing to drop: skip what is gone.
        if !caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
            continue;
        }
        caps::drop(None, CapSet::Bounding, cap).map_err(|source| CapsError::DropBounding {
            cap: cap.to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Keep the permitted set across the coming `setuid` away from root (`PR_SET_KEEPCAPS`). The
/// kernel clears the flag at `execve`.
pub fn keep_caps(keep: bool) -> Result<(), CapsError> {
    caps::securebits::set_keepcaps(keep).map_err(|source| CapsError::KeepCaps { keep, source })
}

/// Set the effective, permitted, inheritable and ambient sets to exactly the spec's; a set the
/// spec leaves out becomes empty. Runs after `setuid` (with keepcaps) and before `execve`.
pub fn apply(caps: &LinuxCapabilities) -> Result<(), CapsError> {
    let supported = caps::runtime::thread_all_supported();
    let effective = to_kernel_set(
        caps.effective().as_ref().unwrap_or(&HashSet::new()),
        "effective",
        &supported,
    )?;
    let permitted = to_kernel_set(
        caps.permitted().as_ref().unwrap_or(&HashSet::new()),
        "permitted",
        &supported,
    )?;
    let inheritable = to_kernel_set(
        caps.inheritable().as_ref().unwrap_or(&HashSet::new()),
        "inheritable",
        &supported,
    )?;
    let ambient = to_kernel_set(
        caps.ambient().as_ref().unwrap_or(&HashSet::new()),
        "ambient",
        &supported,
    )?;
    check_subset("effective", &effective, "permitted", &permitted)?;
    let ambient = raisable_ambient(ambient, &permitted, &inheritable);

    // Order matters to capset(2), which caps calls once per set: inheritable first, while the
    // permitted set still bounds it as it would in runc's single capset call; then effective,
    // which may only hold what permitted holds, while permitted is still the old (larger) set;
    // then permitted; then ambient, which needs both permitted and inheritable.
    set("inheritable", CapSet::Inheritable, &inheritable)?;
    set("effective", CapSet::Effective, &effective)?;
    set("permitted", CapSet::Permitted, &permitted)?;
    caps::clear(None, CapSet::Ambient).map_err(CapsError::ClearAmbient)?;
    for cap in sorted(&ambient) {
        caps::raise(None, CapSet::Ambient, cap).map_err(|source| CapsError::RaiseAmbient {
            cap: cap.to_string(),
            source,
        })?;
    }
    Ok(())
}

fn set(name: &'static str, set: CapSet, value: &CapsHashSet) -> Result<(), CapsError> {
    caps::set(None, set, value).map_err(|source| CapsError::Set {
        set: name,
        caps: sorted(value)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        source,
    })
}

/// The ambient capabilities the kernel will raise: those both permitted and inheritable.
/// Others are dropped with a warning, as runc and crun do (their default specs ask for
/// ambient capabilities with an empty inheritable set).
fn raisable_ambient(
    ambient: CapsHashSet,
    permitted: &CapsHashSet,
    inheritable: &CapsHashSet,
) -> CapsHashSet {
    let (keep, drop): (CapsHashSet, CapsHashSet) = ambient
        .into_iter()
        .partition(|c| permitted.contains(c) && inheritable.contains(c));
    if !drop.is_empty() {
        let names: Vec<String> = sorted(&drop).iter().map(ToString::to_string).collect();
        tracing::warn!(
            capabilities = %names.join(", "),
            "ambient capabilities not in both the permitted and inheritable sets cannot be raised: dropped"
        );
    }
    keep
}

fn check_subset(
    set: &'static str,
    value: &CapsHashSet,
    needs: &'static str,
    superset: &CapsHashSet,
) -> Result<(), CapsError> {
    match sorted(value).into_iter().find(|c| !superset.contains(c)) {
        Some(cap) => Err(CapsError::NotSubset {
            set,
            cap: cap.to_string(),
            needs,
        }),
        None => Ok(()),
    }
}

/// The spec's set as the caps crate's, without capabilities the running kernel lacks.
fn to_kernel_set(
    set: &Capabilities,
    name: &'static str,
    supported: &CapsHashSet,
) -> Result<CapsHashSet, CapsError> {
    let mut out = CapsHashSet::new();
    for cap in set {
        let kernel = to_kernel(*cap)?;
        if supported.contains(&kernel) {
            out.insert(kernel);
        } else {
            tracing::warn!(set = name, capability = %kernel, "capability not supported by the running kernel: ignored");
        }
    }
    Ok(out)
}

fn to_kernel(cap: Capability) -> Result<caps::Capability, CapsError> {
    let name = name(cap);
    caps::Capability::from_str(&name).map_err(|_| CapsError::Unknown { name })
}

fn to_oci(cap: caps::Capability) -> Result<Capability, CapsError> {
    parse_capability(&cap.to_string())
}

fn sorted(set: &CapsHashSet) -> Vec<caps::Capability> {
    let mut v: Vec<_> = set.iter().copied().collect();
    v.sort_by_key(caps::Capability::index);
    v
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, Uid, fork, setresuid};

    fn set_of(names: &[&str]) -> Capabilities {
        names
            .iter()
            .map(|n| match parse_capability(n) {
                Ok(c) => c,
                Err(e) => panic!("{e}"),
            })
            .collect()
    }

    #[test]
    fn names_are_made_canonical() {
        assert_eq!(canonical_name("net_admin"), "CAP_NET_ADMIN");
        assert_eq!(canonical_name("Cap_Net_Admin"), "CAP_NET_ADMIN");
        assert_eq!(canonical_name("CAP_FLY"), "CAP_FLY");
        assert_eq!(name(Capability::NetAdmin), "CAP_NET_ADMIN");
    }

    #[test]
    fn parses_names_in_docker_and_oci_forms() {
        assert!(matches!(
            parse_capability("CAP_NET_ADMIN"),
            Ok(Capability::NetAdmin)
        ));
        assert!(matches!(
            parse_capability("net_admin"),
            Ok(Capability::NetAdmin)
        ));
        assert!(matches!(
            parse_capability("SYS_ADMIN"),
            Ok(Capability::SysAdmin)
        ));
        let err = match parse_capability("CAP_FLY") {
            Ok(c) => panic!("accepted {c:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(err, r#"unknown capability "CAP_FLY""#);
    }

    #[test]
    fn every_kernel_capability_round_trips() {
        for cap in caps::all() {
            let oci = match to_oci(cap) {
                Ok(c) => c,
                Err(e) => panic!("{cap}: {e}"),
            };
            assert_eq!(name(oci), cap.to_string());
            assert!(matches!(to_kernel(oci), Ok(k) if k == cap));
        }
        // All of them, less those this process's bounding set has lost (this sandbox has no
        // CAP_SYS_RESOURCE, for one).
        let bounding = caps::read(None, caps::CapSet::Bounding).unwrap();
        let want = caps::all().intersection(&bounding).count();
        assert_eq!(all_capabilities().len(), want);
    }

    #[test]
    fn effective_beyond_permitted_names_the_set_and_capability() {
        let mut spec = LinuxCapabilities::default();
        spec.set_effective(Some(set_of(&["CHOWN", "NET_ADMIN"])));
        spec.set_permitted(Some(set_of(&["CHOWN"])));
        spec.set_inheritable(None);
        spec.set_ambient(None);
        let err = match apply(&spec) {
            Ok(()) => panic!("accepted"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err,
            "effective capabilities: CAP_NET_ADMIN is not in the permitted set"
        );
    }

    /// Runs `f` in a forked child and returns its exit code (process-wide state changes stay in
    /// the child).
    fn in_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child runs only `f` and then `_exit`s; it never returns into the test
        // harness. glibc's malloc is fork-safe, which covers the allocations `f` makes.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
                // SAFETY: `_exit` ends the child without running the parent's atexit handlers
                // or destructors.
                unsafe { libc::_exit(code) }
            }
            Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                other => panic!("child: {other:?}"),
            },
            Err(e) => panic!("fork: {e}"),
        }
    }

    fn status_mask(field: &str) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
    }

    fn mask(names: &[&str]) -> u64 {
        names
            .iter()
            .filter_map(|n| caps::Capability::from_str(&canonical_name(n)).ok())
            .fold(0, |m, c| m | c.bitmask())
    }

    #[test]
    fn apply_after_setuid_sets_exactly_the_spec() {
        if !Uid::effective().is_root() {
            panic!("this test needs root (run the tests as root)");
        }
        let code = in_child(|| {
            let bounding = set_of(&["CHOWN", "KILL", "NET_BIND_SERVICE", "SETUID", "SETPCAP"]);
            if let Err(e) = drop_bounding(&bounding) {
                eprintln!("{e}");
                return 10;
            }
            if status_mask("CapBnd:")
                != Some(mask(&[
                    "CHOWN",
                    "KILL",
                    "NET_BIND_SERVICE",
                    "SETUID",
                    "SETPCAP",
                ]))
            {
                return 11;
            }
            if let Err(e) = keep_caps(true) {
                eprintln!("{e}");
                return 12;
            }
            let nobody = Uid::from_raw(65534);
            if setresuid(nobody, nobody, nobody).is_err() {
                return 13;
            }
            if status_mask("CapEff:") != Some(0) {
                return 14;
            }
            let mut spec = LinuxCapabilities::default();
            spec.set_bounding(Some(bounding));
            spec.set_effective(Some(set_of(&["CHOWN", "KILL", "NET_BIND_SERVICE"])));
            spec.set_permitted(Some(set_of(&["CHOWN", "KILL", "NET_BIND_SERVICE"])));
            spec.set_inheritable(Some(set_of(&["NET_BIND_SERVICE"])));
            spec.set_ambient(Some(set_of(&["NET_BIND_SERVICE"])));
            if let Err(e) = apply(&spec) {
                eprintln!("{e}");
                return 15;
            }
            let want = mask(&["CHOWN", "KILL", "NET_BIND_SERVICE"]);
            if status_mask("CapEff:") != Some(want) || status_mask("CapPrm:") != Some(want) {
                return 16;
            }
            if status_mask("CapInh:") != Some(mask(&["NET_BIND_SERVICE"]))
                || status_mask("CapAmb:") != Some(mask(&["NET_BIND_SERVICE"]))
            {
                return 17;
            }
            0
        });
        assert_eq!(code, 0, "child failed at step {code}");
    }

    #[test]
    fn inheritable_beyond_permitted_is_set_as_runc_does() {
        if !Uid::effective().is_root() {
            panic!("this test needs root (run the tests as root)");
        }
        let code = in_child(|| {
            let mut spec = LinuxCapabilities::default();
            spec.set_effective(Some(set_of(&["CHOWN"])));
            spec.set_permitted(Some(set_of(&["CHOWN"])));
            spec.set_inheritable(Some(set_of(&["CHOWN", "NET_ADMIN"])));
            spec.set_ambient(None);
            if let Err(e) = apply(&spec) {
                eprintln!("{e}");
                return 30;
            }
            if status_mask("CapInh:") != Some(mask(&["CHOWN", "NET_ADMIN"]))
                || status_mask("CapPrm:") != Some(mask(&["CHOWN"]))
                || status_mask("CapEff:") != Some(mask(&["CHOWN"]))
                || status_mask("CapAmb:") != Some(0)
            {
                return 31;
            }
            0
        });
        assert_eq!(code, 0, "child failed at step {code}");
    }

    #[test]
    fn kernel_refusal_names_the_set() {
        if !Uid::effective().is_root() {
            panic!("this test needs root (run the tests as root)");
        }
        let code = in_child(|| {
            // After setuid away from root without keepcaps the permitted set is empty: the
            // kernel refuses to raise anything.
            let nobody = Uid::from_raw(65534);
            if setresuid(nobody, nobody, nobody).is_err() {
                return 21;
            }
            let mut spec = LinuxCapabilities::default();
            spec.set_inheritable(None);
            spec.set_ambient(None);
            spec.set_effective(Some(set_of(&["KILL"])));
            spec.set_permitted(Some(set_of(&["KILL"])));
            match apply(&spec) {
                Ok(()) => 22,
                Err(e)
                    if e.to_string()
                        .starts_with("effective capabilities: set to [CAP_KILL]") =>
                {
                    0
                }
                Err(e) => {
                    eprintln!("{e}");
                    23
                }
            }
        });
        assert_eq!(code, 0, "child failed at step {code}");
    }
}
