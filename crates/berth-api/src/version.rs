//! API version negotiation: the versions berth speaks and the `/v1.xx/` path prefix.

use std::fmt;
use std::str::FromStr;

/// An Engine API version, `major.minor` (`1.45`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Major number (always 1 so far).
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

/// The API version berth implements (`/version`'s `ApiVersion`, `/_ping`'s `API-Version`).
pub const API_VERSION: ApiVersion = ApiVersion::new(1, 45);
/// The oldest API version berth accepts (`/version`'s `MinAPIVersion`).
pub const MIN_API_VERSION: ApiVersion = ApiVersion::new(1, 24);

impl ApiVersion {
    /// A version from its two numbers.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A string that is not a `major.minor` version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version {0:?}")]
pub struct ParseVersionError(pub String);

impl FromStr for ApiVersion {
    type Err = ParseVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseVersionError(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return Err(bad());
        }
        Ok(Self::new(
            major.parse().map_err(|_| bad())?,
            minor.parse().map_err(|_| bad())?,
        ))
    }
}

/// Why a requested version is refused; the messages are docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The client asked for a version newer than [`API_VERSION`].
    #[error("client version {0} is too new. Maximum supported API version is {API_VERSION}")]
    TooNew(ApiVersion),
    /// The client asked for a version older than [`MIN_API_VERSION`].
    #[error(
        "client version {0} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
    )]
    TooOld(ApiVersion),
}

/// Checks a requested version against the supported range.
pub fn check(v: ApiVersion) -> Result<ApiVersion, VersionError> {
    if v > API_VERSION {
        Err(VersionError::TooNew(v))
    } else if v < MIN_API_VERSION {
        Err(VersionError::TooOld(v))
    } else {
        Ok(v)
    }
}

/// Splits a `/v1.45/rest` path into the version and `/rest`. Paths without a version
/// prefix give `None`; the prefix must be followed by `/` or end the path (`/v1.45`).
pub fn split_prefix(path: &str) -> Option<(ApiVersion, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let version = rest[..end].parse().ok()?;
    let tail = &rest[end..];
    Some((version, if tail.is_empty() { "/" } else { tail }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixes() {
        assert_eq!(
            split_prefix("/v1.45/containers/json"),
            Some((ApiVersion::new(1, 45), "/containers/json"))
        );
        assert_eq!(split_prefix("/v1.24"), Some((ApiVersion::new(1, 24), "/")));
        assert_eq!(split_prefix("/containers/json"), None);
        assert_eq!(split_prefix("/version"), None);
        assert_eq!(split_prefix("/v1/x"), None);
        assert_eq!(split_prefix("/v1.x/x"), None);
        assert_eq!(split_prefix("/vv1.2/x"), None);
    }

    #[test]
    fn orders_numerically() {
        assert!(ApiVersion::new(1, 9) < ApiVersion::new(1, 10));
        assert_eq!(check(API_VERSION), Ok(API_VERSION));
        assert_eq!(check(MIN_API_VERSION), Ok(MIN_API_VERSION));
        let e = check(ApiVersion::new(1, 46)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "client version 1.46 is too new. Maximum supported API version is 1.45"
        );
        let e = check(ApiVersion::new(1, 23)).unwrap_err();
        assert!(e.to_string().starts_with("client version 1.23 is too old."));
    }
}
