//! Image manifests and indexes: OCI (`application/vnd.oci.image.*`) and Docker schema2
//! (`application/vnd.docker.distribution.manifest.*`), which share one JSON shape, so one
//! set of types reads both and keeps the media type it came with.
//!
//! A registry's answer is classified by [`parse`] from the `Content-Type` it sent (or the
//! `mediaType` field inside when the header is generic); anything else, including Docker
//! schema1, is refused with [`ManifestError::UnsupportedMediaType`]. An index is reduced to
//! one manifest by [`Platform`] matching, the host's platform by default.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ErrorKind;
use crate::digest::Digest;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker schema2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// OCI layer, plain tar.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI layer, gzip.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI layer, zstd.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Docker layer, gzip.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign (non-distributable) layer.
pub const DOCKER_LAYER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// The `Accept` header value asking for any of the four supported manifest types.
pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifest errors.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A media type berth does not read (schema1, artifacts, ...).
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    /// The JSON does not parse as the type it claims.
    #[error("parse {media_type} manifest")]
    Parse {
        /// The claimed media type.
        media_type: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// No entry of an index matches the wanted platform.
    #[error(
        "no matching manifest for {wanted} in the manifest list entries (available: {available})"
    )]
    NoMatchingPlatform {
        /// The platform asked for (`os/arch[/variant]`).
        wanted: String,
        /// The platforms the index offers, comma-separated.
        available: String,
    },
    /// A `--platform` value does not parse.
    #[error("invalid platform {0:?}: expected os/arch[/variant]")]
    InvalidPlatform(String),
}

impl ManifestError {
    /// The error's category.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ManifestError::NoMatchingPlatform { .. } => ErrorKind::NotFound,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// A content descriptor: what a manifest or index points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The target's media type.
    pub media_type: String,
    /// The target's digest.
    pub digest: Digest,
    /// The target's size in bytes.
    pub size: u64,
    /// For index entries: the platform the manifest is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Other places the blob may be fetched from (foreign layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

impl Descriptor {
    /// A descriptor without platform, annotations or urls.
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest,
            size,
            platform: None,
            annotations: BTreeMap::new(),
            urls: Vec::new(),
        }
    }
}

/// An image manifest (OCI or Docker schema2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type (optional in OCI, required in Docker schema2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// The layer blobs, bottom first.
    pub layers: Vec<Descriptor>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index or manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The per-platform manifests.
    pub manifests: Vec<Descriptor>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A parsed registry answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A single-platform manifest with its media type.
    Manifest(Box<Manifest>, String),
    /// An index or manifest list with its media type.
    Index(Index, String),
}

/// True when `media_type` is a layer berth can unpack.
pub fn is_layer_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_LAYER_TAR | OCI_LAYER_GZIP | OCI_LAYER_ZSTD | DOCKER_LAYER_GZIP | DOCKER_LAYER_FOREIGN
    ) || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    schema_version: Option<u32>,
}

/// Classifies and parses a manifest or index. `content_type` is the HTTP header (parameters
/// after `;` ignored); when it is absent or generic JSON, the body's `mediaType` decides, and
/// an OCI body without one is told apart by its `manifests` field.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Parsed, ManifestError> {
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim().to_owned())
        .filter(|c| !c.is_empty() && c != "application/json" && c != "text/plain");
    let media_type = match header {
        Some(h) => h,
        None => {
            let probe: Probe =
                serde_json::from_slice(body).map_err(|source| ManifestError::Parse {
                    media_type: "unknown".to_owned(),
                    source,
                })?;
            match (probe.media_type, probe.manifests, probe.schema_version) {
                (Some(m), _, _) => m,
                (None, Some(_), _) => OCI_INDEX.to_owned(),
                (None, None, Some(2)) => OCI_MANIFEST.to_owned(),
                _ => return Err(ManifestError::UnsupportedMediaType("(none)".to_owned())),
            }
        }
    };
    let perr = |source| ManifestError::Parse {
        media_type: media_type.clone(),
        source,
    };
    match media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let m: Manifest = serde_json::from_slice(body).map_err(perr)?;
            Ok(Parsed::Manifest(Box::new(m), media_type))
        }
        OCI_INDEX | DOCKER_MANIFEST_LIST => {
            let i: Index = serde_json::from_slice(body).map_err(perr)?;
            Ok(Parsed::Index(i, media_type))
        }
        _ => Err(ManifestError::UnsupportedMediaType(media_type)),
    }
}

/// A platform: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// e.g. `amd64`, `arm64`.
    pub architecture: String,
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `v7` for arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// e.g. a Windows build number.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
}

impl Platform {
    /// The platform berth runs on (`linux/<arch>[/variant]`).
    pub fn host() -> Self {
        let arch = crate::config::host_architecture().to_owned();
        let variant = match arch.as_str() {
            "arm64" => Some("v8".to_owned()),
            "arm" => Some("v7".to_owned()),
            _ => None,
        };
        Self {
            architecture: arch,
            os: "linux".to_owned(),
            variant,
            os_version: None,
            os_features: Vec::new(),
        }
    }

