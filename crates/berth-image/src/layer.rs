//! Applying a layer tar (plain, gzip or zstd) to a directory, safely and in one pass.
//!
//! The compressed stream is decompressed, teed into a sha256 hasher (the layer's diff ID is
//! the digest of the uncompressed tar), and parsed by the `tar` crate, while this module does
//! every filesystem operation itself through [`safe::Root`]: parents are resolved inside the
//! root with `openat2(RESOLVE_IN_ROOT)`, so `..`, absolute names and symlinks planted by
//! earlier entries cannot reach outside; a name that climbs above the root is refused, like
//! docker's breakout check. Whiteouts become their overlayfs form (see [`whiteout`]).
//! Ownership, modes, xattrs, device numbers and times are preserved; directory times are set
//! last, since creating children changes them. Nothing is fsynced per file: the store syncs
//! the filesystem once per layer.

pub mod safe;
pub mod whiteout;

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fd::AsFd;
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags};
use rustix::io::Errno;

use crate::ErrorKind;
use crate::digest::{Digest, HashingReader};
use safe::{Root, RootPath, lstat_type, remove_all_at};
use whiteout::{OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, Whiteout, classify};

/// Read buffer for the compressed stream and for file data.
const BUF: usize = 1 << 20;

/// Layer apply errors.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// Opening the target directory failed.
    #[error("open layer directory {path}")]
    OpenRoot {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The stream uses a compression berth does not read.
    #[error("unsupported layer compression {0} (gzip, zstd or none)")]
    UnsupportedCompression(&'static str),
    /// Reading or decompressing the tar stream failed, or it is not a tar.
    #[error("read layer tar")]
    Read(#[source] io::Error),
    /// An entry's name climbs above the root.
    #[error("tar entry {0:?} escapes the layer root")]
    Breakout(PathBuf),
    /// A hard link's target climbs above the root.
    #[error("hard link {path:?} points outside the layer root ({target:?})")]
    LinkBreakout {
        /// The link.
        path: PathBuf,
        /// Its target.
        target: PathBuf,
    },
    /// An entry type berth cannot create.
    #[error("tar entry {path:?} has unsupported type {kind:?}")]
    UnsupportedEntry {
        /// The entry.
        path: PathBuf,
        /// The raw type byte.
        kind: char,
    },
    /// Creating an entry failed.
    #[error("apply tar entry {path:?}")]
    Apply {
        /// The entry.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl LayerError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LayerError::OpenRoot { .. } | LayerError::Apply { .. } => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// The compression of a layer stream, as detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// zstd (`28 b5 2f fd`).
    Zstd,
}

/// Detects the compression from the first bytes of a stream.
pub fn detect(magic: &[u8]) -> Result<Compression, LayerError> {
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Compression::Gzip)
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Compression::Zstd)
    } else if magic.starts_with(b"BZh") {
        Err(LayerError::UnsupportedCompression("bzip2"))
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err(LayerError::UnsupportedCompression("xz"))
    } else {
        Ok(Compression::None)
    }
}

/// Wraps `reader` in the decompressor its magic bytes call for.
pub fn decompress<'a>(
    reader: impl Read + 'a,
) -> Result<(Box<dyn Read + 'a>, Compression), LayerError> {
    let mut br = BufReader::with_capacity(BUF, reader);
    let compression = detect(br.fill_buf().map_err(LayerError::Read)?)?;
    let r: Box<dyn Read> = match compression {
        Compression::None => Box::new(br),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(br).map_err(LayerError::Read)?)
        }
    };
    Ok((r, compression))
}

/// The outcome of applying a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub tar_size: u64,
    /// Sum of the regular files' sizes (docker's layer size).
    pub size: u64,
    /// The compression the stream had.
    pub compression: Compression,
}

