//! Volumes, bind mounts and tmpfs mounts end to end: berthd on the real kernel driven by the
//! docker CLI. Each test proves the effect inside the container or on the host.

mod engine_harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use engine_harness::{Daemon, eventually, ok, stderr, stdout};

/// A failed command's stderr (panics when it succeeded).
fn fails(out: &std::process::Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} succeeded: {}", stdout(out));
    stderr(out)
}

fn volumes(d: &Daemon, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["volume", "ls", "-q"];
    args.extend_from_slice(extra);
    let mut v: Vec<String> = ok(&d.docker(&args), "volume ls")
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// A host directory of the test's own (removed with the daemon's temp dir).
fn host_dir(d: &Daemon, name: &str) -> PathBuf {
    let p = d.dir.path().join(name);
    std::fs::create_dir_all(&p).expect("host dir");
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Imports busybox plus `extra` (paths relative to the rootfs, made by `f`) as `name`,
/// with the `--change` lines given.
fn import_with(d: &Daemon, name: &str, changes: &[&str], f: impl FnOnce(&Path)) {
    let root = d.dir.path().join(format!("rootfs-{name}"));
    let st = Command::new("cp")
        .args(["-a"])
        .arg(d.dir.path().join("rootfs"))
        .arg(&root)
        .status()
        .expect("cp");
    assert!(st.success(), "copy the busybox rootfs");
    f(&root);
    let tar = d.dir.path().join(format!("{name}.tar"));
    berth_testkit::tar_dir(&root, &tar);
    let mut args = vec!["import".to_owned()];
    for c in changes {
        args.push("--change".into());
        args.push((*c).into());
    }
    args.push(tar.display().to_string());
    args.push(name.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&d.docker(&args), "import");
}

#[test]
fn named_volume_data_is_seen_by_the_next_container_and_survives_a_restart() {
    let mut d = Daemon::start();
    ok(
        &d.docker(&["volume", "create", "--label", "team=a", "v1"]),
        "volume create",
    );
    ok(
        &d.docker(&[
            "run",
            "--rm",
            "-v",
            "v1:/data",
            "busybox",
            "sh",
            "-c",
            "echo hello > /data/f",
        ]),
        "write",
    );
    let out = d.docker(&["run", "--rm", "-v", "v1:/data", "busybox", "cat", "/data/f"]);
    assert_eq!(ok(&out, "read"), "hello\n");
    let mp = d.inspect_volume("v1", "{{.Mountpoint}}");
    assert_eq!(
        mp,
        d.data_root().join("volumes/v1/_data").display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(Path::new(&mp).join("f")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        d.inspect_volume("v1", "{{.Labels.team}} {{.Driver}} {{.Scope}}"),
        "a local local"
    );

    // A container that uses it (even stopped) keeps it: 409.
    ok(
        &d.docker(&[
            "create", "--name", "user", "-v", "v1:/data", "busybox", "true",
        ]),
        "create user",
    );
    let (status, body) = d.http("DELETE", "/volumes/v1", "");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("volume is in use"), "{body}");
    let err = fails(&d.docker(&["volume", "rm", "v1"]), "volume rm in use");
    assert!(err.contains("volume is in use"), "{err}");
    let mounts = d.inspect(
        "user",
        "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}} {{.Driver}}{{end}}",
    );
    assert_eq!(mounts, "volume v1 /data true local");

    d.restart();
    assert_eq!(volumes(&d, &[]), vec!["v1"]);
    let out = d.docker(&["run", "--rm", "-v", "v1:/data", "busybox", "cat", "/data/f"]);
    assert_eq!(ok(&out, "read after restart"), "hello\n");
    let (status, _) = d.http("DELETE", "/volumes/v1", "");
    assert_eq!(status, 409, "still in use after the restart");
    ok(&d.docker(&["rm", "user"]), "rm user");
    ok(&d.docker(&["volume", "rm", "v1"]), "volume rm");
    assert!(volumes(&d, &[]).is_empty());
    assert!(
        !d.data_root().join("volumes/v1").exists(),
        "volume dir left"
    );
    let err = fails(&d.docker(&["volume", "inspect", "v1"]), "inspect gone");
    assert!(err.contains("no such volume"), "{err}");
    let (status, _) = d.http("DELETE", "/volumes/v1?force=1", "");
    assert_eq!(status, 204, "force ignores a missing volume");
}

#[test]
fn binds_are_writable_read_only_recursively_and_made_when_missing() {
    let d = Daemon::start();
    let src = host_dir(&d, "src");
    std::fs::write(src.join("in"), "from host").unwrap();
    let rw = format!("{}:/mnt", s(&src));
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        &rw,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/in; echo out > /mnt/out",
    ]);
    assert_eq!(ok(&out, "rw bind"), "from host");
    assert_eq!(std::fs::read_to_string(src.join("out")).unwrap(), "out\n");

    let ro = format!("{}:/mnt:ro", s(&src));
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/in && touch /mnt/x",
    ]);
    let err = fails(&out, "write to a :ro bind");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!src.join("x").exists());

    // Read-only all the way down: a submount of the source is read-only too.
    let sub = src.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&sub)
        .status()
        .unwrap();
    assert!(st.success(), "mount a tmpfs under the source");
    let out = d.docker(&["run", "--rm", "-v", &ro, "busybox", "touch", "/mnt/sub/x"]);
    let ro_sub = stderr(&out);
    let out2 = d.docker(&[
        "run",
        "--rm",
        "-v",
        &rw,
        "busybox",
        "sh",
        "-c",
        "touch /mnt/sub/y && ls /mnt/sub",
    ]);
    let rw_sub = stdout(&out2);
    let _ = Command::new("umount").arg(&sub).status();
    assert!(
        ro_sub.contains("Read-only file system"),
        "submount writable: {ro_sub}"
    );
    assert_eq!(rw_sub, "y\n", "rw bind sees the submount");

    // `--mount readonly` too, and bind-recursive=writable keeps submounts writable.
    let m = format!("type=bind,source={},target=/m,readonly", s(&src));
    let out = d.docker(&["run", "--rm", "--mount", &m, "busybox", "touch", "/m/z"]);
    assert!(fails(&out, "--mount readonly").contains("Read-only file system"));

    // -v makes a missing source directory; --mount refuses it, as docker does.
    let missing = d.dir.path().join("made/by/berthd");
    let v = format!("{}:/x", s(&missing));
    ok(
        &d.docker(&["run", "--rm", "-v", &v, "busybox", "true"]),
        "-v missing",
    );
    assert!(missing.is_dir(), "-v did not make the source");
    let gone = d.dir.path().join("not-there");
    let m = format!("type=bind,src={},dst=/x", s(&gone));
    let err = fails(
        &d.docker(&["run", "--rm", "--mount", &m, "busybox", "true"]),
        "--mount missing",
    );
    assert!(
        err.contains(&format!("bind source path does not exist: {}", s(&gone))),
        "{err}"
    );
    assert!(!gone.exists());
    let inspect_src = format!("{}:/data:ro,rslave", s(&src));
    ok(
        &d.docker(&["create", "--name", "cc", "-v", &inspect_src, "busybox"]),
        "create",
    );
    assert_eq!(
        d.inspect("cc", "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}}{{end}}"),
        format!("bind {} /data ro,rslave false rslave", s(&src))
    );
}

