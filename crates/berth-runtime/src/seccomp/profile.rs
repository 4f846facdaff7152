//! Docker's seccomp profiles turned into OCI `linux.seccomp`.
//!
//! Docker's profile format (`profiles/seccomp-default.json`, vendored from moby/profiles) is a
//! superset of the OCI section: syscall entries carry `includes`/`excludes` conditions on the
//! container's capabilities (its bounding set), the architecture and the kernel version, and an
//! `archMap` lists, per native architecture, the sub-architectures to filter as well. The
//! conversion here is moby's `seccomp.setupSeccomp`: keep the entries whose conditions hold,
//! and take the native architecture's `archMap` row as `architectures`.

use std::collections::HashSet;

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::SeccompError;
use crate::capabilities::canonical_name;

/// Docker's default seccomp profile, as moby ships it.
pub const DOCKER_DEFAULT_JSON: &str = include_str!("../../profiles/seccomp-default.json");

/// Docker's default profile as `linux.seccomp` for a container whose bounding set is `caps`
/// ("CAP_SYS_ADMIN" or "SYS_ADMIN", any case), on the native architecture and running kernel.
pub fn docker_default(caps: &[String]) -> Result<LinuxSeccomp, SeccompError> {
    let profile: Profile = serde_json::from_str(DOCKER_DEFAULT_JSON)
        .map_err(|e| SeccompError::EmbeddedProfile(e.to_string()))?;
    let host = Host {
        arch: NATIVE,
        kernel: None,
    };
    convert(&profile, caps, &host)?.ok_or_else(|| {
        SeccompError::EmbeddedProfile("the profile has no defaultAction and no syscalls".into())
    })
}

/// A Docker-format profile (`docker run --security-opt seccomp=FILE`) as `linux.seccomp` for a
/// container whose bounding set is `caps`, on the native architecture and running kernel.
///
/// `None` for a profile with neither `defaultAction` nor syscalls, which moby reads as "seccomp
/// disabled".
pub fn from_docker_json(json: &str, caps: &[String]) -> Result<Option<LinuxSeccomp>, SeccompError> {
    let profile: Profile = serde_json::from_str(json).map_err(SeccompError::ProfileParse)?;
    let host = Host {
        arch: NATIVE,
        kernel: None,
    };
    convert(&profile, caps, &host)
}

/// Every syscall name Docker's default profile mentions.
pub(super) fn default_profile_names() -> Result<HashSet<&'static str>, String> {
    #[derive(Deserialize)]
    struct Names<'a> {
        #[serde(borrow, default)]
        names: Option<Vec<&'a str>>,
        #[serde(borrow, default)]
        name: Option<&'a str>,
    }
    #[derive(Deserialize)]
    struct Syscalls<'a> {
        #[serde(borrow)]
        syscalls: Vec<Names<'a>>,
    }
    let parsed: Syscalls<'static> =
        serde_json::from_str(DOCKER_DEFAULT_JSON).map_err(|e| e.to_string())?;
    Ok(parsed
        .syscalls
        .into_iter()
        .flat_map(|s| s.names.into_iter().flatten().chain(s.name))
        .collect())
}

/// The native architecture under moby's two names for it: the one `includes.arches` and
/// `excludes.arches` use (Go's, mostly), and the libseccomp one `archMap` is keyed by.
#[derive(Debug, Clone, Copy)]
struct NativeArch {
    name: &'static str,
    seccomp: Option<&'static str>,
}

