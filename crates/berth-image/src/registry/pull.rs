//! Pull: manifest (through an index when there is one), config, then the layers,
//! downloaded concurrently into resumable partial files and unpacked in order as they
//! arrive.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::sync::Arc;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::Semaphore;

use super::progress::{ProgressStatus as S, emit};
use super::session::check;
use super::{Client, Credentials, ProgressFn, RegistryError, Session};
use crate::config::ImageConfig;
use crate::content::ContentStore;
use crate::digest::{Digest, Hasher};
use crate::manifest::{self, Descriptor, Parsed, Platform};
use crate::reference::Reference;
use crate::store::{ImageStore, PreparedBlobLayer, chain_ids};

/// Pull settings.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to pick from an index (the host's when `None`).
    pub platform: Option<Platform>,
    /// Layers downloaded at once (docker's default is 3).
    pub concurrency: usize,
    /// Credentials; the client's docker `config.json` is used when `None`.
    pub credentials: Option<Credentials>,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            platform: None,
            concurrency: 3,
            credentials: None,
        }
    }
}

/// What a pull produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullResult {
    /// The image ID (config digest).
    pub id: Digest,
    /// The digest of the platform manifest.
    pub manifest_digest: Digest,
    /// The digest the reference resolved to (the index's when there was one): docker's
    /// `RepoDigests` entry and the `Digest:` line.
    pub digest: Digest,
    /// False when the image was already complete locally.
    pub downloaded: bool,
}

/// Bytes between two `Downloading` events.
const PROGRESS_STEP: u64 = 512 * 1024;

impl Client {
    /// A pull session on the endpoint `base` and the manifest `target` from it. `Pulling
    /// from` is announced once a session is open (dockerd's order), and once only: a mirror
    /// passed over does not announce it again.
    async fn open_manifest(
        &self,
        base: String,
        reference: &Reference,
        target: &str,
        opts: &PullOptions,
        progress: &ProgressFn,
        announced: &mut bool,
    ) -> Result<(Session, (Vec<u8>, Option<String>, Digest)), RegistryError> {
        let session = Session::open_at(
            self,
            base,
            reference.domain(),
            reference.path(),
            false,
            opts.credentials.clone(),
            &[],
        )
        .await?;
        if !std::mem::replace(announced, true) {
            emit(
                progress,
                reference.tag().unwrap_or(target),
                S::Message(format!("Pulling from {}", reference.familiar_name())),
            );
        }
        let manifest = session.get_manifest(target, &reference.familiar()).await?;
        Ok((session, manifest))
    }

