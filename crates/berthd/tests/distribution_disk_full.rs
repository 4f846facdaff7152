//! A disk that fills: berthd on a data root that is a 20 MiB tmpfs pulls images bigger
//! than that, once failing while the layer downloads and once while it unpacks, then
//! loads an archive bigger than that. Each fails with "no space left on device", the daemon keeps
//! serving, and the store holds no half-written blob under a digest, no partial download
//! taking the space, and no half-unpacked layer. Needs root, busybox-static and
//! docker-registry.

mod engine_harness;
mod registry_harness;

use std::path::Path;
use std::process::Command;

use engine_harness::{Daemon, busybox_tar, ok, stderr, stdout};
use registry_harness::{Registry, noise};

/// A one-file root filesystem tar (`-z`: gzip-compressed) of `data` at `/name`.
fn one_file_tar(dir: &Path, name: &str, data: &[u8], gzip: bool) -> String {
    let root = dir.join(format!("{name}-root"));
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join(name), data).expect("write file");
    let tar = dir.join(format!("{name}.tar{}", if gzip { ".gz" } else { "" }));
    let st = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg(if gzip { "-czf" } else { "-cf" })
        .arg(&tar)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar {name}");
    std::fs::remove_dir_all(&root).expect("rm root");
    tar.to_str().expect("utf-8").to_owned()
}

/// Unmounts the tmpfs when the test ends, whatever happens. Declared before the daemon,
/// so the daemon's own guard (which stops it and unmounts what its containers left) runs
/// first.
struct Tmpfs(Option<std::path::PathBuf>);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            // Usually the daemon's guard has unmounted it already.
            let _ = Command::new("umount")
                .arg(p)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    stdout(&out)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Every blob under `content/sha256` hashes to its name, no temp or partial file is
/// left, and every layer directory is a committed one.
fn store_is_clean(data: &Path) {
    for e in std::fs::read_dir(data.join("content/sha256"))
        .expect("content dir")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".tmp-"), "temp blob left: {name}");
        assert_eq!(sha256_hex(&e.path()), name, "a blob that is not its digest");
    }
    let partials: Vec<_> = std::fs::read_dir(data.join("content/partial"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        partials.is_empty(),
        "a partial download keeps the full disk full: {partials:?}"
    );
    for e in std::fs::read_dir(data.join("layers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "half-unpacked layer left: {name}");
        assert!(
            e.path().join("layer.json").is_file(),
            "layer {name} without its metadata"
        );
    }
}

#[test]
fn a_pull_that_fills_the_disk_fails_cleanly_and_the_daemon_goes_on() {
    let reg = Registry::start(None);
    let mut tmpfs = Tmpfs(None);
    let mut d = Daemon::start();
    let work = tempfile::tempdir().expect("temp dir");
    // 28 MiB that does not compress, and 28 MiB of zeros whose gzip blob is tiny: the first
    // fills the disk while it downloads, the second while it unpacks.
    let noisy = one_file_tar(work.path(), "noise.bin", &noise(28 << 20, 7), false);
    let zeros = one_file_tar(work.path(), "zeros.bin", &vec![0u8; 28 << 20], true);
    let noisy_ref = format!("{}/test/noise:1", reg.host());
    let zeros_ref = format!("{}/test/zeros:1", reg.host());
    for (tar, name) in [(&noisy, &noisy_ref), (&zeros, &zeros_ref)] {
        ok(&d.docker(&["import", tar, name]), "import");
        ok(&d.berth(&["push", name]), "push");
    }
    let saved = work.path().join("noise-saved.tar");
    let saved = saved.to_str().expect("utf-8");
    ok(&d.berth(&["save", "-o", saved, &noisy_ref]), "save");

    // The same daemon on an empty 20 MiB tmpfs.
    d.stop_daemon();
    let data = d.data_root();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=20m,mode=0711", "tmpfs"])
        .arg(&data)
        .status()
        .expect("mount");
    assert!(st.success(), "mount a tmpfs on {}", data.display());
    tmpfs.0 = Some(data.clone());
    d.restart();
    ok(&d.berth(&["images"]), "images on the tmpfs");

    // Full while downloading: the CLI says why and fails.
    let out = d.berth(&["pull", &noisy_ref]);
    assert!(!out.status.success(), "pull onto a full disk succeeded");
    let err = stderr(&out);
    assert!(
        err.to_lowercase().contains("no space left on device"),
        "{err}"
    );
    eprintln!("pull onto the full disk: {}", err.trim());
    store_is_clean(&data);

    // Full while unpacking, through the API: the stream ends with docker's errorDetail.
    let (status, body) = d.http(
        "POST",
        &format!("/images/create?fromImage={}/test/zeros&tag=1", reg.host()),
        "",
    );
    assert!(
        body.contains("errorDetail") || status >= 400,
        "{status}: {body}"
    );
    assert!(
        body.to_lowercase().contains("no space left on device"),
        "{status}: {body}"
    );
    eprintln!(
        "pull unpacking onto the full disk: {status} {}",
        body.trim()
    );
    store_is_clean(&data);
    let images = ok(&d.berth(&["images", "-q"]), "images");
    assert_eq!(images.trim(), "", "a failed pull registered an image");

    // Full while loading an archive.
    let out = d.berth(&["load", "-i", saved]);
    assert!(!out.status.success(), "load onto a full disk succeeded");
    let err = stderr(&out);
    assert!(
        err.to_lowercase().contains("no space left on device"),
        "{err}"
    );
    eprintln!("load onto the full disk: {}", err.trim());
    store_is_clean(&data);
    let images = ok(&d.berth(&["images", "-q"]), "images");
    assert_eq!(images.trim(), "", "a failed load registered an image");

    // The daemon goes on: an image that fits imports and runs.
    let bb = busybox_tar(work.path());
    ok(
        &d.docker(&[
            "import",
            "--change",
            "CMD [\"sh\"]",
            bb.to_str().expect("utf-8"),
            "busybox",
        ]),
        "import busybox onto the tmpfs",
    );
    let out = ok(
        &d.berth(&["run", "--rm", "busybox", "echo", "still-here"]),
        "run",
    );
    assert_eq!(out.trim(), "still-here");
}
