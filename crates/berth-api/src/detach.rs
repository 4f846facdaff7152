//! Detach keys: docker's `--detach-keys` syntax (`ctrl-p,ctrl-q`, `a`, `ctrl-@`…) and a
//! matcher that watches a stdin stream for the sequence.

/// docker's default sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// A key that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid detach keys ({keys}) provided: unknown character: '{key}'")]
pub struct DetachKeysError {
    /// The whole sequence.
    pub keys: String,
    /// The key that failed.
    pub key: String,
}

/// Parses a sequence into its bytes: each comma-separated key is one character or
/// `ctrl-` and one of `a`–`z`, `@`, `[`, `\`, `]`, `^`, `_`.
pub fn parse(keys: &str) -> Result<Vec<u8>, DetachKeysError> {
    let fail = |key: &str| DetachKeysError {
        keys: keys.to_owned(),
        key: key.to_owned(),
    };
    let mut out = Vec::new();
    for key in keys.split(',') {
        let k = key.trim();
        if let Some(rest) = k.strip_prefix("ctrl-")
            && rest.len() == 1
        {
            let c = rest.as_bytes()[0];
            let code = match c {
                b'a'..=b'z' => c - b'a' + 1,
                b'A'..=b'Z' => c - b'A' + 1,
                b'@' => 0,
                b'[' => 27,
                b'\\' => 28,
                b']' => 29,
                b'^' => 30,
                b'_' => 31,
                _ => return Err(fail(key)),
            };
            out.push(code);
        } else if k.len() == 1 && k.is_ascii() {
            out.push(k.as_bytes()[0]);
        } else {
            return Err(fail(key));
        }
    }
    Ok(out)
}

/// Watches input for a detach sequence. Bytes of a possible sequence are held back until
/// it completes (detach: they are never sent) or breaks (they are sent), as docker does.
#[derive(Debug, Clone)]
pub struct DetachMatcher {
    keys: Vec<u8>,
    held: usize,
}

/// What a chunk of input amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Forward these bytes.
    Forward(Vec<u8>),
    /// The sequence was typed: forward these bytes that came before it, then detach.
    Detach(Vec<u8>),
}

impl DetachMatcher {
    /// A matcher for `keys` (an empty sequence never matches).
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, held: 0 }
    }

    /// Scans a chunk of input.
    pub fn scan(&mut self, input: &[u8]) -> Scan {
        let mut out = Vec::with_capacity(input.len());
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return Scan::Forward(out);
        }
        for &b in input {
            if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    self.held = 0;
                    return Scan::Detach(out);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if b == self.keys[0] {
                self.held = 1;
                if self.keys.len() == 1 {
                    self.held = 0;
                    return Scan::Detach(out);
                }
            } else {
                out.push(b);
            }
        }
        Scan::Forward(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(parse("a,ctrl-@,ctrl-[,ctrl-_").unwrap(), [b'a', 0, 27, 31]);
        assert!(parse("ctrl-1").is_err());
        assert!(parse("ctrl-").is_err());
        assert!(parse("abc").is_err());
        assert!(parse("").is_err());
        let e = parse("ctrl-p,foo").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid detach keys (ctrl-p,foo) provided: unknown character: 'foo'"
        );
    }

    #[test]
    fn matcher_holds_then_detaches() {
        let mut m = DetachMatcher::new(vec![16, 17]);
        assert_eq!(m.scan(b"ab\x10"), Scan::Forward(b"ab".to_vec()));
        assert_eq!(m.scan(b"x"), Scan::Forward(b"\x10x".to_vec()));
        assert_eq!(m.scan(b"ls\x10"), Scan::Forward(b"ls".to_vec()));
        assert_eq!(m.scan(b"\x11rest"), Scan::Detach(Vec::new()));
        assert_eq!(m.scan(b"\x10\x10\x11"), Scan::Detach(b"\x10".to_vec()));
    }
}
