//! Tests of the compiler (errors name the field) and of a real filter on the running kernel.

#![allow(unsafe_code)]

use super::bpf::BPF_MAXINSNS;
use super::*;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use oci_spec::runtime::{
    Arch, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

fn syscall(names: &[&str], action: LinuxSeccompAction, errno_ret: Option<u32>) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names.iter().map(|n| (*n).to_owned()).collect());
    s.set_action(action);
    s.set_errno_ret(errno_ret);
    s
}

fn seccomp(default: LinuxSeccompAction, syscalls: Vec<LinuxSyscall>) -> LinuxSeccomp {
    let mut s = LinuxSeccomp::default();
    s.set_default_action(default);
    s.set_syscalls(Some(syscalls));
    s
}

fn error_of(s: &LinuxSeccomp) -> String {
    match compile(s) {
        Ok(p) => panic!("compiled: {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn arg(
    index: usize,
    op: LinuxSeccompOperator,
    value: u64,
    value_two: Option<u64>,
) -> LinuxSeccompArg {
    let mut b = LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value);
    if let Some(v) = value_two {
        b = b.value_two(v);
    }
    match b.build() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn unknown_syscall_names_the_field() {
    let s = seccomp(
        LinuxSeccompAction::ScmpActErrno,
        vec![
            syscall(&["read"], LinuxSeccompAction::ScmpActAllow, None),
            syscall(&["write"], LinuxSeccompAction::ScmpActAllow, None),
            syscall(&["exit"], LinuxSeccompAction::ScmpActAllow, None),
            syscall(&["close", "foo"], LinuxSeccompAction::ScmpActAllow, None),
        ],
    );
    assert_eq!(
        error_of(&s),
        r#"linux.seccomp.syscalls[3].names: unknown syscall "foo""#
    );
}

#[test]
fn syscalls_named_by_dockers_profile_are_forgiven() {
    // Every name in Docker's profile is either known to libseccomp or skipped: the whole
    // profile compiles even on a libseccomp older than the profile.
    let names = match profile::default_profile_names() {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    };
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    let s = seccomp(
        LinuxSeccompAction::ScmpActErrno,
        vec![syscall(&names, LinuxSeccompAction::ScmpActAllow, None)],
    );
    if let Err(e) = compile(&s) {
        panic!("{e}");
    }
}

#[test]
fn errno_on_an_action_without_one_names_the_field() {
    let s = seccomp(
        LinuxSeccompAction::ScmpActErrno,
        vec![syscall(
            &["read"],
            LinuxSeccompAction::ScmpActAllow,
            Some(1),
        )],
    );
    assert_eq!(
        error_of(&s),
        "linux.seccomp.syscalls[0].errnoRet: errnoRet is set but action SCMP_ACT_ALLOW returns no errno"
    );
    let mut s = seccomp(LinuxSeccompAction::ScmpActKillProcess, vec![]);
    s.set_default_errno_ret(Some(1));
    assert_eq!(
        error_of(&s),
        "linux.seccomp.defaultErrnoRet: errnoRet is set but action SCMP_ACT_KILL_PROCESS returns no errno"
    );
}

#[test]
fn errno_out_of_range_names_the_field() {
    let s = seccomp(
        LinuxSeccompAction::ScmpActAllow,
        vec![syscall(
            &["read"],
            LinuxSeccompAction::ScmpActErrno,
            Some(70_000),
        )],
    );
    assert_eq!(
        error_of(&s),
        "linux.seccomp.syscalls[0].errnoRet: errnoRet 70000 is out of range (0 to 65535)"
    );
}

#[test]
fn bad_arg_index_names_the_field() {
    let mut call = syscall(&["personality"], LinuxSeccompAction::ScmpActAllow, None);
    call.set_args(Some(vec![
        arg(0, LinuxSeccompOperator::ScmpCmpEq, 0, None),
        arg(6, LinuxSeccompOperator::ScmpCmpEq, 0, None),
    ]));
    let s = seccomp(LinuxSeccompAction::ScmpActErrno, vec![call]);
    assert_eq!(
        error_of(&s),
        "linux.seccomp.syscalls[0].args[1].index: argument index 6 is out of range (0 to 5)"
    );
}

#[test]
fn empty_names_and_notify_are_refused() {
    let s = seccomp(
        LinuxSeccompAction::ScmpActErrno,
        vec![syscall(&[], LinuxSeccompAction::ScmpActAllow, None)],
    );
    assert_eq!(
        error_of(&s),
        "linux.seccomp.syscalls[0].names: no syscall names"
    );
    let s = seccomp(
        LinuxSeccompAction::ScmpActAllow,
        vec![syscall(&["read"], LinuxSeccompAction::ScmpActNotify, None)],
    );
    assert_eq!(
        error_of(&s),
        "linux.seccomp.syscalls[0].action: action SCMP_ACT_NOTIFY is not supported"
    );
}

#[test]
fn all_actions_compares_arches_and_flags_compile() {
    let mut masked = syscall(&["clone"], LinuxSeccompAction::ScmpActAllow, None);
    masked.set_args(Some(vec![arg(
        0,
        LinuxSeccompOperator::ScmpCmpMaskedEq,
        0x7E02_0000,
        Some(0),
    )]));
    // Two comparisons of the same argument: split into two rules, as runc does.
    let mut same_arg = syscall(&["personality"], LinuxSeccompAction::ScmpActAllow, None);
    same_arg.set_args(Some(vec![
        arg(0, LinuxSeccompOperator::ScmpCmpEq, 0, None),
        arg(0, LinuxSeccompOperator::ScmpCmpEq, 8, None),
    ]));
    let mut two_args = syscall(&["socket"], LinuxSeccompAction::ScmpActAllow, None);
    two_args.set_args(Some(vec![
        arg(0, LinuxSeccompOperator::ScmpCmpNe, 40, None),
        arg(1, LinuxSeccompOperator::ScmpCmpGe, 1, None),
        arg(2, LinuxSeccompOperator::ScmpCmpLt, 300, None),
        arg(3, LinuxSeccompOperator::ScmpCmpLe, 4, None),
        arg(4, LinuxSeccompOperator::ScmpCmpGt, 0, None),
    ]));
    let mut s = seccomp(
        LinuxSeccompAction::ScmpActErrno,
        vec![
            syscall(&["read", "write"], LinuxSeccompAction::ScmpActAllow, None),
            syscall(&["getcwd"], LinuxSeccompAction::ScmpActErrno, Some(13)),
            syscall(&["mkdir"], LinuxSeccompAction::ScmpActTrace, Some(7)),
            syscall(&["rmdir"], LinuxSeccompAction::ScmpActLog, None),
            syscall(&["reboot"], LinuxSeccompAction::ScmpActKillProcess, None),
            syscall(&["kexec_load"], LinuxSeccompAction::ScmpActKillThread, None),
            syscall(&["swapon"], LinuxSeccompAction::ScmpActKill, None),
            syscall(&["swapoff"], LinuxSeccompAction::ScmpActTrap, None),
            // Same as the default action: dropped, not an error.
            syscall(&["acct"], LinuxSeccompAction::ScmpActErrno, Some(1)),
            masked,
            same_arg,
            two_args,
        ],
    );
    s.set_default_errno_ret(Some(1));
    s.set_architectures(Some(vec![
        Arch::ScmpArchX86_64,
        Arch::ScmpArchX86,
        Arch::ScmpArchX32,
    ]));
    s.set_flags(Some(vec![
        LinuxSeccompFilterFlag::SeccompFilterFlagLog,
        LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow,
    ]));
    let p = match compile(&s) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(p.len() > 10);
    assert_eq!(
        p.flags(),
        (libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW) as u32
    );
}

#[test]
fn docker_default_profile_compiles_for_default_caps() {
    let caps: Vec<String> = crate::defaults::DEFAULT_CAPABILITIES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let s = match profile::docker_default(&caps) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    match compile(&s) {
        Ok(p) => assert!(p.len() > 100 && p.len() <= BPF_MAXINSNS, "{p:?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn decode_rejects_partial_instructions() {
    assert!(matches!(
        decode(&[0; 12]),
        Err(SeccompError::BadProgram { bytes: 12 })
    ));
    assert!(matches!(
        decode(&[]),
        Err(SeccompError::BadProgram { bytes: 0 })
    ));
    assert!(matches!(decode(&[0; 16]), Ok(v) if v.len() == 2));
}

/// Runs `f` in a forked child and returns its exit code: loading a filter is irreversible, so
/// it must never happen in the test harness's process.
fn in_child(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs only `f` and then `_exit`s; it never returns into the test
    // harness. glibc's malloc is fork-safe, which covers the allocations `f` makes.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
            // SAFETY: `_exit` ends the child without running the harness's destructors.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("child: {other:?}"),
        },
        Err(e) => panic!("fork: {e}"),
    }
}

fn set_no_new_privs() -> bool {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 }
}

fn status_field(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_owned()))
}