#[cfg(target_arch = "x86_64")]
const NATIVE: NativeArch = NativeArch {
    name: "amd64",
    seccomp: Some("SCMP_ARCH_X86_64"),
};
#[cfg(target_arch = "x86")]
const NATIVE: NativeArch = NativeArch {
    name: "x86",
    seccomp: Some("SCMP_ARCH_X86"),
};
#[cfg(target_arch = "aarch64")]
const NATIVE: NativeArch = NativeArch {
    name: "arm64",
    seccomp: Some("SCMP_ARCH_AARCH64"),
};
#[cfg(target_arch = "arm")]
const NATIVE: NativeArch = NativeArch {
    name: "arm",
    seccomp: Some("SCMP_ARCH_ARM"),
};
#[cfg(target_arch = "riscv64")]
const NATIVE: NativeArch = NativeArch {
    name: "riscv64",
    seccomp: Some("SCMP_ARCH_RISCV64"),
};
#[cfg(target_arch = "s390x")]
const NATIVE: NativeArch = NativeArch {
    name: "s390x",
    seccomp: Some("SCMP_ARCH_S390X"),
};
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
const NATIVE: NativeArch = NativeArch {
    name: "ppc64le",
    seccomp: Some("SCMP_ARCH_PPC64LE"),
};
#[cfg(target_arch = "loongarch64")]
const NATIVE: NativeArch = NativeArch {
    name: "loong64",
    seccomp: Some("SCMP_ARCH_LOONGARCH64"),
};
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "s390x",
    all(target_arch = "powerpc64", target_endian = "little"),
    target_arch = "loongarch64"
)))]
const NATIVE: NativeArch = NativeArch {
    name: "",
    seccomp: None,
};

/// What the conversion depends on besides the profile and the capabilities.
struct Host {
    arch: NativeArch,
    /// The running kernel's version; read from uname when `None` and a `minKernel` needs it.
    kernel: Option<KernelVersion>,
}

/// A kernel version as moby compares them: kernel.major.minor.
type KernelVersion = (u64, u64, u64);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    default_action: Option<String>,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    arch_map: Option<Vec<ArchMap>>,
    #[serde(default)]
    listener_path: Option<String>,
    #[serde(default)]
    listener_metadata: Option<String>,
    #[serde(default)]
    flags: Option<Vec<String>>,
    #[serde(default)]
    syscalls: Option<Vec<Syscall>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<Arg>>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

