//! Seccomp: compile an OCI `linux.seccomp` section into a BPF program, and load it.
//!
//! The work is split in two so that the container's init does as little as possible:
//!
//! - [`compile`] runs in the parent (before `clone`). It validates the section, builds the filter
//!   with libseccomp for the native architecture plus the spec's `architectures`, and exports the
//!   raw BPF instructions into memory. Every error names the offending field, e.g.
//!   `linux.seccomp.syscalls[3].names: unknown syscall "foo"`.
//! - [`load`] runs in the container's init just before `execve`: one `seccomp(2)` call
//!   (`SECCOMP_SET_MODE_FILTER` with the spec's flags; `prctl(PR_SET_SECCOMP)` when the kernel
//!   lacks `seccomp(2)` and no flags are asked for). It allocates nothing, so it is safe after
//!   `fork` in a process that had threads.
//!
//! Semantics follow runc: `SCMP_ACT_KILL` means kill the thread; `SCMP_ACT_ERRNO` and
//! `SCMP_ACT_TRACE` return `errnoRet` (default `EPERM`); a rule whose action equals the default
//! action is dropped (libseccomp refuses it); when one syscall entry compares the same argument
//! twice, each comparison becomes its own rule (runc reads them as alternatives, not as AND).
//!
//! Unknown syscall names: Docker's default profile names syscalls newer than the libseccomp
//! on this machine (2.5.4) knows (`statmount`, `mseal`, the `*xattrat` family, ...). A name
//! libseccomp cannot resolve is looked up in berth's small table of such syscalls
//! (`newer_syscall`) and filtered by number on the native architecture (libseccomp takes raw
//! numbers for the native architecture only, hence two filters merged: native, and the others).
//! A name in neither is skipped (logged at debug level) when Docker's default profile names it,
//! and is an error otherwise, so that typos in a custom profile are caught.
//!
//! [`compile_cached`] keeps compiled programs on disk: libseccomp needs about 20 ms to generate
//! Docker's profile for three architectures, reading it back about 0.1 ms.
//!
//! `SCMP_ACT_NOTIFY` (a user-space seccomp agent over `listenerPath`) is not supported yet and is
//! refused with an error naming the field.

mod cache;
pub mod profile;

pub use cache::compile_cached;

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::sync::OnceLock;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator,
};

