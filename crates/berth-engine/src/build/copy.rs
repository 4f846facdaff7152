//! COPY/ADD as one tar whose entries are named by their destination paths, which
//! `archive_put` then extracts at the container's root (confined there, parents made).
//!
//! docker's rules: a directory source copies its contents into the destination; a file
//! goes to `dest/<name>` when the destination is a directory (a trailing `/`, several
//! sources, or an existing directory), else to `dest` itself; ADD unpacks a local tar
//! archive into the destination directory. Context files belong to root unless
//! `--chown`; `--chmod` applies to every entry.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use berth_build::copy::resolve_sources;
use berth_build::dockerignore::PatternMatcher;

use crate::archive::clean_name;
use crate::error::{EngineError, Result};

/// Owner and mode overrides for every entry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Overrides {
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
}

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid(e.to_string())
}

fn io(what: &'static str, p: &Path, e: io::Error) -> EngineError {
    EngineError::io(what, p, e)
}

/// Joins a destination and a relative name (`/app/` + `a/b` → `/app/a/b`).
fn join(dest_dir: &str, rel: &str) -> String {
    let d = dest_dir.trim_end_matches('/');
    if rel.is_empty() {
        if d.is_empty() { "/".into() } else { d.into() }
    } else {
        format!("{d}/{rel}")
    }
}

pub(crate) struct TarOut<W: Write> {
    b: tar::Builder<W>,
    ov: Overrides,
}

impl<W: Write> TarOut<W> {
    pub(crate) fn new(w: W, ov: Overrides) -> Self {
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        TarOut { b, ov }
    }

    fn finish(self) -> io::Result<()> {
        self.b.into_inner()?.flush()
    }

    pub(crate) fn finish_ok(self) -> Result<()> {
        self.finish().map_err(|e| io("write", Path::new("copy"), e))
    }

    /// Writes one entry from a host file (its metadata, then content or link target).
    fn host_entry(&mut self, path: &Path, name: &str, default_owner: (u32, u32)) -> Result<()> {
        let m = fs::symlink_metadata(path).map_err(|e| io("stat", path, e))?;
        let mut h = tar::Header::new_gnu();
        let (uid, gid) = self.ov.owner.unwrap_or(default_owner);
        h.set_uid(u64::from(uid));
        h.set_gid(u64::from(gid));
        h.set_mode(self.ov.mode.unwrap_or(m.mode() & 0o7777));
        h.set_mtime(u64::try_from(m.mtime()).unwrap_or(0));
        let ft = m.file_type();
        let name = name.trim_start_matches('/');
        let w = |e: io::Error| io("write", path, e);
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            self.b
                .append_data(&mut h, format!("{name}/"), io::empty())
                .map_err(w)
        } else if ft.is_symlink() {
            let target = fs::read_link(path).map_err(|e| io("readlink", path, e))?;
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            self.b.append_link(&mut h, name, &target).map_err(w)
        } else if ft.is_file() {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(m.len());
            let f = fs::File::open(path).map_err(|e| io("open", path, e))?;
            self.b.append_data(&mut h, name, f).map_err(w)
        } else {
            Err(invalid(format!(
                "{}: only files, directories and links can be copied",
                path.display()
            )))
        }
    }

    /// Re-writes each entry of `archive` under `dest_dir`, `strip` leading components
    /// dropped (1 for `archive_get`'s base name). `single` names the destination of a
    /// lone file (the non-directory case).
    pub(crate) fn tar_entries<R: Read>(
        &mut self,
        archive: R,
        dest_dir: &str,
        strip: usize,
        single: Option<&str>,
    ) -> Result<()> {
        let mut a = tar::Archive::new(archive);
        let entries = a
            .entries()
            .map_err(|e| io("read", Path::new("archive"), e))?;
        for e in entries {
            let mut e = e.map_err(|e| io("read", Path::new("archive"), e))?;
            let raw = e
                .path()
                .map_err(|e| io("read", Path::new("archive"), e))?
                .into_owned();
            let stripped: PathBuf = raw.components().skip(strip).collect();
            // Empty for the archive's root itself.
            let rel = clean_name(&stripped)?;
            let kind = e.header().entry_type();
            let name = match (rel.is_empty(), single) {
                (true, Some(s)) if !kind.is_dir() => s.to_string(),
                (true, _) => continue,
                (false, _) => join(dest_dir, &rel),
            };
            let mut h = e.header().clone();
            if let Some((u, g)) = self.ov.owner {
                h.set_uid(u64::from(u));
                h.set_gid(u64::from(g));
            }
            if let Some(m) = self.ov.mode {
                h.set_mode(m);
            }
            let name = name.trim_start_matches('/').to_string();
            let w = |e: io::Error| io("write", Path::new(&name), e);
            match kind {
                tar::EntryType::Symlink => {
                    let target = e
                        .link_name()
                        .map_err(w)?
                        .map(|t| t.into_owned())
                        .unwrap_or_default();
                    self.b.append_link(&mut h, &name, &target).map_err(w)?;
                }
                tar::EntryType::Link => {
                    // A hard link names another entry of the same archive: rename it too.
                    let target = e
                        .link_name()
                        .map_err(w)?
                        .map(|t| t.into_owned())
                        .unwrap_or_default();
                    let t: PathBuf = target.components().skip(strip).collect();
                    let t = clean_name(&t)?;
                    if t.is_empty() {
                        continue;
                    }
                    let t = join(dest_dir, &t);
                    self.b
                        .append_link(&mut h, &name, t.trim_start_matches('/'))
                        .map_err(w)?;
                }
                tar::EntryType::Directory => {
                    h.set_size(0);
                    self.b
                        .append_data(&mut h, format!("{name}/"), io::empty())
                        .map_err(w)?;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    self.b.append_data(&mut h, &name, &mut e).map_err(w)?;
                }
                // Devices, fifos, long-name records: not copied.
                _ => {}
            }
        }
        Ok(())
    }
}

