//! Tests of the Docker-profile conversion: conditions on capabilities, architecture and kernel,
//! the archMap, and errors that name the field.

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
