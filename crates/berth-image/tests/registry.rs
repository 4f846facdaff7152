//! Pull and push against a real `docker-registry` on 127.0.0.1 (Debian's package).

mod common;

use std::fs;
use std::sync::Arc;

use berth_image::registry::{
    Client, ClientOptions, Credentials, ProgressStatus, PullOptions, PushOptions, RegistryError,
    Session,
};
use berth_image::store::ImageStore;
use berth_image::{Digest, ErrorKind, Reference, manifest};
use common::*;

fn client() -> Client {
    Client::new(ClientOptions::default()).unwrap()
}

fn small_chunks() -> PushOptions {
    PushOptions {
        chunk_size: 64 * 1024,
        ..PushOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_remove_pull_by_tag_and_by_digest() {
    let reg = Registry::start(None);
    let src_root = tempfile::tempdir().unwrap();
    let src = Arc::new(ImageStore::open(src_root.path()).unwrap());
    let id = make_image(&src, "local/img:v1");
    let target: Reference = format!("{}/test/img:v1", reg.host()).parse().unwrap();
    let (p, events) = recorder();
    let digest = client()
        .push(src.clone(), "local/img:v1", &target, &small_chunks(), &p)
        .await
        .unwrap();
    let ev = events.lock().unwrap().clone();
    assert!(ev.iter().any(|e| e.status == ProgressStatus::Pushed));
    assert!(ev.iter().any(
        |e| matches!(e.status, ProgressStatus::Pushing { current, total } if current < total)
    ));
    // A second push finds every blob there.
    let (p2, events2) = recorder();
    client()
        .push(src.clone(), "local/img:v1", &target, &small_chunks(), &p2)
        .await
        .unwrap();
    let n = events2
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.status == ProgressStatus::LayerAlreadyExists)
        .count();
    assert_eq!(n, 3);
    // Into another repository, mounting from the first.
    let other: Reference = format!("{}/test/other:v1", reg.host()).parse().unwrap();
    let (p3, events3) = recorder();
    let opts = PushOptions {
        mount_from: vec!["test/img".into()],
        ..small_chunks()
    };
    client()
        .push(src.clone(), &id.to_string(), &other, &opts, &p3)
        .await
        .unwrap();
    let mounted = events3
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e.status, ProgressStatus::Mounted { .. }))
        .count();
    assert_eq!(mounted, 3);
    drop(src);
    drop(src_root);

    // Pull by tag into a fresh store.
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let (p, events) = recorder();
    let res = client()
        .pull(store.clone(), &target, &PullOptions::default(), &p)
        .await
        .unwrap();
    assert_eq!(res.id, id);
    assert_eq!(res.manifest_digest, digest);
    assert!(res.downloaded);
    check_files(&store, &id);
    assert_eq!(store.get(&target.to_string()).unwrap().id, id);
    // plain, gzip and zstd layers went through as they were.
    let types: Vec<String> = store
        .get(&id.to_string())
        .unwrap()
        .config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| store.layer_blob(d).unwrap().media_type)
        .collect();
    assert_eq!(
        types,
        [
            manifest::OCI_LAYER_TAR,
            manifest::OCI_LAYER_GZIP,
            manifest::OCI_LAYER_ZSTD
        ]
    );
    let ev = events.lock().unwrap().clone();
    for s in [
        ProgressStatus::PullingFsLayer,
        ProgressStatus::VerifyingChecksum,
        ProgressStatus::DownloadComplete,
        ProgressStatus::PullComplete,
    ] {
        assert_eq!(
            ev.iter().filter(|e| e.status == s).count(),
            3,
            "{s:?} in {ev:?}"
        );
    }
    assert!(ev.iter().any(|e| {
        e.status
            .text()
            .starts_with("Status: Downloaded newer image")
    }));
    // Again: up to date, nothing downloaded.
    let (p, events) = recorder();
    let again = client()
        .pull(store.clone(), &target, &PullOptions::default(), &p)
        .await
        .unwrap();
    assert!(!again.downloaded);
    assert_eq!(
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.status == ProgressStatus::AlreadyExists)
            .count(),
        3
    );

    // Pull by digest into another fresh store.
    let root2 = tempfile::tempdir().unwrap();
    let store2 = Arc::new(ImageStore::open(root2.path()).unwrap());
    let by_digest: Reference = format!("{}/test/img@{digest}", reg.host()).parse().unwrap();
    let res = client()
        .pull(
            store2.clone(),
            &by_digest,
            &PullOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap();
    assert_eq!(res.id, id);
    check_files(&store2, &id);
    // RepoDigests, and the digest reference resolves locally.
    let name = format!("{}/test/img", reg.host());
    assert_eq!(store2.repo_digests(&id), vec![format!("{name}@{digest}")]);
    assert_eq!(store2.resolve(&format!("{name}@{digest}")).unwrap(), id);
    assert!(
        store2.get(&target.to_string()).is_err(),
        "pull by digest tagged the image"
    );
    // The layer blobs were kept, so the pulled image can be pushed on.
    for d in &store2.get(&id.to_string()).unwrap().config.rootfs.diff_ids {
        assert!(store2.layer_blob(d).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tag_and_unreachable_registry() {
    let reg = Registry::start(None);
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let r: Reference = format!("{}/nope/nothing:v1", reg.host()).parse().unwrap();
    let err = client()
        .pull(store.clone(), &r, &PullOptions::default(), &recorder().0)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let port = reg.port;
    drop(reg);
    let r: Reference = format!("127.0.0.1:{port}/x/y:v1").parse().unwrap();
    let err = client()
        .pull(store.clone(), &r, &PullOptions::default(), &recorder().0)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Internal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_htpasswd() {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let bin = which("htpasswd")
        .unwrap_or_else(|| panic!("htpasswd is not installed: apt-get install apache2-utils"));
    let out = std::process::Command::new(bin)
        .args(["-Bbn", "alice", "s3cret"])
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::write(&htpasswd, out.stdout).unwrap();
    let reg = Registry::start(Some(&htpasswd));
    let src_root = tempfile::tempdir().unwrap();
    let src = Arc::new(ImageStore::open(src_root.path()).unwrap());
    let id = make_image(&src, "local/img:v1");
    let target: Reference = format!("{}/auth/img:v1", reg.host()).parse().unwrap();
    // No credentials: refused.
    let err = client()
        .push(
            src.clone(),
            "local/img:v1",
            &target,
            &PushOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    // Wrong password: refused.
    let bad = PushOptions {
        credentials: Some(Credentials {
            username: "alice".into(),
            password: "nope".into(),
        }),
        ..PushOptions::default()
    };
    let err = client()
        .push(src.clone(), "local/img:v1", &target, &bad, &recorder().0)
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    // login checks the password.
    let good = Credentials {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    Session::login(&client(), &reg.host(), good).await.unwrap();
    let err = Session::login(
        &client(),
        &reg.host(),
        Credentials {
            username: "alice".into(),
            password: "x".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    // Credentials from a docker config.json.
    let cfg = dir.path().join("config.json");
    berth_image::registry::auth::save_credentials(
        &cfg,
        &reg.host(),
        &Credentials {
            username: "alice".into(),
            password: "s3cret".into(),
        },
    )
    .unwrap();
    let authed = Client::new(ClientOptions {
        docker_config: Some(cfg),
        ..ClientOptions::default()
    })
    .unwrap();
    authed
        .push(
            src.clone(),
            "local/img:v1",
            &target,
            &PushOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let err = client()
        .pull(
            store.clone(),
            &target,
            &PullOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    let res = authed
        .pull(
            store.clone(),
            &target,
            &PullOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap();
    assert_eq!(res.id, id);
    check_files(&store, &id);
}

fn layer_digests(store: &ImageStore, id: &Digest) -> Vec<Digest> {
    let img = store.get(&id.to_string()).unwrap();
    img.config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| store.layer_blob(d).unwrap().digest)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_blob_is_refused_and_nothing_stored() {
    let reg = Registry::start(None);
    let src_root = tempfile::tempdir().unwrap();
    let src = Arc::new(ImageStore::open(src_root.path()).unwrap());
    let id = make_image(&src, "local/img:v1");
    let target: Reference = format!("{}/bad/img:v1", reg.host()).parse().unwrap();
    client()
        .push(
            src.clone(),
            "local/img:v1",
            &target,
            &PushOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap();
    // Same length, different bytes in the registry's storage for the big layer.
    let big_blob = layer_digests(&src, &id)[1].clone();
    let f = reg.blob_file(big_blob.hex());
    let len = fs::metadata(&f).unwrap().len() as usize;
    fs::write(&f, noise(len, 99)).unwrap();
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let err = client()
        .pull(
            store.clone(),
            &target,
            &PullOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { ref expected, .. } if *expected == big_blob),
        "{err:?}"
    );
    assert!(!store.content().exists(&big_blob));
    assert!(
        !store.content().partial_path(&big_blob).exists(),
        "partial kept after a mismatch"
    );
    assert!(store.list().unwrap().is_empty());
    assert!(store.get(&target.to_string()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_download_is_resumed_with_a_range_request() {
    let reg = Registry::start(None);
    let src_root = tempfile::tempdir().unwrap();
    let src = Arc::new(ImageStore::open(src_root.path()).unwrap());
    let id = make_image(&src, "local/img:v1");
    let target: Reference = format!("{}/resume/img:v1", reg.host()).parse().unwrap();
    client()
        .push(
            src.clone(),
            "local/img:v1",
            &target,
            &PushOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap();
    let big_blob = layer_digests(&src, &id)[1].clone();
    let bytes = src.content().read(&big_blob).unwrap();
    let half = bytes.len() / 2;
    let root = tempfile::tempdir().unwrap();
    let store = Arc::new(ImageStore::open(root.path()).unwrap());
    let partial = store.content().partial_path(&big_blob);
    fs::create_dir_all(partial.parent().unwrap()).unwrap();
    // A partial whose prefix is wrong: only a resumed (Range) download can end in a
    // mismatch, a full re-download would succeed. The bad partial is then dropped.
    let mut wrong = bytes[..half].to_vec();
    wrong[0] ^= 0xff;
    fs::write(&partial, &wrong).unwrap();
    let err = client()
        .pull(
            store.clone(),
            &target,
            &PullOptions::default(),
            &recorder().0,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );
    assert!(!partial.exists());
    // A good partial (an interrupted pull) is completed.
    fs::write(&partial, &bytes[..half]).unwrap();
    let (p, events) = recorder();
    let res = client()
        .pull(store.clone(), &target, &PullOptions::default(), &p)
        .await
        .unwrap();
    assert_eq!(res.id, id);
    check_files(&store, &id);
    assert!(!partial.exists());
    let first = events.lock().unwrap().iter().find_map(|e| match e.status {
        ProgressStatus::Downloading { current, .. } if e.id == big_blob.short() => Some(current),
        _ => None,
    });
    assert!(
        first.is_some_and(|c| c > half as u64),
        "first progress {first:?} not past the resumed half"
    );
}