#[test]
fn bind_propagation_follows_the_mode() {
    let d = Daemon::start();
    // A shared mount of the test's own, so the result does not depend on the host's /.
    let shared = host_dir(&d, "shared");
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&shared)
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::new("mount")
        .arg("--make-shared")
        .arg(&shared)
        .status()
        .unwrap();
    assert!(st.success());
    let slave = format!("{}:/m:rslave", s(&shared));
    let private = format!("{}:/m", s(&shared));
    let a = ok(
        &d.docker(&["run", "-d", "-v", &slave, "busybox", "sleep", "60"]),
        "run rslave",
    );
    let b = ok(
        &d.docker(&["run", "-d", "-v", &private, "busybox", "sleep", "60"]),
        "run private",
    );
    let sub = shared.join("late");
    std::fs::create_dir_all(&sub).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&sub)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::write(sub.join("f"), "propagated").unwrap();
    let seen = stdout(&d.docker(&["exec", a.trim(), "cat", "/m/late/f"]));
    let unseen = d.docker(&["exec", b.trim(), "cat", "/m/late/f"]);
    let err = fails(
        &d.docker(&[
            "run",
            "--rm",
            "-v",
            &format!("{}:/m:rshared", s(&d.dir.path().join("src-np"))),
            "busybox",
            "true",
        ]),
        "rshared of a private mount",
    );
    let _ = d.docker(&["rm", "-f", a.trim(), b.trim()]);
    let _ = Command::new("umount").arg("-l").arg(&sub).status();
    let _ = Command::new("umount").arg("-l").arg(&shared).status();
    assert_eq!(
        seen, "propagated",
        "rslave did not see the host's new mount"
    );
    assert!(
        !unseen.status.success(),
        "rprivate saw the host's new mount"
    );
    assert!(
        err.contains("is not a shared mount") || err.contains("not a shared"),
        "{err}"
    );
}

