//! Host options that are checked or honoured at create and start, through the docker CLI:
//! sysctls limited to the container's own namespaces (a security boundary), numbers that
//! would wrap refused with dockerd's messages, the block IO weight honoured or dropped with
//! dockerd's warning as the kernel calls for, the pid/ipc/uts namespace modes, and `rmi -f`
//! of one tag leaving the others.

mod engine_harness;

use engine_harness::{Daemon, ok, stderr, stdout};

fn refused(out: &std::process::Output, what: &str, needle: &str) {
    assert_eq!(out.status.code(), Some(125), "{what}: {}", stderr(out));
    assert!(
        stderr(out).contains(needle),
        "{what}: {needle:?} not in {}",
        stderr(out)
    );
}

#[test]
fn sysctls_outside_the_containers_namespaces_are_refused() {
    let d = Daemon::start();
    let before = std::fs::read_to_string("/proc/sys/kernel/core_pattern").expect("core_pattern");
    let out = d.docker(&[
        "run",
        "--rm",
        "--sysctl",
        "kernel.core_pattern=/tmp/berth-pwned",
        "busybox",
        "true",
    ]);
    refused(&out, "kernel.core_pattern", "kernel.core_pattern");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").expect("core_pattern"),
        before,
        "the host's core_pattern changed"
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "--sysctl",
        "vm.overcommit_memory=1",
        "busybox",
        "true",
    ]);
    refused(&out, "vm.*", "vm.overcommit_memory");
    let out = d.docker(&[
        "run",
        "--rm",
        "--network",
        "host",
        "--sysctl",
        "net.ipv4.ip_default_ttl=13",
        "busybox",
        "true",
    ]);
    refused(
        &out,
        "net.* on the host network",
        "host's network namespace",
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "--ipc",
        "host",
        "--sysctl",
        "kernel.shmmni=1000",
        "busybox",
        "true",
    ]);
    refused(&out, "ipc sysctl with --ipc host", "host's ipc namespace");
    assert!(d.all_ids().is_empty(), "a refused create left a container");

    // Namespaced ones are set inside, and only there.
    let host_ttl = std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").expect("ttl");
    let out = d.docker(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_default_ttl=13",
        "--sysctl",
        "kernel.shmmni=1000",
        "busybox",
        "cat",
        "/proc/sys/net/ipv4/ip_default_ttl",
        "/proc/sys/kernel/shmmni",
    ]);
    assert_eq!(ok(&out, "namespaced sysctls"), "13\n1000\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").expect("ttl"),
        host_ttl
    );
}

#[test]
fn numbers_that_would_wrap_get_400s() {
    let d = Daemon::start();
    for (field, value, needle) in [
        ("Memory", "9223372036854775807", "too large"),
        ("NanoCpus", "1", "Range of CPUs is from 0.01"),
        (
            "NanoCpus",
            "9223372036854775807",
            "Range of CPUs is from 0.01",
        ),
        (
            "OomScoreAdj",
            "4294967297",
            "range for oom score adj is [-1000, 1000]",
        ),
        ("CpuQuota", "5", "CPU cfs quota can not be less than 1ms"),
    ] {
        let body =
            format!(r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{"{field}":{value}}}}}"#);
        let (status, resp) = d.http("POST", "/containers/create", &body);
        assert_eq!(status, 400, "{field}={value}: {resp}");
        assert!(resp.contains(needle), "{field}={value}: {resp}");
    }
    let out = d.docker(&["run", "--rm", "--cpus", "0.001", "busybox", "true"]);
    refused(&out, "--cpus 0.001", "Range of CPUs is from 0.01");
    assert!(d.all_ids().is_empty());
}

