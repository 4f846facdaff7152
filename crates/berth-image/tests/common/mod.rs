//! Shared test helpers: a locally made multi-layer image, tars and progress recording; the
//! registry and the tool lookup come from `berth-testkit`.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use berth_image::Digest;
use berth_image::config::{ContainerConfig, ImageConfig, RootFs};
use berth_image::registry::{Progress, ProgressFn};
use berth_image::store::ImageStore;

#[allow(unused_imports)] // each test file uses some of them
pub use berth_testkit::{Registry, noise, which};

/// A tar with the given (path, contents) regular files; a `None` content is a directory.
pub fn tar_of(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        match data {
            Some(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                h.set_mode(0o644);
                h.set_mtime(1_700_000_000);
                b.append_data(&mut h, path, *d).unwrap();
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                h.set_mtime(1_700_000_000);
                b.append_data(&mut h, path, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The big file of layer 2.
pub fn big() -> Vec<u8> {
    noise(300 * 1024, 7)
}

/// Makes a three-layer image tagged `name`: a plain tar, a gzip tar with a 300 KiB file,
/// and a zstd tar that deletes /etc/hello (whiteout) and adds /etc/motd.
pub fn make_image(store: &ImageStore, name: &str) -> Digest {
    let l1 = tar_of(&[
        ("etc", None),
        ("etc/hello", Some(b"hello\n")),
        ("bin", None),
    ]);
    let l2 = gzip(&tar_of(&[("usr", None), ("usr/big.bin", Some(&big()))]));
    let l3 = tar_of(&[
        ("etc", None),
        ("etc/.wh.hello", Some(b"")),
        ("etc/motd", Some(b"welcome\n")),
    ]);
    let l3 = zstd::encode_all(&l3[..], 3).unwrap();
    let a = store.add_layer_keep_blob(None, &l1[..]).unwrap();
    let b = store
        .add_layer_keep_blob(Some(&a.chain_id), &l2[..])
        .unwrap();
    let c = store
        .add_layer_keep_blob(Some(&b.chain_id), &l3[..])
        .unwrap();
    let cfg = ImageConfig {
        created: Some("2026-01-01T00:00:00Z".into()),
        architecture: berth_image::config::host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerConfig {
            cmd: Some(vec!["/bin/sh".into()]),
            ..Default::default()
        }),
        rootfs: RootFs {
            diff_ids: vec![a.diff_id, b.diff_id, c.diff_id],
            ..Default::default()
        },
        ..Default::default()
    };
    let id = store.add_image(&cfg.to_vec().unwrap()).unwrap();
    store.tag(&id.to_string(), &name.parse().unwrap()).unwrap();
    id
}

/// Checks an image's files through its layer dirs (top layer first).
pub fn check_files(store: &ImageStore, id: &Digest) {
    let dirs = store.lowerdirs(id).unwrap();
    assert_eq!(dirs.len(), 3);
    assert_eq!(
        std::fs::read(dirs[2].join("etc/hello")).unwrap(),
        b"hello\n"
    );
    assert_eq!(std::fs::read(dirs[1].join("usr/big.bin")).unwrap(), big());
    assert_eq!(
        std::fs::read(dirs[0].join("etc/motd")).unwrap(),
        b"welcome\n"
    );
    // The whiteout is in overlay form: a 0:0 character device.
    let wh = std::fs::symlink_metadata(dirs[0].join("etc/hello")).unwrap();
    use std::os::unix::fs::FileTypeExt;
    assert!(wh.file_type().is_char_device());
}

/// A progress callback recording every event.
pub fn recorder() -> (ProgressFn, Arc<Mutex<Vec<Progress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Arc::new(move |p| e.lock().unwrap().push(p)), events)
}