/// The number of syscall arguments seccomp can compare (`args[0]` to `args[5]`).
const MAX_ARGS: usize = 6;
/// The kernel refuses longer programs (`BPF_MAXINSNS`).
const BPF_MAXINSNS: usize = 4096;
/// `EPERM`, the errno returned by `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` without `errnoRet`.
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// Compiling, converting or loading a seccomp filter failed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// A syscall name that libseccomp does not know and that Docker's profile does not name.
    #[error("{field}: unknown syscall {name:?}")]
    UnknownSyscall {
        /// The field, e.g. `linux.seccomp.syscalls[3].names`.
        field: String,
        /// The name as given.
        name: String,
    },
    /// A syscall entry without names.
    #[error("{field}: no syscall names")]
    NoNames {
        /// The field, e.g. `linux.seccomp.syscalls[3].names`.
        field: String,
    },
    /// An architecture the libseccomp on this machine cannot filter for.
    #[error("{field}: architecture {arch} is not supported by libseccomp")]
    UnsupportedArch {
        /// The field, e.g. `linux.seccomp.architectures[2]`.
        field: String,
        /// The architecture as the spec names it.
        arch: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// An action berth does not implement (`SCMP_ACT_NOTIFY`).
    #[error("{field}: action {action} is not supported")]
    UnsupportedAction {
        /// The field, e.g. `linux.seccomp.defaultAction`.
        field: String,
        /// The action as the spec names it.
        action: String,
    },
    /// `errnoRet` given for an action that returns no errno.
    #[error("{field}: errnoRet is set but action {action} returns no errno")]
    ErrnoNotAllowed {
        /// The field, e.g. `linux.seccomp.syscalls[3].errnoRet`.
        field: String,
        /// The action as the spec names it.
        action: String,
    },
    /// `errnoRet` does not fit seccomp's 16-bit return data.
    #[error("{field}: errnoRet {value} is out of range (0 to 65535)")]
    ErrnoOutOfRange {
        /// The field, e.g. `linux.seccomp.syscalls[3].errnoRet`.
        field: String,
        /// The value given.
        value: u32,
    },
    /// An argument index beyond the six a syscall has.
    #[error("{field}: argument index {index} is out of range (0 to 5)")]
    ArgIndex {
        /// The field, e.g. `linux.seccomp.syscalls[3].args[0].index`.
        field: String,
        /// The index given.
        index: usize,
    },
    /// A value in a Docker-format profile that berth does not recognise (action, arch, operator
    /// or flag).
    #[error("{field}: unknown {what} {value:?}")]
    UnknownValue {
        /// The field, e.g. `seccomp profile syscalls[3].action`.
        field: String,
        /// What kind of value: "action", "architecture", "operator", "flag".
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// A Docker-format profile that sets two fields that exclude each other.
    #[error("seccomp profile: {0}")]
    ProfileConflict(&'static str),
    /// A Docker-format profile that is not valid JSON of the expected shape.
    #[error("parse seccomp profile")]
    ProfileParse(#[source] serde_json::Error),
    /// The copy of Docker's default profile built into berth does not parse (a build defect).
    #[error("parse the built-in docker seccomp profile: {0}")]
    EmbeddedProfile(String),
    /// An OCI value could not be built from a Docker-format profile entry.
    #[error("{field}: build the oci value")]
    BuildSpec {
        /// The field, e.g. `seccomp profile syscalls[3].args[0]`.
        field: String,
        /// oci-spec's error.
        #[source]
        source: oci_spec::OciSpecError,
    },
    /// A `minKernel` value that is not a kernel version.
    #[error("{field}: invalid kernel version {value:?}")]
    KernelVersion {
        /// The field, e.g. `seccomp profile syscalls[1].includes.minKernel`.
        field: String,
        /// The value given.
        value: String,
    },
    /// The running kernel's release (uname) could not be read or parsed.
    #[error("read the running kernel's version")]
    Uname(#[source] nix::Error),
    /// A libseccomp call failed while building the filter.
    #[error("seccomp filter: {what}")]
    Filter {
        /// What was being done, naming the field, e.g. `add rule for "clone" (linux.seccomp.syscalls[3])`.
        what: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// The section could not be serialised as the compile cache's key.
    #[error("serialise linux.seccomp as the compile cache key")]
    CacheKey(#[source] serde_json::Error),
    /// Exporting the BPF program into memory failed.
    #[error("export seccomp bpf")]
    Export(#[source] std::io::Error),
    /// libseccomp produced a program the kernel would refuse.
    #[error(
        "seccomp bpf program has {bytes} bytes: not a whole number of instructions or more than 4096 of them"
    )]
    BadProgram {
        /// The size of the exported program.
        bytes: usize,
    },
    /// The kernel refused the filter (`seccomp(2)` or `prctl(PR_SET_SECCOMP)`).
    #[error("load seccomp filter")]
    Load(#[source] nix::Error),
    /// `SECCOMP_FILTER_FLAG_TSYNC` could not synchronise another thread.
    #[error("load seccomp filter: thread {tid} could not be synchronised (tsync)")]
    Tsync {
        /// The thread that could not be synchronised.
        tid: i64,
    },
}

/// A compiled seccomp filter: BPF instructions plus the `seccomp(2)` flags to load them with.
///
/// Built by [`compile`] in the parent; [`load`] needs no allocation.
#[derive(Clone)]
pub struct SeccompProgram {
    filter: Vec<libc::sock_filter>,
    flags: libc::c_uint,
}

impl std::fmt::Debug for SeccompProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeccompProgram")
            .field("instructions", &self.filter.len())
            .field("flags", &self.flags)
            .finish()
    }
}

impl SeccompProgram {
    /// The number of BPF instructions.
    pub fn len(&self) -> usize {
        self.filter.len()
    }

    /// Whether the program has no instructions (never true for a compiled program).
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    /// The `SECCOMP_FILTER_FLAG_*` bits passed to `seccomp(2)`.
    pub fn flags(&self) -> u32 {
        self.flags
    }
}

/// Compile `linux.seccomp` into a BPF program for the native architecture plus the spec's
/// `architectures`. Runs in the parent; every error names the field at fault.
pub fn compile(s: &LinuxSeccomp) -> Result<SeccompProgram, SeccompError> {
    let default_action = scmp_action(
        s.default_action(),
        s.default_errno_ret(),
        "linux.seccomp.defaultAction",
        "linux.seccomp.defaultErrnoRet",
    )?;
    // Two filters, merged at the end: one for the native architecture, one for the spec's other
    // architectures. A syscall newer than libseccomp can only be added by number, and libseccomp
    // takes raw numbers for the native architecture alone.
    let mut native = new_filter(default_action)?;
    let mut others: Option<ScmpFilterContext> = None;
    for (i, arch) in s.architectures().iter().flatten().enumerate() {
        let field = format!("linux.seccomp.architectures[{i}]");
        let scmp = scmp_arch(*arch);
        let unsupported = |source| SeccompError::UnsupportedArch {
            field: field.clone(),
            arch: name_of(arch),
            source,
        };
        if native.is_arch_present(scmp).map_err(unsupported)? {
            continue;
        }
        let ctx = match &mut others {
            Some(ctx) => ctx,
            None => others.insert(new_filter(default_action)?),
        };
        ctx.add_arch(scmp).map_err(unsupported)?;
    }
    if let Some(ctx) = &mut others {
        ctx.remove_arch(ScmpArch::Native)
            .map_err(|source| SeccompError::Filter {
                what: "remove the native architecture from the other architectures' filter".into(),
                source,
            })?;
    }

    let mut flags: libc::c_uint = 0;
    for flag in s.flags().iter().flatten() {
        flags |= filter_flag(*flag);
    }

    for (i, call) in s.syscalls().iter().flatten().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        if call.names().is_empty() {
            return Err(SeccompError::NoNames {
                field: format!("{field}.names"),
            });
        }
        let action = scmp_action(
            call.action(),
            call.errno_ret(),
            &format!("{field}.action"),
            &format!("{field}.errnoRet"),
        )?;
        let args = call.args().as_deref().unwrap_or_default();
        let conditions = conditions(args, &field)?;
        let mut per_arg = [0usize; MAX_ARGS];
        for arg in args {
            per_arg[arg.index()] += 1;
        }
        let split = per_arg.iter().any(|&n| n > 1);

        for name in call.names() {
            let (syscall, native_only) = match ScmpSyscall::from_name(name) {
                Ok(syscall) => (syscall, false),
                Err(_) => match newer_syscall(name) {
                    Some(nr) => (ScmpSyscall::from(nr), true),
                    None if docker_default_names()?.contains(name.as_str()) => {
                        tracing::debug!(
                            syscall = %name,
                            field = %field,
                            "syscall unknown to libseccomp but named by docker's default profile: skipped"
                        );
                        continue;
                    }
                    None => {
                        return Err(SeccompError::UnknownSyscall {
                            field: format!("{field}.names"),
                            name: name.clone(),
                        });
                    }
                },
            };
            if action == default_action {
                continue;
            }
            let rule = Rule {
                action,
                syscall,
                conditions: &conditions,
                split,
            };
            let rule_error = |source| SeccompError::Filter {
                what: format!("add rule for {name:?} ({field})"),
                source,
            };
            rule.add_to(&mut native).map_err(rule_error)?;
            match &mut others {
                Some(ctx) if !native_only => rule.add_to(ctx).map_err(rule_error)?,
                Some(_) => tracing::debug!(
                    syscall = %name,
                    field = %field,
                    "syscall unknown to libseccomp: filtered by number on the native architecture only"
                ),
                None => {}
            }
        }
    }

    if let Some(ctx) = others {
        native.merge(ctx).map_err(|source| SeccompError::Filter {
            what: "merge the native and the other architectures' filters".into(),
            source,
        })?;
    }
    let filter = export(&native)?;
    Ok(SeccompProgram { filter, flags })
}

/// A filter with `default` as its default action, for the native architecture.
fn new_filter(default: ScmpAction) -> Result<ScmpFilterContext, SeccompError> {
    let mut ctx = ScmpFilterContext::new(default).map_err(|source| SeccompError::Filter {
        what: "create filter (linux.seccomp.defaultAction)".into(),
        source,
    })?;
    // berth sets no_new_privs itself (process.noNewPrivileges); the filter is exported, not
    // loaded by libseccomp, but keep the attribute truthful.
    ctx.set_ctl_nnp(false)
        .map_err(|source| SeccompError::Filter {
            what: "clear the no_new_privs attribute".into(),
            source,
        })?;
    Ok(ctx)
}

/// One syscall's rule, added to each filter alike.
struct Rule<'a> {
    action: ScmpAction,
    syscall: ScmpSyscall,
    conditions: &'a [ScmpArgCompare],
    /// One rule per comparison (the entry compares one argument more than once).
    split: bool,
}

impl Rule<'_> {
    fn add_to(&self, ctx: &mut ScmpFilterContext) -> Result<(), libseccomp::error::SeccompError> {
        if self.conditions.is_empty() {
            ctx.add_rule(self.action, self.syscall)?;
        } else if self.split {
            for condition in self.conditions {
                ctx.add_rule_conditional(
                    self.action,
                    self.syscall,
                    std::slice::from_ref(condition),
                )?;
            }
        } else {
            ctx.add_rule_conditional(self.action, self.syscall, self.conditions)?;
        }
        Ok(())
    }
}

/// The native number of a syscall Docker's profile names but libseccomp 2.5 does not know.
///
/// Since Linux 5.1 new syscalls get one number on every architecture but alpha, ia64 and mips
/// (whose tables are offset); a few are architecture-specific. Numbers from the kernel's
/// `syscall_64.tbl` / `unistd.h`.
fn newer_syscall(name: &str) -> Option<i32> {
    if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        return None;
    }
    let nr = match name {
        "futex_waitv" => 449,
        "set_mempolicy_home_node" => 450,
        "cachestat" => 451,
        "fchmodat2" => 452,
        "map_shadow_stack" => 453,
        "futex_wake" => 454,
        "futex_wait" => 455,
        "futex_requeue" => 456,
        "statmount" => 457,
        "listmount" => 458,
        "lsm_get_self_attr" => 459,
        "lsm_set_self_attr" => 460,
        "lsm_list_modules" => 461,
        "mseal" => 462,
        "setxattrat" => 463,
        "getxattrat" => 464,
        "listxattrat" => 465,
        "removexattrat" => 466,
        "open_tree_attr" => 467,
        "uretprobe" if cfg!(target_arch = "x86_64") => 335,
        "riscv_hwprobe" if cfg!(target_arch = "riscv64") => 258,
        _ => return None,
    };
    Some(nr)
}

