//! A client for the OCI distribution spec: pull and push images to any registry.
//!
//! Why our own client on reqwest rather than oci-client 0.18: pull must resume a partial
//! download with a `Range` request from a temp file kept outside the content store, hash
//! while it streams, report per-layer progress, and hand each verified layer to the image
//! store (by chain ID, in order) while later layers still download; oci-client pulls into
//! memory or an `AsyncWrite` without resume or progress and would duplicate our digest,
//! manifest and store types. What remains is a few hundred lines: the auth dance,
//! manifests, blobs, uploads. reqwest is built with rustls on `ring` (no OpenSSL, no
//! aws-lc C build) and without HTTP/2 or proxies to keep the build small.
//!
//! Flow: a [`Session`] per operation probes `GET /v2/`, answers a `Basic` challenge with
//! the credentials or a `Bearer` one with a token from the realm (scope
//! `repository:<name>:pull[,push]`), and retries once on a later 401. Plain HTTP is used
//! only for `localhost`, `127.0.0.1`, `[::1]` and hosts in [`ClientOptions::insecure_registries`].

pub mod auth;
pub mod credhelper;
mod progress;
mod pull;
mod push;
mod session;

use std::io;
use std::path::PathBuf;

pub use auth::Credentials;
pub use progress::{Progress, ProgressFn, ProgressStatus};
pub use pull::{PullOptions, PullResult};
pub use push::PushOptions;
pub use session::Session;

use crate::ErrorKind;
use crate::content::ContentError;
use crate::digest::Digest;
use crate::manifest::ManifestError;
use crate::store::StoreError;

/// Registry client errors.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached or the connection broke.
    #[error("{method} {url}")]
    Http {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with an error status.
    #[error("{method} {url}: {status}: {message}")]
    Status {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error message (or body excerpt).
        message: String,
    },
    /// The registry asks for basic auth and there are no credentials (docker's words:
    /// `Get "URL": no basic auth credentials`).
    #[error("{method} \"{url}\": no basic auth credentials")]
    NoBasicAuthCredentials {
        /// The method, as Go writes it (`Get`, `Head`, `Post`).
        method: String,
        /// The URL.
        url: String,
    },
    /// Credentials are missing or refused: the registry's own error in docker's form
    /// (`unauthorized: authentication required`, `denied: requested access to the resource
    /// is denied`).
    #[error("{message}")]
    Unauthorized {
        /// The registry.
        host: String,
        /// The registry's error.
        message: String,
    },
    /// `docker login`: `/v2/` still answers an error status with the credentials (docker's
    /// words: `login attempt to URL failed with status: 401 Unauthorized`).
    #[error("login attempt to {url} failed with status: {status} {reason}")]
    LoginRefused {
        /// `BASE/v2/`.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The manifest or repository does not exist.
    #[error("manifest for {0} not found: manifest unknown")]
    ManifestNotFound(String),
    /// The manifest or index is unusable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A blob's bytes do not hash to its digest.
    #[error("blob digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest asked for.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// A blob is larger or smaller than its descriptor says.
    #[error("blob {digest}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
        /// The bytes received.
        actual: u64,
    },
    /// The registry broke the protocol (missing Location, bad token JSON, ...).
    #[error("registry {host}: {message}")]
    Protocol {
        /// The registry.
        host: String,
        /// What was wrong.
        message: String,
    },
    /// A local file (partial download, upload source) failed.
    #[error("{op} {path}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The content store failed.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// The image store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The image config does not parse or does not fit the manifest.
    #[error("invalid image config {digest}: {message}")]
    Config {
        /// The config blob.
        digest: Digest,
        /// What was wrong.
        message: String,
    },
    /// An image to push has a layer whose blob was not kept.
    #[error("layer {0} of the image has no stored blob to push")]
    MissingLayerBlob(Digest),
    /// A background task died.
    #[error("pull task failed: {0}")]
    Task(String),
}

impl RegistryError {
    /// The error's category, as docker reports it: a missing or inaccessible image is a
    /// 404, a registry that is down or broken a 500.
    pub fn kind(&self) -> ErrorKind {
        use RegistryError as E;
        match self {
            E::ManifestNotFound(_) | E::Unauthorized { .. } => ErrorKind::NotFound,
            E::Status { status: 404, .. } => ErrorKind::NotFound,
            E::Status {
                status: 400..=499, ..
            } => ErrorKind::InvalidArgument,
            E::Manifest(e) => e.kind(),
            E::Store(e) => e.kind(),
            E::Content(e) => e.kind(),
            E::MissingLayerBlob(_) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        }
    }

    /// True when the registry refused access: no credentials, wrong ones, or not allowed.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            RegistryError::Unauthorized { .. }
                | RegistryError::NoBasicAuthCredentials { .. }
                | RegistryError::LoginRefused { .. }
                | RegistryError::Status {
                    status: 401 | 403,
                    ..
                }
        )
    }

    /// True when the registry could not be reached or failed (not the request's fault).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            RegistryError::Http { .. }
                | RegistryError::Status {
                    status: 500..=599,
                    ..
                }
        )
    }
}

