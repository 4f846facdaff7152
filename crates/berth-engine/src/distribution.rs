//! Images in and out of the engine: pull and push through `berth-image`'s registry
//! client, save and load through its archive code, and the login check. The engine adds
//! what docker adds around them: docker's reference rules (`fromImage` + `tag`, a digest
//! given as the tag), docker's wording of a refused pull, events, and streaming an
//! archive in and out through channels so the daemon never holds one in memory.
//!
//! The registry client is the caller's ([`RegistryClient`]): its settings (insecure
//! registries) are the daemon's, not the engine's.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use berth_image::archive::ArchiveError;
use berth_image::manifest::Platform;
use berth_image::reference::ReferenceError;
pub use berth_image::registry::{
    Client as RegistryClient, ClientOptions, Credentials, Progress, ProgressFn, ProgressStatus,
    PullOptions, PullResult, PushOptions, RegistryError, Session,
};
use berth_image::{Digest, Reference};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::{EngineError, Kind, full_message};
use crate::images::ChannelReader;
use crate::table::Engine;

/// Why a pull, push, save, load or login failed.
#[derive(Debug, thiserror::Error)]
pub enum DistributionError {
    /// The reference does not parse (docker's `invalid reference format...`).
    #[error("{0}")]
    Reference(#[source] ReferenceError),
    /// `--platform` does not parse.
    #[error("invalid platform {0:?}: expected os/arch[/variant]")]
    Platform(String),
    /// The registry refused access to the repository.
    #[error(
        "pull access denied for {name}, repository does not exist or may require 'docker login'"
    )]
    PullDenied {
        /// The familiar repository name.
        name: String,
        /// The registry's answer.
        #[source]
        source: RegistryError,
    },
    /// Push of an image that is not here.
    #[error("An image does not exist locally with the tag: {0}")]
    NoLocalImage(String),
    /// Login refused by a token realm: docker's 401 (`Get "BASE/v2/": unauthorized: ...`).
    /// A basic-auth registry's refusal is moby's unknown error (a 500),
    /// [`RegistryError::LoginRefused`] as [`DistributionError::Registry`].
    #[error("{source}")]
    LoginFailed {
        /// The registry.
        server: String,
        /// The registry's answer.
        #[source]
        source: RegistryError,
    },
    /// The registry failed or could not be reached.
    #[error("{}", full_message(.0))]
    Registry(#[source] RegistryError),
    /// The archive is unusable or could not be written.
    #[error("{}", full_message(.0))]
    Archive(#[source] ArchiveError),
    /// The engine (image store) failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A background task died.
    #[error("background task: {0}")]
    Task(String),
}

impl DistributionError {
    /// The error's kind, for the status code.
    pub fn kind(&self) -> Kind {
        use DistributionError as E;
        let image = |k: berth_image::ErrorKind| match k {
            berth_image::ErrorKind::NotFound => Kind::NotFound,
            berth_image::ErrorKind::Conflict => Kind::Conflict,
            berth_image::ErrorKind::InvalidArgument => Kind::InvalidArgument,
            berth_image::ErrorKind::Internal => Kind::Internal,
        };
        match self {
            E::Reference(_) | E::Platform(_) => Kind::InvalidArgument,
            E::PullDenied { .. } | E::NoLocalImage(_) => Kind::NotFound,
            E::LoginFailed { .. } => Kind::InvalidArgument,
            // A registry that is down is docker's 500 with the cause.
            E::Registry(e) if e.is_unavailable() => Kind::Internal,
            E::Registry(e) => image(e.kind()),
            E::Archive(e) => image(e.kind()),
            E::Engine(e) => e.kind(),
            E::Task(_) => Kind::Internal,
        }
    }

    /// The message the client prints, with its causes.
    pub fn message(&self) -> String {
        match self {
            DistributionError::Engine(e) => e.message(),
            // Their own text is already the whole chain: walking the sources again would
            // repeat it (`write partial blob X: ...: write partial blob X: ...`).
            DistributionError::Registry(_) | DistributionError::Archive(_) => self.to_string(),
            other => full_message(other),
        }
    }
}

/// docker's `fromImage` + `tag` (a digest may come as the tag) as one reference.
pub fn pull_reference(name: &str, tag: Option<&str>) -> Result<Reference, DistributionError> {
    let joined = match tag.filter(|t| !t.is_empty()) {
        Some(t) if t.contains(':') => format!("{name}@{t}"),
        Some(t) => format!("{name}:{t}"),
        None => name.to_owned(),
    };
    Reference::parse_normalized(&joined)
        .map(Reference::with_default_tag)
        .map_err(DistributionError::Reference)
}

/// The registry host of a `serveraddress` (`https://index.docker.io/v1/` → `docker.io`).
pub fn registry_host(server: &str) -> String {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = s.split('/').next().unwrap_or(s);
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        h => h.to_owned(),
    }
}

