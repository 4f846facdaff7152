//! The device filter checked against its rule semantics: a small interpreter runs the
//! generated instructions (exactly the opcodes the generator emits, with the kernel's
//! semantics) and its verdicts are compared with a direct reading of "last match wins,
//! default deny". The real kernel runs the same programs in `tests/devices.rs`.

use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxDeviceType};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One request: device type, access bits, major, minor.
#[derive(Debug, Clone, Copy)]
struct Req {
    typ: i32,
    access: i32,
    major: i32,
    minor: i32,
}

fn req(typ: char, access: &str, major: i32, minor: i32) -> Req {
    let typ = if typ == 'b' { DEV_BLOCK } else { DEV_CHAR };
    let access = access
        .chars()
        .map(|c| match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => ACC_MKNOD,
        })
        .fold(0, |a, b| a | b);
    Req {
        typ,
        access,
        major,
        minor,
    }
}

/// The semantics, read directly from the rules.
fn reference(rules: &[Rule], q: Req) -> bool {
    for r in rules.iter().rev() {
        let fields = r.typ.is_none_or(|t| t == q.typ)
            && r.major.is_none_or(|m| m == q.major)
            && r.minor.is_none_or(|m| m == q.minor);
        let access = if r.allow {
            q.access & r.access == q.access
        } else {
            q.access & r.access != 0
        };
        if fields && access {
            return r.allow;
        }
    }
    false
}

/// Runs `insns` on the request as the kernel would; also checks every jump lands inside the
/// program. Returns r0 at `exit`.
fn run(insns: &[Insn], q: Req) -> Result<u64, String> {
    let ctx = [
        (q.typ as u32) | ((q.access as u32) << 16),
        q.major as u32,
        q.minor as u32,
    ];
    let mut reg = [0u64; 11];
    let mut r1_is_ctx = true;
    let mut pc = 0usize;
    for _ in 0..10_000 {
        let i = insns.get(pc).ok_or(format!("pc {pc} out of the program"))?;
        let d = i.dst as usize;
        let s = i.src as usize;
        let mut next = pc + 1;
        let jump = |taken: bool| -> Result<usize, String> {
            if !taken {
                return Ok(pc + 1);
            }
            let t = pc as i64 + 1 + i64::from(i.off);
            usize::try_from(t)
                .ok()
                .filter(|t| *t < insns.len())
                .ok_or(format!("jump from {pc} to {t} leaves the program"))
        };
        match i.code {
            0x61 => {
                if s != 1 || !r1_is_ctx {
                    return Err(format!("load at {pc} not from the context"));
                }
                let word = usize::try_from(i.off / 4).map_err(|e| e.to_string())?;
                reg[d] = u64::from(*ctx.get(word).ok_or("load past the context")?);
            }
            0x54 => reg[d] = u64::from(reg[d] as u32 & i.imm as u32),
            0x74 => reg[d] = u64::from((reg[d] as u32) >> i.imm),
            0xbc => reg[d] = u64::from(reg[s] as u32),
            0xb4 => reg[d] = u64::from(i.imm as u32),
            0x55 => next = jump(reg[d] != i.imm as i64 as u64)?,
            0x5d => next = jump(reg[d] != reg[s])?,
            0x15 => next = jump(reg[d] == i.imm as i64 as u64)?,
            0x95 => return Ok(reg[0]),
            c => {
                return Err(format!(
                    "opcode {c:#x} at {pc} is not one the generator emits"
                ));
            }
        }
        if d == 1 && i.code != 0x61 && i.code & 0x07 == op::ALU {
            r1_is_ctx = false;
        }
        pc = next;
    }
    Err("the program does not end".to_string())
}

/// Every instruction is reachable (the verifier refuses dead code).
fn assert_all_reachable(insns: &[Insn]) {
    let mut seen = vec![false; insns.len()];
    let mut todo = vec![0usize];
    while let Some(pc) = todo.pop() {
        if pc >= insns.len() || seen[pc] {
            continue;
        }
        seen[pc] = true;
        let i = insns[pc];
        if i.code == 0x95 {
            continue;
        }
        todo.push(pc + 1);
        if i.code & 0x07 == op::JMP {
            todo.push((pc as i64 + 1 + i64::from(i.off)) as usize);
        }
    }
    let dead: Vec<usize> = (0..insns.len()).filter(|i| !seen[*i]).collect();
    assert!(dead.is_empty(), "unreachable instructions {dead:?}");
}

