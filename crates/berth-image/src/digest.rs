//! Content digests (`sha256:<64 hex>`), validated once at the edge and carried as a type.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::ErrorKind;

/// Length in hex characters of a sha256 digest.
pub const SHA256_HEX_LEN: usize = 64;

/// A validated `sha256:<64 lowercase hex>` digest.
///
/// Only sha256 is supported: it is what docker and every OCI registry use for image IDs,
/// layers and manifests.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

/// Why a string is not a digest.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    /// No `algorithm:` prefix.
    #[error("invalid digest {0:?}: missing algorithm prefix (expected sha256:<hex>)")]
    MissingAlgorithm(String),
    /// An algorithm other than sha256.
    #[error("invalid digest {0:?}: unsupported digest algorithm")]
    UnsupportedAlgorithm(String),
    /// The hex part has the wrong length or characters.
    #[error("invalid digest {0:?}: expected 64 lowercase hex characters after sha256:")]
    InvalidHex(String),
}

impl DigestError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// True when `s` is exactly 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == SHA256_HEX_LEN && is_lower_hex(s)
}

/// True when `s` is non-empty and only `[0-9a-f]`.
pub fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Digest {
    /// Builds a digest from 64 lowercase hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, DigestError> {
        if is_sha256_hex(hex) {
            Ok(Self {
                hex: hex.to_owned(),
            })
        } else {
            Err(DigestError::InvalidHex(format!("sha256:{hex}")))
        }
    }

    /// Builds a digest from a raw 32-byte sha256 sum.
    pub fn from_bytes(sum: &[u8; 32]) -> Self {
        Self {
            hex: hex::encode(sum),
        }
    }

    /// The sha256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self::from_bytes(&Sha256::digest(data).into())
    }

    /// The algorithm name (always `sha256`).
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// The 64 hex characters.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as docker shows short IDs.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((algo, hex)) = s.split_once(':') else {
            return Err(DigestError::MissingAlgorithm(s.to_owned()));
        };
        if algo != "sha256" {
            return Err(DigestError::UnsupportedAlgorithm(s.to_owned()));
        }
        if !is_sha256_hex(hex) {
            return Err(DigestError::InvalidHex(s.to_owned()));
        }
        Ok(Self {
            hex: hex.to_owned(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest(sha256:{})", self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental sha256.
#[derive(Default, Clone)]
pub struct Hasher(Sha256);

impl Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        Digest::from_bytes(&self.0.finalize().into())
    }
}

/// A reader that hashes and counts every byte read through it (a tee into the hasher).
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
            count: 0,
        }
    }

    /// Reads the rest of the stream (hashing it) and returns the digest and the byte count.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.hasher.finish(), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts every byte written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
            count: 0,
        }
    }

    /// The digest and byte count of everything written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (self.hasher.finish(), self.count, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty() {
        assert_eq!(Digest::of(b"").to_string(), format!("sha256:{EMPTY}"));
    }

    #[test]
    fn parse_roundtrip_and_errors() {
        let d: Digest = format!("sha256:{EMPTY}").parse().unwrap();
        assert_eq!(d.hex(), EMPTY);
        assert_eq!(d.short(), "e3b0c44298fc");
        assert!(matches!(
            EMPTY.parse::<Digest>(),
            Err(DigestError::MissingAlgorithm(_))
        ));
        assert!(matches!(
            format!("sha512:{EMPTY}").parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            "sha256:abc".parse::<Digest>(),
            Err(DigestError::InvalidHex(_))
        ));
        assert!(matches!(
            format!("sha256:{}", EMPTY.to_uppercase()).parse::<Digest>(),
            Err(DigestError::InvalidHex(_))
        ));
    }

    #[test]
    fn hashing_reader_counts_and_hashes() {
        let r = HashingReader::new(&b"hello"[..]);
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 5);
        assert_eq!(d, Digest::of(b"hello"));
    }
}
