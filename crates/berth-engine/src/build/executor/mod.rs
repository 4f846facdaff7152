//! The engine's [`Executor`]: every RUN an ordinary berth container (default security
//! profile, the build's resource limits), COPY/ADD through `archive_put` into a created
//! container, commits from the container's upper directory with the builder's config and
//! one history entry, a cache index of `key → image` files under `DATA_ROOT/build/cache`.
//!
//! The builder loop is synchronous; it runs on a blocking thread and each engine call is
//! driven with the runtime's `Handle::block_on`. A container the builder removes goes off
//! the critical path and is awaited before the build returns; which containers it removes
//! (not a failed RUN's, unless `forcerm` or a cancel) is the builder's rule, so a failed
//! build may leave that one behind, as dockerd does.
//!
//! Here: the executor's state and the [`Executor`] calls themselves; RUN's `--mount`s and
//! heredoc scripts are in `mounts`, COPY/ADD/WORKDIR's files put into a holder container in
//! `copy_into`, and the commit of a step's image in `commit`.

mod commit;
mod copy_into;
mod mounts;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use berth_api::container::{ContainerConfig, ContainerCreateBody, HostConfig};
use berth_build::executor::{BaseImage, CacheKey, CopySource, CopyStep, ImageConfig, RunStep};
use berth_build::instructions::NetworkMode;
use berth_build::{Executor, Platform};
use sha2::Digest as _;
use tokio::runtime::Handle;

use super::config::from_store;
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

    pub(super) fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    fn cache_file(&self, key: &CacheKey) -> PathBuf {
        let d = key.digest();
        self.build_dir
            .join("cache")
            .join(d.trim_start_matches("sha256:"))
    }

    /// A container from `image` that is never started (COPY targets and sources).
    pub(super) fn resolve_local(&self, reference: &str) -> Result<BaseImage> {
        let img = self.engine.inner.images.get(reference)?;
        let mut config = from_store(img.config.config.as_ref());
        config.author = (!img.config.author.is_empty()).then(|| img.config.author.clone());
        Ok(BaseImage {
            id: img.id.to_string(),
            config,
        })
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
            mounts.push(self.script_mount(f)?);
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
        // removal is awaited before the build returns (`finish_removals`), so the
        // containers the builder removed are gone when its response ends.
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
