//! `POST /build`: a context tar becomes an image through `berth-build`'s builder loop
//! and the engine's [`Executor`](berth_build::Executor) ([`executor`]).
//!
//! Two calls, so the HTTP layer can answer a bad request with a status before it starts
//! streaming: [`Engine::build_prepare`] reads the body (plain, gzip, bzip2, xz or zstd)
//! into a fresh directory under `DATA_ROOT/build/contexts`, confined there, finds the
//! Dockerfile, applies `.dockerignore`, parses and plans; [`Engine::build_run`] runs the
//! plan, sending the progress as it is made, and removes the context directory whatever
//! happens. What survives a build under `DATA_ROOT/build`: the cache index (`cache/`,
//! one file per step key naming its image) and the `RUN --mount=type=cache` directories
//! (`mounts/`), both dropped by [`Engine::build_prune`].

mod config;
mod copy;
mod executor;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use berth_api::container::HostConfig;
use berth_build::{Dockerfile, Plan};
use bytes::Bytes;
use tokio::sync::mpsc;

pub use berth_build::builder::{BuildSettings, Built};
pub use berth_build::{BuildOptions, Platform};
pub use executor::Puller;

use crate::error::EngineError;
use crate::table::Engine;

/// What `POST /build` asks for, parsed.
#[derive(Clone, Default)]
pub struct BuildRequest {
    /// `dockerfile`: its path inside the context.
    pub dockerfile: Option<String>,
    /// Build arguments, target, platforms.
    pub options: BuildOptions,
    /// `nocache`, `rm`, `forcerm`, `labels`, `t`.
    pub settings: BuildSettings,
    /// `pull`: pull `FROM` images even when present.
    pub pull: bool,
    /// Limits and network of every RUN container (`networkmode`, `extrahosts`,
    /// `shmsize`, `memory`, `cpu*`, `cgroupparent`).
    pub host_config: HostConfig,
    /// Pulls a missing (or, with `pull`, every) base image.
    pub puller: Option<Puller>,
    /// `cachefrom`: when given, only these images and their parents are cache sources
    /// (dockerd's rule; the local cache is not consulted).
    pub cache_from: Vec<String>,
}

impl std::fmt::Debug for BuildRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildRequest")
            .field("dockerfile", &self.dockerfile)
            .field("options", &self.options)
            .field("settings", &self.settings)
            .field("pull", &self.pull)
            .finish_non_exhaustive()
    }
}

/// A message of the build's stream: the builder's progress, as it comes.
pub use berth_build::builder::Progress as BuildMessage;

/// Why a build failed: dockerd's message, and a RUN's exit code when that was it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BuildFailed {
    /// The message (`The command '...' returned a non-zero code: 3`).
    pub message: String,
    /// The exit code of a failed RUN.
    pub code: Option<i32>,
    /// The request was bad (a 400 when nothing has been streamed yet).
    pub invalid: bool,
}

impl BuildFailed {
    fn invalid(message: impl std::fmt::Display) -> Self {
        BuildFailed {
            message: message.to_string(),
            code: None,
            invalid: true,
        }
    }
}

/// A context read and a Dockerfile planned, ready to run.
pub struct PreparedBuild {
    context: ContextDir,
    dockerfile: Dockerfile,
    plan: Plan,
    request: BuildRequest,
}

impl std::fmt::Debug for PreparedBuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedBuild")
            .field("context", &self.context.0)
            .finish_non_exhaustive()
    }
}

/// The extracted context; removed when dropped.
struct ContextDir(PathBuf);

impl Drop for ContextDir {
    fn drop(&mut self) {
        executor::remove_dirs(std::slice::from_ref(&self.0));
    }
}

impl Engine {
    fn build_dir(&self) -> PathBuf {
        self.inner.cfg.data_root.join("build")
    }

    /// A build's host settings (memory, cpu, ulimits, network mode, extra hosts, ...) checked
    /// as the create of each RUN container will check them.
    fn check_build_host_config(
        &self,
        hc: &berth_api::container::HostConfig,
    ) -> crate::error::Result<()> {
        let mut hc = hc.clone();
        crate::options::refuse_unsupported(&berth_api::container::ContainerCreateBody {
            host_config: Some(hc.clone()),
            ..Default::default()
        })?;
        self.check_host_config(&mut hc)?;
        self.net_validate(&hc, None)?;
        Ok(())
    }

