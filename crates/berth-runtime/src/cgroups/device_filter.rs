//! The cgroup v2 device filter: OCI `linux.resources.devices` rules compiled to a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program, as runc's `devicefilter` package and crun's `ebpf.c`
//! do. v2 has no `devices.allow`/`devices.deny` files; the kernel asks the program attached to
//! the cgroup instead, on every `open`/`mknod` of a device node.
//!
//! # Semantics
//!
//! The rules are evaluated **last match wins, default deny**: the program tests the last rule
//! first and returns its verdict on the first match. A rule matches a request when
//! - its type is `a` (every device, every access: the kernel's v1 reading of `a`), or
//! - its type (`b`, or `c`/`u`), major and minor match (absent or negative = any) and
//!   - for an **allow** rule, every access requested is among the rule's (`r` does not allow
//!     `rw`);
//!   - for a **deny** rule, some access requested is among the rule's (denying `w` refuses
//!     `rw`).
//!
//! FIFO rules (`p`) are skipped, as the devices controller does not govern FIFOs. Access other
//! than `r`, `w`, `m` and numbers that no device can have are refused up front.
//!
//! # The program
//!
//! The context is `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`, the
//! device type in the low 16 bits of `access_type`, the access in the high 16. The program
//! loads them into r2..r5, then emits one block per rule (last rule first) that jumps past
//! itself on a mismatch and otherwise returns the verdict, and ends with `return 0`. A rule
//! that matches everything ends the program early (the verifier refuses unreachable code).

use std::os::fd::AsFd;
use std::path::Path;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::{CgroupError, bpf};

/// `BPF_DEVCG_DEV_BLOCK` / `BPF_DEVCG_DEV_CHAR` (include/uapi/linux/bpf.h).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
/// `BPF_DEVCG_ACC_MKNOD` / `_READ` / `_WRITE`.
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const ACC_ALL: i32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// An eBPF register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Reg {
    R0 = 0,
    R1 = 1,
    R2 = 2,
    R3 = 3,
    R4 = 4,
    R5 = 5,
}

/// Opcode parts (include/uapi/linux/bpf_common.h, bpf.h).
mod op {
    pub const LDX: u8 = 0x01;
    pub const ALU: u8 = 0x04; // 32-bit ALU
    pub const JMP: u8 = 0x05; // 64-bit compares
    pub const W: u8 = 0x00;
    pub const MEM: u8 = 0x60;
    pub const K: u8 = 0x00;
    pub const X: u8 = 0x08;
    pub const AND: u8 = 0x50;
    pub const RSH: u8 = 0x70;
    pub const MOV: u8 = 0xb0;
    pub const JEQ: u8 = 0x10;
    pub const JNE: u8 = 0x50;
    pub const EXIT: u8 = 0x90;
}

/// One `struct bpf_insn`: opcode, dst/src registers, signed offset, signed immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    pub dst: Reg,
    pub src: Reg,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Self {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }
    /// `dst = *(u32 *)(src + off)`
    pub const fn load_u32(dst: Reg, src: Reg, off: i16) -> Self {
        Self::new(op::LDX | op::MEM | op::W, dst, src, off, 0)
    }
    /// `w(dst) &= imm`
    pub const fn and32(dst: Reg, imm: i32) -> Self {
        Self::new(op::ALU | op::AND | op::K, dst, Reg::R0, 0, imm)
    }
    /// `w(dst) >>= imm`
    pub const fn rsh32(dst: Reg, imm: i32) -> Self {
        Self::new(op::ALU | op::RSH | op::K, dst, Reg::R0, 0, imm)
    }
    /// `w(dst) = w(src)`
    pub const fn mov32_reg(dst: Reg, src: Reg) -> Self {
        Self::new(op::ALU | op::MOV | op::X, dst, src, 0, 0)
    }
    /// `w(dst) = imm`
    pub const fn mov32(dst: Reg, imm: i32) -> Self {
        Self::new(op::ALU | op::MOV | op::K, dst, Reg::R0, 0, imm)
    }
    /// `if dst != imm goto +off`
    pub const fn jne(dst: Reg, imm: i32, off: i16) -> Self {
        Self::new(op::JMP | op::JNE | op::K, dst, Reg::R0, off, imm)
    }
    /// `if dst != src goto +off`
    pub const fn jne_reg(dst: Reg, src: Reg, off: i16) -> Self {
        Self::new(op::JMP | op::JNE | op::X, dst, src, off, 0)
    }
    /// `if dst == imm goto +off`
    pub const fn jeq(dst: Reg, imm: i32, off: i16) -> Self {
        Self::new(op::JMP | op::JEQ | op::K, dst, Reg::R0, off, imm)
    }
    /// `return r0`
    pub const fn exit() -> Self {
        Self::new(op::JMP | op::EXIT, Reg::R0, Reg::R0, 0, 0)
    }

    /// The kernel's little-endian layout: code, `dst | src << 4`, off, imm.
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = (self.dst as u8) | ((self.src as u8) << 4);
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }
}