/// Load a compiled program into the calling thread (and, with `SECCOMP_FILTER_FLAG_TSYNC`, its
/// process). Runs in the container's init just before `execve`; allocates nothing.
///
/// The kernel accepts a filter only from a task that has `no_new_privs` set or `CAP_SYS_ADMIN`
/// in its effective set: when `process.noNewPrivileges` is false, load before dropping
/// capabilities (as runc does).
pub fn load(p: &SeccompProgram) -> Result<(), SeccompError> {
    sys::load(&p.filter, p.flags)
}

#[allow(unsafe_code)]
mod sys {
    use super::SeccompError;
    use nix::errno::Errno;

    /// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`, with the `prctl` fallback.
    pub(super) fn load(
        filter: &[libc::sock_filter],
        flags: libc::c_uint,
    ) -> Result<(), SeccompError> {
        let Ok(len) = u16::try_from(filter.len()) else {
            return Err(SeccompError::BadProgram {
                bytes: std::mem::size_of_val(filter),
            });
        };
        let prog = libc::sock_fprog {
            len,
            // The kernel only reads through this pointer.
            filter: filter.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at `len` valid instructions borrowed from `filter`, which lives
        // for the whole call; the kernel copies the program and does not keep the pointer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                flags,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        if rc > 0 {
            // With SECCOMP_FILTER_FLAG_TSYNC the kernel returns the id of the thread it could not
            // synchronise.
            return Err(SeccompError::Tsync { tid: rc });
        }
        let errno = Errno::last();
        if errno != Errno::ENOSYS || flags != 0 {
            return Err(SeccompError::Load(errno));
        }
        // SAFETY: as above: `prog` is valid for the duration of the call and only read.
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                &prog as *const libc::sock_fprog,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(SeccompError::Load(Errno::last()))
        }
    }
}