/// What to copy from the context.
pub(crate) struct ContextCopy<'a> {
    pub root: &'a Path,
    pub sources: &'a [String],
    pub dest: &'a str,
    /// The destination is a directory (trailing `/`, or it exists as one).
    pub dest_is_dir: bool,
    pub unpack: bool,
    pub excludes: &'a [String],
    pub parents: bool,
}

/// The context's canonical root and a check that `p` resolves inside it (a link in the
/// context must not lead a COPY out of it).
fn inside(root_real: &Path, p: &Path) -> Result<()> {
    let parent = p.parent().unwrap_or(p);
    let real = fs::canonicalize(parent).map_err(|e| io("resolve", parent, e))?;
    if !real.starts_with(root_real) {
        return Err(invalid(format!(
            "forbidden path outside the build context: {}",
            p.display()
        )));
    }
    Ok(())
}

/// Writes a context COPY/ADD as a tar into `out`.
pub(crate) fn context_tar<W: Write>(c: &ContextCopy<'_>, ov: Overrides, out: W) -> Result<()> {
    let mut t = TarOut::new(out, ov);
    let root_real = fs::canonicalize(c.root).map_err(|e| io("open", c.root, e))?;
    let sources = resolve_sources(c.root, c.sources).map_err(invalid)?;
    let excludes = if c.excludes.is_empty() {
        None
    } else {
        Some(PatternMatcher::new(c.excludes).map_err(invalid)?)
    };
    let excluded = |rel: &Path| -> bool {
        excludes
            .as_ref()
            .is_some_and(|m| m.matches(&rel.to_string_lossy()).unwrap_or(false))
    };
    let dest_dir = c.dest_is_dir || sources.len() > 1;
    for src in &sources {
        // `.` is the context itself (`Path::parent` of `root/.` would be root's parent).
        let src = &src
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect::<PathBuf>();
        let full = c.root.join(src);
        if src.as_os_str().is_empty() {
            inside(&root_real, &full.join("x"))?;
        } else {
            inside(&root_real, &full)?;
        }
        let m = fs::symlink_metadata(&full).map_err(|e| io("stat", &full, e))?;
        let base_dir = if c.parents {
            join(c.dest, &src.to_string_lossy())
        } else {
            c.dest.to_string()
        };
        if m.is_dir() {
            // Its contents, pre-order, names sorted; explicit stack.
            let mut stack = vec![PathBuf::new()];
            while let Some(rel) = stack.pop() {
                let p = full.join(&rel);
                if !rel.as_os_str().is_empty() {
                    if excluded(&src.join(&rel)) {
                        continue;
                    }
                    t.host_entry(&p, &join(&base_dir, &rel.to_string_lossy()), (0, 0))?;
                }
                if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                    let mut names: Vec<PathBuf> = fs::read_dir(&p)
                        .map_err(|e| io("read", &p, e))?
                        .filter_map(|e| e.ok().map(|e| rel.join(e.file_name())))
                        .collect();
                    names.sort();
                    stack.extend(names.into_iter().rev());
                }
            }
            continue;
        }
        if excluded(src) {
            continue;
        }
        if c.unpack && m.is_file() && berth_build::context::is_archive(&full) {
            let f = fs::File::open(&full).map_err(|e| io("open", &full, e))?;
            let r = berth_build::context::decompress(f).map_err(|e| io("read", &full, e))?;
            // Owners from the archive unless --chown; the archive's names under dest.
            t.tar_entries(r, &base_dir, 0, None)?;
            continue;
        }
        let name = if dest_dir || c.parents {
            let file = src
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            join(&base_dir, &file)
        } else {
            c.dest.to_string()
        };
        t.host_entry(&full, &name, (0, 0))?;
    }
    t.finish().map_err(|e| io("write", Path::new("copy"), e))
}

