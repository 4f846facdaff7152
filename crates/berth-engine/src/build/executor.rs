//! The engine's [`Executor`]: every RUN an ordinary berth container (default security
//! profile, the build's resource limits), COPY/ADD through `archive_put` into a created
//! container, commits from the container's upper directory with the builder's config and
//! one history entry, a cache index of `key → image` files under `DATA_ROOT/build/cache`.
//!
//! The builder loop is synchronous; it runs on a blocking thread and each engine call is
//! driven with the runtime's `Handle::block_on`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use berth_api::container::{ContainerConfig, ContainerCreateBody, HostConfig, MountSpec};
use berth_build::executor::{BaseImage, CacheKey, CopySource, CopyStep, ImageConfig, RunStep};
use berth_build::instructions::{Mount, MountType, NetworkMode};
use berth_build::{Executor, Platform};
use berth_image::config::History;
use bytes::Bytes;
use sha2::Digest as _;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::config::{from_store, to_store};
use super::copy::{ContextCopy, Overrides, TarOut, context_tar, inline_tar};
use crate::archive::PutOptions;
use crate::error::{EngineError, Result};
use crate::table::Engine;
use crate::{AttachOptions, WaitCondition};

/// Pulls an image for `FROM` (berthd owns the registry client); progress as text.
pub type Puller = Arc<dyn Fn(&str, &mut dyn FnMut(&str)) -> Result<()> + Send + Sync>;

pub(crate) struct EngineExecutor {
    pub engine: Engine,
    pub handle: Handle,
    pub context: PathBuf,
    pub build_dir: PathBuf,
    pub host_config: HostConfig,
    pub pull: bool,
    pub puller: Option<Puller>,
    pub cancel: Arc<AtomicBool>,
    /// Directories made for `#!` heredoc scripts, removed with the build.
    pub scratch_dirs: Vec<PathBuf>,
    /// With `cachefrom`: the only images a cache hit may be (those images and their
    /// parents).
    pub cache_sources: Option<std::collections::HashSet<String>>,
    /// Intermediate containers being removed.
    pub removals: Vec<tokio::task::JoinHandle<Result<()>>>,
}

const GO_DIR: u32 = 1 << 31;

fn invalid(e: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid(e.to_string())
}

