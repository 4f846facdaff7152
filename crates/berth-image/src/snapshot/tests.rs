//! One conformance suite, run against every snapshotter (containerd's `SnapshotterSuite`
//! style), on real layers unpacked by [`crate::layer::apply`] and, for overlay, a real mount.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::layer;

/// Builds a layer directory from tar entries `(name, kind, data)`.
fn layer_dir(root: &Path, name: &str, entries: &[(&str, tar::EntryType, &[u8])]) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    for (path, kind, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(*kind);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, *data).unwrap();
    }
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    layer::apply(&b.into_inner().unwrap()[..], &dir).unwrap();
    dir
}

/// The snapshot's directory, removed (and unmounted) on drop even when a test fails.
struct Guard<'a, S: Snapshotter> {
    s: &'a S,
    dir: PathBuf,
}

impl<S: Snapshotter> Drop for Guard<'_, S> {
    fn drop(&mut self) {
        let _ = self.s.remove(&self.dir);
    }
}

struct Fixture {
    tmp: tempfile::TempDir,
    /// Top first.
    lowers: Vec<PathBuf>,
}

fn fixture() -> Fixture {
    use tar::EntryType::{Directory as D, Regular as R};
    let tmp = tempfile::tempdir().unwrap();
    let l1 = layer_dir(
        tmp.path(),
        "l1",
        &[
            ("etc/", D, b""),
            ("etc/passwd", R, b"root"),
            ("etc/group", R, b"g"),
            ("opq/", D, b""),
            ("opq/old", R, b"old"),
            ("over", R, b"lower"),
        ],
    );
    let l2 = layer_dir(
        tmp.path(),
        "l2",
        &[
            ("etc/.wh.passwd", R, b""),
            ("opq/", D, b""),
            ("opq/.wh..wh..opq", R, b""),
            ("opq/new", R, b"new"),
            ("over", R, b"upper"),
            ("bin/", D, b""),
            ("bin/sh", R, b"sh"),
        ],
    );
    Fixture {
        tmp,
        lowers: vec![l2, l1],
    }
}

fn prepare<'a, S: Snapshotter>(s: &'a S, f: &Fixture) -> (Guard<'a, S>, PathBuf) {
    let dir = f.tmp.path().join("ctr");
    let g = Guard {
        s,
        dir: dir.clone(),
    };
    let rootfs = s.prepare(&dir, &f.lowers).unwrap();
    assert_eq!(rootfs, dir.join("rootfs"));
    (g, rootfs)
}

fn mounted(p: &Path) -> bool {
    let m = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let p = p.to_string_lossy();
    m.lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|mp| mp.starts_with(&*p)))
}

fn files_from_lower_layers_are_visible<S: Snapshotter>(s: &S) {
    let f = fixture();
    let (_g, rootfs) = prepare(s, &f);
    assert_eq!(fs::read(rootfs.join("etc/group")).unwrap(), b"g");
    assert_eq!(fs::read(rootfs.join("bin/sh")).unwrap(), b"sh");
    assert_eq!(fs::read(rootfs.join("over")).unwrap(), b"upper");
}

fn writes_do_not_touch_lower_layers<S: Snapshotter>(s: &S) {
    let f = fixture();
    let (_g, rootfs) = prepare(s, &f);
    fs::write(rootfs.join("etc/group"), b"changed").unwrap();
    fs::write(rootfs.join("fresh"), b"x").unwrap();
    fs::remove_file(rootfs.join("bin/sh")).unwrap();
    assert_eq!(fs::read(f.lowers[1].join("etc/group")).unwrap(), b"g");
    assert!(f.lowers[0].join("bin/sh").exists());
    assert!(!f.lowers[0].join("fresh").exists() && !f.lowers[1].join("fresh").exists());
}

