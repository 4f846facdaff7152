//! Context extraction against real tar bodies built in memory, in every compression.

use super::*;
use std::io::Write;
use std::os::unix::fs::MetadataExt;

/// A tar entry to write: (name, kind, data or link target, mode).
enum E<'a> {
    File(&'a str, &'a str, u32),
    Dir(&'a str, u32),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Fifo(&'a str),
}

/// Writes the name raw into the header (the tar crate's own setters refuse `..`,
/// which is exactly what a hostile client would send).
fn raw_header(name: &str, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    let bytes = name.as_bytes();
    h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h
}

fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(n, d, m) => {
                let mut h = raw_header(n, tar::EntryType::Regular, d.len() as u64, *m);
                h.set_cksum();
                b.append(&h, d.as_bytes()).unwrap();
            }
            E::Dir(n, m) => {
                let mut h = raw_header(n, tar::EntryType::Directory, 0, *m);
                h.set_cksum();
                b.append(&h, io::empty()).unwrap();
            }
            E::Sym(n, t) | E::Hard(n, t) => {
                let kind = if matches!(e, E::Sym(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                let mut h = raw_header(n, kind, 0, 0o777);
                let tb = t.as_bytes();
                h.as_old_mut().linkname[..tb.len()].copy_from_slice(tb);
                h.set_cksum();
                b.append(&h, io::empty()).unwrap();
            }
            E::Fifo(n) => {
                let mut h = raw_header(n, tar::EntryType::Fifo, 0, 0o644);
                h.set_cksum();
                b.append(&h, io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn extract(body: &[u8]) -> (tempfile::TempDir, Result<Extracted, ContextError>) {
    let d = tempfile::tempdir().unwrap();
    let r = extract_context(body, d.path());
    (d, r)
}

fn sample() -> Vec<u8> {
    tar_of(&[
        E::Dir("app/", 0o755),
        E::File("app/main.sh", "#!/bin/sh\necho hi\n", 0o755),
        E::File("Dockerfile", "FROM busybox\n", 0o644),
        E::File("/abs/file", "contained", 0o600),
        E::File("./dot/../x", "x", 0o644),
        E::Sym("app/link", "/etc/passwd"),
        E::Hard("app/hard", "app/main.sh"),
        E::Dir("ro/", 0o555),
        E::File("ro/inside", "i", 0o444),
    ])
}

fn check_sample(root: &Path) {
    assert_eq!(
        fs::read_to_string(root.join("app/main.sh")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    assert_eq!(
        fs::metadata(root.join("app/main.sh")).unwrap().mode() & 0o777,
        0o755
    );
    assert_eq!(
        fs::read_to_string(root.join("abs/file")).unwrap(),
        "contained"
    );
    assert_eq!(fs::read_to_string(root.join("x")).unwrap(), "x");
    assert_eq!(
        fs::read_link(root.join("app/link")).unwrap(),
        Path::new("/etc/passwd")
    );
    let a = fs::metadata(root.join("app/main.sh")).unwrap();
    let b = fs::metadata(root.join("app/hard")).unwrap();
    assert_eq!(a.ino(), b.ino());
    assert_eq!(fs::metadata(root.join("ro")).unwrap().mode() & 0o777, 0o555);
    assert_eq!(
        fs::metadata(root.join("app/main.sh")).unwrap().mtime(),
        1_700_000_000
    );
}

#[test]
fn every_compression_extracts() {
    let plain = sample();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let bz = {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let xz = {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::encode_all(&plain[..], 1).unwrap();
    for (body, kind) in [
        (&plain, Compression::None),
        (&gz, Compression::Gzip),
        (&bz, Compression::Bzip2),
        (&xz, Compression::Xz),
        (&zst, Compression::Zstd),
    ] {
        assert_eq!(detect_compression(body), kind);
        let (d, r) = extract(body);
        let stats = r.unwrap();
        assert_eq!(stats.entries, 9, "{kind:?}");
        check_sample(d.path());
        // Let the temp dir be removed despite the read-only directory.
        fs::set_permissions(d.path().join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn hostile_entries_are_refused() {
    let (_d, r) = extract(&tar_of(&[E::File("../escape", "x", 0o644)]));
    assert!(matches!(r, Err(ContextError::Escape(_))), "{r:?}");
    let (_d, r) = extract(&tar_of(&[E::File("a/../../escape", "x", 0o644)]));
    assert!(matches!(r, Err(ContextError::Escape(_))), "{r:?}");
    // A symlink to outside, then a file written "through" it.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().to_str().unwrap().to_string();
    let (d, r) = extract(&tar_of(&[
        E::Sym("evil", &target),
        E::File("evil/pwned", "x", 0o644),
    ]));
    assert!(matches!(r, Err(ContextError::ThroughSymlink(_))), "{r:?}");
    assert!(!outside.path().join("pwned").exists());
    assert!(
        fs::symlink_metadata(d.path().join("evil"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // A symlink replaced in place by a file: the file is written, the link's target untouched.
    fs::write(outside.path().join("victim"), "safe").unwrap();
    let victim = format!("{target}/victim");
    let (d, r) = extract(&tar_of(&[E::Sym("v", &victim), E::File("v", "new", 0o644)]));
    r.unwrap();
    assert_eq!(
        fs::read_to_string(outside.path().join("victim")).unwrap(),
        "safe"
    );
    assert_eq!(fs::read_to_string(d.path().join("v")).unwrap(), "new");
    // Hard links out of the context, or to nothing.
    let (_d, r) = extract(&tar_of(&[E::Hard("h", "../../etc/passwd")]));
    assert!(matches!(r, Err(ContextError::BadHardLink { .. })), "{r:?}");
    let (_d, r) = extract(&tar_of(&[E::Hard("h", "/etc/passwd")]));
    assert!(matches!(r, Err(ContextError::BadHardLink { .. })), "{r:?}");
    // A hard link through a symlinked directory.
    let (_d, r) = extract(&tar_of(&[E::Sym("l", &target), E::Hard("h", "l/victim")]));
    assert!(matches!(r, Err(ContextError::BadHardLink { .. })), "{r:?}");
    // Special files.
    let (_d, r) = extract(&tar_of(&[E::Fifo("pipe")]));
    assert!(matches!(r, Err(ContextError::Unsupported(_))), "{r:?}");
    // A file used as a directory.
    let (_d, r) = extract(&tar_of(&[
        E::File("f", "x", 0o644),
        E::File("f/g", "y", 0o644),
    ]));
    assert!(matches!(r, Err(ContextError::ParentNotDir(_))), "{r:?}");
    // Garbage is an error, not a panic.
    let (_d, r) = extract(&[0x1f, 0x8b, 0x08, 0, 1, 2, 3]);
    assert!(r.is_err());
}

#[test]
fn dockerfile_location() {
    let (d, r) = extract(&tar_of(&[
        E::File("Dockerfile", "FROM a\n", 0o644),
        E::File("sub/build.df", "FROM b\n", 0o644),
        E::Sym("out", "/etc/hostname"),
        E::Sym("in", "sub/build.df"),
        E::File(".dockerignore", "# c\n*.tmp\n!keep.tmp\n", 0o644),
    ]));
    r.unwrap();
    let root = d.path();
    let real = fs::canonicalize(root).unwrap();
    assert_eq!(
        locate_dockerfile(root, None).unwrap(),
        real.join("Dockerfile")
    );
    assert_eq!(
        locate_dockerfile(root, Some("sub/build.df")).unwrap(),
        real.join("sub/build.df")
    );
    assert_eq!(
        locate_dockerfile(root, Some("in")).unwrap(),
        real.join("sub/build.df")
    );
    for outside in ["../x", "/etc/passwd", "sub/../../x", "out"] {
        assert!(
            matches!(
                locate_dockerfile(root, Some(outside)),
                Err(ContextError::DockerfileOutside(_))
            ),
            "{outside}"
        );
    }
    assert!(matches!(
        locate_dockerfile(root, Some("nope")),
        Err(ContextError::DockerfileNotFound(_))
    ));
    assert_eq!(read_dockerignore(root).unwrap(), ["*.tmp", "!keep.tmp"]);
    let empty = tempfile::tempdir().unwrap();
    fs::write(empty.path().join("dockerfile"), "FROM a\n").unwrap();
    assert!(
        locate_dockerfile(empty.path(), None)
            .unwrap()
            .ends_with("dockerfile")
    );
    assert!(read_dockerignore(empty.path()).unwrap().is_empty());
}

#[test]
fn pruning_follows_dockerignore() {
    let (d, r) = extract(&tar_of(&[
        E::File("Dockerfile", "FROM a\n", 0o644),
        E::File(".dockerignore", "x", 0o644),
        E::File("a.tmp", "t", 0o644),
        E::File("keep.tmp", "k", 0o644),
        E::File("docs/readme.md", "r", 0o644),
        E::File("docs/other.md", "o", 0o644),
        E::File("node_modules/m/index.js", "m", 0o644),
        E::File("src/main.rs", "s", 0o644),
        E::File("src/gen/out.tmp", "g", 0o644),
    ]));
    r.unwrap();
    let patterns = crate::dockerignore::read_ignore_file(
        "**/*.tmp\n!keep.tmp\ndocs\n!docs/readme.md\nnode_modules\n.dockerignore\n",
    );
    let pm = crate::dockerignore::PatternMatcher::new(&patterns).unwrap();
    let removed = prune_context(d.path(), &pm).unwrap();
    let mut left = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(d.path().join(&rel)).unwrap() {
            let e = e.unwrap();
            let r = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                stack.push(r);
            } else {
                left.push(r.display().to_string());
            }
        }
    }
    left.sort();
    assert_eq!(
        left,
        ["Dockerfile", "docs/readme.md", "keep.tmp", "src/main.rs"]
    );
    // .dockerignore, a.tmp, docs/other.md, node_modules (whole), src/gen/out.tmp
    assert_eq!(removed, 5);
}

#[test]
fn archives_are_recognised() {
    let d = tempfile::tempdir().unwrap();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&sample()).unwrap();
        e.finish().unwrap()
    };
    fs::write(d.path().join("a.tar"), sample()).unwrap();
    fs::write(d.path().join("a.tgz"), gz).unwrap();
    fs::write(
        d.path().join("text"),
        "just some text that is not a tar header",
    )
    .unwrap();
    fs::write(d.path().join("empty"), "").unwrap();
    assert!(is_archive(&d.path().join("a.tar")));
    assert!(is_archive(&d.path().join("a.tgz")));
    assert!(!is_archive(&d.path().join("text")));
    assert!(!is_archive(&d.path().join("empty")));
    assert!(!is_archive(&d.path().join("missing")));
}

/// Directory walks recurse per level; the deepest tree a path can hold must not overflow
/// a default 2 MiB thread stack.
#[test]
fn deepest_trees_walk() {
    let d = tempfile::tempdir().unwrap();
    let mut rel = PathBuf::new();
    // 4096-byte PATH_MAX: "a/" per level.
    for _ in 0..2000 {
        rel.push("a");
    }
    let full = d.path().join(&rel);
    if fs::create_dir_all(&full).is_err() {
        // The temp dir's own path eats into PATH_MAX: go as deep as it allows.
        let mut p = d.path().to_path_buf();
        while fs::create_dir(p.join("a")).is_ok() {
            p.push("a");
        }
    }
    fs::write(d.path().join("a/f"), "x").unwrap();
    let root = d.path().to_path_buf();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            crate::cache::content_digest(&root, &[PathBuf::from("a")]).unwrap();
            crate::copy::resolve_sources(&root, &["a/*".to_string()]).unwrap();
            let pm = crate::dockerignore::PatternMatcher::new(&["**/zzz"]).unwrap();
            assert_eq!(prune_context(&root, &pm).unwrap(), 0);
            // Removing the whole deep tree.
            let pm = crate::dockerignore::PatternMatcher::new(&["a"]).unwrap();
            assert_eq!(prune_context(&root, &pm).unwrap(), 1);
            assert!(!root.join("a").exists());
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Mutated and truncated bodies (plain and gzip): errors, never a panic, nothing written
/// outside the destination.
#[test]
fn corrupt_bodies_never_panic() {
    let plain = sample();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let outer = tempfile::tempdir().unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..600 {
        let base = if i % 2 == 0 { &plain } else { &gz };
        let mut body = base.clone();
        for _ in 0..(1 + i % 8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % body.len();
            body[at] = (seed >> 32) as u8;
        }
        if i % 5 == 0 {
            body.truncate((seed as usize) % body.len());
        }
        let dest = outer.path().join(format!("d{i}"));
        fs::create_dir(&dest).unwrap();
        let _ = extract_context(&body[..], &dest);
        let _ = is_archive(&dest);
        // Let the temp dir go even if a mutated entry made a directory read-only.
        let mut stack = vec![dest];
        while let Some(p) = stack.pop() {
            if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o755));
                if let Ok(rd) = fs::read_dir(&p) {
                    stack.extend(rd.filter_map(Result::ok).map(|e| e.path()));
                }
            }
        }
    }
    let names: Vec<_> = fs::read_dir(outer.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('d'))
        .collect();
    assert!(names.is_empty(), "written outside a destination: {names:?}");
}
