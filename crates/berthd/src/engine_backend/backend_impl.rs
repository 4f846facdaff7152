//! `impl Backend for EngineBackend`: each method converts the route's options into the
//! engine's and calls it.

use berth_api::ErrorKind;
use berth_api::container::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerPruneResponse,
    ContainerStats, ContainerSummary, ContainerTopResponse, ContainerUpdateBody,
    ContainerUpdateResponse, WaitResponse,
};
use berth_api::event::EventMessage;
use berth_api::exec::{ExecConfig, ExecInspect, ExecStartConfig};
use berth_api::image::{ImageDeleteResponseItem, ImageInspect, ImageSummary};
use berth_api::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkResource,
};
use berth_api::progress::ProgressMessage;
use tokio::sync::{mpsc, oneshot};

use crate::backend::{
    AttachOptions, AttachSession, Backend, BackendError, ByteStream, EventsOptions,
    ImageListOptions, ImageRemoveOptions, ImportOptions, ListOptions, LogsOptions, OutputStream,
    RemoveOptions, StopOptions, SystemCounts, WaitCondition,
};
use crate::distribution::{self, PullRequest, PushRequest, RegistryAuth};

use super::{EngineBackend, err, io_stream, output};

impl Backend for EngineBackend {
    async fn counts(&self) -> Result<SystemCounts, BackendError> {
        let c = self.engine.counts();
        Ok(SystemCounts {
            containers: c.containers,
            running: c.running,
            paused: c.paused,
            stopped: c.stopped,
            images: c.images,
        })
    }