/// Applies the layer tar in `reader` (plain, gzip or zstd) to the directory `root`, turning
/// whiteouts into their overlay form, and returns its diff ID.
pub fn apply(reader: impl Read, root: &Path) -> Result<Applied, LayerError> {
    let (r, compression) = decompress(reader)?;
    let hashing = HashingReader::new(r);
    let mut archive = tar::Archive::new(hashing);
    let mut ap = Applier {
        root: Root::open(root).map_err(|source| LayerError::OpenRoot {
            path: root.to_owned(),
            source,
        })?,
        dir_times: Vec::new(),
        buf: vec![0; BUF],
        size: 0,
    };
    for entry in archive.entries().map_err(LayerError::Read)? {
        let mut entry = entry.map_err(LayerError::Read)?;
        ap.entry(&mut entry)?;
    }
    ap.finish_dirs()?;
    let (diff_id, tar_size) = archive.into_inner().finish().map_err(LayerError::Read)?;
    Ok(Applied {
        diff_id,
        tar_size,
        size: ap.size,
        compression,
    })
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: Timespec,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

struct Applier {
    root: Root,
    dir_times: Vec<(RootPath, Timespec)>,
    buf: Vec<u8>,
    size: u64,
}

fn apply_err(path: &Path) -> impl Fn(io::Error) -> LayerError + '_ {
    move |source| LayerError::Apply {
        path: path.to_owned(),
        source,
    }
}

