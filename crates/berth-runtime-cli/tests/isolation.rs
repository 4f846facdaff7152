//! Issue 2's isolation checklist, each point checked from inside a real container run by the
//! `berth-runtime` binary on a busybox rootfs.

mod common;

use common::{Bundle, stderr, stdout};
use serde_json::json;

/// Run `script` with `sh -c` in a default container, patched by `patch`; return the output.
fn run_sh(
    prefix: &str,
    script: &str,
    patch: impl FnOnce(&mut serde_json::Value),
) -> std::process::Output {
    let mut bundle = Bundle::new(prefix, &["sh", "-c", script]);
    patch(&mut bundle.config);
    bundle.run()
}

#[test]
fn pid_one_is_the_command_and_host_pids_are_invisible() {
    let out = run_sh(
        "pid1",
        "tr '\\0' ' ' < /proc/1/cmdline; echo; ls -d /proc/[0-9]* | wc -l",
        |_| {},
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(lines.next().unwrap_or("").starts_with("sh -c"), "{text}");
    let count: usize = lines.next().unwrap_or("").trim().parse().expect("a count");
    // sh, ls and wc at most: none of the host's processes.
    assert!(count <= 3, "saw {count} pids: {text}");
}

#[test]
fn hostname_and_domainname_come_from_the_spec() {
    let out = run_sh("uts", "hostname; cat /proc/sys/kernel/domainname", |c| {
        c["hostname"] = json!("berth-test");
        c["domainname"] = json!("example.test");
    });
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "berth-test\nexample.test\n");
}

#[test]
fn masked_paths_are_empty_and_proc_sys_is_read_only() {
    // /proc/kcore is masked when the kernel has one (this machine's has none); every masked
    // path the host has must read empty inside.
    let bundle = Bundle::new("mask", &["true"]);
    let masked: Vec<String> = bundle.config["linux"]["maskedPaths"]
        .as_array()
        .expect("maskedPaths")
        .iter()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    assert!(
        masked.len() >= 2,
        "too few masked paths exist here: {masked:?}"
    );
    let script = format!(
        "for p in {}; do if [ -d $p ]; then echo $p $(ls -A $p | wc -l); else echo $p $(wc -c < $p); fi; done; \
         if echo 1 > /proc/sys/vm/drop_caches; then echo writable; else echo refused; fi",
        masked.join(" ")
    );
    let out = run_sh("mask", &script, |_| {});
    assert!(out.status.success(), "{}", stderr(&out));
    let expected: String = masked
        .iter()
        .map(|p| format!("{p} 0\n"))
        .chain(std::iter::once("refused\n".to_owned()))
        .collect();
    assert_eq!(stdout(&out), expected, "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn effective_capabilities_are_dockers_default_set() {
    let out = run_sh(
        "caps",
        "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status",
        |_| {},
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
    // SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    for set in ["CapEff", "CapPrm", "CapBnd"] {
        assert!(
            text.contains(&format!("{set}:\t00000000a80425fb")),
            "{set}: {text}"
        );
    }
}

#[test]
fn capabilities_follow_the_spec() {
    let out = run_sh("caps2", "grep '^CapEff:' /proc/self/status", |c| {
        for set in ["bounding", "effective", "permitted"] {
            c["process"]["capabilities"][set] = json!(["CAP_KILL", "CAP_CHOWN"]);
        }
    });
    assert!(out.status.success(), "{}", stderr(&out));
    // CHOWN = bit 0, KILL = bit 5.
    assert_eq!(stdout(&out), "CapEff:\t0000000000000021\n");
}

#[test]
fn seccomp_filter_is_on_and_denies_what_the_profile_denies() {
    // Docker's profile allows unshare(2) only with CAP_SYS_ADMIN; creating a user namespace
    // needs no capability, so EPERM here comes from the filter.
    let script =
        "grep '^Seccomp:' /proc/self/status; unshare -U true && echo allowed || echo denied";
    let out = run_sh("seccomp", script, |_| {});
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Seccomp:\t2\ndenied\n",
        "stderr: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );

    // The same call without the filter succeeds: the denial is the filter's.
    let out = run_sh("noseccomp", script, |c| {
        c["linux"].as_object_mut().expect("linux").remove("seccomp");
    });
    assert_eq!(
        stdout(&out),
        "Seccomp:\t0\nallowed\n",
        "stderr: {}",
        stderr(&out)
    );
}

#[test]
fn memory_limit_reads_back_from_the_cgroup() {
    let out = run_sh(
        "memlimit",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
        |c| c["linux"]["resources"]["memory"] = json!({"limit": 67108864}),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "67108864\n");
}

#[test]
fn memory_hog_is_oom_killed_with_137() {
    // tail buffers a "line" of /dev/zero that never ends.
    let out = run_sh("oom", "tail /dev/zero", |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 33554432});
    });
    assert_eq!(out.status.code(), Some(137), "stderr: {}", stderr(&out));
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    // ash gives up on a failed fork, so the bomb runs in a subshell; `read` is a builtin and
    // needs no fork once the limit is reached.
    let script = "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; \
                  (n=0; while [ $n -lt 40 ]; do sleep 30 & n=$((n+1)); done); \
                  { read current < /sys/fs/cgroup/pids/pids.current || read current < /sys/fs/cgroup/pids.current; } 2>/dev/null; echo $current";
    let out = run_sh("pids", script, |c| {
        c["linux"]["resources"]["pids"] = json!({"limit": 16});
    });
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("16"), "{text} {}", stderr(&out));
    let current: usize = lines.next().unwrap_or("").trim().parse().expect("a count");
    assert!(current <= 16, "{current} tasks ran under a limit of 16");
    assert!(stderr(&out).contains("fork"), "{}", stderr(&out));
}