#[test]
fn blkio_weight_is_set_or_dropped_with_a_warning_as_the_kernel_calls_for() {
    let d = Daemon::start();
    let mounts = berth_runtime::cgroups::CgroupMounts::from_proc().expect("mountinfo");
    let supported = berth_runtime::cgroups::features::blkio_weight_supported(&mounts);
    let id = ok(
        &d.docker(&[
            "run",
            "-d",
            "--blkio-weight",
            "300",
            "busybox",
            "sleep",
            "30",
        ]),
        "run --blkio-weight",
    )
    .trim()
    .to_owned();
    let (status, body) = d.http("GET", &format!("/containers/{id}/json"), "");
    assert_eq!(status, 200, "{body}");
    let weight = d.inspect(&id, "{{.HostConfig.BlkioWeight}}");
    if supported {
        assert_eq!(weight, "300");
        let h = mounts.hierarchy("blkio").expect("blkio hierarchy");
        let dir = h.mount_point.join("berth").join(&id);
        let file = ["blkio.weight", "blkio.bfq.weight"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
            .expect("a weight file");
        let v = std::fs::read_to_string(file).expect("read weight");
        assert!(v.trim().ends_with("300"), "{v}");
    } else {
        assert_eq!(weight, "0", "the weight is dropped");
        let out = d.docker(&["create", "--blkio-weight", "300", "busybox", "true"]);
        let err = stderr(&out);
        assert!(out.status.success(), "{err}");
        assert!(
            err.contains("Your kernel does not support Block I/O weight"),
            "no warning: {err}"
        );
    }
    let out = d.docker(&["run", "--rm", "--blkio-weight", "5", "busybox", "true"]);
    refused(&out, "weight 5", "Range of blkio weight is from 10 to 1000");
    ok(&d.docker(&["rm", "-f", &id]), "rm");
}

#[test]
fn pid_ipc_and_uts_modes_share_the_named_namespaces() {
    let d = Daemon::start();
    let host_ns = |n: &str| {
        std::fs::read_link(format!("/proc/self/ns/{n}"))
            .expect("ns link")
            .display()
            .to_string()
    };
    let in_container = |args: &[&str]| {
        let mut v = vec!["run", "--rm"];
        v.extend_from_slice(args);
        ok(&d.docker(&v), &format!("{args:?}")).trim().to_owned()
    };
    // Own namespaces by default.
    let own = in_container(&[
        "busybox",
        "sh",
        "-c",
        "for n in pid ipc uts; do readlink /proc/self/ns/$n; done",
    ]);
    for n in ["pid", "ipc", "uts"] {
        assert!(!own.contains(&host_ns(n)), "{n} is the host's: {own}");
    }
    // The host's when asked.
    let shared = in_container(&[
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "busybox",
        "sh",
        "-c",
        "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname",
    ]);
    let lines: Vec<&str> = shared.lines().collect();
    assert_eq!(
        lines[..3],
        [host_ns("pid"), host_ns("ipc"), host_ns("uts")],
        "{shared}"
    );
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(lines[3], host_name.trim());
    // This test process is on the host: a `--pid host` container sees it.
    let me = std::process::id();
    let seen = in_container(&[
        "--pid",
        "host",
        "busybox",
        "sh",
        "-c",
        &format!("test -d /proc/{me} && echo yes"),
    ]);
    assert_eq!(seen, "yes");

    // Another container's pid and ipc namespaces.
    let web = ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "peer",
            "--ipc",
            "shareable",
            "busybox",
            "sh",
            "-c",
            "echo shared > /dev/shm/note; exec sleep 300",
        ]),
        "peer",
    )
    .trim()
    .to_owned();
    let ps = in_container(&["--pid", "container:peer", "busybox", "ps", "-o", "args"]);
    assert!(ps.contains("sleep 300"), "{ps}");
    let peer_ipc = ok(
        &d.docker(&["exec", "peer", "readlink", "/proc/self/ns/ipc"]),
        "exec",
    );
    let joined = in_container(&[
        "--ipc",
        "container:peer",
        "busybox",
        "readlink",
        "/proc/self/ns/ipc",
    ]);
    assert_eq!(joined, peer_ipc.trim());
    ok(&d.docker(&["stop", "-t", "0", &web]), "stop peer");
    assert!(
        !d.mounts().iter().any(|m| m.contains("/shm")),
        "the shareable /dev/shm stayed mounted: {:?}",
        d.mounts()
    );
    let out = d.docker(&["run", "--rm", "--pid", "container:peer", "busybox", "true"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("cannot join PID of a non running container"),
        "{}",
        stderr(&out)
    );
    let out = d.docker(&["run", "--rm", "--uts", "container:peer", "busybox", "true"]);
    refused(&out, "uts container mode", "invalid UTS mode");
    // The docker CLI knows only `host`; the API takes any word.
    let (status, body) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"UsernsMode":"private"}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("--userns=private is not supported by berth"),
        "{body}"
    );
}