    /// True when an index entry for `candidate` can run where `self` is wanted: same os and
    /// architecture (normalised), and the same variant when both name one (arm64's `v8` is
    /// the default and matches an entry without variant).
    pub fn matches(&self, candidate: &Platform) -> bool {
        let (wa, wv) = normalize_arch(&self.architecture, self.variant.as_deref());
        let (ca, cv) = normalize_arch(&candidate.architecture, candidate.variant.as_deref());
        self.os == candidate.os && wa == ca && (wv.is_none() || cv.is_none() || wv == cv)
    }
}

fn normalize_arch<'a>(arch: &'a str, variant: Option<&'a str>) -> (&'a str, Option<&'a str>) {
    match (arch, variant) {
        ("x86_64" | "x86-64", _) => ("amd64", None),
        ("aarch64", v) | ("arm64", v) => ("arm64", v.filter(|v| *v != "v8")),
        ("armhf", _) => ("arm", Some("v7")),
        ("armel", _) => ("arm", Some("v6")),
        ("i386" | "i686", _) => ("386", None),
        (a, v) => (a, v),
    }
}

impl FromStr for Platform {
    type Err = ManifestError;

    /// Parses `os/arch[/variant]` as `--platform` takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(ok) {
            return Err(ManifestError::InvalidPlatform(s.to_owned()));
        }
        Ok(Self {
            os: parts[0].to_ascii_lowercase(),
            architecture: parts[1].to_ascii_lowercase(),
            variant: parts.get(2).map(|v| v.to_ascii_lowercase()),
            os_version: None,
            os_features: Vec::new(),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Index {
    /// The entry for `wanted`: the first exact variant match, else the first compatible one.
    /// Entries without a platform (attestations use `unknown/unknown`) never match.
    pub fn select(&self, wanted: &Platform) -> Result<&Descriptor, ManifestError> {
        let candidates: Vec<&Descriptor> = self
            .manifests
            .iter()
            .filter(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)))
            .collect();
        let exact = candidates.iter().find(|d| {
            d.platform.as_ref().is_some_and(|p| {
                normalize_arch(&p.architecture, p.variant.as_deref())
                    == normalize_arch(&wanted.architecture, wanted.variant.as_deref())
            })
        });
        exact
            .or(candidates.first())
            .copied()
            .ok_or_else(|| ManifestError::NoMatchingPlatform {
                wanted: wanted.to_string(),
                available: self
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest::of(&[n])
    }

    fn entry(n: u8, p: &str) -> Descriptor {
        let mut e = Descriptor::new(OCI_MANIFEST, d(n), 10);
        e.platform = Some(p.parse().unwrap());
        e
    }

    #[test]
    fn parse_by_header_and_by_body() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}",
            "config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{}","size":3}},
            "layers":[{{"mediaType":"{DOCKER_LAYER_GZIP}","digest":"{}","size":5}}]}}"#,
            d(1),
            d(2)
        );
        let Parsed::Manifest(man, mt) = parse(Some(DOCKER_MANIFEST), m.as_bytes()).unwrap() else {
            panic!("not a manifest")
        };
        assert_eq!(mt, DOCKER_MANIFEST);
        assert_eq!(man.layers[0].digest, d(2));
        // Generic header: the body's mediaType decides.
        assert!(matches!(
            parse(Some("application/json; charset=utf-8"), m.as_bytes()).unwrap(),
            Parsed::Manifest(_, t) if t == DOCKER_MANIFEST
        ));
        // OCI index without mediaType.
        let i = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,
            "platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            d(3)
        );
        assert!(
            matches!(parse(None, i.as_bytes()).unwrap(), Parsed::Index(_, t) if t == OCI_INDEX)
        );
    }

    #[test]
    fn unknown_media_types_are_refused() {
        let err = parse(
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            b"{}",
        )
        .unwrap_err();
        assert!(matches!(err, ManifestError::UnsupportedMediaType(_)));
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("v1+prettyjws"));
        assert!(matches!(
            parse(None, br#"{"schemaVersion":1,"name":"x"}"#),
            Err(ManifestError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            parse(Some(OCI_MANIFEST), b"not json"),
            Err(ManifestError::Parse { .. })
        ));
    }

    #[test]
    fn platform_parse_and_display() {
        let p: Platform = "linux/arm/v7".parse().unwrap();
        assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "arm"));
        assert_eq!(p.variant.as_deref(), Some("v7"));
        assert_eq!(p.to_string(), "linux/arm/v7");
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        assert_eq!(Platform::host().os, "linux");
    }

    #[test]
    fn select_platform() {
        let idx = Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_owned()),
            manifests: vec![
                entry(1, "linux/arm/v6"),
                entry(2, "linux/arm/v7"),
                entry(3, "linux/amd64"),
                entry(4, "linux/arm64/v8"),
                entry(5, "unknown/unknown"),
            ],
            annotations: BTreeMap::new(),
        };
        let pick = |s: &str| idx.select(&s.parse().unwrap()).map(|e| e.digest.clone());
        assert_eq!(pick("linux/amd64").unwrap(), d(3));
        assert_eq!(pick("linux/x86_64").unwrap(), d(3));
        assert_eq!(pick("linux/arm/v7").unwrap(), d(2));
        assert_eq!(pick("linux/arm64").unwrap(), d(4));
        assert_eq!(pick("linux/aarch64").unwrap(), d(4));
        let err = pick("linux/s390x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("linux/amd64"), "{err}");
        assert!(idx.select(&Platform::host()).is_ok() || Platform::host().architecture != "amd64");
    }
}