impl Applier {
    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), LayerError> {
        let raw = e.path().map_err(LayerError::Read)?.into_owned();
        let path = RootPath::clean(&raw).ok_or_else(|| LayerError::Breakout(raw.clone()))?;
        let meta = read_meta(e)?;
        let kind = e.header().entry_type();
        let err = apply_err(&raw);

        if path.is_root() {
            if kind.is_dir() {
                let fd = self.root.open_dir_rdonly(Path::new("")).map_err(&err)?;
                set_fd_meta(&fd, &meta).map_err(&err)?;
                self.dir_times.push((path, meta.mtime));
            }
            return Ok(());
        }
        let name = path.name();
        match classify(name) {
            Whiteout::Meta => return Ok(()),
            Whiteout::Opaque => {
                let fd = self.root.mkdir_all(path.parent()).map_err(&err)?;
                let dir = rustix::fs::openat(
                    &fd,
                    ".",
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| err(e.into()))?;
                return rustix::fs::fsetxattr(
                    &dir,
                    OVERLAY_OPAQUE_XATTR,
                    b"y",
                    XattrFlags::empty(),
                )
                .map_err(|e| err(e.into()));
            }
            Whiteout::Delete(target) => {
                let parent = self.root.mkdir_all(path.parent()).map_err(&err)?;
                // A whiteout hides lower layers only: a same-layer entry wins.
                if lstat_type(&parent, target).map_err(&err)?.is_some() {
                    return Ok(());
                }
                rustix::fs::mknodat(&parent, target, FileType::CharacterDevice, Mode::empty(), 0)
                    .map_err(|e| err(e.into()))?;
                return chown_at(&parent, target, meta.uid, meta.gid).map_err(&err);
            }
            Whiteout::None => {}
        }

        let parent = self.root.mkdir_all(path.parent()).map_err(&err)?;
        let existing = lstat_type(&parent, name).map_err(&err)?;
        let keep_dir = kind.is_dir() && existing == Some(FileType::Directory);
        if existing.is_some() && !keep_dir {
            remove_all_at(&parent, name).map_err(&err)?;
        }

        use tar::EntryType as T;
        match kind {
            T::Directory => {
                if !keep_dir {
                    rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o700))
                        .map_err(|e| err(e.into()))?;
                }
                let fd = rustix::fs::openat(
                    &parent,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| err(e.into()))?;
                set_fd_meta(&fd, &meta).map_err(&err)?;
                self.dir_times.push((path, meta.mtime));
            }
            T::Regular | T::Continuous | T::GNUSparse => {
                let fd = rustix::fs::openat(
                    &parent,
                    name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|e| err(e.into()))?;
                let mut file = std::fs::File::from(fd);
                // A failed write (a full disk) names the file; a failed read is the tar's.
                let n = copy_entry(e, &mut file, &mut self.buf).map_err(|c| match c {
                    Copy::Read(e) => LayerError::Read(e),
                    Copy::Write(e) => err(e),
                })?;
                self.size += n;
                set_fd_meta(&file, &meta).map_err(&err)?;
                rustix::fs::futimens(&file, &times(meta.mtime)).map_err(|e| err(e.into()))?;
            }
            T::Symlink => {
                let target = e
                    .link_name_bytes()
                    .map(|b| b.into_owned())
                    .unwrap_or_default();
                rustix::fs::symlinkat(OsStr::from_bytes(&target), &parent, name)
                    .map_err(|e| err(e.into()))?;
                chown_at(&parent, name, meta.uid, meta.gid).map_err(&err)?;
                rustix::fs::utimensat(&parent, name, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| err(e.into()))?;
            }
            T::Link => {
                let target_raw = e
                    .link_name()
                    .map_err(LayerError::Read)?
                    .map(|p| p.into_owned())
                    .unwrap_or_default();
                let target = RootPath::clean(&target_raw)
                    .filter(|t| !t.is_root())
                    .ok_or_else(|| LayerError::LinkBreakout {
                        path: raw.clone(),
                        target: target_raw.clone(),
                    })?;
                let tparent = self.root.open_dir(target.parent()).map_err(&err)?;
                rustix::fs::linkat(&tparent, target.name(), &parent, name, AtFlags::empty())
                    .map_err(|e| err(e.into()))?;
            }
            T::Char | T::Block | T::Fifo => {
                let (ft, dev) = match kind {
                    T::Char => (FileType::CharacterDevice, device(e)),
                    T::Block => (FileType::BlockDevice, device(e)),
                    _ => (FileType::Fifo, 0),
                };
                let mode = Mode::from_raw_mode(meta.mode & 0o7777);
                rustix::fs::mknodat(&parent, name, ft, mode, dev).map_err(|e| err(e.into()))?;
                chown_at(&parent, name, meta.uid, meta.gid).map_err(&err)?;
                rustix::fs::chmodat(&parent, name, mode, AtFlags::empty())
                    .map_err(|e| err(e.into()))?;
                rustix::fs::utimensat(&parent, name, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| err(e.into()))?;
            }
            other => {
                return Err(LayerError::UnsupportedEntry {
                    path: raw.clone(),
                    kind: char::from(other.as_byte()),
                });
            }
        }
        Ok(())
    }

    /// Sets directory times, deepest first, once every child exists.
    fn finish_dirs(&mut self) -> Result<(), LayerError> {
        for (path, mtime) in self.dir_times.drain(..).rev() {
            let err = apply_err(path.as_path());
            let parent = match self.root.open_dir(path.parent()) {
                Ok(p) => p,
                // Removed by a later entry.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(err(e)),
            };
            let name = if path.is_root() {
                OsStr::new(".")
            } else {
                path.name()
            };
            match rustix::fs::utimensat(&parent, name, &times(mtime), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(err(e.into())),
            }
        }
        Ok(())
    }
}

fn device<R: Read>(e: &tar::Entry<'_, R>) -> rustix::fs::Dev {
    let h = e.header();
    let maj = h.device_major().ok().flatten().unwrap_or(0);
    let min = h.device_minor().ok().flatten().unwrap_or(0);
    rustix::fs::makedev(maj, min)
}