#[test]
fn rmi_force_of_one_tag_keeps_the_other_tags() {
    let d = Daemon::start();
    ok(&d.docker(&["tag", "busybox", "keep:one"]), "tag one");
    ok(&d.docker(&["tag", "busybox", "keep:two"]), "tag two");
    let out = ok(&d.docker(&["rmi", "-f", "keep:one"]), "rmi -f");
    assert_eq!(out.trim(), "Untagged: keep:one");
    let left = ok(
        &d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]),
        "images",
    );
    let mut left: Vec<&str> = left.lines().collect();
    left.sort();
    assert_eq!(left, ["busybox:latest", "keep:two"]);
    let out = d.docker(&["run", "--rm", "keep:two", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn options_berth_cannot_honour_are_refused_by_name() {
    let d = Daemon::start();
    for (args, needle) in [
        (
            &["--storage-opt", "size=1G"][..],
            "--storage-opt is not supported by berth",
        ),
        (
            &["--device-read-bps", "/dev/null:1mb"][..],
            "--device-read-bps: /dev/null is not a block device",
        ),
        (
            &["--cpu-rt-runtime", "950000"][..],
            "--cpu-rt-runtime is not supported by berth",
        ),
        (
            &["--runtime", "kata"][..],
            "unknown or invalid runtime name: kata",
        ),
        (
            &["--security-opt", "bogus=1"][..],
            "invalid --security-opt 2",
        ),
        (
            &["--ulimit", "nofile=20:10"][..],
            "ulimit soft limit must be less than or equal to hard limit",
        ),
    ] {
        let mut v = vec!["run", "--rm"];
        v.extend_from_slice(args);
        v.extend_from_slice(&["busybox", "true"]);
        refused(&d.docker(&v), &format!("{args:?}"), needle);
    }
    // An API field the docker CLI cannot send, refused by name as well.
    let (status, body) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"CpuCount":2}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("--cpu-count is not supported by berth"),
        "{body}"
    );
    assert!(d.all_ids().is_empty(), "a refused create left a container");
}

