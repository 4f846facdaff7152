//! Syscalls the libseccomp on this machine cannot name: Docker's default profile names
//! syscalls newer than libseccomp 2.5 knows. Those in berth's small table are filtered by
//! number on the native architecture; other names the default profile has are forgiven
//! (skipped); anything else is a typo the compiler reports.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::{SeccompError, profile};

/// The native number of a syscall Docker's profile names but libseccomp 2.5 does not know.
///
/// Since Linux 5.1 new syscalls get one number on every architecture but alpha, ia64 and mips
/// (whose tables are offset); a few are architecture-specific. Numbers from the kernel's
/// `syscall_64.tbl` / `unistd.h`.
pub(super) fn newer_syscall(name: &str) -> Option<i32> {
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

/// Every syscall name in Docker's default profile, the names an unknown-to-libseccomp syscall is
/// forgiven for.
pub(super) fn docker_default_names() -> Result<&'static HashSet<&'static str>, SeccompError> {
    static NAMES: OnceLock<Result<HashSet<&'static str>, String>> = OnceLock::new();
    NAMES
        .get_or_init(profile::default_profile_names)
        .as_ref()
        .map_err(|e| SeccompError::EmbeddedProfile(e.clone()))
}
