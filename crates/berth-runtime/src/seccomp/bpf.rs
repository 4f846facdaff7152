//! The compiled program in memory: libseccomp's BPF exported through a memfd and decoded into
//! `struct sock_filter`s (also how the compile cache reads a program back).

use std::io::{Read, Seek, SeekFrom};

use libseccomp::ScmpFilterContext;

use super::SeccompError;

/// The kernel refuses longer programs (`BPF_MAXINSNS`).
pub(super) const BPF_MAXINSNS: usize = 4096;

/// Export the filter's BPF through a memfd (libseccomp 2.5 has no export-to-memory call).
pub(super) fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, SeccompError> {
    use nix::sys::memfd::{MFdFlags, memfd_create};

    let fd = memfd_create(c"berth-seccomp", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| SeccompError::Export(e.into()))?;
    ctx.export_bpf(&fd).map_err(|source| SeccompError::Filter {
        what: "export bpf".into(),
        source,
    })?;
    let mut file = std::fs::File::from(fd);
    file.seek(SeekFrom::Start(0))
        .map_err(SeccompError::Export)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(SeccompError::Export)?;
    decode(&bytes)
}

/// Decode exported BPF (native-endian `struct sock_filter`s) into instructions.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<libc::sock_filter>, SeccompError> {
    const INSN: usize = std::mem::size_of::<libc::sock_filter>();
    let count = bytes.len() / INSN;
    if bytes.is_empty() || !bytes.len().is_multiple_of(INSN) || count > BPF_MAXINSNS {
        return Err(SeccompError::BadProgram { bytes: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(INSN)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}
