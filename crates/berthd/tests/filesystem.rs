//! `docker diff`, `export`, `commit` and `history` end to end through the docker CLI.

mod engine_harness;

use engine_harness::{Daemon, ok, stderr, tar_names};

#[test]
fn diff_export_commit_and_history() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run", "--name", "dd", "busybox", "sh", "-c",
            "touch /tmp/new; rm /etc/passwd; echo x >> /etc/group; mkdir -p /srv/d; echo hi > /srv/d/f",
        ]),
        "run",
    );
    let diff = ok(&d.docker(&["diff", "dd"]), "diff");
    for want in [
        "C /tmp",
        "A /tmp/new",
        "C /etc",
        "D /etc/passwd",
        "C /etc/group",
        "A /srv",
        "A /srv/d/f",
    ] {
        assert!(
            diff.lines().any(|l| l == want),
            "{want:?} missing from:\n{diff}"
        );
    }
    let out = d.docker(&["export", "dd"]);
    assert!(out.status.success(), "export: {}", stderr(&out));
    let names = tar_names(&out.stdout);
    assert!(names.iter().any(|n| n == "tmp/new"), "{names:?}");
    assert!(names.iter().any(|n| n == "srv/d/f"));
    assert!(names.iter().any(|n| n.starts_with("bin/")));
    assert!(
        !names.iter().any(|n| n == "etc/passwd"),
        "a removed file was exported"
    );

    // Commit the stopped container, with --change, author and message; run the new image.
    let id = ok(
        &d.docker(&[
            "commit",
            "-a",
            "berth test",
            "-m",
            "my change",
            "-c",
            "ENV FOO=bar",
            "-c",
            "CMD [\"cat\", \"/srv/d/f\"]",
            "dd",
            "committed:v1",
        ]),
        "commit",
    );
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let out = d.docker(&["run", "--rm", "committed:v1"]);
    assert_eq!(ok(&out, "run the committed CMD"), "hi\n");
    let out = d.docker(&[
        "run",
        "--rm",
        "committed:v1",
        "sh",
        "-c",
        "test -e /tmp/new && test ! -e /etc/passwd && echo $FOO",
    ]);
    assert_eq!(ok(&out, "run the committed image"), "bar\n");
    assert_eq!(d.inspect("committed:v1", "{{.Author}}"), "berth test");
    assert_eq!(
        d.inspect("committed:v1", "{{len .RootFS.Layers}}"),
        "2",
        "one new layer on the image's"
    );
    let hist = ok(
        &d.docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}|{{.Comment}}",
            "committed:v1",
        ]),
        "history",
    );
    let lines: Vec<&str> = hist.lines().collect();
    assert_eq!(lines.len(), 2, "{hist}");
    assert!(
        lines[0].starts_with("sh -c touch /tmp/new") && lines[0].ends_with("|my change"),
        "{hist}"
    );
    assert!(lines[1].contains("Imported from"), "{hist}");
    let top = ok(&d.docker(&["history", "-q", "committed:v1"]), "history -q");
    assert!(
        id.trim()
            .trim_start_matches("sha256:")
            .starts_with(top.lines().next().unwrap_or("x")),
        "{top}"
    );

    // A running container commits too.
    ok(
        &d.docker(&["run", "-d", "--name", "rr", "busybox", "sleep", "300"]),
        "run -d",
    );
    ok(
        &d.docker(&["exec", "rr", "sh", "-c", "echo live > /live"]),
        "exec",
    );
    ok(&d.docker(&["commit", "rr", "live:1"]), "commit running");
    let out = d.docker(&["run", "--rm", "live:1", "cat", "/live"]);
    assert_eq!(ok(&out, "run live:1"), "live\n");
    // Frozen for the packing (docker's default --pause), running again after.
    assert_eq!(d.inspect("rr", "{{.State.Status}}"), "running");
    ok(
        &d.docker(&["commit", "--pause=false", "rr", "live:2"]),
        "commit unpaused",
    );
}

#[test]
fn berth_cli_cp_diff_export_commit_history() {
    let d = Daemon::start();
    let host = d.dir.path().join("h");
    std::fs::create_dir_all(host.join("dir")).unwrap();
    std::fs::write(host.join("dir/f"), "payload").unwrap();
    ok(
        &d.berth(&["run", "-d", "--name", "bc", "busybox", "sleep", "300"]),
        "run",
    );
    ok(
        &d.berth(&["cp", host.join("dir").to_str().unwrap(), "bc:/tmp/"]),
        "cp dir in",
    );
    ok(
        &d.berth(&[
            "cp",
            host.join("dir/f").to_str().unwrap(),
            "bc:/tmp/renamed",
        ]),
        "cp file in",
    );
    let out = d.berth(&["exec", "bc", "cat", "/tmp/dir/f", "/tmp/renamed"]);
    assert_eq!(ok(&out, "inside"), "payloadpayload");
    let back = d.dir.path().join("back");
    std::fs::create_dir_all(&back).unwrap();
    ok(
        &d.berth(&["cp", "bc:/tmp/dir", back.to_str().unwrap()]),
        "cp dir out",
    );
    assert_eq!(
        std::fs::read_to_string(back.join("dir/f")).unwrap(),
        "payload"
    );
    ok(
        &d.berth(&["cp", "bc:/tmp/renamed", back.join("g").to_str().unwrap()]),
        "cp file out",
    );
    assert_eq!(std::fs::read_to_string(back.join("g")).unwrap(), "payload");
    let out = d.berth(&["cp", "bc:/tmp/dir", "-"]);
    assert_eq!(tar_names(&out.stdout), vec!["dir/", "dir/f"]);
    let diff = ok(&d.berth(&["diff", "bc"]), "diff");
    assert!(diff.lines().any(|l| l == "A /tmp/dir/f"), "{diff}");
    let out = d.berth(&["export", "bc"]);
    assert!(tar_names(&out.stdout).iter().any(|n| n == "tmp/renamed"));
    let id = ok(
        &d.berth(&["commit", "-m", "via berth", "bc", "bimg:1"]),
        "commit",
    );
    assert!(id.starts_with("sha256:"), "{id}");
    let out = d.berth(&["run", "--rm", "bimg:1", "cat", "/tmp/renamed"]);
    assert_eq!(ok(&out, "run committed"), "payload");
    let hist = ok(&d.berth(&["history", "bimg:1"]), "history");
    assert!(
        hist.starts_with("IMAGE") && hist.contains("via berth"),
        "{hist}"
    );
}