/// Client-wide settings.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Hosts (`host[:port]`) talked to over plain HTTP besides localhost.
    pub insecure_registries: Vec<String>,
    /// A docker `config.json` to read credentials from when none are given.
    pub docker_config: Option<PathBuf>,
    /// Mirrors of Docker Hub (`registry-mirrors`: `https://host[:port]`, or `http://` for a
    /// plain one), tried in order before `registry-1.docker.io` for `docker.io` pulls.
    pub registry_mirrors: Vec<String>,
}

/// A registry client; cheap to clone, shares one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    options: ClientOptions,
}

impl Client {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        // reqwest is built without a default crypto provider; install ring once. An
        // already-installed provider (ours or the embedding program's) is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            // A registry that stops sending fails the pull instead of hanging it; the
            // partial download is kept and resumed by the next pull.
            .read_timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|source| RegistryError::Http {
                method: "build".into(),
                url: "client".into(),
                source,
            })?;
        Ok(Self { http, options })
    }

    /// The scheme and authority for a reference's domain (`docker.io` is served by
    /// `registry-1.docker.io`).
    pub fn base_url(&self, domain: &str) -> String {
        let host = match domain {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            d => d,
        };
        let bare = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let local = matches!(bare, "localhost" | "127.0.0.1" | "[::1]" | "::1");
        let insecure = self
            .options
            .insecure_registries
            .iter()
            .any(|r| r == host || r == bare);
        let scheme = if local || insecure { "http" } else { "https" };
        format!("{scheme}://{host}")
    }

    /// The mirrors a pull from `domain` tries before the registry itself: Docker Hub's
    /// `registry-mirrors` for `docker.io`, none for any other registry (scheme and authority,
    /// as [`Client::base_url`]).
    pub fn mirrors(&self, domain: &str) -> Vec<String> {
        if !matches!(domain, "docker.io" | "index.docker.io") {
            return Vec::new();
        }
        self.options
            .registry_mirrors
            .iter()
            .map(|m| {
                let m = m.trim_end_matches('/');
                if m.starts_with("http://") || m.starts_with("https://") {
                    m.to_owned()
                } else {
                    format!("https://{m}")
                }
            })
            .collect()
    }

    /// Credentials for a registry host from the configured docker `config.json`.
    pub fn stored_credentials(&self, domain: &str) -> Option<Credentials> {
        let path = self.options.docker_config.as_ref()?;
        auth::load_credentials(path, domain).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_local_and_insecure() {
        let c = Client::new(ClientOptions {
            registry_mirrors: vec!["http://127.0.0.1:5999/".into(), "mirror.example".into()],
            insecure_registries: vec!["reg.lan:5000".into(), "other.lan".into()],
            docker_config: None,
        })
        .unwrap();
        assert_eq!(c.base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(c.base_url("localhost"), "http://localhost");
        assert_eq!(c.base_url("reg.lan:5000"), "http://reg.lan:5000");
        assert_eq!(c.base_url("other.lan:443"), "http://other.lan:443");
        assert_eq!(c.base_url("reg.lan"), "https://reg.lan");
        assert_eq!(
            c.mirrors("docker.io"),
            ["http://127.0.0.1:5999", "https://mirror.example"]
        );
        assert!(c.mirrors("quay.io").is_empty());
        assert_eq!(c.base_url("docker.io"), "https://registry-1.docker.io");
        assert_eq!(c.base_url("quay.io"), "https://quay.io");
    }

    /// The daemon spawns pulls and pushes on tokio: their futures must be `Send`.
    #[allow(dead_code)]
    fn futures_are_send(
        c: &Client,
        s: std::sync::Arc<crate::store::ImageStore>,
        r: &crate::Reference,
        p: &ProgressFn,
    ) {
        fn send<T: Send>(_: T) {}
        send(c.pull(s.clone(), r, &PullOptions::default(), p));
        send(c.push(s, "x", r, &PushOptions::default(), p));
        send(Session::login(
            c,
            "h",
            Credentials {
                username: String::new(),
                password: String::new(),
            },
        ));
    }

    #[test]
    fn error_kinds() {
        let s = |status| RegistryError::Status {
            method: "GET".into(),
            url: "u".into(),
            status,
            message: String::new(),
        };
        assert_eq!(s(404).kind(), ErrorKind::NotFound);
        assert_eq!(s(500).kind(), ErrorKind::Internal);
        assert!(s(503).is_unavailable());
        assert!(s(401).is_unauthorized());
        assert_eq!(
            RegistryError::ManifestNotFound("x".into()).kind(),
            ErrorKind::NotFound
        );
    }
}