/// Export the filter's BPF through a memfd (libseccomp 2.5 has no export-to-memory call).
fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, SeccompError> {
    use nix::sys::memfd::{MFdFlags, memfd_create};

    let fd = memfd_create(c"berth-seccomp", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| SeccompError::Export(e.into()))?;
    ctx.export_bpf(&fd).map_err(|source| SeccompError::Filter {
        what: "export bpf".into(),
        source,
    })?;
    let mut file = std::fs::File::from(fd);
    file.seek(SeekFrom::Start(0))
        .map_err(SeccompError::Export)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(SeccompError::Export)?;
    decode(&bytes)
}

/// Decode exported BPF (native-endian `struct sock_filter`s) into instructions.
fn decode(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, SeccompError> {
    const INSN: usize = std::mem::size_of::<libc::sock_filter>();
    let count = bytes.len() / INSN;
    if bytes.is_empty() || !bytes.len().is_multiple_of(INSN) || count > BPF_MAXINSNS {
        return Err(SeccompError::BadProgram { bytes: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(INSN)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// The spec's action (with its `errnoRet`) as libseccomp's.
fn scmp_action(
    action: LinuxSeccompAction,
    errno_ret: Option<u32>,
    field: &str,
    errno_field: &str,
) -> Result<ScmpAction, SeccompError> {
    let errno = |value: Option<u32>| -> Result<u16, SeccompError> {
        let value = value.unwrap_or(DEFAULT_ERRNO);
        u16::try_from(value).map_err(|_| SeccompError::ErrnoOutOfRange {
            field: errno_field.to_owned(),
            value,
        })
    };
    let no_errno = || -> Result<(), SeccompError> {
        match errno_ret {
            None => Ok(()),
            Some(_) => Err(SeccompError::ErrnoNotAllowed {
                field: errno_field.to_owned(),
                action: name_of(&action),
            }),
        }
    };
    Ok(match action {
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(i32::from(errno(errno_ret)?)),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno(errno_ret)?),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            no_errno()?;
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => {
            no_errno()?;
            ScmpAction::KillProcess
        }
        LinuxSeccompAction::ScmpActTrap => {
            no_errno()?;
            ScmpAction::Trap
        }
        LinuxSeccompAction::ScmpActLog => {
            no_errno()?;
            ScmpAction::Log
        }
        LinuxSeccompAction::ScmpActAllow => {
            no_errno()?;
            ScmpAction::Allow
        }
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SeccompError::UnsupportedAction {
                field: field.to_owned(),
                action: name_of(&action),
            });
        }
    })
}

/// The entry's argument comparisons, validated.
fn conditions(args: &[LinuxSeccompArg], field: &str) -> Result<Vec<ScmpArgCompare>, SeccompError> {
    args.iter()
        .enumerate()
        .map(|(j, arg)| {
            let index = arg.index();
            let arg_no = u32::try_from(index)
                .ok()
                .filter(|&n| (n as usize) < MAX_ARGS)
                .ok_or_else(|| SeccompError::ArgIndex {
                    field: format!("{field}.args[{j}].index"),
                    index,
                })?;
            let (op, datum) = match arg.op() {
                LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
                LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
                LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
                LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
                LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
                LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
                // As in libseccomp's SCMP_CMP_MASKED_EQ: `value` is the mask, `valueTwo` the
                // datum the masked argument must equal.
                LinuxSeccompOperator::ScmpCmpMaskedEq => (
                    ScmpCompareOp::MaskedEqual(arg.value()),
                    arg.value_two().unwrap_or(0),
                ),
            };
            Ok(ScmpArgCompare::new(arg_no, op, datum))
        })
        .collect()
}

/// The spec's architecture as libseccomp's.
fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// The spec's filter flag as `SECCOMP_FILTER_FLAG_*` bits.
fn filter_flag(flag: LinuxSeccompFilterFlag) -> libc::c_uint {
    let bits = match flag {
        LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
        LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
        LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
            libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        }
    };
    // All defined flags are below bit 32.
    bits as libc::c_uint
}

/// The name a spec value has in JSON (`SCMP_ACT_ERRNO`, `SCMP_ARCH_X86_64`).
fn name_of<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}

/// Every syscall name in Docker's default profile, the names an unknown-to-libseccomp syscall is
/// forgiven for.
fn docker_default_names() -> Result<&'static HashSet<&'static str>, SeccompError> {
    static NAMES: OnceLock<Result<HashSet<&'static str>, String>> = OnceLock::new();
    NAMES
        .get_or_init(profile::default_profile_names)
        .as_ref()
        .map_err(|e| SeccompError::EmbeddedProfile(e.clone()))
}

#[cfg(test)]
mod tests;