/// A device rule reduced to what the program tests; `None` fields match anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    pub typ: Option<i32>,
    pub major: Option<i32>,
    pub minor: Option<i32>,
    /// `ACC_*` bits; [`ACC_ALL`] tests nothing.
    pub access: i32,
}

impl Rule {
    /// The rule for an OCI entry; `None` for FIFO rules.
    pub fn from_oci(r: &LinuxDeviceCgroup) -> Result<Option<Rule>, CgroupError> {
        let typ = match r.typ().unwrap_or_default() {
            LinuxDeviceType::A => {
                return Ok(Some(Rule {
                    allow: r.allow(),
                    typ: None,
                    major: None,
                    minor: None,
                    access: ACC_ALL,
                }));
            }
            LinuxDeviceType::B => DEV_BLOCK,
            LinuxDeviceType::C | LinuxDeviceType::U => DEV_CHAR,
            LinuxDeviceType::P => return Ok(None),
        };
        let access = match r.access().as_deref() {
            None | Some("") => ACC_ALL,
            Some(text) => {
                let mut bits = 0;
                for c in text.chars() {
                    bits |= match c {
                        'r' => ACC_READ,
                        'w' => ACC_WRITE,
                        'm' => ACC_MKNOD,
                        _ => {
                            return Err(CgroupError::InvalidValue {
                                field: "devices.access",
                                value: text.to_string(),
                                reason: "access is made of r, w and m",
                            });
                        }
                    };
                }
                bits
            }
        };
        Ok(Some(Rule {
            allow: r.allow(),
            typ: Some(typ),
            major: number("devices.major", r.major())?,
            minor: number("devices.minor", r.minor())?,
            access,
        }))
    }

    fn matches_everything(&self) -> bool {
        self.typ.is_none() && self.major.is_none() && self.minor.is_none() && self.access == ACC_ALL
    }
}

/// A major or minor: negative or absent is the wildcard; above 2^31 no device has it.
fn number(field: &'static str, n: Option<i64>) -> Result<Option<i32>, CgroupError> {
    match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None),
        Some(n) => i32::try_from(n)
            .map(Some)
            .map_err(|_| CgroupError::InvalidValue {
                field,
                value: n.to_string(),
                reason: "no device number is that large",
            }),
    }
}

/// The rules of an OCI device list, FIFO rules dropped, in the list's order.
pub(crate) fn rules(list: &[LinuxDeviceCgroup]) -> Result<Vec<Rule>, CgroupError> {
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        if let Some(rule) = Rule::from_oci(r)? {
            out.push(rule);
        }
    }
    Ok(out)
}

/// The program for `rules` (last match wins, default deny).
pub(crate) fn program(rules: &[Rule]) -> Vec<Insn> {
    use Reg::*;
    let mut insns = vec![
        Insn::load_u32(R2, R1, 0),
        Insn::and32(R2, 0xffff),
        Insn::load_u32(R3, R1, 0),
        Insn::rsh32(R3, 16),
        Insn::load_u32(R4, R1, 4),
        Insn::load_u32(R5, R1, 8),
    ];
    for rule in rules.iter().rev() {
        if rule.matches_everything() {
            insns.extend([Insn::mov32(R0, i32::from(rule.allow)), Insn::exit()]);
            return insns;
        }
        insns.extend(block(rule));
    }
    insns.extend([Insn::mov32(R0, 0), Insn::exit()]);
    insns
}

