//! `docker cp` (the archive API) end to end: files, directories and tar streams both ways,
//! running and stopped containers, through volumes; `-a` and `-L`; and the symlink and swap
//! races that must never make berthd read or write a host file.

#![allow(unsafe_code)] // renameat2 for the swap race (libc has no safe wrapper)

mod engine_harness;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use engine_harness::{Daemon, ok, stderr, tar_names};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn tar_list(tar: &[u8]) -> Vec<String> {
    let mut v = tar_names(tar);
    v.sort();
    v
}

#[test]
fn cp_files_directories_and_streams_both_ways() {
    let d = Daemon::start();
    let host = d.dir.path().join("host");
    std::fs::create_dir_all(host.join("dir/sub")).unwrap();
    std::fs::write(host.join("file"), "one").unwrap();
    std::fs::write(host.join("dir/sub/deep"), "two").unwrap();
    std::os::unix::fs::chown(host.join("file"), Some(1234), Some(4321)).unwrap();
    ok(
        &d.docker(&[
            "run", "-d", "--name", "cc", "-v", "vol:/vol", "busybox", "sleep", "300",
        ]),
        "run",
    );
    // Into a running container: a file, a directory, a tar stream, into a volume.
    ok(
        &d.docker(&["cp", s(&host.join("file")), "cc:/tmp/f"]),
        "cp file in",
    );
    ok(
        &d.docker(&["cp", s(&host.join("dir")), "cc:/tmp/"]),
        "cp dir in",
    );
    ok(
        &d.docker(&["cp", s(&host.join("file")), "cc:/vol/"]),
        "cp into a volume",
    );
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&host)
        .args(["-cf", "-", "dir"])
        .output()
        .unwrap();
    ok(
        &d.docker_in(&["cp", "-", "cc:/root"], &tar.stdout),
        "cp - in",
    );
    let out = d.docker(&[
        "exec",
        "cc",
        "sh",
        "-c",
        "cat /tmp/f /tmp/dir/sub/deep /vol/file /root/dir/sub/deep; stat -c %u:%g /tmp/f",
    ]);
    assert_eq!(ok(&out, "check inside"), "onetwoonetwo0:0\n");
    ok(
        &d.docker(&["cp", "-a", s(&host.join("file")), "cc:/tmp/owned"]),
        "cp -a",
    );
    let out = d.docker(&["exec", "cc", "stat", "-c", "%u:%g", "/tmp/owned"]);
    assert_eq!(ok(&out, "-a owner"), "1234:4321\n");

    // Out of it: a file, a directory, a tar stream.
    let back = d.dir.path().join("back");
    std::fs::create_dir_all(&back).unwrap();
    ok(
        &d.docker(&["cp", "cc:/tmp/f", s(&back.join("f"))]),
        "cp file out",
    );
    assert_eq!(std::fs::read_to_string(back.join("f")).unwrap(), "one");
    ok(&d.docker(&["cp", "cc:/tmp/dir", s(&back)]), "cp dir out");
    assert_eq!(
        std::fs::read_to_string(back.join("dir/sub/deep")).unwrap(),
        "two"
    );
    let out = d.docker(&["cp", "cc:/tmp/dir", "-"]);
    assert!(out.status.success(), "cp - out: {}", stderr(&out));
    assert_eq!(
        tar_list(&out.stdout),
        vec!["dir/", "dir/sub/", "dir/sub/deep"]
    );
    // -L follows a symlink; without it the link itself is copied.
    ok(
        &d.docker(&["exec", "cc", "ln", "-s", "/tmp/f", "/tmp/link"]),
        "ln",
    );
    ok(
        &d.docker(&["cp", "-L", "cc:/tmp/link", s(&back.join("followed"))]),
        "cp -L",
    );
    assert_eq!(
        std::fs::read_to_string(back.join("followed")).unwrap(),
        "one"
    );
    ok(
        &d.docker(&["cp", "cc:/tmp/link", s(&back.join("asis"))]),
        "cp link",
    );
    assert_eq!(
        std::fs::read_link(back.join("asis")).unwrap(),
        Path::new("/tmp/f")
    );
    let err = stderr(&d.docker(&["cp", "cc:/nope", s(&back)]));
    assert!(
        err.contains("Could not find the file /nope") || err.contains("No such"),
        "{err}"
    );

    // A stopped container: its rootfs and its volume are still reachable, both ways.
    ok(&d.docker(&["stop", "-t", "0", "cc"]), "stop");
    ok(
        &d.docker(&["cp", "cc:/vol/file", s(&back.join("fromvol"))]),
        "cp out of a stopped volume",
    );
    assert_eq!(
        std::fs::read_to_string(back.join("fromvol")).unwrap(),
        "one"
    );
    ok(
        &d.docker(&["cp", s(&host.join("file")), "cc:/tmp/while-stopped"]),
        "cp into stopped",
    );
    ok(
        &d.docker(&["cp", s(&host.join("file")), "cc:/vol/while-stopped"]),
        "cp into a stopped volume",
    );
    ok(&d.docker(&["start", "cc"]), "start");
    let out = d.docker(&[
        "exec",
        "cc",
        "cat",
        "/tmp/while-stopped",
        "/vol/while-stopped",
    ]);
    assert_eq!(ok(&out, "after start"), "oneone");
    assert!(
        !d.mounts()
            .iter()
            .any(|m| m.ends_with("/rootfs") && m.contains("cc")),
        "the stopped copy left a mount"
    );
}

