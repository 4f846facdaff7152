//! The backend the daemon runs with until `berth-engine` exists: it has no container or
//! image store, so it counts zero of each and answers every container and image operation
//! with `501 {"message": "not implemented: <operation>"}`. Nothing is faked.

use berth_api::container::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerSummary, WaitResponse,
};
use berth_api::event::EventMessage;
use berth_api::image::{ImageDeleteResponseItem, ImageInspect, ImageSummary};
use berth_api::progress::ProgressMessage;
use tokio::sync::{mpsc, oneshot};

use crate::backend::{
    AttachOptions, AttachSession, Backend, BackendError, ByteStream, EventsOptions,
    ImageListOptions, ImageRemoveOptions, ImportOptions, ListOptions, LogsOptions, OutputStream,
    RemoveOptions, StopOptions, SystemCounts, WaitCondition,
};

/// A backend with only the system endpoints; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemOnly;

fn ni<T>(what: &str) -> Result<T, BackendError> {
    Err(BackendError::not_implemented(what))
}

impl Backend for SystemOnly {
    async fn counts(&self) -> Result<SystemCounts, BackendError> {
        Ok(SystemCounts::default())
    }

    async fn container_create(
        &self,
        _: Option<String>,
        _: ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, BackendError> {
        ni("container create")
    }
    async fn container_start(&self, _: &str) -> Result<(), BackendError> {
        ni("container start")
    }
    async fn container_stop(&self, _: &str, _: StopOptions) -> Result<(), BackendError> {
        ni("container stop")
    }
    async fn container_kill(&self, _: &str, _: Option<String>) -> Result<(), BackendError> {
        ni("container kill")
    }
    async fn container_restart(&self, _: &str, _: StopOptions) -> Result<(), BackendError> {
        ni("container restart")
    }
    async fn container_wait(
        &self,
        _: &str,
        _: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResponse>, BackendError> {
        ni("container wait")
    }
    async fn container_attach(
        &self,
        _: &str,
        _: AttachOptions,
    ) -> Result<AttachSession, BackendError> {
        ni("container attach")
    }
    async fn container_logs(&self, _: &str, _: LogsOptions) -> Result<OutputStream, BackendError> {
        ni("container logs")
    }
    async fn container_inspect(&self, _: &str, _: bool) -> Result<ContainerInspect, BackendError> {
        ni("container inspect")
    }
    async fn container_list(&self, _: ListOptions) -> Result<Vec<ContainerSummary>, BackendError> {
        ni("container list")
    }
    async fn container_remove(&self, _: &str, _: RemoveOptions) -> Result<(), BackendError> {
        ni("container delete")
    }
    async fn image_import(
        &self,
        _: ImportOptions,
        _: ByteStream,
    ) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
        ni("image import")
    }
    async fn image_list(&self, _: ImageListOptions) -> Result<Vec<ImageSummary>, BackendError> {
        ni("image list")
    }
    async fn image_tag(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), BackendError> {
        ni("image tag")
    }
    async fn image_remove(
        &self,
        _: &str,
        _: ImageRemoveOptions,
    ) -> Result<Vec<ImageDeleteResponseItem>, BackendError> {
        ni("image delete")
    }
    async fn image_inspect(&self, _: &str) -> Result<ImageInspect, BackendError> {
        ni("image inspect")
    }
    async fn events(&self, _: EventsOptions) -> Result<mpsc::Receiver<EventMessage>, BackendError> {
        ni("events")
    }
}