/// One rule's block: each test jumps to the end of the block on a mismatch; the block ends
/// with `return verdict`.
fn block(rule: &Rule) -> Vec<Insn> {
    use Reg::*;
    // Jumps are written with off 0 and pointed past the block once its length is known.
    let mut b = Vec::with_capacity(9);
    if let Some(t) = rule.typ {
        b.push(Insn::jne(R2, t, 0));
    }
    if rule.access != ACC_ALL {
        b.push(Insn::mov32_reg(R1, R3));
        b.push(Insn::and32(R1, rule.access));
        b.push(if rule.allow {
            // Some requested access is not allowed by this rule: not ours.
            Insn::jne_reg(R1, R3, 0)
        } else {
            // No requested access is denied by this rule: not ours.
            Insn::jeq(R1, 0, 0)
        });
    }
    if let Some(m) = rule.major {
        b.push(Insn::jne(R4, m, 0));
    }
    if let Some(m) = rule.minor {
        b.push(Insn::jne(R5, m, 0));
    }
    b.push(Insn::mov32(R0, i32::from(rule.allow)));
    b.push(Insn::exit());
    let len = b.len();
    for (i, insn) in b.iter_mut().enumerate() {
        if insn.code & 0x07 == op::JMP && insn.code != op::JMP | op::EXIT {
            // Target = i + 1 + off = len. A block is at most 9 instructions.
            insn.off = i16::try_from(len - i - 1).unwrap_or(i16::MAX);
        }
    }
    b
}

/// The program's bytes for `BPF_PROG_LOAD`.
pub(crate) fn encode(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(Insn::encode).collect()
}

/// Installs the filter for `list` on the cgroup directory `dir`, replacing the device programs
/// attached there before: the new one is attached first (`BPF_F_ALLOW_MULTI`), then the old
/// ones detached, so the cgroup is never without a filter. Every attached program must allow
/// an access, so between the two steps the old and new rules both apply.
pub(crate) fn install(dir: &Path, list: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
    let code = encode(&program(&rules(list)?));
    let step = |step: &'static str| {
        move |source: std::io::Error| CgroupError::DeviceFilter {
            path: dir.to_path_buf(),
            step,
            source,
        }
    };
    let cgroup = std::fs::File::open(dir).map_err(step("open the cgroup directory"))?;
    let old = bpf::attached_device_programs(cgroup.as_fd())
        .map_err(|e| unsupported(dir, "query the attached programs", e))?;
    let prog = bpf::load_device_program(&code, None).map_err(|e| refused(dir, &code, e))?;
    bpf::attach(cgroup.as_fd(), prog.as_fd()).map_err(|e| unsupported(dir, "attach", e))?;
    for id in old {
        match bpf::program_by_id(id) {
            Ok(fd) => {
                bpf::detach(cgroup.as_fd(), fd.as_fd()).map_err(step("detach the old program"))?
            }
            // Detached and freed meanwhile (a concurrent update): nothing left to do.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(step("open the old program")(e)),
        }
    }
    tracing::debug!(dir = %dir.display(), rules = list.len(), "device filter attached");
    Ok(())
}

/// ENOSYS/EINVAL from the first `bpf(2)` calls mean the kernel lacks the feature.
fn unsupported(dir: &Path, step: &'static str, source: std::io::Error) -> CgroupError {
    let reason = match source.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel has no bpf(2) (CONFIG_BPF_SYSCALL)",
        Some(libc::EINVAL) => "the kernel has no cgroup BPF (CONFIG_CGROUP_BPF)",
        _ => {
            return CgroupError::DeviceFilter {
                path: dir.to_path_buf(),
                step,
                source,
            };
        }
    };
    CgroupError::DeviceFilterUnsupported {
        path: dir.to_path_buf(),
        reason,
        source,
    }
}

/// A refused load: loaded again with the verifier's log, to say why.
fn refused(dir: &Path, code: &[u8], source: std::io::Error) -> CgroupError {
    if !matches!(source.raw_os_error(), Some(libc::EINVAL | libc::EACCES)) {
        return unsupported(dir, "load the program", source);
    }
    let mut log = vec![0u8; 64 * 1024];
    let _ = bpf::load_device_program(code, Some(&mut log));
    let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
    if text.is_empty() {
        // Nothing verified: the program type itself is unknown to this kernel.
        return unsupported(dir, "load the program", source);
    }
    CgroupError::DeviceFilterRefused {
        path: dir.to_path_buf(),
        log: text,
        source,
    }
}

#[cfg(test)]
#[path = "device_filter_tests.rs"]
mod tests;