#[test]
fn ulimits_security_options_and_annotations_are_honoured() {
    let d = Daemon::start();
    let out = d.docker(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=123:456",
        "--ulimit",
        "nproc=77",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; ulimit -u",
    ]);
    assert_eq!(ok(&out, "ulimits"), "123\n456\n77\n");

    // seccomp=unconfined and systempaths=unconfined: no filter, nothing masked.
    let out = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "--security-opt",
        "systempaths=unconfined",
        "busybox",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; mount | grep -c ' /proc/.* ro,' || true",
    ]);
    let text = ok(&out, "unconfined");
    assert!(text.contains("Seccomp:\t0"), "{text}");
    assert!(
        text.trim_end().ends_with('0'),
        "read-only /proc paths left: {text}"
    );
    // The default: seccomp filter mode 2, /proc/sys read-only.
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; mount | grep -c ' /proc/sys .*ro,'",
    ]);
    let text = ok(&out, "default");
    assert!(text.contains("Seccomp:\t2"), "{text}");

    // A custom profile that refuses mkdir with EPERM... as a file, like a user gives it.
    let profile = d.dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .expect("write profile");
    let opt = format!("seccomp={}", profile.display());
    let out = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "busybox",
        "sh",
        "-c",
        "mkdir /x && echo made || echo refused",
    ]);
    assert_eq!(ok(&out, "custom profile").trim(), "refused");
    std::fs::write(&profile, "{not json").expect("write bad profile");
    let out = d.docker(&["run", "--rm", "--security-opt", &opt, "busybox", "true"]);
    assert_ne!(out.status.code(), Some(0), "a bad profile was accepted");

    // Annotations reach the OCI spec; NetworkDisabled gives only `lo`.
    let id = ok(
        &d.docker(&[
            "create",
            "--annotation",
            "org.example.k=v",
            "busybox",
            "true",
        ]),
        "create --annotation",
    )
    .trim()
    .to_owned();
    ok(&d.docker(&["start", &id]), "start");
    let spec = std::fs::read_to_string(
        d.data_root()
            .join("containers")
            .join(&id)
            .join("config.json"),
    )
    .expect("config.json");
    assert!(spec.contains(r#""org.example.k":"v""#), "{spec}");
    let (status, body) = d.http(
        "POST",
        "/containers/create?name=nonet",
        r#"{"Image":"busybox","Cmd":["ls","/sys/class/net"],"NetworkDisabled":true}"#,
    );
    assert_eq!(status, 201, "{body}");
    ok(&d.docker(&["start", "-a", "nonet"]), "start nonet");
    assert_eq!(ok(&d.docker(&["logs", "nonet"]), "logs").trim(), "lo");
}

/// The device the rules are tested with: `/dev/net/tun` (c 10:200), which docker's default
/// rules do not allow and which opens without side effects. (Block devices are no good here:
/// this sandbox refuses opening its disk to every process, in any cgroup.)
const TUN: (&str, u32, u32) = ("/dev/net/tun", 10, 200);

#[test]
fn devices_are_allowed_exactly_as_asked() {
    let d = Daemon::start();
    let (path, major, minor) = TUN;
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: modprobe tun"
    );
    let probe = format!(
        "mknod /dev/probe c {major} {minor} && (: < /dev/probe) 2>/dev/null && echo open || echo denied"
    );
    // Docker's default rules: CAP_MKNOD makes the node, the device cgroup refuses the open.
    let out = d.docker(&["run", "--rm", "busybox", "sh", "-c", &probe]);
    assert_eq!(ok(&out, "default").trim(), "denied");
    // A rule for exactly that device allows it; one for its neighbour does not.
    for (rule, want) in [
        (format!("c {major}:{minor} rm"), "open"),
        (format!("c {major}:{} rm", minor + 1), "denied"),
    ] {
        let out = d.docker(&[
            "run",
            "--rm",
            "--device-cgroup-rule",
            &rule,
            "busybox",
            "sh",
            "-c",
            &probe,
        ]);
        assert_eq!(ok(&out, &rule).trim(), want, "{rule}");
    }
    // --device makes the node with the given permissions: readable, not writable.
    let dev = format!("{path}:/dev/thetun:r");
    let out = d.docker(&[
        "run",
        "--rm",
        "--device",
        &dev,
        "busybox",
        "sh",
        "-c",
        "(: < /dev/thetun) && echo read; (: > /dev/thetun) 2>/dev/null && echo wrote || echo nowrite",
    ]);
    assert_eq!(ok(&out, "--device").trim(), "read\nnowrite");
    let out = d.docker(&[
        "run",
        "--rm",
        "--device",
        "/etc/hostname",
        "busybox",
        "true",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not a device node"),
        "{}",
        stderr(&out)
    );
    // The docker CLI checks the rule's format itself; the API gets dockerd's answer too.
    let (status, body) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"DeviceCgroupRules":["c 1:3 rwx"]}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid device cgroup rule format"), "{body}");

    // --privileged: every host device, all capabilities, no seccomp, writable /sys.
    let script = format!(
        "(: < {path}) && echo open; grep -E 'CapEff|Seccomp:' /proc/self/status; \
         mount | grep ' on /sys type'"
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "--privileged",
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    let text = ok(&out, "--privileged");
    assert!(text.starts_with("open\n"), "{text}");
    assert!(text.contains("Seccomp:\t0"), "{text}");
    assert!(text.contains("(rw,"), "/sys is read-only: {text}");
    let capeff = text
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:\t"))
        .expect("CapEff");
    let host_bound = std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:\t").map(str::to_owned))
        .expect("CapBnd");
    assert_eq!(
        capeff, host_bound,
        "a privileged container has every capability"
    );
}

#[test]
fn init_reaps_and_forwards_signals() {
    let d = Daemon::start();
    let out = d.docker(&["run", "--rm", "--init", "busybox", "ps", "-o", "pid,args"]);
    let ps = ok(&out, "run --init ps");
    let pid1 = ps
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_default();
    assert!(pid1.contains("/sbin/docker-init -- ps"), "{ps}");
    // pid 1 `sleep` ignores SIGTERM (no handler): without an init, stop has to SIGKILL it
    // (137); with one, the init forwards SIGTERM and sleep dies of it (143).
    for (init, want) in [(true, "143"), (false, "137")] {
        let mut args = vec!["run", "-d"];
        if init {
            args.push("--init");
        }
        args.extend_from_slice(&["busybox", "sleep", "300"]);
        let id = ok(&d.docker(&args), "run -d").trim().to_owned();
        ok(&d.docker(&["stop", "-t", "2", &id]), "stop");
        assert_eq!(d.inspect(&id, "{{.State.ExitCode}}"), want, "init={init}");
        assert_eq!(
            d.inspect(&id, "{{.HostConfig.Init}}"),
            if init { "true" } else { "<nil>" }
        );
        ok(&d.docker(&["rm", &id]), "rm");
    }
}

#[test]
fn block_io_device_limits_reach_the_cgroup() {
    use std::os::unix::fs::MetadataExt;
    let d = Daemon::start();
    // The disk holding `/`: stat works on it (this sandbox refuses only opening it).
    let dev = std::fs::metadata("/").expect("stat /").dev();
    let (major, minor) = (dev >> 8 & 0xfff, (dev & 0xff) | (dev >> 12 & 0xfff00));
    let node = std::fs::read_dir("/dev")
        .expect("read /dev")
        .flatten()
        .find(|e| {
            e.metadata().is_ok_and(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_block_device() && m.rdev() == dev
            })
        })
        .map(|e| e.path().display().to_string())
        .expect("a /dev node for the root disk");
    let out = d.docker(&[
        "run",
        "--rm",
        "--device-read-bps",
        &format!("{node}:1mb"),
        "--device-write-iops",
        &format!("{node}:77"),
        "busybox",
        "cat",
        "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device",
        "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device",
    ]);
    assert_eq!(
        ok(&out, "throttles"),
        format!("{major}:{minor} 1048576\n{major}:{minor} 77\n")
    );
}