fn read_meta<R: Read>(e: &mut tar::Entry<'_, R>) -> Result<Meta, LayerError> {
    let h = e.header();
    let bad = |what: &str, err: io::Error| {
        LayerError::Read(io::Error::new(
            err.kind(),
            format!("tar header {what}: {err}"),
        ))
    };
    // Go's archive/tar (docker) reads an empty numeric field as 0; so do we.
    let old = h.as_old();
    let num = |r: io::Result<u64>, field: &[u8], what: &str| match r {
        Ok(v) => Ok(v),
        Err(_) if field.iter().all(|&c| c == 0 || c == b' ') => Ok(0),
        Err(x) => Err(bad(what, x)),
    };
    let mode = num(h.mode().map(u64::from), &old.mode, "mode")?;
    let mode = u32::try_from(mode).map_err(|_| bad("mode", io::ErrorKind::InvalidData.into()))?;
    let uid = num(h.uid(), &old.uid, "uid")?;
    let gid = num(h.gid(), &old.gid, "gid")?;
    let mut mtime = Timespec {
        tv_sec: i64::try_from(num(h.mtime(), &old.mtime, "mtime")?).unwrap_or(i64::MAX),
        tv_nsec: 0,
    };
    // u32::MAX means "unchanged" to chown(2): not a valid owner.
    let id = |v: u64, what: &str| {
        u32::try_from(v)
            .ok()
            .filter(|&v| v != u32::MAX)
            .ok_or_else(|| bad(what, io::ErrorKind::InvalidData.into()))
    };
    let (uid, gid) = (id(uid, "uid")?, id(gid, "gid")?);
    let mut xattrs = Vec::new();
    if let Some(exts) = e.pax_extensions().map_err(LayerError::Read)? {
        for ext in exts {
            let ext = ext.map_err(LayerError::Read)?;
            let key = ext.key_bytes();
            if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if !name.starts_with(OVERLAY_XATTR_PREFIX.as_bytes()) {
                    xattrs.push((name.to_vec(), ext.value_bytes().to_vec()));
                }
            } else if key == b"mtime"
                && let Some(t) = std::str::from_utf8(ext.value_bytes())
                    .ok()
                    .and_then(parse_pax_time)
            {
                mtime = t;
            }
        }
    }
    Ok(Meta {
        mode,
        uid,
        gid,
        mtime,
        xattrs,
    })
}

/// Parses a PAX time (`1700000000.123456789`).
fn parse_pax_time(s: &str) -> Option<Timespec> {
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let tv_sec: i64 = sec.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    let tv_nsec = if digits.is_empty() {
        0
    } else {
        let n: i64 = digits.parse().ok()?;
        n * 10i64.pow(9 - digits.len() as u32)
    };
    let tv_nsec = if tv_sec < 0 && tv_nsec > 0 {
        -tv_nsec
    } else {
        tv_nsec
    };
    Some(Timespec {
        tv_sec,
        tv_nsec: tv_nsec.rem_euclid(1_000_000_000),
    })
}

fn times(mtime: Timespec) -> Timestamps {
    Timestamps {
        last_access: mtime,
        last_modification: mtime,
    }
}

/// Ownership first (chown clears setuid bits), then the mode, then xattrs.
fn set_fd_meta(fd: impl AsFd, m: &Meta) -> io::Result<()> {
    let fd = fd.as_fd();
    rustix::fs::fchown(fd, Some(Uid::from_raw(m.uid)), Some(Gid::from_raw(m.gid)))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(m.mode & 0o7777))?;
    for (k, v) in &m.xattrs {
        match rustix::fs::fsetxattr(fd, OsStr::from_bytes(k), v, XattrFlags::empty()) {
            Ok(()) | Err(Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn chown_at(dir: impl AsFd, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    Ok(rustix::fs::chownat(
        dir,
        name,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// Which side of [`copy_entry`] failed.
enum Copy {
    Read(io::Error),
    Write(io::Error),
}

fn copy_entry(r: &mut dyn Read, w: &mut std::fs::File, buf: &mut [u8]) -> Result<u64, Copy> {
    use std::io::Write;
    let mut total = 0;
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(Copy::Write)?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests;
