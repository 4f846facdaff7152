//! Layer apply tests, hostile tars included (built here with raw headers, since
//! `tar::Builder` refuses `..` names).

use super::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

/// Appends an entry whose name and link name are written raw into the header.
fn raw(b: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    h.set_mtime(1_600_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn tar_of(f: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    f(&mut b);
    b.into_inner().unwrap()
}

struct Dirs {
    _outer: tempfile::TempDir,
    outer: PathBuf,
    root: PathBuf,
}

fn dirs() -> Dirs {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("root");
    fs::create_dir(&root).unwrap();
    Dirs {
        outer: outer.path().to_owned(),
        _outer: outer,
        root,
    }
}

#[test]
fn dotdot_entry_is_refused() {
    let d = dirs();
    let t = tar_of(|b| raw(b, "../../etc/passwd", tar::EntryType::Regular, "", b"x"));
    let err = apply(&t[..], &d.root).unwrap_err();
    assert!(matches!(err, LayerError::Breakout(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!d.outer.join("etc").exists());
}

#[test]
fn absolute_entry_lands_inside_root() {
    let d = dirs();
    let t = tar_of(|b| raw(b, "/abs", tar::EntryType::Regular, "", b"x"));
    apply(&t[..], &d.root).unwrap();
    assert_eq!(fs::read(d.root.join("abs")).unwrap(), b"x");
}

#[test]
fn planted_symlink_is_resolved_inside_root() {
    let d = dirs();
    // `evil -> /` then `evil/etc/x`, and a relative climb `up -> ../..` then `up/y`.
    let t = tar_of(|b| {
        raw(b, "evil", tar::EntryType::Symlink, "/", b"");
        raw(b, "evil/etc/x", tar::EntryType::Regular, "", b"inside");
        raw(b, "up", tar::EntryType::Symlink, "../..", b"");
        raw(b, "up/y", tar::EntryType::Regular, "", b"inside too");
    });
    apply(&t[..], &d.root).unwrap();
    assert_eq!(fs::read(d.root.join("etc/x")).unwrap(), b"inside");
    assert_eq!(fs::read(d.root.join("y")).unwrap(), b"inside too");
    assert!(!d.outer.join("y").exists());
    assert_eq!(fs::read_link(d.root.join("evil")).unwrap(), Path::new("/"));
}

#[test]
fn symlink_planted_by_lower_layer_is_not_followed_out() {
    let d = dirs();
    std::os::unix::fs::symlink(&d.outer, d.root.join("escape")).unwrap();
    let t = tar_of(|b| raw(b, "escape/pwned", tar::EntryType::Regular, "", b"x"));
    // `escape` resolves to `<root>/<outer path>`, which does not exist: docker (in a chroot)
    // fails here too. What matters is that nothing is written outside.
    let err = apply(&t[..], &d.root).unwrap_err();
    assert!(matches!(err, LayerError::Apply { .. }), "{err:?}");
    assert!(!d.outer.join("pwned").exists());
    // With the target present inside the root, the write lands there.
    let inside = d.root.join(d.outer.strip_prefix("/").unwrap());
    fs::create_dir_all(&inside).unwrap();
    apply(&t[..], &d.root).unwrap();
    assert!(inside.join("pwned").exists());
    assert!(!d.outer.join("pwned").exists());
}

#[test]
fn file_replacing_symlink_replaces_the_link_itself() {
    let d = dirs();
    fs::write(d.outer.join("target"), b"keep").unwrap();
    let t = tar_of(|b| {
        raw(b, "l", tar::EntryType::Symlink, "../target", b"");
        raw(b, "l", tar::EntryType::Regular, "", b"new");
    });
    apply(&t[..], &d.root).unwrap();
    assert_eq!(fs::read(d.outer.join("target")).unwrap(), b"keep");
    assert_eq!(fs::read(d.root.join("l")).unwrap(), b"new");
}

#[test]
fn hardlink_outside_is_refused() {
    let d = dirs();
    fs::write(d.outer.join("outside"), b"secret").unwrap();
    let t = tar_of(|b| raw(b, "h", tar::EntryType::Link, "../outside", b""));
    let err = apply(&t[..], &d.root).unwrap_err();
    assert!(matches!(err, LayerError::LinkBreakout { .. }), "{err:?}");
    assert!(!d.root.join("h").exists());
}

#[test]
fn hardlink_through_symlink_stays_inside() {
    let d = dirs();
    fs::write(d.outer.join("secret"), b"secret").unwrap();
    let t = tar_of(|b| {
        raw(b, "s", tar::EntryType::Symlink, "..", b"");
        raw(b, "h", tar::EntryType::Link, "s/secret", b"");
    });
    // `s/secret` resolves to `<root>/secret`, which does not exist: refused, nothing linked.
    assert!(apply(&t[..], &d.root).is_err());
    assert!(!d.root.join("h").exists());
}

#[test]
fn preserves_kinds_modes_owners_times_xattrs() {
    let d = dirs();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o750);
    h.set_uid(1000);
    h.set_gid(1001);
    h.set_mtime(1_500_000_000);
    h.set_size(0);
    b.append_data(&mut h, "dir/", &[][..]).unwrap();

    b.append_pax_extensions([
        ("SCHILY.xattr.user.k", &b"v"[..]),
        ("SCHILY.xattr.trusted.overlay.redirect", &b"/x"[..]),
    ])
    .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o4755);
    h.set_uid(7);
    h.set_gid(8);
    h.set_mtime(1_400_000_000);
    h.set_size(5);
    b.append_data(&mut h, "dir/file", &b"hello"[..]).unwrap();

    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    b.append_link(&mut h, "dir/hard", "dir/file").unwrap();

    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_uid(5);
    h.set_mtime(1_300_000_000);
    b.append_link(&mut h, "dir/sym", "file").unwrap();

    for (name, kind, maj, min) in [
        ("dev/null", tar::EntryType::Char, 1, 3),
        ("dev/loop9", tar::EntryType::Block, 7, 9),
        ("dev/fifo", tar::EntryType::Fifo, 0, 0),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o666);
        h.set_device_major(maj).unwrap();
        h.set_device_minor(min).unwrap();
        h.set_size(0);
        b.append_data(&mut h, name, &[][..]).unwrap();
    }
    let t = b.into_inner().unwrap();
    let applied = apply(&t[..], &d.root).unwrap();
    assert_eq!(applied.diff_id, Digest::of(&t));
    assert_eq!(applied.tar_size, t.len() as u64);
    assert_eq!(applied.size, 5);
    assert_eq!(applied.compression, Compression::None);

    let m = fs::symlink_metadata(d.root.join("dir")).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o750);
    assert_eq!((m.uid(), m.gid(), m.mtime()), (1000, 1001, 1_500_000_000));
    let f = fs::symlink_metadata(d.root.join("dir/file")).unwrap();
    assert_eq!(f.permissions().mode() & 0o7777, 0o4755);
    assert_eq!((f.uid(), f.gid(), f.mtime()), (7, 8, 1_400_000_000));
    assert_eq!(f.nlink(), 2);
    assert_eq!(
        fs::symlink_metadata(d.root.join("dir/hard")).unwrap().ino(),
        f.ino()
    );
    let s = fs::symlink_metadata(d.root.join("dir/sym")).unwrap();
    assert!(s.file_type().is_symlink());
    assert_eq!((s.uid(), s.mtime()), (5, 1_300_000_000));
    let mut v = [0u8; 8];
    let n = rustix::fs::getxattr(d.root.join("dir/file"), "user.k", &mut v[..]).unwrap();
    assert_eq!(&v[..n], b"v");
    assert!(
        rustix::fs::getxattr(
            d.root.join("dir/file"),
            "trusted.overlay.redirect",
            &mut v[..]
        )
        .is_err()
    );
    let null = fs::symlink_metadata(d.root.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(null.permissions().mode() & 0o777, 0o666);
    assert!(
        fs::symlink_metadata(d.root.join("dev/loop9"))
            .unwrap()
            .file_type()
            .is_block_device()
    );
    assert!(
        fs::symlink_metadata(d.root.join("dev/fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    let d = dirs();
    let t = tar_of(|b| {
        raw(b, "etc/", tar::EntryType::Directory, "", b"");
        raw(b, "etc/.wh.passwd", tar::EntryType::Regular, "", b"");
        raw(b, "opq/", tar::EntryType::Directory, "", b"");
        raw(b, "opq/.wh..wh..opq", tar::EntryType::Regular, "", b"");
        raw(b, "opq/kept", tar::EntryType::Regular, "", b"k");
        raw(b, ".wh..wh.plnk", tar::EntryType::Directory, "", b"");
        raw(b, "same", tar::EntryType::Regular, "", b"s");
        raw(b, ".wh.same", tar::EntryType::Regular, "", b"");
    });
    apply(&t[..], &d.root).unwrap();
    let w = fs::symlink_metadata(d.root.join("etc/passwd")).unwrap();
    assert!(w.file_type().is_char_device());
    assert_eq!(w.rdev(), 0);
    assert!(!d.root.join("etc/.wh.passwd").exists());
    let mut v = [0u8; 4];
    let n = rustix::fs::getxattr(d.root.join("opq"), OVERLAY_OPAQUE_XATTR, &mut v[..]).unwrap();
    assert_eq!(&v[..n], b"y");
    assert!(!d.root.join("opq/.wh..wh..opq").exists());
    assert_eq!(fs::read(d.root.join("opq/kept")).unwrap(), b"k");
    assert!(!d.root.join(".wh..wh.plnk").exists());
    assert_eq!(fs::read(d.root.join("same")).unwrap(), b"s");
}

fn sample() -> Vec<u8> {
    tar_of(|b| {
        raw(b, "a/", tar::EntryType::Directory, "", b"");
        raw(b, "a/big", tar::EntryType::Regular, "", &vec![7u8; 3 << 20]);
    })
}

#[test]
fn gzip_and_zstd_are_detected_and_diff_id_is_of_uncompressed() {
    let t = sample();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&t).unwrap();
    let gz = gz.finish().unwrap();
    let zs = zstd::encode_all(&t[..], 1).unwrap();
    for (data, c) in [
        (&t, Compression::None),
        (&gz, Compression::Gzip),
        (&zs, Compression::Zstd),
    ] {
        let d = dirs();
        let a = apply(&data[..], &d.root).unwrap();
        assert_eq!(a.compression, c);
        assert_eq!(a.diff_id, Digest::of(&t));
        assert_eq!(fs::metadata(d.root.join("a/big")).unwrap().len(), 3 << 20);
    }
}

#[test]
fn trailing_padding_is_hashed() {
    let mut t = sample();
    t.extend_from_slice(&[0u8; 4096]);
    let d = dirs();
    assert_eq!(apply(&t[..], &d.root).unwrap().diff_id, Digest::of(&t));
}

#[test]
fn not_a_tar_and_unsupported_compression() {
    let d = dirs();
    assert!(matches!(
        apply(&b"BZh91AY"[..], &d.root),
        Err(LayerError::UnsupportedCompression("bzip2"))
    ));
    let junk = vec![b'x'; 1024];
    assert!(matches!(
        apply(&junk[..], &d.root),
        Err(LayerError::Read(_))
    ));
    let truncated = &sample()[..2000];
    assert!(apply(truncated, &d.root).is_err());
}

#[test]
fn pax_time_parsing() {
    let t = parse_pax_time("1700000000.5").unwrap();
    assert_eq!((t.tv_sec, t.tv_nsec), (1_700_000_000, 500_000_000));
    assert!(parse_pax_time("x").is_none());
    assert_eq!(parse_pax_time("12").unwrap().tv_nsec, 0);
}