#[test]
fn anonymous_volumes_copy_up_volumes_from_and_rm_v() {
    let d = Daemon::start();
    import_with(&d, "withvol", &["VOLUME /data", "CMD [\"sh\"]"], |root| {
        std::fs::create_dir_all(root.join("data/sub")).unwrap();
        std::fs::write(root.join("data/sub/hello"), "from image").unwrap();
        std::os::unix::fs::chown(root.join("data/sub"), Some(1000), Some(1000)).unwrap();
    });
    ok(
        &d.docker(&["run", "--name", "aa", "withvol", "true"]),
        "run a",
    );
    let anon = volumes(&d, &[]);
    assert_eq!(anon.len(), 1, "one anonymous volume");
    assert_eq!(anon[0].len(), 64);
    let data = d.data_root().join("volumes").join(&anon[0]).join("_data");
    assert_eq!(
        std::fs::read_to_string(data.join("sub/hello")).unwrap(),
        "from image"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(data.join("sub")).unwrap().uid(),
        1000,
        "owner copied"
    );
    assert_eq!(
        d.inspect_volume(
            &anon[0],
            "{{index .Labels \"com.docker.volume.anonymous\"}}|"
        ),
        "|"
    );
    // --volumes-from reaches a's volume (read-only with :ro).
    let out = d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa",
        "busybox",
        "cat",
        "/data/sub/hello",
    ]);
    assert_eq!(ok(&out, "volumes-from"), "from image");
    let out = d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa:ro",
        "busybox",
        "touch",
        "/data/x",
    ]);
    assert!(fails(&out, "volumes-from ro").contains("Read-only file system"));
    // A named volume is filled from the image too; nocopy leaves it empty.
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "named:/data",
        "withvol",
        "cat",
        "/data/sub/hello",
    ]);
    assert_eq!(ok(&out, "named copy-up"), "from image");
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "empty:/data:nocopy",
        "withvol",
        "ls",
        "/data",
    ]);
    assert_eq!(ok(&out, "nocopy"), "");
    let out = d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=empty2,dst=/data,volume-nocopy",
        "withvol",
        "ls",
        "/data",
    ]);
    assert_eq!(ok(&out, "volume-nocopy"), "");
    // rm -v removes a's anonymous volume, not the named ones; --rm removes its own.
    ok(&d.docker(&["rm", "-v", "aa"]), "rm -v");
    assert_eq!(volumes(&d, &[]), vec!["empty", "empty2", "named"]);
    ok(
        &d.docker(&["run", "--rm", "-v", "/scratch", "busybox", "true"]),
        "--rm with -v /scratch",
    );
    eventually("--rm removes the anonymous volume", || {
        volumes(&d, &[]) == vec!["empty", "empty2", "named"]
    });
    // Without -v the anonymous volume stays (dangling).
    ok(
        &d.docker(&["create", "--name", "bb", "withvol"]),
        "create b",
    );
    ok(&d.docker(&["rm", "bb"]), "rm b");
    assert_eq!(volumes(&d, &["-f", "dangling=true"]).len(), 4);
}