/// moby's `setupSeccomp`.
fn convert(
    profile: &Profile,
    caps: &[String],
    host: &Host,
) -> Result<Option<LinuxSeccomp>, SeccompError> {
    let caps: HashSet<String> = caps.iter().map(|c| canonical_name(c)).collect();
    let mut kernel = host.kernel;
    let mut out = LinuxSeccomp::default();

    let default_action = match profile.default_action.as_deref() {
        None | Some("") if profile.syscalls.as_ref().is_none_or(Vec::is_empty) => {
            return Ok(None);
        }
        None | Some("") => {
            return Err(SeccompError::UnknownValue {
                field: "seccomp profile defaultAction".into(),
                what: "action",
                value: String::new(),
            });
        }
        Some(action) => {
            parse::<LinuxSeccompAction>(action, "seccomp profile defaultAction", "action")?
        }
    };
    out.set_default_action(default_action);
    out.set_default_errno_ret(profile.default_errno_ret);

    let declared = profile.architectures.as_deref().unwrap_or_default();
    let arch_map = profile.arch_map.as_deref().unwrap_or_default();
    if !declared.is_empty() && !arch_map.is_empty() {
        return Err(SeccompError::ProfileConflict(
            "'architectures' and 'archMap' were both specified, use either 'architectures' or 'archMap'",
        ));
    }
    let mut arches: Vec<Arch> = Vec::new();
    for (i, a) in declared.iter().enumerate() {
        arches.push(parse(
            a,
            &format!("seccomp profile architectures[{i}]"),
            "architecture",
        )?);
    }
    let native_row = host.arch.seccomp.and_then(|native| {
        arch_map
            .iter()
            .enumerate()
            .find(|(_, m)| m.architecture == native)
    });
    if let Some((i, row)) = native_row {
        arches.push(parse(
            &row.architecture,
            &format!("seccomp profile archMap[{i}].architecture"),
            "architecture",
        )?);
        for (j, sub) in row.sub_architectures.iter().flatten().enumerate() {
            arches.push(parse(
                sub,
                &format!("seccomp profile archMap[{i}].subArchitectures[{j}]"),
                "architecture",
            )?);
        }
    }
    if !arches.is_empty() {
        out.set_architectures(Some(arches));
    }

    out.set_listener_path(profile.listener_path.clone().map(Into::into));
    out.set_listener_metadata(profile.listener_metadata.clone());
    if let Some(flags) = &profile.flags {
        let flags = flags
            .iter()
            .enumerate()
            .map(|(i, f)| {
                parse::<LinuxSeccompFilterFlag>(f, &format!("seccomp profile flags[{i}]"), "flag")
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !flags.is_empty() {
            out.set_flags(Some(flags));
        }
    }

    let mut syscalls = Vec::new();
    for (i, call) in profile.syscalls.iter().flatten().enumerate() {
        let field = format!("seccomp profile syscalls[{i}]");
        if !applies(call, &caps, host.arch.name, &mut kernel, &field)? {
            continue;
        }
        let names = match (&call.name, &call.names) {
            (Some(name), Some(names)) if !name.is_empty() && !names.is_empty() => {
                return Err(SeccompError::ProfileConflict(
                    "'name' and 'names' were both specified, use either 'name' or 'names'",
                ));
            }
            (Some(name), _) if !name.is_empty() => vec![name.clone()],
            (_, names) => names.clone().unwrap_or_default(),
        };
        let mut syscall = LinuxSyscall::default();
        syscall.set_names(names);
        syscall.set_action(parse(&call.action, &format!("{field}.action"), "action")?);
        syscall.set_errno_ret(call.errno_ret);
        if let Some(args) = &call.args {
            let args = args
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    let op = parse::<LinuxSeccompOperator>(
                        &a.op,
                        &format!("{field}.args[{j}].op"),
                        "operator",
                    )?;
                    let mut arg = LinuxSeccompArgBuilder::default()
                        .index(a.index)
                        .value(a.value)
                        .op(op);
                    if a.value_two != 0 {
                        arg = arg.value_two(a.value_two);
                    }
                    arg.build().map_err(|source| SeccompError::BuildSpec {
                        field: format!("{field}.args[{j}]"),
                        source,
                    })
                })
                .collect::<Result<Vec<_>, SeccompError>>()?;
            if !args.is_empty() {
                syscall.set_args(Some(args));
            }
        }
        syscalls.push(syscall);
    }
    out.set_syscalls(Some(syscalls));
    Ok(Some(out))
}

/// Whether a profile entry's `excludes` and `includes` let it into the filter (moby's order:
/// excludes by arch, caps, kernel; then includes by arch, caps, kernel).
fn applies(
    call: &Syscall,
    caps: &HashSet<String>,
    arch: &str,
    kernel: &mut Option<KernelVersion>,
    field: &str,
) -> Result<bool, SeccompError> {
    let none = Filter::default();
    let ex = call.excludes.as_ref().unwrap_or(&none);
    if ex.arches.iter().flatten().any(|a| a == arch) {
        return Ok(false);
    }
    if ex
        .caps
        .iter()
        .flatten()
        .any(|c| caps.contains(&canonical_name(c)))
    {
        return Ok(false);
    }
    if let Some(min) = ex.min_kernel.as_deref().filter(|m| !m.is_empty())
        && kernel_at_least(min, kernel, &format!("{field}.excludes.minKernel"))?
    {
        return Ok(false);
    }
    let inc = call.includes.as_ref().unwrap_or(&none);
    if let Some(arches) = inc.arches.as_ref().filter(|a| !a.is_empty())
        && !arches.iter().any(|a| a == arch)
    {
        return Ok(false);
    }
    if !inc
        .caps
        .iter()
        .flatten()
        .all(|c| caps.contains(&canonical_name(c)))
    {
        return Ok(false);
    }
    if let Some(min) = inc.min_kernel.as_deref().filter(|m| !m.is_empty())
        && !kernel_at_least(min, kernel, &format!("{field}.includes.minKernel"))?
    {
        return Ok(false);
    }
    Ok(true)
}