fn rule(allow: bool, typ: char, major: Option<i32>, minor: Option<i32>, access: &str) -> Rule {
    let typ = match typ {
        'a' => None,
        'b' => Some(DEV_BLOCK),
        _ => Some(DEV_CHAR),
    };
    Rule {
        allow,
        typ,
        major,
        minor,
        access: req('c', access, 0, 0).access,
    }
}

fn verdict(rules: &[Rule], q: Req) -> bool {
    let p = program(rules);
    assert_all_reachable(&p);
    let got = run(&p, q).unwrap_or_else(|e| panic!("{e} in {p:?}"));
    let want = reference(rules, q);
    assert_eq!(got == 1, want, "{q:?} under {rules:?}");
    want
}

#[test]
fn encoding_matches_the_kernel_layout() {
    use Reg::*;
    assert_eq!(
        Insn::load_u32(R2, R1, 4).encode(),
        [0x61, 0x12, 4, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        Insn::and32(R2, 0xffff).encode(),
        [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0]
    );
    assert_eq!(
        Insn::rsh32(R3, 16).encode(),
        [0x74, 0x03, 0, 0, 16, 0, 0, 0]
    );
    assert_eq!(
        Insn::mov32_reg(R1, R3).encode(),
        [0xbc, 0x31, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(Insn::mov32(R0, 1).encode(), [0xb4, 0x00, 0, 0, 1, 0, 0, 0]);
    assert_eq!(
        Insn::jne(R4, 136, 3).encode(),
        [0x55, 0x04, 3, 0, 136, 0, 0, 0]
    );
    assert_eq!(
        Insn::jne_reg(R1, R3, 2).encode(),
        [0x5d, 0x31, 2, 0, 0, 0, 0, 0]
    );
    assert_eq!(Insn::jeq(R1, 0, 5).encode(), [0x15, 0x01, 5, 0, 0, 0, 0, 0]);
    assert_eq!(Insn::exit().encode(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(encode(&[Insn::exit(), Insn::exit()]).len(), 16);
}

#[test]
fn docker_default_list() {
    // Deny all, the default char devices, mknod of anything, the pty slaves.
    let rules = [
        rule(false, 'a', None, None, "rwm"),
        rule(true, 'c', None, None, "m"),
        rule(true, 'b', None, None, "m"),
        rule(true, 'c', Some(1), Some(3), "rwm"),
        rule(true, 'c', Some(1), Some(5), "rwm"),
        rule(true, 'c', Some(136), None, "rwm"),
    ];
    assert!(verdict(&rules, req('c', "rw", 1, 3)));
    assert!(verdict(&rules, req('c', "r", 1, 5)));
    assert!(!verdict(&rules, req('c', "r", 1, 1)));
    assert!(!verdict(&rules, req('b', "r", 8, 0)));
    assert!(!verdict(&rules, req('b', "rw", 8, 0)));
    assert!(verdict(&rules, req('b', "m", 8, 0)));
    assert!(!verdict(&rules, req('b', "rm", 8, 0)));
    assert!(verdict(&rules, req('c', "rw", 136, 7)));
    assert!(!verdict(&rules, req('b', "rw", 136, 7)));
}

#[test]
fn nothing_listed_denies_everything() {
    let p = program(&[]);
    assert_eq!(p.len(), 8);
    for q in [req('c', "r", 1, 3), req('b', "m", 8, 0)] {
        assert!(!verdict(&[], q));
    }
}

#[test]
fn allow_all_grants_everything_and_ends_the_program() {
    // --privileged: one allow-all rule, earlier rules unreachable and not emitted.
    let rules = [
        rule(true, 'c', Some(1), Some(3), "r"),
        rule(true, 'a', None, None, "rwm"),
    ];
    assert_eq!(program(&rules).len(), 8);
    assert!(verdict(&rules, req('b', "rwm", 8, 0)));
    assert!(verdict(&rules, req('c', "w", 1, 3)));
}

#[test]
fn partial_access() {
    let rules = [rule(true, 'c', Some(1), Some(3), "r")];
    assert!(verdict(&rules, req('c', "r", 1, 3)));
    assert!(!verdict(&rules, req('c', "w", 1, 3)));
    assert!(!verdict(&rules, req('c', "rw", 1, 3)));
    // A later deny of `w` takes writes away from an earlier allow-all.
    let rules = [
        rule(true, 'a', None, None, "rwm"),
        rule(false, 'c', Some(1), Some(3), "w"),
    ];
    assert!(verdict(&rules, req('c', "r", 1, 3)));
    assert!(!verdict(&rules, req('c', "w", 1, 3)));
    assert!(!verdict(&rules, req('c', "rw", 1, 3)));
    assert!(verdict(&rules, req('c', "w", 1, 5)));
}

#[test]
fn later_rules_win() {
    let rules = [
        rule(true, 'c', Some(1), None, "rwm"),
        rule(false, 'c', Some(1), Some(3), "rwm"),
        rule(true, 'c', Some(1), Some(3), "r"),
    ];
    assert!(verdict(&rules, req('c', "r", 1, 3)));
    assert!(!verdict(&rules, req('c', "w", 1, 3)));
    assert!(verdict(&rules, req('c', "w", 1, 9)));
}

/// Many generated rule lists against every request of a small grid (a fixed LCG, so the run
/// is the same each time).
#[test]
fn generated_lists_agree_with_the_reference() {
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let accesses = ["r", "w", "m", "rw", "rm", "wm", "rwm"];
    for _ in 0..300 {
        let len = next(6) as usize;
        let rules: Vec<Rule> = (0..len)
            .map(|_| {
                let typ = ['a', 'b', 'c'][next(3) as usize];
                let pick = |n: u64| (n != 0).then_some(n as i32);
                rule(
                    next(2) == 0,
                    typ,
                    if typ == 'a' { None } else { pick(next(3)) },
                    if typ == 'a' { None } else { pick(next(3)) },
                    if typ == 'a' {
                        "rwm"
                    } else {
                        accesses[next(7) as usize]
                    },
                )
            })
            .collect();
        for typ in ['b', 'c'] {
            for access in accesses {
                for major in 1..3 {
                    for minor in 1..3 {
                        verdict(&rules, req(typ, access, major, minor));
                    }
                }
            }
        }
    }
}

#[test]
fn oci_rules_convert() -> TestResult {
    let oci = |typ: LinuxDeviceType, major: i64, access: &str| {
        LinuxDeviceCgroupBuilder::default()
            .allow(true)
            .typ(typ)
            .major(major)
            .access(access)
            .build()
    };
    let r = Rule::from_oci(&oci(LinuxDeviceType::C, 136, "rw")?)?;
    assert_eq!(
        r,
        Some(Rule {
            allow: true,
            typ: Some(DEV_CHAR),
            major: Some(136),
            minor: None,
            access: ACC_READ | ACC_WRITE
        })
    );
    // `a` is every device whatever else the rule says; FIFOs are not governed.
    let a = Rule::from_oci(&oci(LinuxDeviceType::A, 8, "r")?)?.ok_or("no rule")?;
    assert!(a.matches_everything());
    assert_eq!(Rule::from_oci(&oci(LinuxDeviceType::P, 1, "r")?)?, None);
    // Negative numbers are wildcards; empty access is rwm.
    let w = Rule::from_oci(&oci(LinuxDeviceType::B, -1, "")?)?.ok_or("no rule")?;
    assert_eq!((w.major, w.access), (None, ACC_ALL));
    assert!(Rule::from_oci(&oci(LinuxDeviceType::C, 1, "rx")?).is_err());
    assert!(Rule::from_oci(&oci(LinuxDeviceType::C, 1 << 40, "r")?).is_err());
    Ok(())
}

#[test]
fn a_kernel_without_cgroup_bpf_is_a_clear_error() {
    let dir = std::path::Path::new("/sys/fs/cgroup/berth/x");
    let no_bpf = unsupported(
        dir,
        "load the program",
        std::io::Error::from_raw_os_error(libc::ENOSYS),
    );
    let text = no_bpf.to_string();
    assert!(
        matches!(no_bpf, CgroupError::DeviceFilterUnsupported { .. }),
        "{text}"
    );
    assert_eq!(
        text,
        "cgroup v2 device rules for /sys/fs/cgroup/berth/x cannot be enforced: the kernel has no \
         bpf(2) (CONFIG_BPF_SYSCALL)"
    );
    let no_cgroup_bpf = unsupported(
        dir,
        "attach",
        std::io::Error::from_raw_os_error(libc::EINVAL),
    );
    assert!(
        no_cgroup_bpf.to_string().ends_with("(CONFIG_CGROUP_BPF)"),
        "{no_cgroup_bpf}"
    );
    // Other errors name the step.
    let busy = unsupported(
        dir,
        "attach",
        std::io::Error::from_raw_os_error(libc::EPERM),
    );
    assert_eq!(
        busy.to_string(),
        "device filter for /sys/fs/cgroup/berth/x: attach"
    );
}