#[test]
fn process_runs_as_the_spec_user_and_groups() {
    let out = run_sh("user", "id; umask", |c| {
        c["process"]["user"] =
            json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 65534], "umask": 63});
    });
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("uid=1000(user) gid=1000(user) groups="),
        "{text}"
    );
    assert!(text.contains("10") && text.contains("65534"), "{text}");
    assert!(text.ends_with("0077\n"), "{text}");
}

#[test]
fn mount_fails_without_cap_sys_admin() {
    let out = run_sh(
        "nomount",
        "mount -t tmpfs tmpfs /tmp && echo mounted || echo refused",
        |_| {},
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "refused\n", "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("denied"), "{}", stderr(&out));
}

#[test]
fn user_namespace_maps_root_to_an_unprivileged_host_uid() {
    let mut bundle = Bundle::new(
        "userns",
        &["sh", "-c", "cat /proc/self/uid_map; id -u; sleep 30"],
    );
    let namespaces = bundle.config["linux"]["namespaces"]
        .as_array_mut()
        .expect("namespaces");
    namespaces.push(json!({"type": "user"}));
    bundle.config["linux"]["uidMappings"] =
        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    bundle.config["linux"]["gidMappings"] =
        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let out = bundle.create();
    assert!(out.status.success(), "create: {}", stderr(&out));
    let pid = bundle.state()["pid"].as_i64().expect("a pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("host view");
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .expect("Uid line");
    assert!(
        uid_line.split_whitespace().nth(1) == Some("100000"),
        "host sees {uid_line}"
    );
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).expect("uid_map");
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
}

#[test]
fn new_network_namespace_has_loopback_up() {
    // runc and crun bring `lo` up in every network namespace they create: 127.0.0.1 answers.
    let out = run_sh(
        "lo",
        "cat /sys/class/net/lo/flags; ping -c 1 -W 5 127.0.0.1 > /dev/null && echo ping-ok",
        |c| {
            let ns = c["linux"]["namespaces"].as_array().expect("namespaces");
            assert!(
                ns.iter()
                    .any(|n| n["type"] == "network" && n.get("path").is_none()),
                "the default spec makes a new network namespace: {ns:?}"
            );
        },
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    let flags = lines.next().unwrap_or("").trim_start_matches("0x");
    let flags = u32::from_str_radix(flags, 16).expect("hex flags");
    assert_eq!(flags & 0x9, 0x9, "lo is not up and loopback: {text}");
    assert_eq!(lines.next(), Some("ping-ok"), "{text} {}", stderr(&out));
}