/// Whether the running kernel (read once, on first need) is at least `min`.
fn kernel_at_least(
    min: &str,
    kernel: &mut Option<KernelVersion>,
    field: &str,
) -> Result<bool, SeccompError> {
    let wanted = parse_kernel(min).ok_or_else(|| SeccompError::KernelVersion {
        field: field.to_owned(),
        value: min.to_owned(),
    })?;
    let running = match *kernel {
        Some(v) => v,
        None => {
            let uname = nix::sys::utsname::uname().map_err(SeccompError::Uname)?;
            let release = uname.release().to_string_lossy().into_owned();
            let v = parse_kernel(&release).ok_or_else(|| SeccompError::KernelVersion {
                field: "uname release".into(),
                value: release,
            })?;
            *kernel = Some(v);
            v
        }
    };
    Ok(running >= wanted)
}

/// "4.8", "6.18.44-fc-v595" → (kernel, major, minor), as moby's `kernel.ParseRelease`.
fn parse_kernel(release: &str) -> Option<KernelVersion> {
    let numeric = release.split(['-', '+', ' ']).next().unwrap_or_default();
    let mut parts = numeric.split('.');
    let kernel = parts.next()?.parse().ok()?;
    let major = parts.next()?.parse().ok()?;
    let minor = match parts.next() {
        Some(p) => p
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or(0),
        None => 0,
    };
    Some((kernel, major, minor))
}

