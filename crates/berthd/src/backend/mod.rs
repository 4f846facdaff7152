//! The seam between HTTP and the engine.
//!
//! Routes parse a request into the arguments of one [`Backend`] method, call it, and turn
//! its answer into docker's response; they hold no business rules. The engine crate
//! provides the real implementation through [`crate::engine_backend::EngineBackend`], an
//! adapter here in `berthd`, since arrows point from `berthd` to `berth-engine`.
//!
//! Lifecycle of a call: a method either fails before anything is sent (its
//! [`BackendError`]'s kind picks the status code), or succeeds and hands back a value or
//! the receiving ends of channels the route streams from — a wait's exit status, an
//! attach's output and stdin, logs, events, import progress. Dropping a receiver means the
//! client went away; the engine stops producing for it.

mod types;

pub use types::*;

use std::future::Future;

use berth_api::container::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerPruneResponse,
    ContainerStats, ContainerSummary, ContainerTopResponse, ContainerUpdateBody,
    ContainerUpdateResponse, WaitResponse,
};
use berth_api::event::EventMessage;
use berth_api::exec::{ExecConfig, ExecInspect, ExecStartConfig};
use berth_api::image::{ImageDeleteResponseItem, ImageInspect, ImageSummary};
use berth_api::progress::ProgressMessage;
use tokio::sync::{mpsc, oneshot};

use crate::distribution::{PullRequest, PushRequest, RegistryAuth};