/// A refused pull as moby reports it: 404 `pull access denied for X, repository does not
/// exist or may require 'docker login': <the registry's error>`; except no credentials
/// for a basic-auth registry, which moby passes through as it is (a 500, `Get "URL": no
/// basic auth credentials`).
fn registry_err(e: RegistryError, name: &Reference) -> DistributionError {
    match e {
        RegistryError::NoBasicAuthCredentials { .. } => DistributionError::Registry(e),
        e if e.is_unauthorized() => DistributionError::PullDenied {
            name: name.familiar_name(),
            source: e,
        },
        e => DistributionError::Registry(e),
    }
}

/// A writer into a channel of chunks (the response body of a save).
pub(crate) struct ChannelWriter {
    pub(crate) tx: mpsc::Sender<io::Result<Bytes>>,
    pub(crate) buf: Vec<u8>,
}

pub(crate) const CHUNK: usize = 256 * 1024;

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Engine {
    /// The `RepoDigests` of an image in docker's familiar form (`busybox@sha256:...`).
    pub(crate) fn repo_digests(&self, id: &Digest) -> Vec<String> {
        self.inner
            .images
            .repo_digests(id)
            .into_iter()
            .map(|d| Reference::parse(&d).map_or(d, |r| r.familiar()))
            .collect()
    }

    /// `POST /images/create?fromImage=`: pulls `reference` (see [`pull_reference`]),
    /// reporting progress to `progress`, and emits docker's `pull` event.
    pub async fn image_pull(
        &self,
        client: &RegistryClient,
        reference: &Reference,
        platform: Option<&str>,
        credentials: Option<Credentials>,
        progress: ProgressFn,
    ) -> Result<PullResult, DistributionError> {
        let platform = match platform.filter(|p| !p.is_empty()) {
            Some(p) => Some(
                p.parse::<Platform>()
                    .map_err(|_| DistributionError::Platform(p.to_owned()))?,
            ),
            None => None,
        };
        let opts = PullOptions {
            platform,
            credentials,
            ..PullOptions::default()
        };
        let res = client
            .pull(self.inner.images.clone(), reference, &opts, &progress)
            .await
            .map_err(|e| registry_err(e, reference))?;
        let mut a = BTreeMap::new();
        a.insert("name".to_owned(), reference.familiar_name());
        self.inner
            .events
            .emit("image", "pull", &reference.familiar(), a);
        Ok(res)
    }

    /// The local references `POST /images/{name}/push?tag=` pushes: the one tag, or every
    /// tag of the repository when none is given (as docker does).
    pub fn push_targets(
        &self,
        name: &str,
        tag: Option<&str>,
    ) -> Result<Vec<Reference>, DistributionError> {
        let repo = Reference::parse_normalized(name).map_err(DistributionError::Reference)?;
        if let Some(t) = tag.filter(|t| !t.is_empty()) {
            let r = repo.with_tag(t).map_err(DistributionError::Reference)?;
            self.inner
                .images
                .get(&r.to_string())
                .map_err(|_| DistributionError::NoLocalImage(r.familiar()))?;
            return Ok(vec![r]);
        }
        if repo.tag().is_some() {
            self.inner
                .images
                .get(&repo.to_string())
                .map_err(|_| DistributionError::NoLocalImage(repo.familiar()))?;
            return Ok(vec![repo]);
        }
        let images = self.inner.images.list().map_err(EngineError::from)?;
        let mut refs: Vec<Reference> = images
            .into_iter()
            .flat_map(|i| i.references)
            .filter(|r| r.name() == repo.name() && r.tag().is_some())
            .collect();
        refs.sort();
        if refs.is_empty() {
            return Err(DistributionError::NoLocalImage(repo.familiar()));
        }
        Ok(refs)
    }

    /// Pushes one local reference to its registry; returns the manifest's digest and size.
    pub async fn image_push(
        &self,
        client: &RegistryClient,
        target: &Reference,
        credentials: Option<Credentials>,
        progress: ProgressFn,
    ) -> Result<(Digest, u64), DistributionError> {
        let opts = PushOptions {
            credentials,
            ..PushOptions::default()
        };
        let digest = client
            .push(
                self.inner.images.clone(),
                &target.to_string(),
                target,
                &opts,
                &progress,
            )
            .await
            .map_err(DistributionError::Registry)?;
        let size = self
            .inner
            .images
            .content()
            .size(&digest)
            .map_err(|e| DistributionError::Registry(e.into()))?;
        let mut a = BTreeMap::new();
        a.insert("name".to_owned(), target.familiar_name());
        self.inner
            .events
            .emit("image", "push", &target.familiar(), a);
        Ok((digest, size))
    }

    /// `GET /images/get`: checks every name first (a missing one is a 404 before any byte
    /// is sent), then streams docker's archive from a blocking task.
    pub fn image_save(
        &self,
        names: Vec<String>,
    ) -> Result<mpsc::Receiver<io::Result<Bytes>>, DistributionError> {
        for n in &names {
            self.inner.images.resolve(n).map_err(EngineError::from)?;
        }
        let (tx, rx) = mpsc::channel(4);
        let store = self.inner.images.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            let res = berth_image::archive::save(&store, &names, &mut w)
                .and_then(|()| w.flush().map_err(ArchiveError::Write));
            if let Err(e) = res {
                tracing::warn!("save {names:?}: {}", full_message(&e));
                let _ = tx.blocking_send(Err(io::Error::other(full_message(&e))));
            }
        });
        Ok(rx)
    }

    /// `POST /images/load`: reads an archive from `body`; returns docker's lines
    /// (`Loaded image: busybox:latest`, or `Loaded image ID: sha256:...` when untagged).
    pub async fn image_load(
        &self,
        body: mpsc::Receiver<io::Result<Bytes>>,
    ) -> Result<Vec<String>, DistributionError> {
        let store = self.inner.images.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let reader = ChannelReader {
                rx: body,
                cur: Bytes::new(),
            };
            berth_image::archive::load(&store, reader)
        })
        .await
        .map_err(|e| DistributionError::Task(e.to_string()))?
        .map_err(DistributionError::Archive)?;
        let mut lines = Vec::new();
        for img in loaded {
            if img.tags.is_empty() {
                lines.push(format!("Loaded image ID: {}", img.id));
            }
            for t in &img.tags {
                lines.push(format!("Loaded image: {}", t.familiar()));
            }
            let mut a = BTreeMap::new();
            a.insert("name".to_owned(), img.id.to_string());
            self.inner
                .events
                .emit("image", "load", &img.id.to_string(), a);
        }
        Ok(lines)
    }

    /// The image store, shared with the registry client.
    pub fn image_store(&self) -> Arc<berth_image::store::ImageStore> {
        self.inner.images.clone()
    }
}