/// Parse a spec enum from its JSON name, naming the field when it is unknown.
fn parse<T: DeserializeOwned>(
    value: &str,
    field: &str,
    what: &'static str,
) -> Result<T, SeccompError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| {
        SeccompError::UnknownValue {
            field: field.to_owned(),
            what,
            value: value.to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86_64: NativeArch = NativeArch {
        name: "amd64",
        seccomp: Some("SCMP_ARCH_X86_64"),
    };

    fn default_caps() -> Vec<String> {
        crate::defaults::DEFAULT_CAPABILITIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect()
    }

    fn docker(caps: &[String], kernel: KernelVersion) -> LinuxSeccomp {
        let profile: Profile = match serde_json::from_str(DOCKER_DEFAULT_JSON) {
            Ok(p) => p,
            Err(e) => panic!("embedded profile: {e}"),
        };
        let host = Host {
            arch: X86_64,
            kernel: Some(kernel),
        };
        match convert(&profile, caps, &host) {
            Ok(Some(s)) => s,
            Ok(None) => panic!("convert: no filter"),
            Err(e) => panic!("convert: {e}"),
        }
    }

    /// The entries naming `name`.
    fn entries<'a>(s: &'a LinuxSeccomp, name: &str) -> Vec<&'a LinuxSyscall> {
        s.syscalls()
            .iter()
            .flatten()
            .filter(|c| c.names().iter().any(|n| n == name))
            .collect()
    }

    fn allowed_unconditionally(s: &LinuxSeccomp, name: &str) -> bool {
        entries(s, name)
            .iter()
            .any(|c| c.action() == LinuxSeccompAction::ScmpActAllow && c.args().is_none())
    }

    #[test]
    fn default_caps_header() {
        let s = docker(&default_caps(), (6, 18, 0));
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(1));
        assert_eq!(
            s.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        assert!(s.flags().is_none());
    }

    #[test]
    fn default_caps_clone_gets_an_arg_filter_and_clone3_enosys() {
        let s = docker(&default_caps(), (6, 18, 0));
        let clone = entries(&s, "clone");
        assert_eq!(clone.len(), 1, "{clone:?}");
        let args = clone[0].args().as_deref().unwrap_or_default();
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].index(), 0);
        assert_eq!(args[0].op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        assert_eq!(args[0].value(), 2_114_060_288);
        assert_eq!(args[0].value_two(), None);
        let clone3 = entries(&s, "clone3");
        assert_eq!(clone3.len(), 1);
        assert_eq!(clone3[0].action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(clone3[0].errno_ret(), Some(libc::ENOSYS as u32));
    }

    #[test]
    fn default_caps_deny_privileged_syscalls() {
        let s = docker(&default_caps(), (6, 18, 0));
        for name in [
            "reboot",
            "mount",
            "umount2",
            "bpf",
            "init_module",
            "settimeofday",
            "syslog",
        ] {
            assert!(entries(&s, name).is_empty(), "{name} should be absent");
        }
        for name in [
            "read",
            "write",
            "getcwd",
            "mkdir",
            "chroot",
            "arch_prctl",
            "modify_ldt",
        ] {
            assert!(
                allowed_unconditionally(&s, name),
                "{name} should be allowed"
            );
        }
        // Other architectures' entries are left out.
        assert!(entries(&s, "s390_runtime_instr").is_empty());
        assert!(entries(&s, "arm_fadvise64_64").is_empty());
    }

    #[test]
    fn sys_admin_allows_mount_and_plain_clone() {
        let mut caps = default_caps();
        caps.push("sys_admin".into());
        let s = docker(&caps, (6, 18, 0));
        assert!(allowed_unconditionally(&s, "mount"));
        assert!(allowed_unconditionally(&s, "clone"));
        assert!(allowed_unconditionally(&s, "clone3"));
        // The masked-eq clone entry is excluded by CAP_SYS_ADMIN, and so is clone3's ENOSYS.
        assert_eq!(entries(&s, "clone").len(), 1);
        assert!(
            entries(&s, "clone3")
                .iter()
                .all(|c| c.action() == LinuxSeccompAction::ScmpActAllow)
        );
        assert!(entries(&s, "reboot").is_empty());
    }

    #[test]
    fn min_kernel_gates_ptrace() {
        let old = docker(&default_caps(), (4, 4, 0));
        assert!(entries(&old, "ptrace").is_empty());
        let new = docker(&default_caps(), (4, 8, 0));
        assert!(allowed_unconditionally(&new, "ptrace"));
    }

    #[test]
    fn parses_kernel_releases() {
        assert_eq!(parse_kernel("4.8"), Some((4, 8, 0)));
        assert_eq!(parse_kernel("6.18.44-fc-v595"), Some((6, 18, 44)));
        assert_eq!(parse_kernel("5.10.0+"), Some((5, 10, 0)));
        assert_eq!(parse_kernel("six"), None);
    }

    #[test]
    fn public_entry_point_uses_the_running_host() {
        let s = match docker_default(&default_caps()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert!(!s.syscalls().as_deref().unwrap_or_default().is_empty());
    }

    #[test]
    fn unknown_action_names_the_field() {
        let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write"],"action":"SCMP_ACT_MAYBE"}]}"#;
        let err = match from_docker_json(json, &[]) {
            Ok(s) => panic!("accepted {s:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err,
            r#"seccomp profile syscalls[1].action: unknown action "SCMP_ACT_MAYBE""#
        );
    }

    #[test]
    fn unknown_arch_names_the_field() {
        let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_VAX"]}"#;
        let err = match from_docker_json(json, &[]) {
            Ok(s) => panic!("accepted {s:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            err,
            r#"seccomp profile architectures[1]: unknown architecture "SCMP_ARCH_VAX""#
        );
    }

    #[test]
    fn conflicting_fields_are_refused() {
        let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
            "archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#;
        assert!(matches!(
            from_docker_json(json, &[]),
            Err(SeccompError::ProfileConflict(_))
        ));
        let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}"#;
        assert!(matches!(
            from_docker_json(json, &[]),
            Err(SeccompError::ProfileConflict(_))
        ));
    }

    #[test]
    fn empty_profile_means_seccomp_disabled() {
        assert!(matches!(from_docker_json("{}", &[]), Ok(None)));
    }

    #[test]
    fn embedded_names_include_new_syscalls() {
        let names = match default_profile_names() {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        };
        assert!(names.contains("read"));
        assert!(names.contains("clone3"));
        assert!(names.len() > 300);
    }
}