#[test]
fn tmpfs_mounts_get_their_options() {
    let d = Daemon::start();
    let out = d.docker(&[
        "run",
        "--rm",
        "--tmpfs",
        "/t:size=1m,exec",
        "--mount",
        "type=tmpfs,destination=/u,tmpfs-size=2097152,tmpfs-mode=1770",
        "busybox",
        "grep",
        "-E",
        " /(t|u) ",
        "/proc/mounts",
    ]);
    let text = ok(&out, "tmpfs");
    let t = text
        .lines()
        .find(|l| l.contains(" /t "))
        .unwrap_or_default();
    let u = text
        .lines()
        .find(|l| l.contains(" /u "))
        .unwrap_or_default();
    assert!(
        t.starts_with("tmpfs /t tmpfs rw,nosuid,nodev,") && t.contains("size=1024k"),
        "{t}"
    );
    assert!(!t.contains("noexec"), "exec was asked: {t}");
    assert!(
        u.contains("noexec") && u.contains("size=2048k") && u.contains("mode=1770"),
        "{u}"
    );
    ok(
        &d.docker(&[
            "create",
            "--name",
            "cc",
            "--mount",
            "type=tmpfs,dst=/u",
            "busybox",
        ]),
        "create",
    );
    assert_eq!(
        d.inspect(
            "cc",
            "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}"
        ),
        "tmpfs /u true"
    );
}

