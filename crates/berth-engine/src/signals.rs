//! Signal names as docker accepts them: `SIGTERM`, `TERM`, `sigterm`, `15`.

use crate::error::{EngineError, Result};

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

/// SIGKILL.
pub const SIGKILL: i32 = 9;

/// Parses a signal name or number.
pub fn parse(s: &str) -> Result<i32> {
    let bad = || EngineError::Invalid(format!("Invalid signal: {s}"));
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
            .map(|n| 34 + n)
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
        assert_eq!(parse("SIGTERM").unwrap(), 15);
        assert_eq!(parse("term").unwrap(), 15);
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("SIGUSR1").unwrap(), 10);
        assert_eq!(parse("SIGRTMIN+1").unwrap(), 35);
        assert_eq!(
            parse("NOPE").unwrap_err().to_string(),
            "Invalid signal: NOPE"
        );
        assert!(parse("0").is_err());
    }
}
