//! The engine on the real kernel, without HTTP: import busybox, create, start, wait, logs,
//! events, a failed start that leaves nothing mounted, records that survive reopening the
//! engine, remove. Needs root, busybox-static and overlayfs; builds berth-shim.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use berth_api::container::{ContainerConfig, ContainerCreateBody};
use berth_api::stream::StreamType;
use berth_engine::{Config, Engine, EngineError, Kind, LogsOptions, WaitCondition};
use bytes::Bytes;
use tokio::sync::mpsc;

fn shim_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    // scripts/test.sh builds every binary first (see berthd's engine_harness).
    if std::env::var_os("BERTH_TEST_BINS_BUILT").is_some() {
        return dir.join("berth-shim");
    }
    let st = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "berth-shim"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build -p berth-shim");
    assert!(st.success(), "cargo build -p berth-shim failed");
    dir.join("berth-shim")
}

/// Unmounts whatever the test left under its directory, even when it failed.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let prefix = self.0.display().to_string();
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_owned))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").arg("-l").arg(m).status();
        }
    }
}

fn mounts_under(dir: &Path) -> usize {
    let prefix = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(4)
                .is_some_and(|m| m.starts_with(&prefix))
        })
        .count()
}

fn body(cmd: &[&str], user: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        config: ContainerConfig {
            image: "busybox".into(),
            user: user.into(),
            cmd: Some(cmd.iter().map(|s| (*s).to_owned()).collect()),
            ..ContainerConfig::default()
        },
        ..ContainerCreateBody::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_failed_start_and_reopen() {
    let tmp = tempfile::Builder::new()
        .prefix("berth-engine-")
        .tempdir()
        .expect("tempdir");
    let _cleanup = Cleanup(tmp.path().to_owned());
    let cfg = Config {
        data_root: tmp.path().join("data"),
        exec_root: tmp.path().join("exec"),
        shim_binary: shim_binary(),
        container_defaults: Default::default(),
    };
    let tar = berth_testkit::busybox_tar(tmp.path());
    let engine = Engine::open(cfg.clone()).await.expect("open engine");

    let (tx, rx) = mpsc::channel(4);
    let data = std::fs::read(&tar).expect("read tar");
    tokio::spawn(async move {
        for c in data.chunks(64 * 1024) {
            let _ = tx.send(Ok(Bytes::copy_from_slice(c))).await;
        }
    });
    let image = engine
        .image_import(rx, Some("busybox".into()), vec![r#"CMD ["sh"]"#.into()])
        .await
        .expect("import");
    assert!(image.starts_with("sha256:"));

    let mut events = engine.events(Some(SystemTime::now()), None, Default::default());
    let id = engine
        .create(
            Some("one".into()),
            body(&["sh", "-c", "echo hi; echo oops >&2; exit 2"], ""),
        )
        .await
        .expect("create")
        .id;
    let waited = engine
        .wait(&id, WaitCondition::NextExit)
        .await
        .expect("wait");
    engine.start("one").await.expect("start");
    let status = tokio::time::timeout(Duration::from_secs(20), waited)
        .await
        .expect("exit within 20s")
        .expect("wait result");
    assert_eq!(status.status_code, 2);

    let mut out = engine
        .logs(
            &id[..8],
            LogsOptions {
                stdout: true,
                stderr: true,
                ..LogsOptions::default()
            },
        )
        .await
        .expect("logs");
    let mut got = Vec::new();
    while let Some(c) = out.rx.recv().await {
        let c = c.expect("log chunk");
        got.push((c.stream, String::from_utf8_lossy(&c.data).into_owned()));
    }
    got.sort_by_key(|(s, _)| *s as u8);
    assert_eq!(
        got,
        vec![
            (StreamType::Stdout, "hi\n".to_owned()),
            (StreamType::Stderr, "oops\n".to_owned())
        ]
    );
    let state = engine
        .inspect("one")
        .await
        .expect("inspect")
        .state
        .expect("state");
    assert_eq!((state.status.as_str(), state.exit_code), ("exited", 2));
    assert_eq!(
        mounts_under(tmp.path()),
        0,
        "an exited container is unmounted"
    );

    // A start that fails (unknown user) leaves the container created, with the error.
    let bad = engine
        .create(Some("bad-user".into()), body(&["true"], "nobody-here"))
        .await
        .expect("create bad-user")
        .id;
    let e = engine.start(&bad).await.expect_err("start must fail");
    assert_eq!(e.kind(), Kind::InvalidArgument);
    assert!(
        e.message().contains("unable to find user nobody-here"),
        "{e}"
    );
    let st = engine
        .inspect(&bad)
        .await
        .expect("inspect")
        .state
        .expect("state");
    assert_eq!(st.status, "created");
    assert!(st.error.contains("unable to find user"), "{}", st.error);
    assert_eq!(
        mounts_under(tmp.path()),
        0,
        "a failed start leaves nothing mounted"
    );
    assert!(!cfg.exec_root.join("shims").join(&bad[..24]).exists());

    let mut actions = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
        if e.actor.id == id {
            actions.push(e.action);
        }
    }
    assert_eq!(actions, vec!["create", "start", "die"]);

    // Records survive reopening the engine; names stay taken.
    drop(engine);
    // What a create cut short by a crash would leave: a directory with no record.
    let orphan = cfg.data_root.join("containers").join("ab".repeat(32));
    std::fs::create_dir_all(orphan.join("upper")).expect("orphan dir");
    let engine = Engine::open(cfg.clone()).await.expect("reopen");
    assert!(!orphan.exists(), "an orphan directory is swept on open");
    assert!(cfg.data_root.join("containers").join(&id).exists());
    let st = engine
        .inspect("one")
        .await
        .expect("inspect")
        .state
        .expect("state");
    assert_eq!((st.status.as_str(), st.exit_code), ("exited", 2));
    let e = engine
        .create(Some("one".into()), body(&["true"], ""))
        .await
        .expect_err("the name is taken");
    assert!(matches!(e, EngineError::NameInUse { .. }), "{e}");
    engine.remove("one", false, false).await.expect("remove");
    let e = engine.inspect(&id).await.expect_err("removed");
    assert_eq!(e.to_string(), format!("No such container: {id}"));
    assert!(!cfg.data_root.join("containers").join(&id).exists());
    engine
        .remove(&bad, false, false)
        .await
        .expect("remove bad-user");
    assert_eq!(engine.counts().containers, 0);
}