#[test]
fn volume_ls_filters_prune_df_and_driver_options() {
    let d = Daemon::start();
    ok(
        &d.docker(&["volume", "create", "--label", "x=1", "alpha"]),
        "create alpha",
    );
    ok(&d.docker(&["volume", "create", "beta"]), "create beta");
    ok(
        &d.docker(&[
            "create", "--name", "cc", "-v", "beta:/b", "-v", "/anon", "busybox",
        ]),
        "create c",
    );
    let all = volumes(&d, &[]);
    assert_eq!(all.len(), 3);
    assert_eq!(volumes(&d, &["-f", "label=x=1"]), vec!["alpha"]);
    assert_eq!(volumes(&d, &["-f", "label=x"]), vec!["alpha"]);
    assert_eq!(volumes(&d, &["-f", "name=alp"]), vec!["alpha"]);
    assert_eq!(volumes(&d, &["-f", "dangling=true"]), vec!["alpha"]);
    assert_eq!(volumes(&d, &["-f", "dangling=false"]).len(), 2);
    assert_eq!(volumes(&d, &["-f", "driver=local"]).len(), 3);
    let err = fails(&d.docker(&["volume", "ls", "-f", "bogus=1"]), "bad filter");
    assert!(err.contains("invalid filter 'bogus'"), "{err}");
    let df = ok(
        &d.docker(&[
            "system",
            "df",
            "-v",
            "--format",
            "{{range .Volumes}}{{.Name}}={{.Links}} {{end}}",
        ]),
        "df",
    );
    assert!(df.contains("alpha=0") && df.contains("beta=1"), "{df}");
    ok(&d.docker(&["rm", "cc"]), "rm c");
    // prune: anonymous volumes only, unless -a.
    let out = ok(&d.docker(&["volume", "prune", "-f"]), "prune");
    assert!(out.contains("Total reclaimed space"), "{out}");
    assert_eq!(volumes(&d, &[]), vec!["alpha", "beta"]);
    ok(
        &d.docker(&["volume", "prune", "-a", "-f", "--filter", "label=x=1"]),
        "prune -a label",
    );
    assert_eq!(volumes(&d, &[]), vec!["beta"]);
    ok(&d.docker(&["volume", "prune", "-a", "-f"]), "prune -a");
    assert!(volumes(&d, &[]).is_empty());

    // The local driver's options: a tmpfs volume, mounted while a container uses it.
    ok(
        &d.docker(&[
            "volume",
            "create",
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            "-o",
            "o=size=1m",
            "tv",
        ]),
        "create tmpfs volume",
    );
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "tv:/x",
        "busybox",
        "sh",
        "-c",
        "grep ' /x ' /proc/mounts",
    ]);
    let line = ok(&out, "tmpfs volume");
    assert!(
        line.starts_with("tmpfs /x tmpfs") && line.contains("size=1024k"),
        "{line}"
    );
    let data = d.data_root().join("volumes/tv/_data").display().to_string();
    eventually(
        "the volume's tmpfs is unmounted after the container",
        || !d.mounts().contains(&data),
    );
    assert_eq!(
        d.inspect_volume("tv", "{{.Options.type}} {{.Options.o}}"),
        "tmpfs size=1m"
    );
    let err = fails(
        &d.docker(&["volume", "create", "-o", "size=1g", "qq"]),
        "size opt",
    );
    assert!(
        err.contains("quota size requested but no quota support"),
        "{err}"
    );
    let err = fails(
        &d.docker(&["volume", "create", "-d", "nfs-plugin", "qq"]),
        "driver",
    );
    assert!(err.contains("plugin \"nfs-plugin\" not found"), "{err}");
    ok(&d.docker(&["volume", "rm", "tv"]), "rm tv");
}

#[test]
fn bad_mount_specs_get_dockers_errors_and_leave_nothing() {
    let d = Daemon::start();
    let cases: [(&[&str], &str); 5] = [
        (&["-v", "/a:/b:bogus"], "invalid mode: bogus"),
        (
            &["-v", "rel/dir:/x"],
            "includes invalid characters for a local volume name",
        ),
        (&["-v", "/a:/x", "-v", "/b:/x"], "Duplicate mount point: /x"),
        (&["-v", "/a:relative"], "mount path must be absolute"),
        (
            &["--mount", "type=volume,src=v,dst=/"],
            "destination can't be '/'",
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["create"];
        args.extend_from_slice(flags);
        args.push("busybox");
        let err = fails(&d.docker(&args), want);
        assert!(err.contains(want), "{flags:?}: {err}");
    }
    // A volume made for a create that then fails is removed again.
    let out = d.docker(&[
        "create",
        "-v",
        "madefirst:/a",
        "--mount",
        "type=volume,src=second,dst=/b,volume-driver=nope",
        "busybox",
    ]);
    let err = fails(&out, "unknown driver");
    assert!(err.contains("plugin \"nope\" not found"), "{err}");
    let (status, _) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"Binds":["/a:/b:ro,rw"]}}"#,
    );
    assert_eq!(status, 400);
    assert!(d.all_ids().is_empty(), "a refused create left a container");
    assert!(
        volumes(&d, &[]).is_empty(),
        "a refused create left a volume"
    );
    let left = std::fs::read_dir(d.data_root().join("volumes"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "volume directories left");
    assert!(
        !Path::new("/a").exists() && !Path::new("/b").exists(),
        "bind sources made"
    );
}