    /// Reads the context from `body` and plans the build (see the module doc).
    pub async fn build_prepare(
        &self,
        request: BuildRequest,
        body: mpsc::Receiver<std::io::Result<Bytes>>,
    ) -> Result<PreparedBuild, BuildFailed> {
        // The RUN steps' host settings are checked as a container's, before the context is
        // read: a bad value is a 400 even for a Dockerfile without RUN.
        self.check_build_host_config(&request.host_config)
            .map_err(|e| BuildFailed::invalid(e.message()))?;
        let contexts = self.build_dir().join("contexts");
        let dir = contexts.join(crate::names::new_id().map_err(BuildFailed::invalid)?);
        tokio::task::spawn_blocking(move || -> Result<PreparedBuild, BuildFailed> {
            std::fs::create_dir_all(&dir).map_err(|e| BuildFailed {
                message: format!("create {}: {e}", dir.display()),
                code: None,
                invalid: false,
            })?;
            let context = ContextDir(dir);
            let root = context.0.clone();
            let reader = crate::images::ChannelReader {
                rx: body,
                cur: Bytes::new(),
            };
            berth_build::context::extract_context(reader, &root).map_err(|e| {
                BuildFailed::invalid(format!("failed to read the build context: {e}"))
            })?;
            let df_path =
                berth_build::context::locate_dockerfile(&root, request.dockerfile.as_deref())
                    .map_err(BuildFailed::invalid)?;
            let text = std::fs::read(&df_path)
                .map_err(|e| BuildFailed::invalid(format!("failed to read the Dockerfile: {e}")))?;
            let patterns =
                berth_build::context::read_dockerignore(&root).map_err(BuildFailed::invalid)?;
            if !patterns.is_empty() {
                let m = berth_build::dockerignore::PatternMatcher::new(&patterns)
                    .map_err(BuildFailed::invalid)?;
                berth_build::context::prune_context(&root, &m).map_err(BuildFailed::invalid)?;
            }
            let text = String::from_utf8_lossy(&text);
            let dockerfile = berth_build::parse(&text).map_err(BuildFailed::invalid)?;
            let plan =
                berth_build::plan(&dockerfile, &request.options).map_err(BuildFailed::invalid)?;
            Ok(PreparedBuild {
                context,
                dockerfile,
                plan,
                request,
            })
        })
        .await
        .map_err(|e| BuildFailed {
            message: e.to_string(),
            code: None,
            invalid: false,
        })?
    }

    /// Runs a prepared build, sending its progress to `progress`; `cancel` (also set when
    /// `progress` is closed: the client went away) stops it between steps and kills a
    /// running step.
    pub async fn build_run(
        &self,
        prepared: PreparedBuild,
        progress: mpsc::Sender<BuildMessage>,
        cancel: Arc<AtomicBool>,
    ) -> Result<Built, BuildFailed> {
        let engine = self.clone();
        let handle = tokio::runtime::Handle::current();
        let build_dir = self.build_dir();
        tokio::task::spawn_blocking(move || {
            let PreparedBuild {
                context,
                dockerfile,
                plan,
                request,
            } = prepared;
            let mut ex = executor::EngineExecutor {
                engine,
                handle,
                context: context.0.clone(),
                build_dir,
                host_config: request.host_config.clone(),
                pull: request.pull,
                puller: request.puller.clone(),
                cancel: cancel.clone(),
                scratch_dirs: Vec::new(),
                cache_sources: None,
                removals: Vec::new(),
            };
            ex.set_cache_from(&request.cache_from);
            let mut send = |p: BuildMessage| {
                if progress.blocking_send(p).is_err() {
                    cancel.store(true, Ordering::Relaxed);
                }
            };
            let cancelled = || cancel.load(Ordering::Relaxed);
            let r = berth_build::builder::build(
                &mut ex,
                &dockerfile,
                &plan,
                &request.settings,
                &mut send,
                &cancelled,
            );
            ex.finish_removals();
            executor::remove_dirs(&ex.scratch_dirs);
            drop(context);
            r.map_err(|e| {
                let code = match &e {
                    berth_build::builder::BuildError::NonZero { code, .. } => Some(*code),
                    _ => None,
                };
                BuildFailed {
                    message: match &e {
                        berth_build::builder::BuildError::Executor(inner) => {
                            crate::error::full_message(inner)
                        }
                        other => other.to_string(),
                    },
                    code,
                    invalid: false,
                }
            })
        })
        .await
        .map_err(|e| BuildFailed {
            message: e.to_string(),
            code: None,
            invalid: false,
        })?
    }

    /// `POST /build/prune`: forgets the build cache index and removes the cache mounts;
    /// returns what was deleted and the bytes reclaimed (the images the index named stay,
    /// as dangling images `docker image prune` removes).
    pub async fn build_prune(&self) -> Result<(Vec<String>, u64), EngineError> {
        let dir = self.build_dir();
        tokio::task::spawn_blocking(move || {
            let mut deleted = Vec::new();
            let mut bytes = 0u64;
            for sub in ["cache", "mounts"] {
                let d = dir.join(sub);
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    bytes += crate::disk::dir_size(&e.path());
                    deleted.push(e.file_name().to_string_lossy().into_owned());
                    let p = e.path();
                    let r = if p.is_dir() {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                    r.map_err(|err| EngineError::io("remove", &p, err))?;
                }
            }
            Ok((deleted, bytes))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
    }
}
