//! Docker image references, parsed and normalised exactly as docker's
//! `distribution/reference` (`ParseNormalizedNamed`, `TagNameOnly`, `FamiliarString`) does,
//! and image IDs (full and short).
//!
//! Grammar (from distribution/reference):
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [domain "/"] path-component ["/" path-component]*
//! domain     := host [":" port-number]
//! host       := domain-name | IPv4 | "[" IPv6 "]"
//! path-component := [a-z0-9]+ (separator [a-z0-9]+)*     separator := [_.] | "__" | "-"+
//! tag        := [\w][\w.-]{0,127}
//! ```
//! The parser is hand-written, linear, and never panics on any input.

use std::fmt;
use std::str::FromStr;

use crate::ErrorKind;
use crate::digest::{Digest, SHA256_HEX_LEN, is_lower_hex, is_sha256_hex};

/// The registry a name without a domain belongs to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's legacy domain, normalised to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The repository prefix of official images on Docker Hub.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag used when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest allowed repository name (domain and path).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a reference does not parse. Every message starts as docker's does.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    /// Nothing given.
    #[error("invalid reference format: repository name must have at least one component")]
    Empty,
    /// A 64-hex string given as a name.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    Identifier(String),
    /// Upper-case letters in the repository path.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    /// The domain part is malformed.
    #[error("invalid reference format: invalid registry domain {0:?}")]
    Domain(String),
    /// A path component is malformed.
    #[error(
        "invalid reference format: invalid repository path component {0:?} (lowercase letters, digits and single separators . _ __ - only)"
    )]
    PathComponent(String),
    /// The tag is malformed.
    #[error(
        "invalid reference format: invalid tag {0:?} (up to 128 of [A-Za-z0-9_.-], not starting with . or -)"
    )]
    Tag(String),
    /// The digest is malformed.
    #[error("invalid reference format: {0}")]
    Digest(#[source] crate::digest::DigestError),
    /// Name over 255 characters.
    #[error("invalid reference format: repository name must not be more than 255 characters")]
    NameTooLong,
}