#[test]
fn mount_targets_never_resolve_out_of_the_rootfs() {
    let d = Daemon::start();
    let src = host_dir(&d, "src");
    std::fs::write(src.join("payload"), "x").unwrap();
    let canary = host_dir(&d, "canary");
    // The image has /link -> the host's canary directory (absolute).
    let target = canary.display().to_string();
    import_with(&d, "evil", &["CMD [\"sh\"]"], |root| {
        std::os::unix::fs::symlink(&target, root.join("link")).unwrap();
    });
    let v = format!("{}:/link/sub", s(&src));
    let out = d.docker(&["run", "--rm", "-v", &v, "evil", "cat", "/link/sub/payload"]);
    assert_eq!(
        ok(&out, "run through the link"),
        "x",
        "mounted inside the rootfs"
    );
    assert_eq!(
        std::fs::read_dir(&canary).unwrap().count(),
        0,
        "made something in the host dir"
    );
    // A symlink the container itself plants, used at its next start.
    let v2 = format!("{}:/m/inner", s(&src));
    ok(
        &d.docker(&[
            "run",
            "--name",
            "pp",
            "-v",
            &v2,
            "busybox",
            "sh",
            "-c",
            &format!("umount /m/inner 2>/dev/null; rm -rf /m; ln -s {target} /m"),
        ]),
        "plant",
    );
    ok(
        &d.docker(&["start", "-a", "pp"]),
        "restart through the planted link",
    );
    assert_eq!(
        std::fs::read_dir(&canary).unwrap().count(),
        0,
        "the planted link was followed"
    );
    assert!(
        !d.mounts().iter().any(|m| m.starts_with(&target)),
        "something is mounted on the host's canary dir"
    );
}

#[test]
fn berth_cli_volume_verbs_and_run_flags() {
    let d = Daemon::start();
    assert_eq!(
        ok(
            &d.berth(&["volume", "create", "--label", "k=v", "bv"]),
            "create"
        )
        .trim(),
        "bv"
    );
    let ls = ok(&d.berth(&["volume", "ls"]), "ls");
    assert!(
        ls.starts_with("DRIVER") && ls.contains("local") && ls.contains("bv"),
        "{ls}"
    );
    assert_eq!(
        ok(
            &d.berth(&["volume", "ls", "-q", "-f", "label=k=v"]),
            "ls -f"
        ),
        "bv\n"
    );
    assert_eq!(
        ok(
            &d.berth(&["volume", "inspect", "-f", "{{.Labels.k}}", "bv"]),
            "inspect"
        )
        .trim(),
        "v"
    );
    let src = host_dir(&d, "cli-src");
    std::fs::write(src.join("f"), "bound").unwrap();
    let bind = format!("{}:/b:ro", s(&src));
    let out = d.berth(&[
        "run", "--name", "w1", "-v", "bv:/data", "-v", &bind, "-v", "/anon", "--tmpfs", "/t:size=1m",
        "--mount", "type=tmpfs,dst=/u,tmpfs-size=2m", "busybox", "sh", "-c",
        "cat /b/f > /data/copy; grep -c ' /t \\| /u ' /proc/mounts; touch /b/x 2>&1 | grep -c Read-only",
    ]);
    assert_eq!(ok(&out, "berth run -v --mount --tmpfs"), "2\n1\n");
    let out = d.berth(&[
        "run",
        "--rm",
        "--volumes-from",
        "w1",
        "busybox",
        "cat",
        "/data/copy",
    ]);
    assert_eq!(ok(&out, "--volumes-from"), "bound");
    let err = fails(&d.berth(&["volume", "rm", "bv"]), "rm in use");
    assert!(err.contains("volume is in use"), "{err}");
    ok(&d.berth(&["rm", "-v", "w1"]), "rm -v");
    assert_eq!(
        volumes(&d, &[]),
        vec!["bv"],
        "the anonymous volume went with rm -v"
    );
    ok(&d.berth(&["volume", "prune", "-f", "-a"]), "prune -a");
    assert!(volumes(&d, &[]).is_empty());
}