/// Swaps two paths atomically (`renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    r == 0
}

#[test]
fn cp_never_reads_or_writes_a_host_file_through_symlinks_or_swaps() {
    let d = Daemon::start();
    let canary = d.dir.path().join("canary");
    std::fs::create_dir_all(&canary).unwrap();
    std::fs::write(canary.join("secret"), "host secret").unwrap();
    let payload = d.dir.path().join("payload");
    std::fs::write(&payload, "from cp").unwrap();
    let target = s(&canary).to_owned();
    let pid = {
        ok(
            &d.docker(&["run", "-d", "--name", "vv", "busybox", "sleep", "300"]),
            "run",
        );
        d.inspect("vv", "{{.State.Pid}}")
    };
    let script = format!(
        "ln -s {target} /abs; ln -s ../../../../../../{t} /rel; mkdir /plain",
        t = target.trim_start_matches('/')
    );
    ok(
        &d.docker(&["exec", "vv", "sh", "-c", &script]),
        "plant links",
    );
    for link in ["/abs", "/rel"] {
        let out = d.docker(&["cp", &format!("vv:{link}/secret"), "-"]);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("host secret"),
            "{link} read the host"
        );
        ok(
            &d.docker(&["cp", s(&payload), &format!("vv:{link}/")]),
            "cp through a link",
        );
    }
    // An uploaded tar with `..`, an absolute name and a link out of the root.
    let evil = d.dir.path().join("evil");
    std::fs::create_dir_all(&evil).unwrap();
    let mut b = tar_builder(&evil.join("a.tar"));
    add(&mut b, &format!("../../../../../..{target}/dotdot"), b"x");
    drop(b);
    let out = d.docker_in(
        &["cp", "-", "vv:/plain"],
        &std::fs::read(evil.join("a.tar")).unwrap(),
    );
    assert!(!out.status.success(), "a tar with .. was accepted");
    let mut b = tar_builder(&evil.join("b.tar"));
    add(&mut b, &format!("{target}/absolute"), b"x");
    link(&mut b, "out", &target);
    add(&mut b, "out/through-link", b"x");
    drop(b);
    let _ = d.docker_in(
        &["cp", "-", "vv:/plain"],
        &std::fs::read(evil.join("b.tar")).unwrap(),
    );

    // Swaps while cp runs: /proc/<pid>/root/race flips between a directory and a link to
    // the host's canary, atomically, for as long as the copies run.
    let root = Path::new("/proc").join(pid.trim()).join("root");
    std::fs::create_dir_all(root.join("race")).unwrap();
    std::fs::write(root.join("race/secret"), "container").unwrap();
    std::os::unix::fs::symlink(&canary, root.join("racelink")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let (a, b) = (root.join("race"), root.join("racelink"));
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += u64::from(exchange(&a, &b));
            }
            n
        })
    };
    let mut leaked = false;
    for _ in 0..30 {
        let out = d.docker(&["cp", "vv:/race/secret", "-"]);
        leaked |= String::from_utf8_lossy(&out.stdout).contains("host secret");
        let _ = d.docker(&["cp", s(&payload), "vv:/race/"]);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = flipper.join().unwrap();
    assert!(swaps > 100, "the race did not run ({swaps} swaps)");
    assert!(!leaked, "cp read the host's canary through a swapped link");
    let mut names: Vec<String> = std::fs::read_dir(&canary)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["secret"], "cp wrote into the host's directory");
    assert_eq!(
        std::fs::read_to_string(canary.join("secret")).unwrap(),
        "host secret"
    );
    assert_eq!(std::fs::metadata(canary.join("secret")).unwrap().uid(), 0);
}

fn tar_builder(path: &Path) -> TarWriter {
    TarWriter {
        f: std::fs::File::create(path).expect("tar file"),
    }
}

/// A minimal ustar writer, so the test can put names `tar(1)` refuses to write.
struct TarWriter {
    f: std::fs::File,
}

impl Drop for TarWriter {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = self.f.write_all(&[0u8; 1024]);
    }
}

fn header(name: &str, size: usize, kind: u8, linkname: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + linkname.len().min(100)]
        .copy_from_slice(&linkname.as_bytes()[..linkname.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn add(t: &mut TarWriter, name: &str, data: &[u8]) {
    use std::io::Write;
    t.f.write_all(&header(name, data.len(), b'0', "")).unwrap();
    t.f.write_all(data).unwrap();
    let pad = (512 - data.len() % 512) % 512;
    t.f.write_all(&vec![0u8; pad]).unwrap();
}

fn link(t: &mut TarWriter, name: &str, target: &str) {
    use std::io::Write;
    t.f.write_all(&header(name, 0, b'2', target)).unwrap();
}