    async fn container_create(
        &self,
        name: Option<String>,
        body: ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, BackendError> {
        let created = self.engine.create(name, body).await.map_err(err)?;
        Ok(ContainerCreateResponse {
            id: created.id,
            warnings: created.warnings,
        })
    }

    async fn container_start(&self, id: &str) -> Result<(), BackendError> {
        self.engine.start(id).await.map_err(err)
    }

    async fn container_stop(&self, id: &str, opts: StopOptions) -> Result<(), BackendError> {
        self.engine
            .stop(id, opts.signal, opts.timeout)
            .await
            .map_err(err)
    }

    async fn container_kill(&self, id: &str, signal: Option<String>) -> Result<(), BackendError> {
        self.engine.kill(id, signal).await.map_err(err)
    }

    async fn container_pause(&self, id: &str) -> Result<(), BackendError> {
        self.engine.pause(id).await.map_err(err)
    }

    async fn container_unpause(&self, id: &str) -> Result<(), BackendError> {
        self.engine.unpause(id).await.map_err(err)
    }

    async fn container_top(
        &self,
        id: &str,
        ps_args: String,
    ) -> Result<ContainerTopResponse, BackendError> {
        self.engine.top(id, &ps_args).await.map_err(err)
    }

    async fn container_rename(&self, id: &str, name: String) -> Result<(), BackendError> {
        self.engine.rename(id, &name).await.map_err(err)
    }

    async fn container_stats(
        &self,
        id: &str,
        stream: bool,
        one_shot: bool,
    ) -> Result<mpsc::Receiver<ContainerStats>, BackendError> {
        let opts = berth_engine::StatsOptions { stream, one_shot };
        let mut samples = self.engine.stats(id, opts).await.map_err(err)?;
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            while let Some(s) = samples.recv().await {
                match s {
                    Ok(s) => {
                        if tx.send(s).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::debug!("stats stream ended: {e}");
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }

    async fn container_update(
        &self,
        id: &str,
        body: ContainerUpdateBody,
    ) -> Result<ContainerUpdateResponse, BackendError> {
        self.engine.update(id, body).await.map_err(err)
    }

    async fn container_prune(
        &self,
        filters: crate::backend::Filters,
    ) -> Result<ContainerPruneResponse, BackendError> {
        self.engine.prune(&filters).await.map_err(err)
    }

    async fn container_restart(&self, id: &str, opts: StopOptions) -> Result<(), BackendError> {
        self.engine
            .restart(id, opts.signal, opts.timeout)
            .await
            .map_err(err)
    }

    async fn container_wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResponse>, BackendError> {
        self.engine.wait(id, condition).await.map_err(err)
    }

    async fn container_attach(
        &self,
        id: &str,
        opts: AttachOptions,
    ) -> Result<AttachSession, BackendError> {
        let s = self
            .engine
            .attach(
                id,
                berth_engine::AttachOptions {
                    logs: opts.logs,
                    stream: opts.stream,
                    stdin: opts.stdin,
                    stdout: opts.stdout,
                    stderr: opts.stderr,
                },
            )
            .await
            .map_err(err)?;
        Ok(AttachSession {
            output: output(s.output),
            stdin: s.stdin,
        })
    }

    async fn container_logs(
        &self,
        id: &str,
        opts: LogsOptions,
    ) -> Result<OutputStream, BackendError> {
        let o = self.engine.logs(id, opts).await.map_err(err)?;
        Ok(output(o))
    }

    async fn container_inspect(
        &self,
        id: &str,
        _size: bool,
    ) -> Result<ContainerInspect, BackendError> {
        self.engine.inspect(id).await.map_err(err)
    }

    async fn container_list(
        &self,
        opts: ListOptions,
    ) -> Result<Vec<ContainerSummary>, BackendError> {
        self.engine
            .list(berth_engine::ListOptions {
                all: opts.all,
                limit: opts.limit,
                filters: opts.filters,
            })
            .await
            .map_err(err)
    }

    async fn container_remove(&self, id: &str, opts: RemoveOptions) -> Result<(), BackendError> {
        if opts.link {
            return Err(BackendError::not_implemented("legacy links"));
        }
        self.engine
            .remove(id, opts.force, opts.volumes)
            .await
            .map_err(err)
    }

    async fn image_import(
        &self,
        opts: ImportOptions,
        body: ByteStream,
    ) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
        if opts.from_src != "-" {
            return Err(BackendError::not_implemented("import from a URL"));
        }
        let reference = opts.repo.map(|r| match opts.tag.as_deref() {
            Some(t) if !t.is_empty() => format!("{r}:{t}"),
            _ => r,
        });
        let rx = io_stream(body);
        let id = self
            .engine
            .image_import(rx, reference, opts.changes)
            .await
            .map_err(err)?;
        let (ptx, prx) = mpsc::channel(1);
        let _ = ptx.send(ProgressMessage::status(id)).await;
        Ok(prx)
    }

    async fn image_list(&self, opts: ImageListOptions) -> Result<Vec<ImageSummary>, BackendError> {
        let mut list = self.engine.image_list(&opts.filters).await.map_err(err)?;
        if !opts.all {
            // dockerd hides intermediate images (untagged parents of other images, as a
            // build leaves them) unless `-a`.
            let parents: std::collections::HashSet<String> =
                list.iter().map(|i| i.parent_id.clone()).collect();
            list.retain(|i| !i.repo_tags.is_empty() || !parents.contains(&i.id));
        }
        Ok(list)
    }

    async fn image_tag(
        &self,
        name: &str,
        repo: &str,
        tag: Option<&str>,
    ) -> Result<(), BackendError> {
        self.engine.image_tag(name, repo, tag).await.map_err(err)
    }

    async fn image_remove(
        &self,
        name: &str,
        opts: ImageRemoveOptions,
    ) -> Result<Vec<ImageDeleteResponseItem>, BackendError> {
        self.engine
            .image_remove(name, opts.force)
            .await
            .map_err(err)
    }

    async fn image_inspect(&self, name: &str) -> Result<ImageInspect, BackendError> {
        self.engine.image_inspect(name).await.map_err(err)
    }

    async fn image_pull(
        &self,
        req: PullRequest,
    ) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
        distribution::pull(&self.engine, &self.settings.get(), req).await
    }

    async fn image_push(
        &self,
        req: PushRequest,
    ) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
        distribution::push(&self.engine, &self.settings.get(), req).await
    }

    async fn image_save(&self, names: Vec<String>) -> Result<ByteStream, BackendError> {
        let mut src = self
            .engine
            .image_save(names)
            .map_err(distribution::backend_error)?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            while let Some(item) = src.recv().await {
                let item = item.map_err(|e| BackendError::new(ErrorKind::Internal, e.to_string()));
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }

    async fn image_load(&self, body: ByteStream) -> Result<Vec<String>, BackendError> {
        let rx = io_stream(body);
        self.engine
            .image_load(rx)
            .await
            .map_err(distribution::backend_error)
    }

    async fn image_prune(&self, all: bool) -> Result<serde_json::Value, BackendError> {
        let r = self.engine.image_prune(all).await.map_err(err)?;
        Ok(serde_json::json!({
            "ImagesDeleted": r.deleted,
            "SpaceReclaimed": r.space_reclaimed,
        }))
    }

    async fn system_df(&self) -> Result<serde_json::Value, BackendError> {
        let d = self.engine.system_df().await.map_err(err)?;
        Ok(serde_json::json!({
            "LayersSize": d.layers_size,
            "Images": d.images,
            "Containers": d.containers,
            "Volumes": self.engine.volume_usage(),
            "BuildCache": [],
        }))
    }

    async fn registry_login(&self, auth: RegistryAuth) -> Result<(), BackendError> {
        distribution::login(&self.settings.get(), auth).await
    }

    async fn events(
        &self,
        opts: EventsOptions,
    ) -> Result<mpsc::Receiver<EventMessage>, BackendError> {
        Ok(self.engine.events(opts.since, opts.until, opts.filters))
    }

    async fn container_resize(
        &self,
        id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), BackendError> {
        self.engine.resize(id, width, height).await.map_err(err)
    }

    async fn exec_create(&self, id: &str, config: ExecConfig) -> Result<String, BackendError> {
        self.engine.exec_create(id, config).await.map_err(err)
    }

    async fn exec_start(
        &self,
        id: &str,
        config: ExecStartConfig,
    ) -> Result<Option<AttachSession>, BackendError> {
        let opts = berth_engine::ExecStartOptions {
            detach: config.detach,
            console_size: config.console_size.map(|[h, w]| (h, w)),
        };
        let s = self.engine.exec_start(id, opts).await.map_err(err)?;
        Ok(s.map(|s| AttachSession {
            output: output(s.output),
            stdin: s.stdin,
        }))
    }

    async fn exec_resize(&self, id: &str, height: u16, width: u16) -> Result<(), BackendError> {
        self.engine
            .exec_resize(id, width, height)
            .await
            .map_err(err)
    }

    async fn exec_inspect(&self, id: &str) -> Result<ExecInspect, BackendError> {
        self.engine.exec_inspect(id).map_err(err)
    }

    async fn container_changes(
        &self,
        id: &str,
    ) -> Result<Vec<berth_engine::filesystem::Change>, BackendError> {
        self.engine.changes(id).await.map_err(err)
    }

    async fn container_export(&self, id: &str) -> Result<ByteStream, BackendError> {
        let mut src = self.engine.export(id).await.map_err(err)?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            while let Some(item) = src.recv().await {
                let item = item.map_err(|e| BackendError::new(ErrorKind::Internal, e.to_string()));
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }

    async fn build(
        &self,
        mut req: berth_engine::build::BuildRequest,
        mut body: ByteStream,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<crate::backend::BuildRun, BackendError> {
        let (io_tx, io_rx) = mpsc::channel(8);
        tokio::spawn(async move {
            while let Some(item) = body.recv().await {
                let item = item.map_err(|e| std::io::Error::other(e.message));
                if io_tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        req.puller = Some(distribution::build_puller(
            self.engine.clone(),
            self.settings.get(),
        ));
        let prepared = self.engine.build_prepare(req, io_rx).await.map_err(|e| {
            let kind = if e.invalid {
                ErrorKind::InvalidArgument
            } else {
                ErrorKind::Internal
            };
            BackendError::new(kind, e.message)
        })?;
        let (tx, messages) = mpsc::channel(64);
        let (done_tx, outcome) = oneshot::channel();
        let engine = self.engine.clone();
        tokio::spawn(async move {
            let r = engine.build_run(prepared, tx, cancel).await;
            let _ = done_tx.send(r);
        });
        Ok(crate::backend::BuildRun { messages, outcome })
    }

    async fn build_prune(&self) -> Result<(Vec<String>, u64), BackendError> {
        self.engine.build_prune().await.map_err(err)
    }

    async fn commit(
        &self,
        container: &str,
        opts: berth_engine::filesystem::CommitOptions,
    ) -> Result<String, BackendError> {
        self.engine.commit(container, opts).await.map_err(err)
    }

    async fn image_history(
        &self,
        name: &str,
    ) -> Result<Vec<berth_engine::filesystem::HistoryItem>, BackendError> {
        self.engine.image_history(name).map_err(err)
    }

    async fn archive_stat(
        &self,
        id: &str,
        path: &str,
    ) -> Result<berth_engine::archive::PathStat, BackendError> {
        self.engine.archive_stat(id, path).await.map_err(err)
    }

    async fn archive_get(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(berth_engine::archive::PathStat, ByteStream), BackendError> {
        let (stat, mut src) = self.engine.archive_get(id, path).await.map_err(err)?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            while let Some(item) = src.recv().await {
                let item = item.map_err(|e| BackendError::new(ErrorKind::Internal, e.to_string()));
                if tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        Ok((stat, rx))
    }

    async fn archive_put(
        &self,
        id: &str,
        path: &str,
        body: ByteStream,
        opts: berth_engine::archive::PutOptions,
    ) -> Result<(), BackendError> {
        self.engine
            .archive_put(id, path, io_stream(body), opts)
            .await
            .map_err(err)
    }

    async fn volume_list(
        &self,
        filters: crate::backend::Filters,
    ) -> Result<Vec<berth_api::volume::Volume>, BackendError> {
        self.engine.volume_list(&filters).map_err(err)
    }

    async fn volume_create(
        &self,
        req: berth_api::volume::VolumeCreateOptions,
    ) -> Result<berth_api::volume::Volume, BackendError> {
        self.engine.volume_create(req).map_err(err)
    }

    async fn volume_inspect(&self, name: &str) -> Result<berth_api::volume::Volume, BackendError> {
        self.engine.volume_inspect(name).map_err(err)
    }

    async fn volume_remove(&self, name: &str, force: bool) -> Result<(), BackendError> {
        self.engine.volume_remove(name, force).map_err(err)
    }

    async fn volume_prune(
        &self,
        filters: crate::backend::Filters,
    ) -> Result<berth_api::volume::VolumePruneResponse, BackendError> {
        let (deleted, reclaimed) = self.engine.volume_prune(&filters).map_err(err)?;
        Ok(berth_api::volume::VolumePruneResponse {
            volumes_deleted: Some(deleted),
            space_reclaimed: reclaimed,
        })
    }

    async fn network_list(
        &self,
        filters: crate::backend::Filters,
    ) -> Result<Vec<NetworkResource>, BackendError> {
        self.engine.network_list(&filters).await.map_err(err)
    }

    async fn network_inspect(&self, id: &str) -> Result<NetworkResource, BackendError> {
        self.engine.network_inspect(id).await.map_err(err)
    }

    async fn network_create(
        &self,
        req: NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, BackendError> {
        self.engine.network_create(req).await.map_err(err)
    }

    async fn network_remove(&self, id: &str) -> Result<(), BackendError> {
        self.engine.network_remove(id).await.map_err(err)
    }

    async fn network_connect(
        &self,
        id: &str,
        req: NetworkConnectRequest,
    ) -> Result<(), BackendError> {
        self.engine
            .network_connect(id, &req.container, req.endpoint_config.unwrap_or_default())
            .await
            .map_err(err)
    }

    async fn network_disconnect(
        &self,
        id: &str,
        req: NetworkDisconnectRequest,
    ) -> Result<(), BackendError> {
        self.engine
            .network_disconnect(id, &req.container, req.force)
            .await
            .map_err(err)
    }

    async fn network_prune(&self) -> Result<Vec<String>, BackendError> {
        self.engine.network_prune().await.map_err(err)
    }
}