fn hex_digest(s: &str) -> String {
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

impl EngineExecutor {
    /// Waits for every intermediate container's removal.
    pub(crate) fn finish_removals(&mut self) {
        for r in std::mem::take(&mut self.removals) {
            if let Err(e) = self.block(r) {
                tracing::warn!("build: a removal task failed: {e}");
            }
        }
    }

    /// `cachefrom`: the named images that exist, and their parents.
    pub(crate) fn set_cache_from(&mut self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let mut set = std::collections::HashSet::new();
        for n in names {
            let mut next = self.engine.inner.images.get(n).ok();
            while let Some(img) = next {
                if !set.insert(img.id.to_string()) {
                    break;
                }
                next = img
                    .parent
                    .and_then(|p| self.engine.inner.images.get(&p.to_string()).ok());
            }
        }
        self.cache_sources = Some(set);
    }

    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    fn cache_file(&self, key: &CacheKey) -> PathBuf {
        let d = key.digest();
        self.build_dir
            .join("cache")
            .join(d.trim_start_matches("sha256:"))
    }

    /// A container from `image` that is never started (COPY targets and sources).
    fn holder(&self, image: &str) -> Result<String> {
        let body = ContainerCreateBody {
            config: ContainerConfig {
                image: image.to_owned(),
                cmd: Some(vec!["#(nop)".into()]),
                entrypoint: Some(Vec::new()),
                ..Default::default()
            },
            host_config: Some(HostConfig {
                network_mode: "none".into(),
                ..Default::default()
            }),
            networking_config: None,
        };
        Ok(self.block(self.engine.create(None, body))?.id)
    }

    fn drop_container(&self, id: &str) {
        if let Err(e) = self.block(self.engine.remove(id, true, true)) {
            tracing::warn!("build: remove container {id}: {e}");
        }
    }

    /// A file of the container (`/etc/passwd`), empty when it has none.
    fn read_in(&self, id: &str, path: &str) -> String {
        let Ok((_, rx)) = self.block(self.engine.archive_get(id, path)) else {
            return String::new();
        };
        let reader = crate::images::ChannelReader {
            rx,
            cur: Bytes::new(),
        };
        let mut a = tar::Archive::new(reader);
        let mut out = String::new();
        if let Ok(mut entries) = a.entries()
            && let Some(Ok(mut e)) = entries.next()
        {
            let _ = std::io::Read::read_to_string(&mut e, &mut out);
        }
        out
    }

    fn is_dir_in(&self, id: &str, path: &str) -> Option<bool> {
        self.block(self.engine.archive_stat(id, path))
            .ok()
            .map(|s| s.mode & GO_DIR != 0)
    }

    /// Feeds what `produce` writes into `archive_put` at the container's root.
    fn put<F>(&self, id: &str, produce: F) -> Result<()>
    where
        F: FnOnce(&mut crate::distribution::ChannelWriter) -> Result<()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(4);
        let producer = std::thread::spawn(move || {
            let mut w = crate::distribution::ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(crate::distribution::CHUNK),
            };
            let r = produce(&mut w).and_then(|()| {
                std::io::Write::flush(&mut w).map_err(|e| EngineError::io("write", "copy", e))
            });
            if let Err(e) = &r {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            r
        });
        let opts = PutOptions {
            no_overwrite_dir_non_dir: false,
            copy_uid_gid: true,
        };
        let put = self.block(self.engine.archive_put(id, "/", rx, opts));
        let produced = producer
            .join()
            .map_err(|_| EngineError::Task("the copy thread panicked".into()))?;
        produced?;
        put
    }

    fn resolve_local(&self, reference: &str) -> Result<BaseImage> {
        let img = self.engine.inner.images.get(reference)?;
        let mut config = from_store(img.config.config.as_ref());
        config.author = (!img.config.author.is_empty()).then(|| img.config.author.clone());
        Ok(BaseImage {
            id: img.id.to_string(),
            config,
        })
    }

    fn mount_spec(&mut self, m: &Mount) -> Result<MountSpec> {
        let target = m
            .target
            .clone()
            .ok_or_else(|| invalid("mount target is required"))?;
        match m.kind {
            MountType::Cache => {
                let id = m.id.clone().unwrap_or_else(|| target.clone());
                let dir = self.build_dir.join("mounts").join(&hex_digest(&id)[..32]);
                if !dir.is_dir() {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| EngineError::io("create", &dir, e))?;
                    use std::os::unix::fs::PermissionsExt;
                    let mode = m.mode.unwrap_or(0o755);
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
                        .map_err(|e| EngineError::io("chmod", &dir, e))?;
                    std::os::unix::fs::chown(&dir, m.uid.or(Some(0)), m.gid.or(Some(0)))
                        .map_err(|e| EngineError::io("chown", &dir, e))?;
                }
                if m.from.is_some() {
                    return Err(invalid(
                        "RUN --mount=type=cache,from= is not supported by berth's builder",
                    ));
                }
                Ok(MountSpec {
                    target,
                    source: dir.display().to_string(),
                    r#type: "bind".into(),
                    read_only: m.read_only,
                    ..Default::default()
                })
            }
            MountType::Bind => {
                if m.from.is_some() {
                    return Err(invalid(
                        "RUN --mount=type=bind,from= is not supported by berth's builder: bind from the context, or COPY --from the stage",
                    ));
                }
                let rel = berth_build::copy::context_path(m.source.as_deref().unwrap_or("."))
                    .map_err(invalid)?;
                let src = self.context.join(&rel);
                let real =
                    std::fs::canonicalize(&src).map_err(|e| EngineError::io("resolve", &src, e))?;
                let root = std::fs::canonicalize(&self.context)
                    .map_err(|e| EngineError::io("resolve", &self.context, e))?;
                if !real.starts_with(&root) {
                    return Err(invalid(format!(
                        "forbidden path outside the build context: {rel}"
                    )));
                }
                Ok(MountSpec {
                    target,
                    source: real.display().to_string(),
                    r#type: "bind".into(),
                    read_only: m.read_only,
                    ..Default::default()
                })
            }
            MountType::Tmpfs => Ok(MountSpec {
                target,
                r#type: "tmpfs".into(),
                tmpfs_options: m.size_limit.map(|s| berth_api::container::TmpfsOptions {
                    size_bytes: i64::try_from(s).unwrap_or(i64::MAX),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            MountType::Secret | MountType::Ssh => Err(invalid(format!(
                "RUN --mount=type={} needs BuildKit's client session, which the classic build API has not: berth cannot honour it",
                m.kind.as_str()
            ))),
        }
    }

    fn parse_chown(&self, holder: &str, spec: &str) -> Result<(u32, u32)> {
        let passwd = self.read_in(holder, "/etc/passwd");
        let group = self.read_in(holder, "/etc/group");
        berth_build::copy::resolve_chown(spec, &passwd, &group).map_err(invalid)
    }

    fn copy_into(&self, id: &str, step: &CopyStep) -> Result<()> {
        let ov = Overrides {
            owner: match &step.chown {
                Some(c) => Some(self.parse_chown(id, c)?),
                None => None,
            },
            mode: match &step.chmod {
                Some(m) => Some(berth_build::copy::parse_chmod(m).map_err(invalid)?),
                None => None,
            },
        };
        let dest = step.dest.clone();
        let dest_is_dir = dest.ends_with('/') || self.is_dir_in(id, &dest).unwrap_or(false);
        if step.sources.is_empty() && step.contents.is_empty() {
            // WORKDIR: make the directory when it is missing.
            if self.is_dir_in(id, &dest).is_none() {
                let name = dest.trim_matches('/').to_owned();
                self.put(id, move |w| {
                    let mut b = tar::Builder::new(w);
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{name}/"), std::io::empty())
                        .and_then(|()| b.finish())
                        .map_err(|e| EngineError::io("write", "workdir", e))
                })?;
            }
            return Ok(());
        }
        if !step.sources.is_empty() {
            match &step.from {
                CopySource::Context => {
                    let root = self.context.clone();
                    let (sources, excludes) = (step.sources.clone(), step.excludes.clone());
                    let (unpack, parents, d) = (step.unpack_archives, step.parents, dest.clone());
                    self.put(id, move |w| {
                        let c = ContextCopy {
                            root: &root,
                            sources: &sources,
                            dest: &d,
                            dest_is_dir,
                            unpack,
                            excludes: &excludes,
                            parents,
                        };
                        context_tar(&c, ov, w)
                    })?;
                }
                CopySource::Stage(image) | CopySource::Image(image) => {
                    let image = self.resolve_local(image)?.id;
                    let src = self.holder(&image)?;
                    let r = self.copy_from(id, &src, step, &dest, dest_is_dir, ov);
                    self.drop_container(&src);
                    r?;
                }
            }
        }
        if !step.contents.is_empty() {
            let files = step.contents.clone();
            self.put(id, move |w| inline_tar(&files, &dest, dest_is_dir, ov, w))?;
        }
        Ok(())
    }

    fn copy_from(
        &self,
        id: &str,
        src: &str,
        step: &CopyStep,
        dest: &str,
        dest_is_dir: bool,
        ov: Overrides,
    ) -> Result<()> {
        let dest_is_dir = dest_is_dir || step.sources.len() > 1;
        for s in &step.sources {
            if s.contains(['*', '?', '[']) {
                return Err(invalid(format!(
                    "COPY --from with a wildcard ({s}) is not supported by berth's builder"
                )));
            }
            let path = format!("/{}", s.trim_start_matches('/'));
            let (stat, rx) = self
                .block(self.engine.archive_get(src, &path))
                .map_err(|e| {
                    invalid(format!(
                        "failed to compute cache key: \"{path}\" not found: {e}"
                    ))
                })?;
            let single = if stat.mode & GO_DIR != 0 {
                None
            } else if dest_is_dir {
                Some(format!("{}/{}", dest.trim_end_matches('/'), stat.name))
            } else {
                Some(dest.to_owned())
            };
            let d = dest.to_owned();
            self.put(id, move |w| {
                let reader = crate::images::ChannelReader {
                    rx,
                    cur: Bytes::new(),
                };
                let mut t = TarOut::new(w, ov);
                t.tar_entries(reader, &d, 1, single.as_deref())?;
                t.finish_ok()
            })?;
        }
        Ok(())
    }
}

impl Executor for EngineExecutor {
    type Error = EngineError;
    type Container = String;

    fn resolve(
        &mut self,
        reference: &str,
        platform: Option<&Platform>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<BaseImage> {
        let host = Platform::host();
        if let Some(p) = platform
            && (p.os != host.os || p.arch != host.arch)
        {
            return Err(invalid(format!(
                "FROM --platform={p}: berth builds and runs only {host} images"
            )));
        }
        let local = self.resolve_local(reference);
        if local.is_ok() && !self.pull {
            return local;
        }
        match &self.puller {
            Some(p) => {
                let r = p(reference, progress);
                match (r, local) {
                    (Ok(()), _) => self.resolve_local(reference),
                    // `--pull` with the registry unreachable still builds from what is here.
                    (Err(_), Ok(l)) => Ok(l),
                    (Err(e), Err(_)) => Err(e),
                }
            }
            None => local,
        }
    }

    fn scratch(&mut self) -> Result<BaseImage> {
        let cfg = berth_image::config::ImageConfig {
            architecture: Platform::host().arch,
            os: "linux".into(),
            config: Some(Default::default()),
            ..Default::default()
        };
        let json = cfg.to_vec().map_err(invalid)?;
        let id = self.engine.inner.images.add_image(&json)?;
        Ok(BaseImage {
            id: id.to_string(),
            config: ImageConfig::default(),
        })
    }

    fn cached(&mut self, key: &CacheKey) -> Result<Option<String>> {
        let Ok(id) = std::fs::read_to_string(self.cache_file(key)) else {
            return Ok(None);
        };
        let id = id.trim();
        if let Some(allowed) = &self.cache_sources
            && !allowed.contains(id)
        {
            return Ok(None);
        }
        Ok(self
            .engine
            .inner
            .images
            .get(id)
            .ok()
            .map(|i| i.id.to_string()))
    }

    fn create_run(&mut self, parent: &str, step: &RunStep) -> Result<String> {
        let mut hc = self.host_config.clone();
        match step.network {
            NetworkMode::None => hc.network_mode = "none".into(),
            NetworkMode::Host => hc.network_mode = "host".into(),
            NetworkMode::Default => {}
        }
        let mut mounts = Vec::new();
        for m in &step.mounts {
            mounts.push(self.mount_spec(m)?);
        }
        if let Some(f) = &step.script_file {
            let dir = self.build_dir.join("scripts").join(crate::names::new_id()?);
            std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("create", &dir, e))?;
            self.scratch_dirs.push(dir.clone());
            let file = dir.join(&f.name);
            std::fs::write(&file, &f.data).map_err(|e| EngineError::io("write", &file, e))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| EngineError::io("chmod", &file, e))?;
            mounts.push(MountSpec {
                target: "/dev/pipes".into(),
                source: dir.display().to_string(),
                r#type: "bind".into(),
                read_only: true,
                ..Default::default()
            });
        }
        hc.mounts = (!mounts.is_empty()).then_some(mounts);
        let body = ContainerCreateBody {
            config: ContainerConfig {
                image: parent.to_owned(),
                cmd: Some(step.args.clone()),
                entrypoint: Some(Vec::new()),
                env: Some(step.env.clone()),
                user: step.user.clone(),
                working_dir: step.working_dir.clone(),
                // A RUN is not health-checked.
                healthcheck: Some(berth_api::container::HealthConfig {
                    test: Some(vec!["NONE".into()]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            host_config: Some(hc),
            networking_config: None,
        };
        Ok(self.block(self.engine.create(None, body))?.id)
    }

    fn container_id(&self, c: &String) -> String {
        c.clone()
    }

    fn start(&mut self, id: &String, output: &mut dyn FnMut(bool, &[u8])) -> Result<i32> {
        let engine = self.engine.clone();
        let opts = AttachOptions {
            stream: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let (mut session, waited) = self.block(async {
            let session = engine.attach(id, opts).await?;
            let waited = engine.wait(id, WaitCondition::NextExit).await?;
            engine.start(id).await?;
            Ok::<_, EngineError>((session, waited))
        })?;
        // The output is handed on outside the runtime: the sink may block (a full
        // response channel), which is not allowed inside `block_on`.
        let mut killed = false;
        loop {
            let next = self.block(async {
                tokio::time::timeout(
                    std::time::Duration::from_millis(100),
                    session.output.rx.recv(),
                )
                .await
            });
            match next {
                Ok(Some(Ok(c))) => {
                    output(c.stream == berth_api::stream::StreamType::Stderr, &c.data)
                }
                Ok(Some(Err(e))) => tracing::warn!("build output of {id}: {e}"),
                Ok(None) => break,
                Err(_) => {}
            }
            if !killed && self.cancel.load(Ordering::Relaxed) {
                killed = true;
                if let Err(e) = self.block(engine.kill(id, None)) {
                    tracing::warn!("cancel build step {id}: {e}");
                }
            }
        }
        let status = self
            .block(waited)
            .map_err(|_| EngineError::Task("the wait ended early".into()))?;
        Ok(i32::try_from(status.status_code).unwrap_or(1))
    }

    fn source_digest(&mut self, _parent: &str, step: &CopyStep) -> Result<String> {
        match &step.from {
            CopySource::Context => {
                let paths = berth_build::copy::resolve_sources(&self.context, &step.sources)
                    .map_err(invalid)?;
                let d =
                    berth_build::cache::content_digest(&self.context, &paths).map_err(invalid)?;
                let hex = d.trim_start_matches("sha256:");
                let kind = match paths.as_slice() {
                    [one] if self.context.join(one).is_dir() => "dir",
                    [_] => "file",
                    _ => "multi",
                };
                let extra = if step.excludes.is_empty() {
                    String::new()
                } else {
                    format!(" exclude={:?}", step.excludes)
                };
                Ok(format!("{kind}:{hex}{extra}"))
            }
            CopySource::Stage(image) | CopySource::Image(image) => {
                let id = self.resolve_local(image)?.id;
                let hex = hex_digest(&format!("{id} {:?}", step.sources));
                Ok(format!("multi:{hex}"))
            }
        }
    }

    fn copy(&mut self, parent: &str, step: &CopyStep) -> Result<String> {
        let id = self.holder(parent)?;
        match self.copy_into(&id, step) {
            Ok(()) => Ok(id),
            Err(e) => {
                self.drop_container(&id);
                Err(e)
            }
        }
    }

    fn commit(
        &mut self,
        parent: &str,
        container: Option<&String>,
        config: &ImageConfig,
        created_by: &str,
        key: &CacheKey,
    ) -> Result<String> {
        let engine = self.engine.clone();
        let t0 = std::time::Instant::now();
        let id = self.block(engine.build_commit(
            parent,
            container.map(String::as_str),
            config,
            created_by,
        ))?;
        tracing::debug!("build: commit {id} in {:?}", t0.elapsed());
        let file = self.cache_file(key);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| EngineError::io("create", dir, e))?;
        }
        berth_runtime::fsutil::write_atomic(&file, id.as_bytes(), Default::default())
            .map_err(|e| EngineError::io("write", &file, e))?;
        Ok(id)
    }

    fn remove(&mut self, id: String) -> Result<()> {
        // Off the critical path: the next step goes on while this container goes; every
        // removal is awaited before the build returns (`finish_removals`), so a build
        // still leaves nothing behind when its response ends.
        let engine = self.engine.clone();
        self.removals.push(self.handle.spawn(async move {
            let t0 = std::time::Instant::now();
            let r = engine.remove(&id, true, true).await;
            tracing::debug!("build: remove {id} in {:?}", t0.elapsed());
            if let Err(e) = &r {
                tracing::warn!("build: remove intermediate container {id}: {e}");
            }
            r
        }));
        Ok(())
    }

    fn tag(&mut self, image: &str, tags: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for t in tags {
            let r = berth_image::Reference::parse(t)
                .map_err(|e| invalid(format!("invalid reference format: {e}")))?
                .with_default_tag();
            self.engine.inner.images.tag(image, &r)?;
            let mut a = std::collections::BTreeMap::new();
            a.insert("name".to_owned(), r.familiar());
            self.engine.inner.events.emit("image", "tag", image, a);
            out.push(r.familiar());
        }
        Ok(out)
    }
}

impl Engine {
    /// A build step's image: `parent` plus the container's changes (none for a config-only
    /// step, recorded as an empty layer), `config`, and one history entry.
    pub(crate) async fn build_commit(
        &self,
        parent: &str,
        container: Option<&str>,
        config: &ImageConfig,
        created_by: &str,
    ) -> Result<String> {
        let images = self.inner.images.clone();
        let parent_img = images.get(parent)?;
        let dir = match container {
            Some(c) => Some(self.dir(&self.lookup(c)?.record().id)),
            None => None,
        };
        let config = config.clone();
        let history = History {
            created_by: created_by.to_owned(),
            ..Default::default()
        };
        let id = tokio::task::spawn_blocking(move || {
            crate::filesystem::commit_image(&images, &parent_img, dir.as_deref(), history, |cfg| {
                if let Some(a) = &config.author {
                    cfg.author = a.clone();
                }
                cfg.config = Some(to_store(&config, parent_img.config.config.as_ref()));
            })
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        Ok(id.to_string())
    }
}

/// Removes what a build made on the host besides images and containers.
pub(crate) fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs {
        if let Err(e) = std::fs::remove_dir_all(d)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("build: remove {}: {e}", d.display());
        }
    }
}
