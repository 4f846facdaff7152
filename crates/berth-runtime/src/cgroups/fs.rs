//! The few file operations cgroupfs needs, each turning an I/O error into a [`CgroupError`]
//! that names the file (and the value).
//!
//! Control files are opened without `O_CREAT`: on cgroupfs they always exist when the
//! controller does, and a missing file must fail (ENOENT) rather than silently create a plain
//! file. The fake trees of the tests therefore pre-create the files the kernel would provide.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::Pid;

use super::CgroupError;

/// Writes `value` to the control file `dir/file` in a single `write(2)`.
pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    write_path(&path, value)
}

/// Writes `value` to `path` in a single `write(2)` (cgroupfs parses each write on its own).
pub(crate) fn write_path(path: &Path, value: &str) -> Result<(), CgroupError> {
    let result = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    result.map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

/// Reads the control file `dir/file` as text.
pub(crate) fn read(dir: &Path, file: &str) -> Result<String, CgroupError> {
    let path = dir.join(file);
    fs::read_to_string(&path).map_err(|source| CgroupError::Read { path, source })
}

/// Reads `dir/file`, or `None` when it does not exist.
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>, CgroupError> {
    let path = dir.join(file);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CgroupError::Read { path, source }),
    }
}

/// Parses a decimal number read from `path`.
pub(crate) fn parse_u64(path: &Path, text: &str) -> Result<u64, CgroupError> {
    let t = text.trim();
    t.parse::<u64>().map_err(|source| CgroupError::Parse {
        path: path.to_path_buf(),
        value: t.to_string(),
        source,
    })
}

/// Reads a single number from `dir/file`.
pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64, CgroupError> {
    let text = read(dir, file)?;
    parse_u64(&dir.join(file), &text)
}

/// Reads a number that may be `max` (v2) from `dir/file`: `None` means no limit.
pub(crate) fn read_max(dir: &Path, file: &str) -> Result<Option<u64>, CgroupError> {
    let text = read(dir, file)?;
    if text.trim() == "max" {
        return Ok(None);
    }
    parse_u64(&dir.join(file), &text).map(Some)
}

/// Looks `key` up in a flat-keyed file (`key value` per line: `memory.events`, `cpu.stat`,
/// `memory.oom_control`).
pub(crate) fn keyed(path: &Path, text: &str, key: &'static str) -> Result<u64, CgroupError> {
    keyed_opt(path, text, key)?.ok_or_else(|| CgroupError::MissingKey {
        path: path.to_path_buf(),
        key,
    })
}

/// Like [`keyed`], `None` when the key is absent.
pub(crate) fn keyed_opt(path: &Path, text: &str, key: &str) -> Result<Option<u64>, CgroupError> {
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if it.next() == Some(key) {
            let value = it.next().unwrap_or("");
            return parse_u64(path, value).map(Some);
        }
    }
    Ok(None)
}

/// Parses `cgroup.procs`: one pid per line.
pub(crate) fn read_pids(dir: &Path) -> Result<Vec<Pid>, CgroupError> {
    let path = dir.join("cgroup.procs");
    let text = fs::read_to_string(&path).map_err(|source| CgroupError::Read {
        path: path.clone(),
        source,
    })?;
    let mut pids = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let n = line.parse::<i32>().map_err(|source| CgroupError::Parse {
            path: path.clone(),
            value: line.to_string(),
            source,
        })?;
        pids.push(Pid::from_raw(n));
    }
    Ok(pids)
}

/// Creates `root/rel` one level at a time (idempotent), calling `on_new(dir)` for every level
/// below `root` that did not exist yet, parent first.
pub(crate) fn mkdir_levels(
    root: &Path,
    rel: &Path,
    mut on_new: impl FnMut(&Path) -> Result<(), CgroupError>,
) -> Result<(), CgroupError> {
    // Fast path: the leaf exists already (idempotent create).
    let leaf = root.join(rel);
    if leaf.is_dir() {
        return Ok(());
    }
    let mut dir = root.to_path_buf();
    for component in rel.components() {
        dir.push(component);
        match fs::create_dir(&dir) {
            Ok(()) => on_new(&dir)?,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(source) => return Err(CgroupError::CreateDir { path: dir, source }),
        }
    }
    Ok(())
}

/// `mkdir -p dir`.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), CgroupError> {
    fs::create_dir_all(dir).map_err(|source| CgroupError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// How often and how long `rmdir` is retried on EBUSY (a task that was just killed can still
/// be accounted to the cgroup for a moment).
const RMDIR_RETRIES: u32 = 10;

/// Removes a cgroup directory and any child cgroups the container made inside it.
///
/// Absent is fine. EBUSY is retried briefly (1, 2, 4, ... ms, ~0.7 s in all).
pub(crate) fn remove_cgroup_dir(dir: &Path) -> Result<(), CgroupError> {
    let mut delay = Duration::from_millis(1);
    let mut children_removed = false;
    for attempt in 0..=RMDIR_RETRIES {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) && !children_removed => {
                // Child cgroups the container made (only directories can be removed on
                // cgroupfs): depth first, then try again.
                remove_children(dir)?;
                children_removed = true;
            }
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < RMDIR_RETRIES => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(200));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
    fs::remove_dir(dir).map_err(|source| CgroupError::Remove {
        path: dir.to_path_buf(),
        source,
    })
}

fn remove_children(dir: &Path) -> Result<(), CgroupError> {
    let entries = fs::read_dir(dir).map_err(|source| CgroupError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut subdirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CgroupError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            subdirs.push(entry.path());
        }
    }
    for sub in subdirs {
        remove_cgroup_dir(&sub)?;
    }
    Ok(())
}

/// Whether `dir/file` exists (used to choose between alternative files, e.g. `blkio.weight`
/// and `blkio.bfq.weight`).
pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

/// The first of `files` that exists in `dir`, or a [`CgroupError::MissingFile`] naming the
/// first (preferred) one.
pub(crate) fn pick<'a>(
    dir: &Path,
    files: &[&'a str],
    field: &'static str,
    value: impl ToString,
) -> Result<&'a str, CgroupError> {
    if let Some(f) = files.iter().find(|f| exists(dir, f)) {
        return Ok(f);
    }
    Err(CgroupError::MissingFile {
        field,
        value: value.to_string(),
        path: dir.join(files.first().copied().unwrap_or_default()),
    })
}