fn whiteouts_hide_files<S: Snapshotter>(s: &S) {
    let f = fixture();
    let (_g, rootfs) = prepare(s, &f);
    assert!(fs::symlink_metadata(rootfs.join("etc/passwd")).is_err());
    let mut opq: Vec<_> = fs::read_dir(rootfs.join("opq"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    opq.sort();
    assert_eq!(opq, ["new"]);
}

fn writes_survive_unmount_and_mount<S: Snapshotter>(s: &S) {
    let f = fixture();
    let (g, rootfs) = prepare(s, &f);
    fs::write(rootfs.join("kept"), b"k").unwrap();
    s.unmount(&g.dir).unwrap();
    s.unmount(&g.dir).unwrap();
    let again = s.mount(&g.dir, &f.lowers).unwrap();
    assert_eq!(fs::read(again.join("kept")).unwrap(), b"k");
    // Mounting twice is harmless.
    s.mount(&g.dir, &f.lowers).unwrap();
    assert_eq!(fs::read(again.join("etc/group")).unwrap(), b"g");
}

fn remove_leaves_nothing<S: Snapshotter>(s: &S) {
    let f = fixture();
    let (g, _rootfs) = prepare(s, &f);
    s.remove(&g.dir).unwrap();
    assert!(!g.dir.exists());
    assert!(!mounted(&g.dir));
    s.remove(&g.dir).unwrap();
    assert!(matches!(
        s.mount(&g.dir, &f.lowers),
        Err(SnapshotError::NotFound(_))
    ));
}

fn image_without_layers<S: Snapshotter>(s: &S) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ctr");
    let g = Guard {
        s,
        dir: dir.clone(),
    };
    let rootfs = s.prepare(&g.dir, &[]).unwrap();
    fs::write(rootfs.join("x"), b"x").unwrap();
    assert!(rootfs.join("x").exists());
}

macro_rules! suite {
    ($m:ident, $s:expr) => {
        mod $m {
            use super::*;
            #[test]
            fn files_from_lower_layers_are_visible() {
                super::files_from_lower_layers_are_visible(&$s);
            }
            #[test]
            fn writes_do_not_touch_lower_layers() {
                super::writes_do_not_touch_lower_layers(&$s);
            }
            #[test]
            fn whiteouts_hide_files() {
                super::whiteouts_hide_files(&$s);
            }
            #[test]
            fn writes_survive_unmount_and_mount() {
                super::writes_survive_unmount_and_mount(&$s);
            }
            #[test]
            fn remove_leaves_nothing() {
                super::remove_leaves_nothing(&$s);
            }
            #[test]
            fn image_without_layers() {
                super::image_without_layers(&$s);
            }
        }
    };
}

suite!(overlay, OverlaySnapshotter);
suite!(copy, CopySnapshotter);
suite!(detected, AnySnapshotter::detect());

#[test]
fn overlay_is_mounted_and_detected_here() {
    assert!(
        matches!(AnySnapshotter::detect(), AnySnapshotter::Overlay(_)),
        "overlayfs missing: load the overlay module (modprobe overlay)"
    );
    let f = fixture();
    let s = OverlaySnapshotter;
    let (g, _) = prepare(&s, &f);
    assert!(mounted(&g.dir.join("rootfs")));
}

#[test]
fn overlay_deep_stack_beyond_mount_data_page() {
    // 80 layers with long paths: the lowerdir option alone is well over a page.
    let tmp = tempfile::tempdir().unwrap();
    let long = tmp.path().join("x".repeat(60));
    let mut lowers = Vec::new();
    for i in 0..80 {
        let name = format!("layer-{i:03}");
        let content = format!("{i}");
        lowers.push(layer_dir(
            &long,
            &name,
            &[(
                &format!("f{i}"),
                tar::EntryType::Regular,
                content.as_bytes(),
            )],
        ));
    }
    lowers.reverse();
    let total: usize = lowers.iter().map(|p| p.as_os_str().len() + 1).sum();
    assert!(total > 4096, "{total}");
    let s = OverlaySnapshotter;
    let dir = tmp.path().join("ctr");
    let g = Guard {
        s: &s,
        dir: dir.clone(),
    };
    let rootfs = s.prepare(&g.dir, &lowers).unwrap();
    assert_eq!(fs::read(rootfs.join("f0")).unwrap(), b"0");
    assert_eq!(fs::read(rootfs.join("f79")).unwrap(), b"79");
}

#[test]
fn imported_image_mounts_through_detected_snapshotter() {
    let tmp = tempfile::tempdir().unwrap();
    let store = crate::store::ImageStore::open(&tmp.path().join("data")).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o755);
    h.set_size(2);
    b.append_data(&mut h, "bin/sh", &b"#!"[..]).unwrap();
    let reference = crate::Reference::parse("busybox").unwrap();
    let id = store
        .import(&b.into_inner().unwrap()[..], Some(&reference), &[], "-")
        .unwrap();
    let s = AnySnapshotter::detect();
    let g = Guard {
        s: &s,
        dir: tmp.path().join("containers/c1"),
    };
    let rootfs = s.prepare(&g.dir, &store.lowerdirs(&id).unwrap()).unwrap();
    assert_eq!(fs::read(rootfs.join("bin/sh")).unwrap(), b"#!");
}
