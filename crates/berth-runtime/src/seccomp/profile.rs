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
#[path = "profile_tests.rs"]
mod tests;
