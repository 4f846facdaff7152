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

/// How long `destroy` keeps retrying directories that are busy (EBUSY: a task that was just
/// killed can still be accounted to the cgroup for a moment).
const RMDIR_BUDGET: Duration = Duration::from_millis(500);

/// Removes cgroup directories (and any child cgroups made inside them), returning every
/// failure. Absent is fine. Busy directories are retried in rounds (1, 2, 4, ... ms apart, all
/// sharing one [`RMDIR_BUDGET`]), so several busy hierarchies cost one wait, not one each.
pub(crate) fn remove_cgroup_dirs<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Vec<CgroupError> {
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(1);
    let mut errors = Vec::new();
    let mut pending: Vec<&Path> = dirs.into_iter().collect();
    loop {
        let mut busy = Vec::new();
        for dir in pending {
            match remove_cgroup_dir(dir) {
                Ok(()) => {}
                Err(CgroupError::Remove { source, .. })
                    if source.raw_os_error() == Some(libc::EBUSY)
                        && start.elapsed() < RMDIR_BUDGET =>
                {
                    busy.push(dir);
                }
                Err(e) => errors.push(e),
            }
        }
        if busy.is_empty() {
            return errors;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(100));
        pending = busy;
    }
}

/// One `rmdir` of a cgroup directory; on ENOTEMPTY its child cgroups are removed depth first
/// (only directories can be removed on cgroupfs; control files go with their directory) and
/// the `rmdir` is tried again. Absent is fine.
fn remove_cgroup_dir(dir: &Path) -> Result<(), CgroupError> {
    let remove = || match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(source),
    };
    let result = match remove() {
        Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => {
            remove_children(dir)?;
            remove()
        }
        other => other,
    };
    result.map_err(|source| CgroupError::Remove {
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
    match remove_cgroup_dirs(subdirs.iter().map(PathBuf::as_path))
        .into_iter()
        .next()
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
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
