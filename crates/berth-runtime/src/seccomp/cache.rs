//! An on-disk cache of compiled programs, so that starting a container does not pay for
//! libseccomp's BPF generation every time (about 20 ms for Docker's profile on three
//! architectures, against about 0.1 ms to read a cached program).
//!
//! A cache file holds its whole key (a format line, the libseccomp and berth versions, and the
//! `linux.seccomp` section as JSON) followed by the program; a hit compares the key byte for
//! byte, so a hash collision or a stale file is only a miss. Files are written to a temporary
//! name and renamed into place. The cache is an optimisation: failing to read or write it logs
//! a warning and compiles as usual.

use std::hash::{Hash, Hasher};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use oci_spec::runtime::LinuxSeccomp;

use super::{SeccompError, SeccompProgram, compile, decode};

const FORMAT: &[u8] = b"berth seccomp bpf cache 1\n";

/// [`compile`] through a cache of compiled programs in `dir` (created mode 0700 when missing).
pub fn compile_cached(s: &LinuxSeccomp, dir: &Path) -> Result<SeccompProgram, SeccompError> {
    let key = key(s)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    let path = dir.join(format!("{:016x}.bpf", hasher.finish()));
    match std::fs::read(&path) {
        Ok(bytes) => {
            if let Some(program) = parse(&bytes, &key) {
                return Ok(program);
            }
            tracing::debug!(path = %path.display(), "seccomp cache entry is for another filter: recompiling");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "read seccomp cache entry"),
    }
    let program = compile(s)?;
    if let Err(e) = store(dir, &path, &key, &program) {
        tracing::warn!(path = %path.display(), error = %e, "write seccomp cache entry");
    }
    Ok(program)
}

/// Everything the program depends on.
fn key(s: &LinuxSeccomp) -> Result<Vec<u8>, SeccompError> {
    let mut key = FORMAT.to_vec();
    let version = libseccomp::ScmpVersion::current()
        .map(|v| format!("libseccomp {}.{}.{}\n", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "libseccomp unknown\n".to_owned());
    key.extend_from_slice(version.as_bytes());
    key.extend_from_slice(concat!("berth ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    serde_json::to_writer(&mut key, s).map_err(SeccompError::CacheKey)?;
    Ok(key)
}

/// File layout: key length (u64 LE), key, flags (u32 LE), BPF instructions (native endian).
fn parse(bytes: &[u8], key: &[u8]) -> Option<SeccompProgram> {
    let (len, rest) = bytes.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    if len != key.len() || rest.get(..len)? != key {
        return None;
    }
    let (flags, bpf) = rest.get(len..)?.split_first_chunk::<4>()?;
    let filter = decode(bpf).ok()?;
    Some(SeccompProgram {
        filter,
        flags: u32::from_le_bytes(*flags),
    })
}

fn store(dir: &Path, path: &Path, key: &[u8], program: &SeccompProgram) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut bytes = Vec::with_capacity(8 + key.len() + 4 + program.filter.len() * 8);
    bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
    bytes.extend_from_slice(key);
    bytes.extend_from_slice(&program.flags.to_le_bytes());
    for insn in &program.filter {
        bytes.extend_from_slice(&insn.code.to_ne_bytes());
        bytes.push(insn.jt);
        bytes.push(insn.jf);
        bytes.extend_from_slice(&insn.k.to_ne_bytes());
    }
    let opts = crate::fsutil::AtomicOptions {
        mode: 0o600,
        ..Default::default()
    };
    crate::fsutil::write_atomic(path, &bytes, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccompAction, LinuxSyscall};

    fn encode(p: &SeccompProgram) -> Vec<(u16, u8, u8, u32)> {
        p.filter.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    fn spec(errno: u32) -> LinuxSeccomp {
        let mut call = LinuxSyscall::default();
        call.set_names(vec!["getcwd".into()]);
        call.set_action(LinuxSeccompAction::ScmpActErrno);
        call.set_errno_ret(Some(errno));
        let mut s = LinuxSeccomp::default();
        s.set_default_action(LinuxSeccompAction::ScmpActAllow);
        s.set_syscalls(Some(vec![call]));
        s
    }

    #[test]
    fn a_hit_returns_the_same_program() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let cache = dir.path().join("seccomp");
        let s = spec(13);
        let (first, second, direct) = match (
            compile_cached(&s, &cache),
            compile_cached(&s, &cache),
            compile(&s),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            other => panic!("{other:?}"),
        };
        assert_eq!(encode(&first), encode(&direct));
        assert_eq!(encode(&second), encode(&direct));
        let entries: Vec<_> = std::fs::read_dir(&cache)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(entries.len(), 1, "{entries:?}");
    }

    #[test]
    fn an_entry_for_another_filter_is_a_miss() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let (a, b) = (spec(13), spec(14));
        let key_a = match key(&a) {
            Ok(k) => k,
            Err(e) => panic!("{e}"),
        };
        let program_a = match compile(&a) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        // Plant a's program under b's file name, as a hash collision would.
        let key_b = match key(&b) {
            Ok(k) => k,
            Err(e) => panic!("{e}"),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key_b.hash(&mut hasher);
        let path_b = dir.path().join(format!("{:016x}.bpf", hasher.finish()));
        if let Err(e) = store(dir.path(), &path_b, &key_a, &program_a) {
            panic!("{e}");
        }
        let got = match compile_cached(&b, dir.path()) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let want = match compile(&b) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(encode(&got), encode(&want));
        assert_ne!(encode(&got), encode(&program_a));
        // A truncated file is a miss too.
        if let Err(e) = std::fs::write(&path_b, b"berth") {
            panic!("{e}");
        }
        assert!(matches!(compile_cached(&b, dir.path()), Ok(p) if encode(&p) == encode(&want)));
    }
}
