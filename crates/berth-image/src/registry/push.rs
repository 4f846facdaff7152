//! Push: each layer blob (skipped when the registry has it, mounted from another
//! repository when offered, else uploaded monolithically or in chunks), the config, then
//! an OCI manifest under the tag.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use super::progress::{ProgressStatus as S, emit};
use super::session::check;
use super::{Client, Credentials, ProgressFn, RegistryError, Session};
use crate::content::ContentStore;
use crate::digest::Digest;
use crate::manifest::{self, Descriptor, Manifest};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Push settings.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size.
    pub chunk_size: usize,
    /// Repositories on the same registry to offer as cross-repository mount sources.
    pub mount_from: Vec<String>,
    /// Credentials; the client's docker `config.json` is used when `None`.
    pub credentials: Option<Credentials>,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            chunk_size: 16 << 20,
            mount_from: Vec::new(),
            credentials: None,
        }
    }
}

impl Client {
    /// Pushes the local image `image` (reference or ID) as `target`; returns the manifest
    /// digest.
    pub async fn push(
        &self,
        store: Arc<ImageStore>,
        image: &str,
        target: &Reference,
        opts: &PushOptions,
        progress: &ProgressFn,
    ) -> Result<Digest, RegistryError> {
        let target = target.clone().with_default_tag();
        let img = store.get(image)?;
        let mut layers = Vec::with_capacity(img.config.rootfs.diff_ids.len());
        for d in &img.config.rootfs.diff_ids {
            let lb = store
                .layer_blob(d)
                .ok_or_else(|| RegistryError::MissingLayerBlob(d.clone()))?;
            layers.push(Descriptor::new(&lb.media_type, lb.digest, lb.size));
        }
        emit(
            progress,
            "",
            S::Message(format!("The push refers to repository [{}]", target.name())),
        );
        let session = Session::open(
            self,
            target.domain(),
            target.path(),
            true,
            opts.credentials.clone(),
            &opts.mount_from,
        )
        .await?;
        let content = store.content().clone();
        for l in &layers {
            emit(progress, l.digest.short(), S::Preparing);
        }
        for l in &layers {
            push_blob(&session, &content, l, opts, Some(progress)).await?;
        }
        let config_blob = content.read(&img.id)?;
        let config = Descriptor::new(
            manifest::OCI_CONFIG,
            img.id.clone(),
            config_blob.len() as u64,
        );
        push_blob(&session, &content, &config, opts, None).await?;
        let man = Manifest {
            schema_version: 2,
            media_type: Some(manifest::OCI_MANIFEST.to_owned()),
            config,
            layers,
            annotations: Default::default(),
        };
        let body = serde_json::to_vec(&man).map_err(|e| RegistryError::Protocol {
            host: session.host().to_owned(),
            message: e.to_string(),
        })?;
        let digest = Digest::of(&body);
        content.write_bytes(&body)?;
        let tag = target.tag().unwrap_or("latest");
        let url = session.url(&format!("manifests/{tag}"));
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(manifest::OCI_MANIFEST),
        );
        let resp = session
            .send(Method::PUT, &url, &h, Some(Bytes::from(body.clone())))
            .await?;
        check(resp, "PUT", &url).await?;
        store.add_repo_digest(&img.id, &target.name(), &digest)?;
        emit(
            progress,
            "",
            S::Message(format!("{tag}: digest: {digest} size: {}", body.len())),
        );
        Ok(digest)
    }
}

/// Uploads one blob unless the registry has it.
async fn push_blob(
    session: &Session,
    content: &ContentStore,
    desc: &Descriptor,
    opts: &PushOptions,
    progress: Option<&ProgressFn>,
) -> Result<(), RegistryError> {
    let id = desc.digest.short().to_owned();
    let say = |s: S| {
        if let Some(p) = progress {
            emit(p, &id, s);
        }
    };
    let url = session.url(&format!("blobs/{}", desc.digest));
    let head = session
        .send(Method::HEAD, &url, &HeaderMap::new(), None)
        .await?;
    if head.status().is_success() {
        say(S::LayerAlreadyExists);
        return Ok(());
    }
    // Offer a mount first; a 201 means done, a 202 starts a normal upload (so only the
    // first source is offered: each refusal opens an upload session).
    let mut location = None;
    if let Some(from) = opts.mount_from.first() {
        let u = session.url(&format!("blobs/uploads/?mount={}&from={from}", desc.digest));
        let r = session
            .send(Method::POST, &u, &HeaderMap::new(), None)
            .await?;
        if r.status() == StatusCode::CREATED {
            say(S::Mounted { from: from.clone() });
            return Ok(());
        }
        let r = check(r, "POST", &u).await?;
        location = Some(take_location(session, &r)?);
    }
    let mut location = match location {
        Some(l) => l,
        None => {
            let u = session.url("blobs/uploads/");
            let r = session
                .send(Method::POST, &u, &HeaderMap::new(), None)
                .await?;
            let r = check(r, "POST", &u).await?;
            take_location(session, &r)?
        }
    };
    let path = content.path(&desc.digest);
    let ioerr = |op, source| RegistryError::Io {
        op,
        path: path.clone(),
        source,
    };
    let mut file = File::open(&path).map_err(|e| ioerr("open blob", e))?;
    let total = desc.size;
    let chunk = opts.chunk_size.max(1) as u64;
    let mut sent = 0u64;
    let read_chunk = |file: &mut File, at: u64, n: u64| -> Result<Bytes, RegistryError> {
        let mut buf = vec![0u8; n as usize];
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| ioerr("read blob", e))?;
        Ok(Bytes::from(buf))
    };
    say(S::Pushing { current: 0, total });
    if total > chunk {
        while sent < total {
            let n = chunk.min(total - sent);
            let body = read_chunk(&mut file, sent, n)?;
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("{}-{}", sent, sent + n - 1)) {
                h.insert(header::CONTENT_RANGE, v);
            }
            let r = session
                .send(Method::PATCH, &location, &h, Some(body))
                .await?;
            let r = check(r, "PATCH", &location).await?;
            location = take_location(session, &r)?;
            sent += n;
            say(S::Pushing {
                current: sent,
                total,
            });
        }
    }
    let body = if sent < total {
        read_chunk(&mut file, 0, total)?
    } else {
        Bytes::new()
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    let put = format!("{location}{sep}digest={}", desc.digest);
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let r = session.send(Method::PUT, &put, &h, Some(body)).await?;
    check(r, "PUT", &put).await?;
    say(S::Pushing {
        current: total,
        total,
    });
    say(S::Pushed);
    Ok(())
}

fn take_location(session: &Session, r: &reqwest::Response) -> Result<String, RegistryError> {
    r.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| session.absolute(l))
        .ok_or_else(|| RegistryError::Protocol {
            host: session.host().to_owned(),
            message: "upload response has no Location".into(),
        })
}
