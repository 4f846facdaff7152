//! Signal names as docker and runc accept them: `SIGTERM`, `TERM`, `sigterm`, `15`, and the
//! real-time signals as `RTMIN+n`. One parser for the runtime's CLI (`kill`) and the engine
//! (`docker kill --signal`, `StopSignal`).

/// The Linux signals by name (without `SIG`), numbered as on x86 and arm (the tests check them
/// against libc's).
const SIGNALS: [(&str, i32); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// `SIGRTMIN` as glibc reports it (the kernel's 32 and 33 are taken by the C library).
const RTMIN: i32 = 34;

/// A signal name or number that names no signal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid signal {0:?}")]
pub struct InvalidSignal(pub String);

/// Parse a signal: a number from 1 to 64, or a name with or without `SIG` in any case
/// (`TERM`, `sigkill`), or `RTMIN+n` for n from 0 to 30.
pub fn parse(s: &str) -> Result<i32, InvalidSignal> {
    let bad = || InvalidSignal(s.to_owned());
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rt) = name.strip_prefix("RTMIN+") {
        return rt
            .parse::<i32>()
            .ok()
            .filter(|n| (0..=30).contains(n))
            .map(|n| RTMIN + n)
            .ok_or_else(bad);
    }
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("SIGTERM"), Ok(15));
        assert_eq!(parse("term"), Ok(15));
        assert_eq!(parse("9"), Ok(9));
        assert_eq!(parse("SIGUSR1"), Ok(10));
        assert_eq!(parse("SIGRTMIN+1"), Ok(35));
        assert_eq!(parse("64"), Ok(64));
        for bad in ["0", "65", "-1", "NOPE", "SIGSIGKILL", "RTMIN+31", ""] {
            assert_eq!(parse(bad), Err(InvalidSignal(bad.into())), "{bad}");
        }
        assert_eq!(
            parse("NOPE").unwrap_err().to_string(),
            "invalid signal \"NOPE\""
        );
    }

    #[test]
    fn every_name_is_the_kernels() {
        use std::str::FromStr;
        for (name, number) in SIGNALS {
            let sig = nix::sys::signal::Signal::from_str(&format!("SIG{name}")).unwrap();
            assert_eq!(sig as i32, number, "{name}");
        }
    }
}
