//! A tar of a path in the container's root, written from descriptors: the path's parent is
//! resolved in the root, every entry below is opened relative to its parent with
//! `O_NOFOLLOW`, and a regular file's size is taken from the descriptor that is read, so a
//! swap during the walk changes nothing outside the container and never tears the archive.

use std::ffi::CStr;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat};

use super::{in_root, split};

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

fn io(e: rustix::io::Errno) -> std::io::Error {
    e.into()
}

/// Exactly `left` bytes: the file's, then zeros if it shrank meanwhile.
struct Exactly<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(self.left as usize);
        let n = match self.inner.read(&mut buf[..max])? {
            0 => {
                buf[..max].fill(0);
                max
            }
            n => n,
        };
        self.left -= n as u64;
        Ok(n)
    }
}

fn header(st: &Stat, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

/// Writes the tar of `path` (entries named from its base name) into `w`.
pub(crate) fn write(root: &OwnedFd, path: &str, w: &mut impl Write) -> std::io::Result<()> {
    let (dir, base) = split(path);
    let parent = in_root(root, &dir, OFlags::RDONLY | OFlags::DIRECTORY).map_err(io)?;
    let mut b = tar::Builder::new(w);
    if base == "." {
        append_dir_contents(&mut b, parent.as_fd(), "", false)?;
    } else {
        let name = std::ffi::CString::new(base.as_str()).map_err(std::io::Error::other)?;
        append(&mut b, parent.as_fd(), &name, &base, false)?;
    }
    b.into_inner()?.flush()
}

/// Writes an overlay upper directory as an OCI layer: whiteouts (0:0 character devices)
/// become `.wh.<name>` files and opaque directories get `.wh..wh..opq`.
pub(crate) fn write_layer(upper: &OwnedFd, w: &mut impl Write) -> std::io::Result<()> {
    let mut b = tar::Builder::new(w);
    append_dir_contents(&mut b, upper.as_fd(), "", true)?;
    b.into_inner()?.flush()
}

/// overlayfs marks a directory that hides the lower ones' content with this xattr.
pub(crate) fn is_opaque(dir: &OwnedFd) -> bool {
    let mut buf = [0u8; 4];
    matches!(
        rustix::fs::fgetxattr(dir, "trusted.overlay.opaque", &mut buf),
        Ok(1) if buf[0] == b'y'
    )
}

fn append<W: Write>(
    b: &mut tar::Builder<W>,
    dir: BorrowedFd<'_>,
    entry: &CStr,
    name: &str,
    layer: bool,
) -> std::io::Result<()> {
    let st = rustix::fs::statat(dir, entry, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {
            let fd = rustix::fs::openat(dir, entry, DIR_FLAGS, Mode::empty()).map_err(io)?;
            let st = rustix::fs::fstat(&fd).map_err(io)?;
            let mut h = header(&st, tar::EntryType::Directory);
            b.append_data(&mut h, format!("{name}/"), std::io::empty())?;
            if layer && is_opaque(&fd) {
                let mut h = header(&st, tar::EntryType::Regular);
                h.set_mode(0o644);
                b.append_data(&mut h, format!("{name}/.wh..wh..opq"), std::io::empty())?;
            }
            append_dir_contents(b, fd.as_fd(), name, layer)?;
        }
        FileType::CharacterDevice if layer && st.st_rdev == 0 => {
            // An overlay whiteout: the OCI layer's `.wh.<name>`.
            let (parent, base) = match name.rsplit_once('/') {
                Some((p, b)) => (format!("{p}/"), b),
                None => (String::new(), name),
            };
            let mut h = header(&st, tar::EntryType::Regular);
            h.set_mode(0o644);
            b.append_data(&mut h, format!("{parent}.wh.{base}"), std::io::empty())?;
        }
        FileType::RegularFile => {
            let fd = rustix::fs::openat(
                dir,
                entry,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(io)?;
            let st = rustix::fs::fstat(&fd).map_err(io)?;
            let mut h = header(&st, tar::EntryType::Regular);
            let size = st.st_size.max(0) as u64;
            h.set_size(size);
            let file = std::fs::File::from(fd);
            b.append_data(
                &mut h,
                name,
                Exactly {
                    inner: file,
                    left: size,
                },
            )?;
        }
        FileType::Symlink => {
            let target = rustix::fs::readlinkat(dir, entry, Vec::new()).map_err(io)?;
            let mut h = header(&st, tar::EntryType::Symlink);
            let target = String::from_utf8_lossy(target.as_bytes()).into_owned();
            b.append_link(&mut h, name, target)?;
        }
        ft @ (FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo) => {
            let kind = match ft {
                FileType::CharacterDevice => tar::EntryType::Char,
                FileType::BlockDevice => tar::EntryType::Block,
                _ => tar::EntryType::Fifo,
            };
            let mut h = header(&st, kind);
            let dev = st.st_rdev;
            h.set_device_major(rustix::fs::major(dev))?;
            h.set_device_minor(rustix::fs::minor(dev))?;
            b.append_data(&mut h, name, std::io::empty())?;
        }
        // Sockets have no place in a tar (docker skips them too).
        _ => {}
    }
    Ok(())
}

fn append_dir_contents<W: Write>(
    b: &mut tar::Builder<W>,
    dir: BorrowedFd<'_>,
    prefix: &str,
    layer: bool,
) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::CString> = Vec::new();
    for e in Dir::read_from(dir).map_err(io)? {
        let e = e.map_err(io)?;
        if !matches!(e.file_name().to_bytes(), b"." | b"..") {
            names.push(e.file_name().to_owned());
        }
    }
    names.sort();
    for n in names {
        let child = String::from_utf8_lossy(n.as_bytes()).into_owned();
        let name = if prefix.is_empty() {
            child
        } else {
            format!("{prefix}/{child}")
        };
        append(b, dir, &n, &name, layer)?;
    }
    Ok(())
}