/// Heredoc sources: each a file named after its heredoc under the destination (or the
/// destination itself for one heredoc and a file destination).
pub(crate) fn inline_tar<W: Write>(
    files: &[berth_build::instructions::InlineFile],
    dest: &str,
    dest_is_dir: bool,
    ov: Overrides,
    out: W,
) -> Result<()> {
    let mut t = TarOut::new(out, ov);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for f in files {
        let name = if dest_is_dir || files.len() > 1 {
            join(dest, &f.name)
        } else {
            dest.to_string()
        };
        let mut h = tar::Header::new_gnu();
        let (u, g) = ov.owner.unwrap_or((0, 0));
        h.set_uid(u64::from(u));
        h.set_gid(u64::from(g));
        h.set_mode(ov.mode.unwrap_or(0o644));
        h.set_mtime(now);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(f.data.len() as u64);
        t.b.append_data(&mut h, name.trim_start_matches('/'), f.data.as_bytes())
            .map_err(|e| io("write", Path::new(&name), e))?;
    }
    t.finish().map_err(|e| io("write", Path::new("copy"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: &[u8]) -> Vec<(String, u64, u32)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().uid().unwrap(),
                    e.header().mode().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn directory_contents_files_and_owners() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src/sub")).unwrap();
        fs::write(d.path().join("src/sub/a"), "a").unwrap();
        fs::write(d.path().join("top"), "t").unwrap();
        let mut out = Vec::new();
        let c = ContextCopy {
            root: d.path(),
            sources: &["src".into()],
            dest: "/app",
            dest_is_dir: false,
            unpack: false,
            excludes: &[],
            parents: false,
        };
        context_tar(&c, Overrides::default(), &mut out).unwrap();
        let n = names(&out);
        assert_eq!(n[0].0, "app/sub/");
        assert_eq!(n[1].0, "app/sub/a");
        assert_eq!(n[1].1, 0);
        // `.` is the whole context (the root itself is not an entry).
        let mut out = Vec::new();
        let dot = ContextCopy {
            sources: &[".".into()],
            dest: "/all",
            ..c
        };
        context_tar(&dot, Overrides::default(), &mut out).unwrap();
        let all: Vec<String> = names(&out).into_iter().map(|n| n.0).collect();
        assert_eq!(
            all,
            vec!["all/src/", "all/src/sub/", "all/src/sub/a", "all/top"]
        );
        // A file to a non-directory destination is renamed; --chown/--chmod apply.
        let mut out = Vec::new();
        let c = ContextCopy {
            sources: &["top".into()],
            dest: "/x/renamed",
            ..c
        };
        let ov = Overrides {
            owner: Some((7, 8)),
            mode: Some(0o600),
        };
        context_tar(&c, ov, &mut out).unwrap();
        assert_eq!(names(&out), vec![("x/renamed".into(), 7, 0o600)]);
        // ... and into a directory destination keeps its name.
        let mut out = Vec::new();
        let c = ContextCopy {
            dest: "/x/",
            dest_is_dir: true,
            ..c
        };
        context_tar(&c, Overrides::default(), &mut out).unwrap();
        assert_eq!(names(&out)[0].0, "x/top");
    }

    #[test]
    fn a_link_out_of_the_context_is_refused() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("out")).unwrap();
        let c = ContextCopy {
            root: d.path(),
            sources: &["out/passwd".into()],
            dest: "/x",
            dest_is_dir: false,
            unpack: false,
            excludes: &[],
            parents: false,
        };
        let err = context_tar(&c, Overrides::default(), &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().contains("outside the build context"),
            "{err}"
        );
    }

    #[test]
    fn add_unpacks_a_local_tar_under_the_destination() {
        let d = tempfile::tempdir().unwrap();
        let mut inner = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o640);
        h.set_uid(5);
        inner.append_data(&mut h, "dir/f", &b"hi"[..]).unwrap();
        fs::write(d.path().join("a.tar"), inner.into_inner().unwrap()).unwrap();
        let c = ContextCopy {
            root: d.path(),
            sources: &["a.tar".into()],
            dest: "/opt/",
            dest_is_dir: true,
            unpack: true,
            excludes: &[],
            parents: false,
        };
        let mut out = Vec::new();
        context_tar(&c, Overrides::default(), &mut out).unwrap();
        assert_eq!(names(&out), vec![("opt/dir/f".into(), 5, 0o640)]);
    }
}
