//! `--mount type=volume,volume-subpath=P`: the subpath is mounted, links out of the volume
//! are refused, and a container sharing the volume that swaps the subpath for a symlink to
//! a host directory while others start never gets that directory mounted (the daemon binds
//! the object it opened beneath the volume, not a path resolved again later).

mod engine_harness;

use engine_harness::{Daemon, ok, stderr, stdout};

fn mount_arg(volume: &str, subpath: &str) -> String {
    format!("type=volume,src={volume},dst=/data,volume-subpath={subpath}")
}

#[test]
fn subpaths_of_a_volume_are_mounted_and_links_out_are_refused() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run", "--rm", "-v", "sv:/v", "busybox", "sh", "-c",
            "mkdir -p /v/sub/deeper && echo VOLUME > /v/sub/marker && echo FILE > /v/file && ln -s / /v/root && ln -s /etc /v/etc && ln -s sub /v/inside",
        ]),
        "fill the volume",
    );
    let cat = |subpath: &str, path: &str| {
        d.docker(&[
            "run",
            "--rm",
            "--mount",
            &mount_arg("sv", subpath),
            "busybox",
            "cat",
            path,
        ])
    };
    assert_eq!(ok(&cat("sub", "/data/marker"), "subpath dir"), "VOLUME\n");
    assert_eq!(
        ok(&cat("inside", "/data/marker"), "link inside"),
        "VOLUME\n"
    );
    assert_eq!(ok(&cat("file", "/data"), "subpath file"), "FILE\n");
    for bad in ["root", "etc", "../sv", "root/etc"] {
        let out = cat(bad, "/data/hostname");
        assert!(!out.status.success(), "{bad}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("cannot access path") || err.contains("subpath must be a relative path"),
            "{bad}: {err}"
        );
    }
    assert!(
        d.mounts().iter().all(|m| !m.contains("subpaths")),
        "staging mounts released: {:?}",
        d.mounts()
    );
    assert!(
        d.all_ids().is_empty(),
        "a refused start leaves no container (--rm)"
    );
}

#[test]
fn a_subpath_swapped_for_a_link_while_containers_start_never_mounts_the_host() {
    let d = Daemon::start();
    // The host directory the attacker points at: if it were ever mounted, a container
    // would read HOST.
    let canary = d.dir.path().join("canary");
    std::fs::create_dir_all(&canary).expect("canary dir");
    std::fs::write(canary.join("marker"), "HOST\n").expect("canary");
    ok(
        &d.docker(&[
            "run",
            "--rm",
            "-v",
            "race:/v",
            "busybox",
            "sh",
            "-c",
            "mkdir -p /v/sub && echo VOLUME > /v/sub/marker",
        ]),
        "fill the volume",
    );
    let swap = format!(
        "while true; do mv /v/sub /v/real; ln -s {} /v/sub; rm /v/sub; mv /v/real /v/sub; done",
        canary.display()
    );
    ok(
        &d.docker(&[
            "run", "-d", "--name", "swapper", "-v", "race:/v", "busybox", "sh", "-c", &swap,
        ]),
        "run the swapper",
    );
    let (mut mounted, mut refused) = (0, 0);
    for _ in 0..25 {
        let out = d.docker(&[
            "run",
            "--rm",
            "--mount",
            &mount_arg("race", "sub"),
            "busybox",
            "cat",
            "/data/marker",
        ]);
        let text = stdout(&out);
        assert!(!text.contains("HOST"), "the host directory was mounted");
        if out.status.success() {
            assert_eq!(text, "VOLUME\n");
            mounted += 1;
        } else {
            refused += 1;
        }
    }
    ok(&d.docker(&["rm", "-f", "swapper"]), "rm swapper");
    eprintln!("{mounted} starts mounted the volume's directory, {refused} were refused");
    assert!(
        d.mounts().iter().all(|m| !m.contains("subpaths")),
        "staging mounts released: {:?}",
        d.mounts()
    );
}