    /// Pulls `reference` into `store`, tagging it when the reference has a tag. Every
    /// blob is verified against its digest before use; a failed pull leaves only
    /// resumable partial files (outside the content store's blob directory), verified
    /// blobs and complete layers.
    pub async fn pull(
        &self,
        store: Arc<ImageStore>,
        reference: &Reference,
        opts: &PullOptions,
        progress: &ProgressFn,
    ) -> Result<PullResult, RegistryError> {
        let reference = reference.clone().with_default_tag();
        let target = match (reference.digest(), reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        let display = reference.familiar();
        // Docker Hub's mirrors first, as dockerd: a mirror that fails or lacks the image is
        // passed over (logged), the registry itself is the last word.
        let mut found = None;
        let mut announced = false;
        for base in self.mirrors(reference.domain()) {
            match self
                .open_manifest(
                    base.clone(),
                    &reference,
                    &target,
                    opts,
                    progress,
                    &mut announced,
                )
                .await
            {
                Ok(got) => {
                    found = Some(got);
                    break;
                }
                Err(e) => {
                    tracing::info!("pull {} from the mirror {base}: {e}", reference.familiar())
                }
            }
        }
        let (session, (body, ct, top_digest)) = match found {
            Some(got) => got,
            None => {
                let base = self.base_url(reference.domain());
                self.open_manifest(base, &reference, &target, opts, progress, &mut announced)
                    .await?
            }
        };
        let content = store.content().clone();
        let (man, man_bytes, man_digest) = match manifest::parse(ct.as_deref(), &body)? {
            Parsed::Manifest(m, _) => (*m, body, top_digest.clone()),
            Parsed::Index(idx, _) => {
                content.write_bytes(&body)?;
                let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
                let entry = idx.select(&wanted)?;
                let (b, ct, d) = session
                    .get_manifest(&entry.digest.to_string(), &display)
                    .await?;
                match manifest::parse(ct.as_deref(), &b)? {
                    Parsed::Manifest(m, _) => (*m, b, d),
                    Parsed::Index(_, mt) => {
                        return Err(manifest::ManifestError::UnsupportedMediaType(format!(
                            "{mt} nested in an index"
                        ))
                        .into());
                    }
                }
            }
        };
        content.write_bytes(&man_bytes)?;
        let session = Arc::new(session);
        // The config: small, fetched whole and verified.
        let config_bytes = fetch_blob(&session, &content, &man.config, None).await?;
        let cfg_err = |message: String| RegistryError::Config {
            digest: man.config.digest.clone(),
            message,
        };
        let config = ImageConfig::from_slice(&config_bytes).map_err(|e| cfg_err(e.to_string()))?;
        if config.rootfs.diff_ids.len() != man.layers.len() {
            return Err(cfg_err(format!(
                "{} diff IDs for {} layers",
                config.rootfs.diff_ids.len(),
                man.layers.len()
            )));
        }
        if let Some(l) = man
            .layers
            .iter()
            .find(|l| !manifest::is_layer_media_type(&l.media_type))
        {
            return Err(manifest::ManifestError::UnsupportedMediaType(l.media_type.clone()).into());
        }
        let chains = chain_ids(&config.rootfs.diff_ids);
        let present: Vec<bool> = chains
            .iter()
            .map(|c| store.layer_path(c).is_dir())
            .collect();
        let already =
            present.iter().all(|p| *p) && store.resolve(&man.config.digest.to_string()).is_ok();
        // Start every missing layer's download (bounded), then unpack in order.
        let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
        // A layer's unpacked content does not depend on its parent, so layers are unpacked
        // as soon as they arrive, one per core, and committed in order below.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let unpack = Arc::new(Semaphore::new(cores));
        let mut tasks = Vec::with_capacity(man.layers.len());
        for (layer, have) in man.layers.iter().zip(&present) {
            let id = layer.digest.short().to_owned();
            if *have {
                emit(progress, &id, S::AlreadyExists);
                tasks.push(None);
                continue;
            }
            emit(progress, &id, S::PullingFsLayer);
            let (session, store, sem, unpack, progress, layer) = (
                session.clone(),
                store.clone(),
                sem.clone(),
                unpack.clone(),
                progress.clone(),
                layer.clone(),
            );
            tasks.push(Some(tokio::spawn(async move {
                let content = store.content().clone();
                {
                    let _permit = sem
                        .acquire()
                        .await
                        .map_err(|e| RegistryError::Task(e.to_string()))?;
                    fetch_blob(&session, &content, &layer, Some(&progress)).await?;
                }
                let _permit = unpack
                    .acquire()
                    .await
                    .map_err(|e| RegistryError::Task(e.to_string()))?;
                emit(
                    &progress,
                    &id,
                    S::Extracting {
                        current: 0,
                        total: layer.size,
                    },
                );
                let blob = layer.digest.clone();
                let prepared =
                    tokio::task::spawn_blocking(move || store.prepare_layer_from_blob(&blob))
                        .await
                        .map_err(|e| RegistryError::Task(e.to_string()))??;
                emit(
                    &progress,
                    &id,
                    S::Extracting {
                        current: layer.size,
                        total: layer.size,
                    },
                );
                Ok(prepared)
            })));
        }
        let aborts: Vec<_> = tasks.iter().flatten().map(|t| t.abort_handle()).collect();
        let result = unpack_in_order(
            &store,
            &man.layers,
            &config.rootfs.diff_ids,
            tasks,
            progress,
        )
        .await;
        if result.is_err() {
            for a in aborts {
                a.abort();
            }
        }
        result?;
        let id = {
            let store = store.clone();
            let cfg = config_bytes.clone();
            tokio::task::spawn_blocking(move || store.add_image(&cfg))
                .await
                .map_err(|e| RegistryError::Task(e.to_string()))??
        };
        if reference.tag().is_some() {
            store.tag(&id.to_string(), &reference)?;
        }
        store.add_repo_digest(&id, &reference.name(), &top_digest)?;
        emit(progress, "", S::Message(format!("Digest: {top_digest}")));
        emit(
            progress,
            "",
            S::Message(if already {
                format!("Status: Image is up to date for {display}")
            } else {
                format!("Status: Downloaded newer image for {display}")
            }),
        );
        Ok(PullResult {
            id,
            manifest_digest: man_digest,
            digest: top_digest,
            downloaded: !already,
        })
    }
}

type Task = Option<tokio::task::JoinHandle<Result<PreparedBlobLayer, RegistryError>>>;

async fn unpack_in_order(
    store: &Arc<ImageStore>,
    layers: &[Descriptor],
    diff_ids: &[Digest],
    tasks: Vec<Task>,
    progress: &ProgressFn,
) -> Result<(), RegistryError> {
    let mut parent: Option<Digest> = None;
    for ((layer, diff_id), task) in layers.iter().zip(diff_ids).zip(tasks) {
        let chain = crate::store::chain_id(parent.as_ref(), diff_id);
        if let Some(t) = task {
            let prepared = t.await.map_err(|e| RegistryError::Task(e.to_string()))??;
            let (store, p, d) = (store.clone(), parent.clone(), diff_id.clone());
            tokio::task::spawn_blocking(move || {
                store.commit_layer_from_blob(p.as_ref(), prepared, Some(&d))
            })
            .await
            .map_err(|e| RegistryError::Task(e.to_string()))??;
            emit(progress, layer.digest.short(), S::PullComplete);
        }
        parent = Some(chain);
    }
    Ok(())
}

/// Fetches a blob into the content store (unless already there), resuming a partial
/// download with a `Range` request; returns its bytes only for small blobs (the config).
/// The digest is checked before the blob is stored under it; a mismatch deletes the
/// partial file.
pub(super) async fn fetch_blob(
    session: &Session,
    content: &ContentStore,
    desc: &Descriptor,
    progress: Option<&ProgressFn>,
) -> Result<Vec<u8>, RegistryError> {
    let digest = &desc.digest;
    let id = digest.short().to_owned();
    let small = progress.is_none();
    if content.exists(digest) {
        if let Some(p) = progress {
            emit(p, &id, S::DownloadComplete);
        }
        return if small {
            Ok(content.read(digest)?)
        } else {
            Ok(Vec::new())
        };
    }
    let path = content.partial_path(digest);
    let ioerr = |op, source| RegistryError::Io {
        op,
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| ioerr("create partial directory", e))?;
    }
    // Hash what an earlier attempt left, then ask for the rest.
    let mut hasher = Hasher::new();
    let mut have = 0u64;
    if let Ok(mut f) = File::open(&path) {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| ioerr("read partial blob", e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            have += n as u64;
        }
    }
    if have > desc.size {
        have = 0;
        hasher = Hasher::new();
    }
    let url = session.url(&format!("blobs/{digest}"));
    let mut h = HeaderMap::new();
    if have > 0
        && have < desc.size
        && let Ok(v) = HeaderValue::from_str(&format!("bytes={have}-"))
    {
        h.insert(header::RANGE, v);
    }
    let resp = if have == desc.size && have > 0 {
        None
    } else {
        let r = session.send(Method::GET, &url, &h, None).await?;
        if r.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            have = 0;
            hasher = Hasher::new();
            Some(
                check(
                    session
                        .send(Method::GET, &url, &HeaderMap::new(), None)
                        .await?,
                    "GET",
                    &url,
                )
                .await?,
            )
        } else {
            Some(check(r, "GET", &url).await?)
        }
    };
    let mut file = if let Some(r) = &resp
        && r.status() == StatusCode::PARTIAL_CONTENT
    {
        OpenOptions::new().append(true).open(&path)
    } else if resp.is_some() {
        have = 0;
        hasher = Hasher::new();
        File::create(&path)
    } else {
        OpenOptions::new().append(true).open(&path)
    }
    .map_err(|e| ioerr("open partial blob", e))?;
    let mut last = 0u64;
    if let Some(mut r) = resp {
        loop {
            let chunk = r.chunk().await.map_err(|source| RegistryError::Http {
                method: "GET".into(),
                url: url.clone(),
                source,
            })?;
            let Some(chunk) = chunk else { break };
            have += chunk.len() as u64;
            if have > desc.size {
                drop(file);
                let _ = fs::remove_file(&path);
                return Err(RegistryError::SizeMismatch {
                    digest: digest.clone(),
                    expected: desc.size,
                    actual: have,
                });
            }
            hasher.update(&chunk);
            if let Err(e) = file.write_all(&chunk) {
                // A full disk: the partial download would keep it full, so it goes
                // (resuming needs the space anyway); any other failure keeps it.
                if disk_full(&e) {
                    drop(file);
                    let _ = fs::remove_file(&path);
                }
                return Err(ioerr("write partial blob", e));
            }
            if let Some(p) = progress
                && (have - last >= PROGRESS_STEP || have == desc.size)
            {
                last = have;
                emit(
                    p,
                    &id,
                    S::Downloading {
                        current: have,
                        total: desc.size,
                    },
                );
            }
        }
    }
    drop(file);
    if let Some(p) = progress {
        emit(p, &id, S::VerifyingChecksum);
    }
    let actual = hasher.finish();
    if actual != *digest || have != desc.size {
        let _ = fs::remove_file(&path);
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        return Err(RegistryError::SizeMismatch {
            digest: digest.clone(),
            expected: desc.size,
            actual: have,
        });
    }
    content.commit_partial(digest)?;
    if let Some(p) = progress {
        emit(p, &id, S::DownloadComplete);
    }
    if small {
        Ok(content.read(digest)?)
    } else {
        Ok(Vec::new())
    }
}

/// ENOSPC or EDQUOT: the filesystem (or the user's quota) has no room left.
pub(super) fn disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded
}

#[cfg(test)]
mod tests {
    use super::disk_full;

    #[test]
    fn enospc_and_edquot_are_a_full_disk() {
        // ENOSPC, EDQUOT (Linux numbers).
        for errno in [28, 122] {
            assert!(
                disk_full(&std::io::Error::from_raw_os_error(errno)),
                "{errno}"
            );
        }
        assert!(!disk_full(&std::io::Error::from_raw_os_error(5)));
    }
}
