//! A pull killed half-way resumes: berthd is SIGKILLed while it downloads a large layer
//! through a slow proxy, restarted on the same data root, and the next pull asks the
//! registry only for the bytes it does not have (`Range: bytes=N-`). Needs root,
//! busybox-static and docker-registry.

mod engine_harness;
mod registry_harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine_harness::{Daemon, bin_dir, busybox_tar, ok, stderr, stdout};
use registry_harness::{Proxy, Registry, noise};

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    stdout(&out)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

/// The partial downloads under a data root: (path, size).
fn partials(data_root: &Path) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(data_root.join("content/partial"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let len = e.metadata().ok()?.len();
            Some((e.path(), len))
        })
        .collect()
}

const LAYER_FILE: usize = 48 << 20;
/// Past this many bytes in the partial file the daemon is killed.
const KILL_AT: u64 = 12 << 20;

#[test]
fn a_pull_killed_half_way_resumes_with_a_range_request() {
    let reg = Registry::start(None);
    let mut d = Daemon::start();

    // busybox plus 48 MiB of noise, as one layer.
    let work = tempfile::tempdir().expect("temp dir");
    busybox_tar(work.path());
    let big = work.path().join("rootfs/big.bin");
    std::fs::write(&big, noise(LAYER_FILE, 0x5eed)).expect("write big.bin");
    let want = sha256_hex(&big);
    let tar = work.path().join("big.tar");
    berth_testkit::tar_dir(&work.path().join("rootfs"), &tar);
    drop(std::fs::remove_file(&big));
    let direct = format!("{}/test/big:1", reg.host());
    ok(
        &d.docker(&[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().expect("utf-8"),
            &direct,
        ]),
        "import",
    );
    ok(&d.berth(&["push", &direct]), "push");
    ok(&d.berth(&["rmi", &direct]), "rmi");

    // Pull through a proxy sending 8 MiB/s: the 48 MiB layer takes about 6 s.
    let proxy = Proxy::start(reg.port, 8 << 20);
    let slow = format!("{}/test/big:1", proxy.host());
    let mut pull = Command::new("timeout")
        .arg("60")
        .arg(bin_dir().join("berth"))
        .arg("-H")
        .arg(d.host())
        .args(["pull", &slow])
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", d.dir.path().join("docker-config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn berth pull");
    let data = d.data_root();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = partials(&data);
        // Never under its digest while it downloads.
        for (path, _) in &p {
            let name = path.file_name().expect("name");
            assert!(
                !data.join("content/sha256").join(name).exists(),
                "blob stored under its digest before the download finished"
            );
        }
        if p.iter().any(|(_, len)| *len > KILL_AT) {
            break;
        }
        if Instant::now() > deadline || matches!(pull.try_wait(), Ok(Some(_))) {
            let _ = pull.kill();
            let out = pull.wait_with_output().expect("pull output");
            panic!(
                "the partial download never passed {KILL_AT} bytes: {:?}\n{}\n{}",
                partials(&data),
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // Crash: SIGKILL berthd mid-download and start it again on the same data root; the
    // CLI sees the connection drop.
    d.restart();
    let out = pull.wait_with_output().expect("pull output");
    assert!(!out.status.success(), "pull survived the daemon's death");
    let left = partials(&data);
    assert_eq!(left.len(), 1, "one partial download: {left:?}");
    let (partial, have) = left[0].clone();
    let hex = partial
        .file_name()
        .and_then(|n| n.to_str())
        .expect("hex name")
        .to_owned();
    assert!(
        have > KILL_AT && have < LAYER_FILE as u64,
        "partial size {have}"
    );
    assert!(
        !data.join("content/sha256").join(&hex).exists(),
        "the unverified blob is stored under its digest"
    );

    eprintln!(
        "killed berthd with {have} of the layer's bytes in {}",
        partial.display()
    );
    // The partial file survived the restart and is resumed.
    proxy.clear();
    proxy.set_rate(0);
    let out = ok(&d.berth(&["pull", &slow]), "pull after the restart");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {slow}")),
        "{out}"
    );
    let heads = proxy.heads();
    let blob_gets: Vec<&String> = heads
        .iter()
        .filter(|h| h.starts_with(&format!("GET /v2/test/big/blobs/sha256:{hex} ")))
        .collect();
    assert_eq!(blob_gets.len(), 1, "layer requests: {heads:#?}");
    let range = blob_gets[0]
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("range").then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    assert_eq!(range, format!("bytes={have}-"), "{}", blob_gets[0]);
    assert!(!partial.exists(), "partial left after the pull");
    assert!(data.join("content/sha256").join(&hex).is_file());

    // The image runs and its file is whole.
    let out = ok(
        &d.berth(&["run", "--rm", &slow, "sha256sum", "/big.bin"]),
        "run",
    );
    assert_eq!(out.split_whitespace().next(), Some(want.as_str()), "{out}");
}