impl ReferenceError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// A normalised reference: `domain/path[:tag][@digest]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises as `ParseNormalizedNamed`: adds `docker.io` and `library/`,
    /// but does not add a tag (see [`Reference::with_default_tag`]).
    pub fn parse_normalized(s: &str) -> Result<Self, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if is_sha256_hex(s) {
            return Err(ReferenceError::Identifier(s.to_owned()));
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => (
                n,
                Some(d.parse::<Digest>().map_err(ReferenceError::Digest)?),
            ),
            None => (s, None),
        };
        let last_slash = name_tag.rfind('/');
        let (name, tag) = match name_tag.rfind(':') {
            Some(i) if last_slash.is_none_or(|j| i > j) => {
                (&name_tag[..i], Some(name_tag[i + 1..].to_owned()))
            }
            _ => (name_tag, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(ReferenceError::Tag(t.clone()));
        }
        let (domain, mut remainder) = split_docker_domain(name);
        if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
            remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
        }
        if remainder.to_lowercase() != remainder {
            return Err(ReferenceError::Uppercase(remainder));
        }
        if !valid_domain(&domain) {
            return Err(ReferenceError::Domain(domain));
        }
        for comp in remainder.split('/') {
            if !valid_path_component(comp) {
                return Err(ReferenceError::PathComponent(comp.to_owned()));
            }
        }
        if domain.len() + 1 + remainder.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Self {
            domain,
            path: remainder,
            tag,
            digest,
        })
    }

    /// Parses, normalises and adds `:latest` when there is neither tag nor digest
    /// (`busybox` → `docker.io/library/busybox:latest`).
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        Self::parse_normalized(s).map(Self::with_default_tag)
    }

    /// Adds `:latest` when there is neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(mut self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The registry domain (`docker.io`, `localhost:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name (`docker.io/library/busybox`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The short repository name docker shows (`busybox`, `user/app`, `localhost:5000/a/b`).
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The short form docker shows (`busybox:latest`, `user/app@sha256:…`).
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_suffix(&mut s);
        s
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError::Tag(tag.to_owned()));
        }
        Ok(Self {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

/// `splitDockerDomain`: the part before the first `/` is a domain only when it looks like
/// one (has `.` or `:`, is `localhost`, or has upper-case letters).
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, remainder) = match name.split_once('/') {
        Some((d, r)) if d.contains(['.', ':']) || d == "localhost" || d.to_lowercase() != d => {
            (d.to_owned(), r.to_owned())
        }
        _ => (DEFAULT_DOMAIN.to_owned(), name.to_owned()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        return (DEFAULT_DOMAIN.to_owned(), remainder);
    }
    (domain, remainder)
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        // "[ipv6]" with an optional ":port".
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => return !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// What a user typed to name an image by ID: a full ID or a hex prefix, `sha256:` optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdSpec {
    /// All 64 hex characters.
    Full(Digest),
    /// A shorter prefix; resolving it to one image is the store's job.
    Prefix(String),
}

impl IdSpec {
    /// Parses `sha256:<hex>` or `<hex>` with 1..=64 lowercase hex characters; `None` when
    /// `s` cannot be an ID.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        if !is_lower_hex(hex) || hex.len() > SHA256_HEX_LEN {
            return None;
        }
        if hex.len() == SHA256_HEX_LEN {
            Digest::from_hex(hex).ok().map(IdSpec::Full)
        } else {
            Some(IdSpec::Prefix(hex.to_owned()))
        }
    }

    /// True when `id` is named by this spec.
    pub fn matches(&self, id: &Digest) -> bool {
        match self {
            IdSpec::Full(d) => d == id,
            IdSpec::Prefix(p) => id.hex().starts_with(p.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(norm("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(norm("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(norm("user/app:1.0"), "docker.io/user/app:1.0");
        assert_eq!(
            norm("index.docker.io/library/x"),
            "docker.io/library/x:latest"
        );
        assert_eq!(norm("docker.io/x"), "docker.io/library/x:latest");
        assert_eq!(norm("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        assert_eq!(norm("localhost/a"), "localhost/a:latest");
        assert_eq!(norm("localhost:5000"), "docker.io/library/localhost:5000");
        assert_eq!(norm("quay.io/a/b/c"), "quay.io/a/b/c:latest");
        assert_eq!(norm("[::1]:5000/a"), "[::1]:5000/a:latest");
        assert_eq!(
            norm("a__b/c-d---e.f_g"),
            "docker.io/a__b/c-d---e.f_g:latest"
        );
        assert_eq!(
            norm(&format!("host/x@sha256:{HEX}")),
            format!("docker.io/host/x@sha256:{HEX}")
        );
        assert_eq!(
            norm(&format!("host.io/x@sha256:{HEX}")),
            format!("host.io/x@sha256:{HEX}")
        );
        assert_eq!(
            norm(&format!("x:t@sha256:{HEX}")),
            format!("docker.io/library/x:t@sha256:{HEX}")
        );
    }

    #[test]
    fn familiar_forms() {
        let f = |s: &str| Reference::parse(s).unwrap().familiar();
        assert_eq!(f("busybox"), "busybox:latest");
        assert_eq!(f("docker.io/library/busybox:1"), "busybox:1");
        assert_eq!(f("user/app:1.0"), "user/app:1.0");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b:latest");
        assert_eq!(f("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        assert_eq!(f(&format!("a@sha256:{HEX}")), format!("a@sha256:{HEX}"));
        assert_eq!(
            Reference::parse("busybox").unwrap().familiar_name(),
            "busybox"
        );
    }

    #[test]
    fn parts() {
        let r = Reference::parse("localhost:5000/a/b:t").unwrap();
        assert_eq!(r.domain(), "localhost:5000");
        assert_eq!(r.path(), "a/b");
        assert_eq!(r.tag(), Some("t"));
        assert_eq!(r.digest(), None);
        assert_eq!(r.name(), "localhost:5000/a/b");
        assert_eq!(r.with_tag("u").unwrap().to_string(), "localhost:5000/a/b:u");
        let n = Reference::parse_normalized(&format!("x@sha256:{HEX}")).unwrap();
        assert_eq!(n.tag(), None);
        assert_eq!(Reference::parse_normalized("x").unwrap().tag(), None);
    }

    #[test]
    fn rejects_with_reason() {
        use ReferenceError as E;
        let e = |s: &str| Reference::parse(s).unwrap_err();
        assert_eq!(e(""), E::Empty);
        assert_eq!(e(HEX), E::Identifier(HEX.into()));
        assert_eq!(e("Busybox"), E::Uppercase("library/Busybox".into()));
        assert_eq!(
            e("Busybox").to_string(),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(e("a/B"), E::Uppercase("a/B".into()));
        assert!(matches!(e("a:-x"), E::Tag(_)));
        assert!(matches!(e("a:"), E::Tag(_)));
        assert!(matches!(e(&format!("a:{}", "x".repeat(129))), E::Tag(_)));
        assert!(matches!(e("a@sha256:abc"), E::Digest(_)));
        assert!(matches!(e("a@"), E::Digest(_)));
        assert!(matches!(e("a..b"), E::PathComponent(_)));
        assert!(matches!(e("a___b"), E::PathComponent(_)));
        assert!(matches!(e("a/"), E::PathComponent(_)));
        assert!(matches!(e("a//b"), E::PathComponent(_)));
        assert!(matches!(e("-a"), E::PathComponent(_)));
        assert!(matches!(e("a.-b"), E::PathComponent(_)));
        assert!(matches!(e("a b"), E::PathComponent(_)));
        assert!(matches!(e("-bad.com/a"), E::Domain(_)));
        assert!(matches!(e("host:port/a"), E::Domain(_)));
        assert!(matches!(e("[zz]:5/a"), E::Domain(_)));
        assert!(matches!(e("[zz]/a"), E::PathComponent(_)));
        assert!(matches!(e(&"a".repeat(256)), E::NameTooLong));
        assert!(e("a b").to_string().starts_with("invalid reference format"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            ":",
            "@",
            "/",
            "::",
            "a:b:c",
            "a@b@c",
            "[",
            "[]",
            "[:",
            "é",
            "a/é",
            "a:é",
            "\0",
            "a:b/c",
            "/a",
            "a/:b",
            ".",
            "_",
            "a@sha256:",
            "localhost:/a",
            ":5000/a",
        ] {
            let _ = Reference::parse(s);
            let _ = IdSpec::parse(s);
        }
        let mut s = String::new();
        for b in 0u8..=255 {
            s.push(char::from(b));
            let _ = Reference::parse(&s);
            let tail: String = s.chars().rev().take(3).collect();
            let _ = Reference::parse(&tail);
        }
    }

    #[test]
    fn image_ids() {
        let full = IdSpec::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(full, IdSpec::parse(HEX).unwrap());
        let d = Digest::from_hex(HEX).unwrap();
        assert!(full.matches(&d));
        let short = IdSpec::parse("e3b0c4").unwrap();
        assert_eq!(short, IdSpec::Prefix("e3b0c4".into()));
        assert!(short.matches(&d));
        assert_eq!(IdSpec::parse("sha256:e3b0c4"), Some(short));
        assert!(!IdSpec::parse("e3b0c5").unwrap().matches(&d));
        assert_eq!(IdSpec::parse("busybox"), None);
        assert_eq!(IdSpec::parse(""), None);
        assert_eq!(IdSpec::parse(&format!("{HEX}0")), None);
    }
}
