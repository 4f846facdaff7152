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

mod bpf;
mod cache;
mod convert;
mod error;
mod newer;
pub mod profile;
#[allow(unsafe_code)]
mod sys;

pub use cache::compile_cached;
pub use error::SeccompError;

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::LinuxSeccomp;

use bpf::{decode, export};
use convert::{MAX_ARGS, conditions, filter_flag, name_of, scmp_action, scmp_arch};
use newer::{docker_default_names, newer_syscall};

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

/// Load a compiled program into the calling thread (and, with `SECCOMP_FILTER_FLAG_TSYNC`, its
/// process). Runs in the container's init just before `execve`; allocates nothing.
///
/// The kernel accepts a filter only from a task that has `no_new_privs` set or `CAP_SYS_ADMIN`
/// in its effective set: when `process.noNewPrivileges` is false, load before dropping
/// capabilities (as runc does).
pub fn load(p: &SeccompProgram) -> Result<(), SeccompError> {
    sys::load(&p.filter, p.flags)
}

#[cfg(test)]
mod tests;
