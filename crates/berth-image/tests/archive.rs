//! save and load, checked against skopeo (Debian's package) as the oracle.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use berth_image::archive::{ArchiveError, load, save};
use berth_image::store::ImageStore;
use berth_image::{ErrorKind, Reference};
use common::*;

fn skopeo(args: &[&str]) -> String {
    let bin = which("skopeo").unwrap_or_else(|| {
        panic!(
            "skopeo is not installed: run scripts/install-deps.sh --test (apt-get install skopeo)"
        )
    });
    let out = Command::new(bin)
        .args(["--insecure-policy", "--tmpdir", "/tmp"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn saved(dir: &Path) -> (berth_image::Digest, std::path::PathBuf) {
    let root = dir.join("src");
    let store = ImageStore::open(&root).unwrap();
    let id = make_image(&store, "local/img:v1");
    let file = dir.join("img.tar");
    save(
        &store,
        &["local/img:v1".to_owned()],
        fs::File::create(&file).unwrap(),
    )
    .unwrap();
    (id, file)
}

fn empty(store: &ImageStore) -> bool {
    store.list().unwrap().is_empty() && store.content().list().unwrap().is_empty()
}

#[test]
fn save_is_read_by_skopeo_as_docker_and_oci_archive_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (id, file) = saved(dir.path());
    let f = file.display().to_string();
    let v: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", &format!("docker-archive:{f}")])).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3, "{v}");
    let cfg: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        &format!("docker-archive:{f}"),
    ]))
    .unwrap();
    assert_eq!(cfg["rootfs"]["diff_ids"].as_array().unwrap().len(), 3);
    let v: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", &format!("oci-archive:{f}")])).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3, "{v}");
    // skopeo copies it out, verifying every blob.
    skopeo(&[
        "copy",
        &format!("docker-archive:{f}"),
        &format!("dir:{}", dir.path().join("copy").display()),
    ]);

    // Our archive loads back, plain and gzip-compressed.
    let store = ImageStore::open(&dir.path().join("dst")).unwrap();
    let loaded = load(&store, fs::File::open(&file).unwrap()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].tags,
        vec![Reference::parse("local/img:v1").unwrap()]
    );
    check_files(&store, &id);
    let gz = dir.path().join("img.tar.gz");
    fs::write(&gz, gzip(&fs::read(&file).unwrap())).unwrap();
    let store2 = ImageStore::open(&dir.path().join("dst2")).unwrap();
    let loaded = load(&store2, fs::File::open(&gz).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    check_files(&store2, &id);
    // A loaded image can be saved again (its layer blobs were kept).
    let mut again = Vec::new();
    save(&store2, &[id.to_string()], &mut again).unwrap();
}

#[test]
fn archives_written_by_skopeo_load() {
    let dir = tempfile::tempdir().unwrap();
    let (id, file) = saved(dir.path());
    let f = file.display().to_string();
    // skopeo's docker-archive (its own manifest.json layout).
    let docker = dir.path().join("skopeo-docker.tar");
    skopeo(&[
        "copy",
        &format!("docker-archive:{f}"),
        &format!("docker-archive:{}:local/other:v2", docker.display()),
    ]);
    let store = ImageStore::open(&dir.path().join("a")).unwrap();
    let loaded = load(&store, fs::File::open(&docker).unwrap()).unwrap();
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].tags,
        vec![Reference::parse("local/other:v2").unwrap()]
    );
    check_files(&store, &id);
    // skopeo's oci-archive, with gzip-compressed layers.
    let oci = dir.path().join("skopeo-oci.tar");
    skopeo(&[
        "copy",
        "--dest-compress-format",
        "gzip",
        &format!("docker-archive:{f}"),
        &format!("oci-archive:{}:docker.io/local/oci:v3", oci.display()),
    ]);
    let store = ImageStore::open(&dir.path().join("b")).unwrap();
    let loaded = load(&store, fs::File::open(&oci).unwrap()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, id);
    assert_eq!(
        loaded[0].tags,
        vec![Reference::parse("local/oci:v3").unwrap()]
    );
    check_files(&store, &id);
}

#[test]
fn a_truncated_or_corrupt_archive_is_refused_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = saved(dir.path());
    let bytes = fs::read(&file).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated tar", bytes[..bytes.len() * 2 / 3].to_vec()),
        ("truncated gzip", {
            let g = gzip(&bytes);
            g[..g.len() / 2].to_vec()
        }),
        (
            "not an archive",
            b"hello, this is not a tar at all".repeat(40),
        ),
        ("empty", Vec::new()),
    ];
    for (what, data) in cases {
        let store = ImageStore::open(&dir.path().join(what.replace(' ', "-"))).unwrap();
        let err = load(&store, &data[..]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{what}: {err:?}");
        assert!(empty(&store), "{what}: something was stored");
        let left: Vec<_> = fs::read_dir(dir.path().join(what.replace(' ', "-")).join("layers"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{what}: {left:?}");
    }
    // An archive whose manifest names a missing layer.
    let mut b = tar::Builder::new(Vec::new());
    let m = br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#;
    let mut h = tar::Header::new_ustar();
    h.set_size(m.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", &m[..]).unwrap();
    let data = b.into_inner().unwrap();
    let store = ImageStore::open(&dir.path().join("missing")).unwrap();
    let err = load(&store, &data[..]).unwrap_err();
    assert!(matches!(err, ArchiveError::MissingFile(_)), "{err:?}");
    assert!(empty(&store));
}
