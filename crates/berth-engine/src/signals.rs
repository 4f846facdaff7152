//! Signal names as docker accepts them (`SIGTERM`, `TERM`, `sigterm`, `15`): parsed by
//! [`berth_runtime::signal`], with docker's message for a bad one.

use crate::error::{EngineError, Result};

/// SIGKILL.
pub const SIGKILL: i32 = 9;

/// Parses a signal name or number.
pub fn parse(s: &str) -> Result<i32> {
    berth_runtime::signal::parse(s)
        .map_err(|_| EngineError::Invalid(format!("Invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("SIGTERM").unwrap(), 15);
        assert_eq!(parse("term").unwrap(), 15);
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("SIGRTMIN+1").unwrap(), 35);
        assert_eq!(
            parse("NOPE").unwrap_err().to_string(),
            "Invalid signal: NOPE"
        );
        assert!(parse("0").is_err());
    }
}