/// `POST /auth`: checks credentials against `server` the way `docker login` does.
pub async fn registry_login(
    client: &RegistryClient,
    server: &str,
    credentials: Credentials,
) -> Result<(), DistributionError> {
    let host = registry_host(server);
    Session::login(client, &host, credentials)
        .await
        .map_err(|e| match e {
            RegistryError::Unauthorized { .. } => DistributionError::LoginFailed {
                server: host.clone(),
                source: e,
            },
            e => DistributionError::Registry(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_given_as_tag() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = pull_reference("127.0.0.1:5000/test/busybox", Some(&d)).unwrap();
        assert_eq!(r.digest().map(ToString::to_string), Some(d));
        let r = pull_reference("busybox", Some("1")).unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:1");
        let r = pull_reference("busybox", None).unwrap();
        assert_eq!(r.tag(), Some("latest"));
        assert!(pull_reference("BUSYBOX", None).is_err());
    }

    #[test]
    fn a_registry_error_is_told_once() {
        let e = DistributionError::Registry(RegistryError::Io {
            op: "write partial blob",
            path: "/d/content/partial/ab".into(),
            // ENOSPC
            source: io::Error::from_raw_os_error(28),
        });
        let m = e.message();
        assert_eq!(m.matches("write partial blob").count(), 1, "{m}");
        assert!(m.to_lowercase().contains("no space left on device"), "{m}");
    }

    #[test]
    fn server_address_to_host() {
        assert_eq!(registry_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_host("http://reg.lan:5000/v2/"), "reg.lan:5000");
    }
}
