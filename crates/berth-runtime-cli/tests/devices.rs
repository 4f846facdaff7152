//! Device access control on the real kernel (issue 10 §2, issue 17): a device node outside the
//! container's allowed list cannot be opened (EPERM), one on the list can.
//!
//! - In a container, through the runtime binary: the host's layout decides the mechanism (the
//!   v1 `devices` controller on a v1 or hybrid host, the eBPF device filter on pure v2), the
//!   effect is the same and is what is checked.
//! - The v2 device filter itself, through the v2 manager on the cgroup2 mount (the unified
//!   mount of a hybrid host counts: cgroup BPF needs no controller), including its replacement
//!   on update.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use berth_runtime::cgroups::v2::V2Manager;
use berth_runtime::cgroups::{CgroupLayout, CgroupMounts, detect_layout};
use common::{Bundle, stderr, stdout};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use oci_spec::runtime::{
    LinuxDeviceCgroup, LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxResourcesBuilder,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Makes `/dev/kmsg-test` (c 1:11, /dev/kmsg: a write-only open needs no capability, so only
/// the device rules can refuse it) and opens it, then `/dev/null` (always allowed).
const PROBE: &str = "mknod /dev/kmsg-test c 1 11 || echo mknod-failed; \
     (: > /dev/kmsg-test) && echo kmsg=ok || echo kmsg=denied; \
     (: > /dev/null) && echo null=ok || echo null=denied";

fn run_probe(prefix: &str, extra: Option<serde_json::Value>) -> std::process::Output {
    let mut b = Bundle::new(prefix, &["sh", "-c", PROBE]);
    if let Some(rule) = extra {
        let rules = b.config["linux"]["resources"]["devices"]
            .as_array_mut()
            .expect("the default spec has device rules");
        rules.push(rule);
    }
    b.run()
}

#[test]
fn devices_unlisted_node_is_eperm_listed_node_opens() {
    let layout = detect_layout().expect("a cgroup filesystem is mounted");
    // The default list (docker's): mknod of anything, but no access to c 1:11.
    let out = run_probe("dev-deny", None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "kmsg=denied\nnull=ok\n",
        "{layout:?}: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );

    // Listed (write access, as `--device /dev/kmsg:/dev/kmsg:w` would list it): it opens.
    let rule = json!({"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"});
    let out = run_probe("dev-allow", Some(rule));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "kmsg=ok\nnull=ok\n", "{}", stderr(&out));

    // Allow-all last (what --privileged lists): everything opens.
    let out = run_probe("dev-all", Some(json!({"allow": true, "access": "rwm"})));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "kmsg=ok\nnull=ok\n", "{}", stderr(&out));
}

/// A cgroup under the cgroup2 mount, made with a bare mkdir (the filter needs no controller,
/// and on a hybrid host the root's `subtree_control` stays untouched); killed and removed on
/// drop.
struct V2Cgroup {
    mgr: V2Manager,
    dir: PathBuf,
}

impl V2Cgroup {
    fn new(name: &str) -> Result<Self, Box<dyn std::error::Error>> {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the device tests need root: run them as root (sudo)"
        );
        let mounts = CgroupMounts::from_proc()?;
        let root = mounts.unified.ok_or(
            "no cgroup2 filesystem is mounted: the v2 device filter needs one \
             (mount -t cgroup2 none /sys/fs/cgroup/unified)",
        )?;
        let rel = PathBuf::from(format!("berth-test-{}-{name}", std::process::id()));
        let mgr = V2Manager::new(&root, &rel);
        let dir = root.join(&rel);
        std::fs::create_dir(&dir)?;
        Ok(V2Cgroup { mgr, dir })
    }

    /// Which of `/dev/zero` and `/dev/null` a process of the cgroup can open for reading and
    /// writing, one `path mode ok|denied` line each; and its stderr.
    fn probe(&self) -> Result<(String, String), Box<dyn std::error::Error>> {
        let script = "read go; for d in /dev/zero /dev/null; do \
            (exec 3<\"$d\") && echo \"$d r ok\" || echo \"$d r denied\"; \
            (exec 3>\"$d\") && echo \"$d w ok\" || echo \"$d w denied\"; done";
        let mut child = Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = Pid::from_raw(i32::try_from(child.id())?);
        if let Err(e) = self.mgr.add_task(pid) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.into());
        }
        child.stdin.take().ok_or("no stdin")?.write_all(b"go\n")?;
        let out = child.wait_with_output()?;
        Ok((stdout(&out), stderr(&out)))
    }
}

impl Drop for V2Cgroup {
    fn drop(&mut self) {
        let _ = self.mgr.kill_all(Signal::SIGKILL);
        if let Err(e) = self.mgr.destroy() {
            eprintln!("cleanup of {}: {e}", self.dir.display());
        }
    }
}

fn rule(allow: bool, typ: Option<(i64, i64)>, access: &str) -> LinuxDeviceCgroup {
    let mut b = LinuxDeviceCgroupBuilder::default()
        .allow(allow)
        .access(access);
    if let Some((major, minor)) = typ {
        b = b.typ(LinuxDeviceType::C).major(major).minor(minor);
    }
    b.build().expect("a device rule")
}

fn apply(cg: &V2Cgroup, rules: Vec<LinuxDeviceCgroup>) -> TestResult {
    cg.mgr
        .apply(&LinuxResourcesBuilder::default().devices(rules).build()?)?;
    Ok(())
}

#[test]
fn devices_v2_filter_enforces_and_is_replaced_on_update() -> TestResult {
    let layout = detect_layout()?;
    let cg = V2Cgroup::new("devfilter")?;

    // Before any filter: everything opens (the probe itself works).
    let (out, err) = cg.probe()?;
    assert_eq!(
        out, "/dev/zero r ok\n/dev/zero w ok\n/dev/null r ok\n/dev/null w ok\n",
        "{layout:?}: {err}"
    );

    apply(
        &cg,
        vec![rule(false, None, "rwm"), rule(true, Some((1, 3)), "rwm")],
    )?;
    let (out, err) = cg.probe()?;
    assert_eq!(
        out, "/dev/zero r denied\n/dev/zero w denied\n/dev/null r ok\n/dev/null w ok\n",
        "{err}"
    );
    assert!(err.contains("Operation not permitted"), "{err}");

    // An update replaces the program: were the old one still attached, it would deny
    // /dev/zero (every attached program must allow an access).
    apply(
        &cg,
        vec![rule(false, None, "rwm"), rule(true, Some((1, 5)), "r")],
    )?;
    let (out, err) = cg.probe()?;
    assert_eq!(
        out, "/dev/zero r ok\n/dev/zero w denied\n/dev/null r denied\n/dev/null w denied\n",
        "{err}"
    );

    // Allow-all (--privileged).
    apply(&cg, vec![rule(true, None, "rwm")])?;
    let (out, err) = cg.probe()?;
    assert_eq!(
        out, "/dev/zero r ok\n/dev/zero w ok\n/dev/null r ok\n/dev/null w ok\n",
        "{err}"
    );
    if layout == CgroupLayout::V2 {
        // Pure v2: nothing but the filter governs devices here.
        assert!(!cg.dir.join("devices.list").exists());
    }
    Ok(())
}
