//! OCI values as libseccomp's: actions (with `errnoRet`), argument comparisons, architectures
//! and filter flags, each error naming the field.

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use oci_spec::runtime::{
    Arch, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};

use super::SeccompError;

/// The number of syscall arguments seccomp can compare (`args[0]` to `args[5]`).
pub(super) const MAX_ARGS: usize = 6;
/// `EPERM`, the errno returned by `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` without `errnoRet`.
const DEFAULT_ERRNO: u32 = libc::EPERM as u32;

/// The spec's action (with its `errnoRet`) as libseccomp's.
pub(super) fn scmp_action(
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
pub(super) fn conditions(
    args: &[LinuxSeccompArg],
    field: &str,
) -> Result<Vec<ScmpArgCompare>, SeccompError> {
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
pub(super) fn scmp_arch(arch: Arch) -> ScmpArch {
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
pub(super) fn filter_flag(flag: LinuxSeccompFilterFlag) -> libc::c_uint {
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
pub(super) fn name_of<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{value:?}"),
    }
}