#[test]
fn loaded_filter_denies_with_errno_on_the_real_kernel() {
    // Allow everything, except getcwd (EPERM by default errnoRet), mkdir (EACCES via errnoRet)
    // and personality(0xdead) (an argument comparison).
    let mut personality = syscall(
        &["personality"],
        LinuxSeccompAction::ScmpActErrno,
        Some(libc::EINVAL as u32),
    );
    personality.set_args(Some(vec![arg(
        0,
        LinuxSeccompOperator::ScmpCmpEq,
        0xdead,
        None,
    )]));
    let s = seccomp(
        LinuxSeccompAction::ScmpActAllow,
        vec![
            syscall(&["getcwd"], LinuxSeccompAction::ScmpActErrno, None),
            syscall(
                &["mkdir", "mkdirat"],
                LinuxSeccompAction::ScmpActErrno,
                Some(libc::EACCES as u32),
            ),
            personality,
        ],
    );
    let program = match compile(&s) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let target = dir.path().join("made-under-seccomp");
    let code = in_child(move || {
        if !set_no_new_privs() {
            return 10;
        }
        if let Err(e) = load(&program) {
            eprintln!("{e}");
            return 11;
        }
        if status_field("Seccomp:").as_deref() != Some("2") {
            return 12;
        }
        match std::env::current_dir() {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            other => {
                eprintln!("getcwd: {other:?}");
                return 13;
            }
        }
        match std::fs::create_dir(&target) {
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {}
            other => {
                eprintln!("mkdir: {other:?}");
                return 14;
            }
        }
        // SAFETY: personality takes an integer; 0xffffffff only queries the persona.
        let query = unsafe { libc::personality(0xffff_ffff) };
        if query < 0 {
            return 15;
        }
        // SAFETY: as above; 0xdead is refused by the filter before the kernel sees it.
        let denied = unsafe { libc::personality(0xdead) };
        if denied != -1 || nix::errno::Errno::last() != nix::errno::Errno::EINVAL {
            return 16;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
    assert!(!dir.path().join("made-under-seccomp").exists());
}

#[test]
fn docker_default_profile_loads_and_denies_mount() {
    let caps: Vec<String> = crate::defaults::DEFAULT_CAPABILITIES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let program = match profile::docker_default(&caps).and_then(|s| compile(&s)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let code = in_child(move || {
        if !set_no_new_privs() {
            return 10;
        }
        if let Err(e) = load(&program) {
            eprintln!("{e}");
            return 11;
        }
        // Docker's profile denies mount(2) without CAP_SYS_ADMIN in the bounding set (EPERM),
        // whatever the caller's capabilities; and clone3 gets ENOSYS so libcs fall back.
        let r = nix::mount::mount(
            Some("none"),
            "/nonexistent",
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        );
        if r != Err(nix::errno::Errno::EPERM) {
            eprintln!("mount: {r:?}");
            return 12;
        }
        // SAFETY: clone3 with a null argument is refused by the filter; were it not, the kernel
        // would return EFAULT without creating anything.
        let r = unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) };
        if r != -1 || nix::errno::Errno::last() != nix::errno::Errno::ENOSYS {
            return 13;
        }
        // Syscalls newer than this libseccomp are allowed by number on the native
        // architecture: mseal (Linux 6.10) of nothing succeeds, statmount (6.8) with a null
        // request fails on the pointer, not with the filter's EPERM.
        // SAFETY: mseal of an empty range touches no memory.
        let r = unsafe { libc::syscall(libc::SYS_mseal, 0usize, 0usize, 0usize) };
        if r != 0 {
            eprintln!("mseal: {}", nix::errno::Errno::last());
            return 15;
        }
        // SAFETY: statmount with null pointers only makes the kernel return EFAULT/EINVAL.
        let r = unsafe {
            libc::syscall(
                457,
                std::ptr::null::<u8>(),
                std::ptr::null::<u8>(),
                0usize,
                0usize,
            )
        };
        if r != -1 || nix::errno::Errno::last() == nix::errno::Errno::EPERM {
            eprintln!("statmount: {r} {}", nix::errno::Errno::last());
            return 16;
        }
        // Ordinary work still runs.
        if std::env::current_dir().is_err() || std::fs::read_to_string("/proc/self/status").is_err()
        {
            return 14;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

#[test]
fn load_without_no_new_privs_or_cap_sys_admin_is_refused() {
    let s = seccomp(
        LinuxSeccompAction::ScmpActAllow,
        vec![syscall(&["getcwd"], LinuxSeccompAction::ScmpActErrno, None)],
    );
    let program = match compile(&s) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let code = in_child(move || {
        // Drop to an unprivileged user without no_new_privs: the kernel must say EACCES.
        let nobody = nix::unistd::Uid::from_raw(65534);
        if nix::unistd::setresuid(nobody, nobody, nobody).is_err() {
            return 10;
        }
        match load(&program) {
            Err(SeccompError::Load(nix::errno::Errno::EACCES)) => 0,
            other => {
                eprintln!("{other:?}");
                11
            }
        }
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

#[test]
fn other_architectures_go_into_the_same_program() {
    let rules = || {
        vec![
            syscall(&["getcwd"], LinuxSeccompAction::ScmpActErrno, None),
            // Known to libseccomp only by berth's number table: native rule only.
            syscall(&["mseal"], LinuxSeccompAction::ScmpActErrno, None),
        ]
    };
    let native_only = seccomp(LinuxSeccompAction::ScmpActAllow, rules());
    let mut multi = seccomp(LinuxSeccompAction::ScmpActAllow, rules());
    multi.set_architectures(Some(vec![
        Arch::ScmpArchNative,
        Arch::ScmpArchX86,
        Arch::ScmpArchX32,
    ]));
    let (one, three) = match (compile(&native_only), compile(&multi)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => panic!("{a:?} {b:?}"),
    };
    assert!(three.len() > one.len(), "{one:?} vs {three:?}");
}

#[test]
fn architecture_unknown_to_libseccomp_names_the_field() {
    // SuperH arrived in libseccomp 2.6; Debian 12 ships 2.5.4.
    let mut s = seccomp(LinuxSeccompAction::ScmpActErrno, vec![]);
    s.set_architectures(Some(vec![Arch::ScmpArchX86, Arch::ScmpArchSh]));
    match libseccomp::ScmpVersion::current().map(|v| (v.major, v.minor)) {
        Ok((2, minor)) if minor < 6 => assert_eq!(
            error_of(&s),
            "linux.seccomp.architectures[1]: architecture SCMP_ARCH_SH is not supported by libseccomp"
        ),
        Ok(_) => assert!(compile(&s).is_ok()),
        Err(e) => panic!("libseccomp version: {e}"),
    }
}
