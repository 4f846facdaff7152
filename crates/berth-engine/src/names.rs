//! Container IDs and names: 64-hex random IDs; names validated as docker validates them and,
//! when none is given, generated as `adjective_surname` like moby's `namesgenerator`.

use crate::error::{EngineError, Result};

/// A fresh 64-hex container ID from the kernel's CSPRNG. Like moby, an ID that is all
/// digits is drawn again (it could be mistaken for a number, e.g. a PID).
pub fn new_id() -> Result<String> {
    loop {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| {
            EngineError::io(
                "read random bytes for",
                "an id",
                std::io::Error::other(e.to_string()),
            )
        })?;
        let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
        if !id.bytes().all(|c| c.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// The first 12 hex characters of an ID, as docker shows it.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Checks a user-given name (with or without its leading `/`) and returns it with the `/`.
pub fn validate(name: &str) -> Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let ok = bare.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(format!("/{bare}"))
    } else {
        Err(EngineError::InvalidName(name.to_owned()))
    }
}

/// Adjectives of moby's `namesgenerator` (a selection).
const LEFT: [&str; 48] = [
    "admiring",
    "adoring",
    "affectionate",
    "agitated",
    "amazing",
    "angry",
    "awesome",
    "beautiful",
    "blissful",
    "bold",
    "boring",
    "brave",
    "busy",
    "charming",
    "clever",
    "compassionate",
    "competent",
    "confident",
    "cool",
    "dazzling",
    "determined",
    "distracted",
    "dreamy",
    "eager",
    "ecstatic",
    "elastic",
    "elated",
    "elegant",
    "eloquent",
    "epic",
    "exciting",
    "fervent",
    "festive",
    "flamboyant",
    "focused",
    "friendly",
    "frosty",
    "funny",
    "gallant",
    "gifted",
    "goofy",
    "gracious",
    "great",
    "happy",
    "hardcore",
    "heuristic",
    "hopeful",
    "zealous",
];

/// Surnames of notable scientists and hackers of moby's `namesgenerator` (a selection).
const RIGHT: [&str; 64] = [
    "agnesi",
    "albattani",
    "allen",
    "almeida",
    "archimedes",
    "ardinghelli",
    "babbage",
    "banach",
    "bardeen",
    "bartik",
    "bassi",
    "bell",
    "benz",
    "bhabha",
    "blackwell",
    "bohr",
    "booth",
    "borg",
    "bose",
    "brahmagupta",
    "brattain",
    "brown",
    "carson",
    "cerf",
    "chandrasekhar",
    "curie",
    "darwin",
    "davinci",
    "dijkstra",
    "einstein",
    "elion",
    "engelbart",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "goldberg",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hertz",
    "hodgkin",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamarr",
    "lovelace",
    "mccarthy",
    "meitner",
    "newton",
    "noether",
    "pasteur",
    "ritchie",
    "shannon",
    "thompson",
    "turing",
];

fn random_index(n: usize) -> usize {
    let mut b = [0u8; 8];
    // A name is not a secret: on the (never seen) failure of getrandom, fall back to the clock.
    if getrandom::fill(&mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        b[..4].copy_from_slice(&nanos.to_le_bytes());
    }
    (u64::from_le_bytes(b) % n as u64) as usize
}

/// A random `adjective_surname`; `retry > 0` appends a digit as moby does after a clash.
/// ("boring_wozniak" is not generated: moby skips it, and it is not in this selection.)
pub fn generate(retry: u32) -> String {
    let name = format!(
        "{}_{}",
        LEFT[random_index(LEFT.len())],
        RIGHT[random_index(RIGHT.len())]
    );
    if retry > 0 {
        format!("{name}{}", random_index(10))
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(short(&a).len(), 12);
    }

    #[test]
    fn names_validate_like_docker() {
        assert_eq!(validate("web").unwrap(), "/web");
        assert_eq!(validate("/web-1.a_b").unwrap(), "/web-1.a_b");
        for bad in ["", "/", "a", "-x", "x y", "x/y", "é1"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        let e = validate("x y").unwrap_err().to_string();
        assert_eq!(
            e,
            "Invalid container name (x y), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        );
    }

    #[test]
    fn generated_names_are_valid() {
        for r in 0..20 {
            let n = generate(r % 2);
            assert!(validate(&n).is_ok(), "{n}");
            assert!(n.contains('_'));
        }
    }
}
