//! Image store tests on a temp data root.

use super::*;
use crate::ErrorKind;
use crate::config::{self, ImageConfig, RootFs};
use crate::digest::Digest;
use crate::reference::Reference;

fn rootfs_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn store() -> (tempfile::TempDir, ImageStore) {
    let d = tempfile::tempdir().unwrap();
    let s = ImageStore::open(d.path()).unwrap();
    (d, s)
}

fn r(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

#[test]
fn import_builds_config_and_layer() {
    let (d, s) = store();
    let tar = rootfs_tar(&[("bin/sh", b"#!"), ("etc/os-release", b"x")]);
    let changes = vec![r#"CMD ["sh"]"#.to_owned(), "ENV A=1".to_owned()];
    let id = s
        .import(&tar[..], Some(&r("busybox")), &changes, "-")
        .unwrap();
    let img = s.get("busybox").unwrap();
    assert_eq!(img.id, id);
    assert_eq!(img.references, vec![r("docker.io/library/busybox:latest")]);
    assert_eq!(img.config.os, "linux");
    assert_eq!(img.config.architecture, config::host_architecture());
    assert_eq!(img.config.rootfs.diff_ids, vec![Digest::of(&tar)]);
    assert_eq!(img.config.history[0].comment, "Imported from -");
    let cc = img.config.config.as_ref().unwrap();
    assert_eq!(cc.cmd.as_deref(), Some(&["sh".to_owned()][..]));
    assert_eq!(cc.env.as_deref(), Some(&["A=1".to_owned()][..]));
    assert_eq!(img.size, 3);
    assert_eq!(Digest::of(&s.content().read(&id).unwrap()), id);
    // The layer's chain ID is its diff ID; the diff dir holds the files.
    let lower = s.lowerdirs(&id).unwrap();
    assert_eq!(
        lower,
        vec![
            d.path()
                .join("layers")
                .join(Digest::of(&tar).hex())
                .join("diff")
        ]
    );
    assert_eq!(fs::read(lower[0].join("bin/sh")).unwrap(), b"#!");
    let info = s.layer(&Digest::of(&tar)).unwrap();
    assert_eq!((info.parent, info.size), (None, 3));
    // Survives a reopen.
    let s2 = ImageStore::open(d.path()).unwrap();
    assert_eq!(s2.get("busybox:latest").unwrap().id, id);
}

#[test]
fn import_rejects_bad_change_and_not_a_tar_leaving_nothing() {
    let (d, s) = store();
    let tar = rootfs_tar(&[("a", b"a")]);
    let e = s
        .import(&tar[..], None, &["RUN x".to_owned()], "-")
        .unwrap_err();
    assert_eq!(e.to_string(), "run is not a valid change command");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = s
        .import(&b"not a tar at all, clearly"[..], None, &[], "-")
        .unwrap_err();
    assert!(matches!(e, StoreError::ApplyLayer(_)), "{e:?}");
    assert!(s.list().unwrap().is_empty());
    let layers: Vec<_> = fs::read_dir(d.path().join("layers")).unwrap().collect();
    assert!(layers.is_empty(), "{layers:?}");
}

#[test]
fn lookup_by_full_id_prefix_and_ambiguity() {
    let (_d, s) = store();
    let mut ids = Vec::new();
    // Make enough images that two share a first hex digit.
    for i in 0..20u8 {
        let tar = rootfs_tar(&[("f", &[i][..])]);
        ids.push(s.import(&tar[..], None, &[], "-").unwrap());
    }
    let id = &ids[0];
    assert_eq!(s.resolve(&id.to_string()).unwrap(), *id);
    assert_eq!(s.resolve(id.hex()).unwrap(), *id);
    assert_eq!(s.resolve(&id.hex()[..12]).unwrap(), *id);
    assert_eq!(
        s.resolve(&format!("sha256:{}", &id.hex()[..12])).unwrap(),
        *id
    );
    let first = &id.hex()[..1];
    let shared = ids.iter().filter(|d| d.hex().starts_with(first)).count();
    let one = ids
        .iter()
        .find(|d| ids.iter().filter(|e| e.hex()[..1] == d.hex()[..1]).count() > 1);
    if let Some(d) = one {
        let e = s.resolve(&d.hex()[..1]).unwrap_err();
        assert!(matches!(e, StoreError::Ambiguous(_)), "{e:?}");
    }
    assert!(shared >= 1);
    let e = s.resolve("nosuch").unwrap_err();
    assert_eq!(e.to_string(), "no such image: nosuch:latest");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let missing = "0".repeat(64);
    assert!(matches!(s.resolve(&missing), Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.resolve("Bad:Name"),
        Err(StoreError::Reference(_))
    ));
}

#[test]
fn tag_untag_delete_semantics() {
    let (d, s) = store();
    let tar = rootfs_tar(&[("f", b"1")]);
    let id = s.import(&tar[..], Some(&r("a:1")), &[], "-").unwrap();
    s.tag("a:1", &r("a:2")).unwrap();
    s.tag(&id.hex()[..8], &r("b")).unwrap();
    assert!(matches!(
        s.tag("a:1", &Reference::parse(&format!("c@{id}")).unwrap()),
        Err(StoreError::DigestTag)
    ));
    assert_eq!(s.get(id.hex()).unwrap().references.len(), 3);
    // By ID while tagged in two repositories: refused unless forced.
    let e = s.delete(id.hex(), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("must be forced"), "{e}");
    // By reference: only that tag goes, also when forced (`rmi -f TAG`).
    s.tag("a:1", &r("a:3")).unwrap();
    assert_eq!(
        s.delete("a:3", true).unwrap(),
        vec![DeleteItem::Untagged("a:3".into())]
    );
    assert_eq!(s.get(id.hex()).unwrap().references.len(), 3);
    assert_eq!(
        s.delete("a:2", false).unwrap(),
        vec![DeleteItem::Untagged("a:2".into())]
    );
    assert_eq!(s.untag(&r("b")).unwrap(), id);
    assert!(matches!(
        s.untag(&r("b")),
        Err(StoreError::ReferenceNotFound(_))
    ));
    // Last reference: untag, delete image and its layer.
    let out = s.delete("a:1", false).unwrap();
    assert_eq!(
        out,
        vec![
            DeleteItem::Untagged("a:1".into()),
            DeleteItem::Deleted(id.clone()),
            DeleteItem::DeletedLayer(Digest::of(&tar)),
        ]
    );
    assert!(!s.content().exists(&id));
    assert!(
        !d.path()
            .join("layers")
            .join(Digest::of(&tar).hex())
            .exists()
    );
    assert!(matches!(s.get("a:1"), Err(StoreError::NotFound(_))));
}

#[test]
fn shared_layers_are_unpacked_once_and_kept_while_used() {
    let (_d, s) = store();
    let tar = rootfs_tar(&[("f", b"shared")]);
    let a = s
        .import(&tar[..], Some(&r("a")), &["CMD [\"a\"]".into()], "-")
        .unwrap();
    let b = s
        .import(&tar[..], Some(&r("b")), &["CMD [\"b\"]".into()], "-")
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(s.lowerdirs(&a).unwrap(), s.lowerdirs(&b).unwrap());
    let out = s.delete("a", false).unwrap();
    assert_eq!(out.len(), 2, "layer still used by b: {out:?}");
    assert!(s.lowerdirs(&b).unwrap()[0].join("f").exists());
    // Forced delete by ID untags everything.
    let out = s.delete(&b.to_string(), true).unwrap();
    assert_eq!(out[0], DeleteItem::Untagged("b:latest".into()));
    assert!(out.contains(&DeleteItem::DeletedLayer(Digest::of(&tar))));
}

#[test]
fn add_layer_stacks_by_chain_id_and_add_image_checks_layers() {
    let (_d, s) = store();
    let t1 = rootfs_tar(&[("one", b"1")]);
    let t2 = rootfs_tar(&[("two", b"2")]);
    let l1 = s.add_layer(None, &t1[..]).unwrap();
    let l2 = s.add_layer(Some(&l1.chain_id), &t2[..]).unwrap();
    assert_eq!(l2.parent.as_ref(), Some(&l1.chain_id));
    assert_eq!(
        chain_ids(&[l1.diff_id.clone(), l2.diff_id.clone()]),
        vec![l1.chain_id.clone(), l2.chain_id.clone()]
    );
    let cfg = ImageConfig {
        rootfs: RootFs {
            diff_ids: vec![l1.diff_id.clone(), l2.diff_id.clone()],
            ..RootFs::default()
        },
        ..ImageConfig::default()
    };
    let id = s.add_image(&cfg.to_vec().unwrap()).unwrap();
    let lower = s.lowerdirs(&id).unwrap();
    assert_eq!(
        lower,
        vec![
            s.layer_diff_dir(&l2.chain_id),
            s.layer_diff_dir(&l1.chain_id)
        ]
    );
    let missing = ImageConfig {
        rootfs: RootFs {
            diff_ids: vec![Digest::of(b"nope")],
            ..RootFs::default()
        },
        ..ImageConfig::default()
    };
    assert!(matches!(
        s.add_image(&missing.to_vec().unwrap()),
        Err(StoreError::LayerNotFound(_))
    ));
    assert!(matches!(
        s.add_layer(Some(&Digest::of(b"x")), &t1[..]),
        Err(StoreError::LayerNotFound(_))
    ));
}

#[test]
fn open_sweeps_interrupted_writes() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("layers/.tmp-abc/diff")).unwrap();
    ImageStore::open(d.path()).unwrap();
    assert!(!d.path().join("layers/.tmp-abc").exists());
}