/// The engine as the HTTP routes see it. Every method is one API operation; see the
/// module documentation for the lifecycle of a call.
pub trait Backend: Send + Sync + 'static {
    /// Counts of containers and images for `/info`.
    fn counts(&self) -> impl Future<Output = Result<SystemCounts, BackendError>> + Send;

    /// `POST /containers/create`.
    fn container_create(
        &self,
        name: Option<String>,
        body: ContainerCreateBody,
    ) -> impl Future<Output = Result<ContainerCreateResponse, BackendError>> + Send;
    /// `POST /containers/{id}/start`; `NotModified` when already running.
    fn container_start(&self, id: &str) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// `POST /containers/{id}/stop`; `NotModified` when already stopped.
    fn container_stop(
        &self,
        id: &str,
        opts: StopOptions,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// `POST /containers/{id}/kill`; `signal` defaults to SIGKILL.
    fn container_kill(
        &self,
        id: &str,
        signal: Option<String>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// `POST /containers/{id}/restart`.
    fn container_restart(
        &self,
        id: &str,
        opts: StopOptions,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// `POST /containers/{id}/wait`: registers the wait (so a start that follows is seen)
    /// and returns the receiver of its result.
    fn container_wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> impl Future<Output = Result<oneshot::Receiver<WaitResponse>, BackendError>> + Send;
    /// `POST /containers/{id}/attach`.
    fn container_attach(
        &self,
        id: &str,
        opts: AttachOptions,
    ) -> impl Future<Output = Result<AttachSession, BackendError>> + Send;
    /// `GET /containers/{id}/logs`.
    fn container_logs(
        &self,
        id: &str,
        opts: LogsOptions,
    ) -> impl Future<Output = Result<OutputStream, BackendError>> + Send;
    /// `GET /containers/{id}/json`.
    fn container_inspect(
        &self,
        id: &str,
        size: bool,
    ) -> impl Future<Output = Result<ContainerInspect, BackendError>> + Send;
    /// `GET /containers/json`.
    fn container_list(
        &self,
        opts: ListOptions,
    ) -> impl Future<Output = Result<Vec<ContainerSummary>, BackendError>> + Send;
    /// `DELETE /containers/{id}`.
    fn container_remove(
        &self,
        id: &str,
        opts: RemoveOptions,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// `POST /images/create?fromSrc=...`: import a root filesystem tar; progress messages
    /// end with `{"status": "sha256:<id>"}` or an error message.
    fn image_import(
        &self,
        opts: ImportOptions,
        body: ByteStream,
    ) -> impl Future<Output = Result<mpsc::Receiver<ProgressMessage>, BackendError>> + Send;
    /// `GET /images/json`.
    fn image_list(
        &self,
        opts: ImageListOptions,
    ) -> impl Future<Output = Result<Vec<ImageSummary>, BackendError>> + Send;
    /// `POST /images/{name}/tag`.
    fn image_tag(
        &self,
        name: &str,
        repo: &str,
        tag: Option<&str>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// `DELETE /images/{name}`.
    fn image_remove(
        &self,
        name: &str,
        opts: ImageRemoveOptions,
    ) -> impl Future<Output = Result<Vec<ImageDeleteResponseItem>, BackendError>> + Send;
    /// `GET /images/{name}/json`.
    fn image_inspect(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<ImageInspect, BackendError>> + Send;

    /// `POST /images/create?fromImage=`: pull; progress messages as docker's (see
    /// [`crate::distribution`]).
    fn image_pull(
        &self,
        _req: PullRequest,
    ) -> impl Future<Output = Result<mpsc::Receiver<ProgressMessage>, BackendError>> + Send {
        async { Err(BackendError::not_implemented("image pull")) }
    }
    /// `POST /images/{name}/push`: progress messages ending with docker's `aux`.
    fn image_push(
        &self,
        _req: PushRequest,
    ) -> impl Future<Output = Result<mpsc::Receiver<ProgressMessage>, BackendError>> + Send {
        async { Err(BackendError::not_implemented("image push")) }
    }
    /// `GET /images/get`: a docker archive of the images, streamed; an `Err` item
    /// aborts the response.
    fn image_save(
        &self,
        _names: Vec<String>,
    ) -> impl Future<Output = Result<ByteStream, BackendError>> + Send {
        async { Err(BackendError::not_implemented("image save")) }
    }
    /// `POST /images/load`: the lines docker prints (`Loaded image: x:y`).
    fn image_load(
        &self,
        _body: ByteStream,
    ) -> impl Future<Output = Result<Vec<String>, BackendError>> + Send {
        async { Err(BackendError::not_implemented("image load")) }
    }
    /// `POST /images/prune`: dangling images, or all unused with `all`; docker's
    /// `{"ImagesDeleted", "SpaceReclaimed"}`.
    fn image_prune(
        &self,
        _all: bool,
    ) -> impl Future<Output = Result<serde_json::Value, BackendError>> + Send {
        async { Err(BackendError::not_implemented("image prune")) }
    }
    /// `GET /system/df`: docker's `{"LayersSize", "Images", "Containers", ...}`.
    fn system_df(&self) -> impl Future<Output = Result<serde_json::Value, BackendError>> + Send {
        async { Err(BackendError::not_implemented("system df")) }
    }
    /// `POST /auth`: checks credentials against a registry.
    fn registry_login(
        &self,
        _auth: RegistryAuth,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        async { Err(BackendError::not_implemented("registry login")) }
    }

    /// `GET /events`.
    fn events(
        &self,
        opts: EventsOptions,
    ) -> impl Future<Output = Result<mpsc::Receiver<EventMessage>, BackendError>> + Send;

    /// `GET /networks` with dockerd's filters.
    fn network_list(
        &self,
        filters: Filters,
    ) -> impl Future<Output = Result<Vec<berth_api::network::NetworkResource>, BackendError>> + Send
    {
        let _ = filters;
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `GET /networks/{id}`.
    fn network_inspect(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<berth_api::network::NetworkResource, BackendError>> + Send
    {
        let _ = id;
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `POST /networks/create`.
    fn network_create(
        &self,
        req: berth_api::network::NetworkCreateRequest,
    ) -> impl Future<Output = Result<berth_api::network::NetworkCreateResponse, BackendError>> + Send
    {
        let _ = req;
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `DELETE /networks/{id}`.
    fn network_remove(&self, id: &str) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = id;
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `POST /networks/{id}/connect`.
    fn network_connect(
        &self,
        id: &str,
        req: berth_api::network::NetworkConnectRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, req);
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `POST /networks/{id}/disconnect`.
    fn network_disconnect(
        &self,
        id: &str,
        req: berth_api::network::NetworkDisconnectRequest,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, req);
        async { Err(BackendError::not_implemented("networks")) }
    }
    /// `POST /networks/prune`: the removed networks' names.
    fn network_prune(&self) -> impl Future<Output = Result<Vec<String>, BackendError>> + Send {
        async { Err(BackendError::not_implemented("networks")) }
    }

    /// `HEAD /containers/{id}/archive`: the path's stat.
    fn archive_stat(
        &self,
        id: &str,
        path: &str,
    ) -> impl Future<Output = Result<berth_engine::archive::PathStat, BackendError>> + Send {
        let _ = (id, path);
        async { Err(BackendError::not_implemented("the archive API")) }
    }
    /// `GET /containers/{id}/archive`: the stat and the tar stream.
    fn archive_get(
        &self,
        id: &str,
        path: &str,
    ) -> impl Future<Output = Result<(berth_engine::archive::PathStat, ByteStream), BackendError>> + Send
    {
        let _ = (id, path);
        async { Err(BackendError::not_implemented("the archive API")) }
    }
    /// `PUT /containers/{id}/archive`: extract the body's tar at the path.
    fn archive_put(
        &self,
        id: &str,
        path: &str,
        body: ByteStream,
        opts: berth_engine::archive::PutOptions,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, path, body, opts);
        async { Err(BackendError::not_implemented("the archive API")) }
    }

    /// `GET /containers/{id}/changes`.
    fn container_changes(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<berth_engine::filesystem::Change>, BackendError>> + Send
    {
        let _ = id;
        async { Err(BackendError::not_implemented("container changes")) }
    }
    /// `GET /containers/{id}/export`.
    fn container_export(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<ByteStream, BackendError>> + Send {
        let _ = id;
        async { Err(BackendError::not_implemented("container export")) }
    }
    /// `POST /build`: reads the context from `body` and plans the build (an error here is
    /// the response's status), then runs it: progress messages as they are made, and the
    /// outcome once it is over. `cancel` stops it (set when the client goes away).
    fn build(
        &self,
        req: berth_engine::build::BuildRequest,
        body: ByteStream,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> impl Future<Output = Result<BuildRun, BackendError>> + Send {
        let _ = (req, body, cancel);
        async { Err(BackendError::not_implemented("build")) }
    }
    /// `POST /build/prune`: what was deleted and the bytes reclaimed.
    fn build_prune(&self) -> impl Future<Output = Result<(Vec<String>, u64), BackendError>> + Send {
        async { Err(BackendError::not_implemented("build prune")) }
    }
    /// `POST /commit`: the new image's ID.
    fn commit(
        &self,
        container: &str,
        opts: berth_engine::filesystem::CommitOptions,
    ) -> impl Future<Output = Result<String, BackendError>> + Send {
        let _ = (container, opts);
        async { Err(BackendError::not_implemented("commit")) }
    }
    /// `GET /images/{name}/history`.
    fn image_history(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<berth_engine::filesystem::HistoryItem>, BackendError>> + Send
    {
        let _ = name;
        async { Err(BackendError::not_implemented("image history")) }
    }

    /// `GET /volumes` with filters.
    fn volume_list(
        &self,
        filters: Filters,
    ) -> impl Future<Output = Result<Vec<berth_api::volume::Volume>, BackendError>> + Send {
        let _ = filters;
        async { Err(BackendError::not_implemented("volumes")) }
    }
    /// `POST /volumes/create`.
    fn volume_create(
        &self,
        req: berth_api::volume::VolumeCreateOptions,
    ) -> impl Future<Output = Result<berth_api::volume::Volume, BackendError>> + Send {
        let _ = req;
        async { Err(BackendError::not_implemented("volumes")) }
    }
    /// `GET /volumes/{name}`.
    fn volume_inspect(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<berth_api::volume::Volume, BackendError>> + Send {
        let _ = name;
        async { Err(BackendError::not_implemented("volumes")) }
    }
    /// `DELETE /volumes/{name}`.
    fn volume_remove(
        &self,
        name: &str,
        force: bool,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (name, force);
        async { Err(BackendError::not_implemented("volumes")) }
    }
    /// `POST /volumes/prune`.
    fn volume_prune(
        &self,
        filters: Filters,
    ) -> impl Future<Output = Result<berth_api::volume::VolumePruneResponse, BackendError>> + Send
    {
        let _ = filters;
        async { Err(BackendError::not_implemented("volumes")) }
    }

    /// `POST /containers/{id}/resize`: the TTY's size.
    fn container_resize(
        &self,
        id: &str,
        height: u16,
        width: u16,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, height, width);
        async { Err(BackendError::not_implemented("container resize")) }
    }
    /// `POST /containers/{id}/pause`.
    fn container_pause(&self, id: &str) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = id;
        async { Err(BackendError::not_implemented("container pause")) }
    }
    /// `POST /containers/{id}/unpause`.
    fn container_unpause(&self, id: &str) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = id;
        async { Err(BackendError::not_implemented("container unpause")) }
    }
    /// `GET /containers/{id}/top`: `ps` with `ps_args` (`-ef` when empty).
    fn container_top(
        &self,
        id: &str,
        ps_args: String,
    ) -> impl Future<Output = Result<ContainerTopResponse, BackendError>> + Send {
        let _ = (id, ps_args);
        async { Err(BackendError::not_implemented("container top")) }
    }
    /// `POST /containers/{id}/rename`.
    fn container_rename(
        &self,
        id: &str,
        name: String,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, name);
        async { Err(BackendError::not_implemented("container rename")) }
    }
    /// `GET /containers/{id}/stats`: the samples; one unless `stream`.
    fn container_stats(
        &self,
        id: &str,
        stream: bool,
        one_shot: bool,
    ) -> impl Future<Output = Result<mpsc::Receiver<ContainerStats>, BackendError>> + Send {
        let _ = (id, stream, one_shot);
        async { Err(BackendError::not_implemented("container stats")) }
    }
    /// `POST /containers/{id}/update`.
    fn container_update(
        &self,
        id: &str,
        body: ContainerUpdateBody,
    ) -> impl Future<Output = Result<ContainerUpdateResponse, BackendError>> + Send {
        let _ = (id, body);
        async { Err(BackendError::not_implemented("container update")) }
    }
    /// `POST /containers/prune`.
    fn container_prune(
        &self,
        filters: Filters,
    ) -> impl Future<Output = Result<ContainerPruneResponse, BackendError>> + Send {
        let _ = filters;
        async { Err(BackendError::not_implemented("container prune")) }
    }
    /// `POST /containers/{id}/exec`: returns the exec's ID.
    fn exec_create(
        &self,
        id: &str,
        config: ExecConfig,
    ) -> impl Future<Output = Result<String, BackendError>> + Send {
        let _ = (id, config);
        async { Err(BackendError::not_implemented("exec")) }
    }
    /// `POST /exec/{id}/start`: the attached session, or `None` when detached.
    fn exec_start(
        &self,
        id: &str,
        config: ExecStartConfig,
    ) -> impl Future<Output = Result<Option<AttachSession>, BackendError>> + Send {
        let _ = (id, config);
        async { Err(BackendError::not_implemented("exec start")) }
    }
    /// `POST /exec/{id}/resize`.
    fn exec_resize(
        &self,
        id: &str,
        height: u16,
        width: u16,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (id, height, width);
        async { Err(BackendError::not_implemented("exec resize")) }
    }
    /// `GET /exec/{id}/json`.
    fn exec_inspect(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<ExecInspect, BackendError>> + Send {
        let _ = id;
        async { Err(BackendError::not_implemented("exec inspect")) }
    }
}
