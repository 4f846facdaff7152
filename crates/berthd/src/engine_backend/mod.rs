//! The real [`Backend`]: `berth-engine` behind the routes. Each method converts the
//! route's options into the engine's, calls it, and maps the engine's error kind to the
//! API's (the status code is chosen in [`crate::error`]).
//!
//! This file opens the engine and converts its streams and errors; `backend_impl.rs` holds the
//! trait's implementation, one method per API operation.

mod backend_impl;

use std::path::PathBuf;
use std::sync::Arc;

use berth_api::ErrorKind;
use berth_engine::{Engine, EngineError, Kind};
use tokio::sync::mpsc;

use crate::backend::{BackendError, ByteStream, OutputChunk, OutputStream};
use crate::settings::LiveSettings;

/// The environment variable naming the `berth-shim` binary (default: next to `berthd`).
pub const SHIM_ENV: &str = "BERTH_SHIM";

/// Where the shim binary is: `$BERTH_SHIM`, else `berth-shim` beside this executable.
pub fn shim_binary() -> PathBuf {
    if let Some(p) = std::env::var_os(SHIM_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("berth-shim")))
        .unwrap_or_else(|| PathBuf::from("berth-shim"))
}

pub(crate) fn err(e: EngineError) -> BackendError {
    let kind = match e.kind() {
        Kind::NotFound => ErrorKind::NotFound,
        Kind::Conflict => ErrorKind::Conflict,
        Kind::InvalidArgument => ErrorKind::InvalidArgument,
        Kind::NotModified => ErrorKind::NotModified,
        Kind::Forbidden => ErrorKind::Forbidden,
        Kind::Unavailable => ErrorKind::Unavailable,
        Kind::NotImplemented => ErrorKind::NotImplemented,
        Kind::Internal => ErrorKind::Internal,
    };
    BackendError::new(kind, e.message())
}

/// The engine as a backend.
#[derive(Debug, Clone)]
pub struct EngineBackend {
    engine: Engine,
    /// The daemon's reloadable settings (`insecure-registries` for the registry client).
    settings: Arc<LiveSettings>,
}

impl EngineBackend {
    /// Opens the engine on these roots (reloading containers, reconnecting to shims), with
    /// the daemon's container defaults and, unless `None` (`--bridge=none`), its network
    /// settings (`--bridge`, `--default-address-pool`).
    pub async fn open(
        data_root: PathBuf,
        exec_root: PathBuf,
        container_defaults: berth_engine::container_defaults::ContainerDefaults,
        net: Option<berth_engine::NetworkConfig>,
    ) -> Result<Self, EngineError> {
        let cfg = berth_engine::Config {
            data_root,
            exec_root,
            shim_binary: shim_binary(),
            container_defaults,
        };
        let engine = match net {
            Some(net) => Engine::open_with_network(cfg, net).await?,
            None => Engine::open(cfg).await?,
        };
        Ok(Self {
            engine,
            settings: Arc::default(),
        })
    }

    /// Uses the daemon's settings: plain HTTP to its `insecure-registries` (`host[:port]`)
    /// besides localhost, as they are after each reload.
    pub fn with_settings(mut self, settings: Arc<LiveSettings>) -> Self {
        self.settings = settings;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

pub(crate) fn output(o: berth_engine::Output) -> OutputStream {
    let (tx, rx) = mpsc::channel(64);
    let mut src = o.rx;
    tokio::spawn(async move {
        // A route that drops the stream (client gone, detach) releases the engine's at once,
        // so the engine lets go of the shim's connection even while nothing is printed.
        loop {
            let item = tokio::select! {
                item = src.recv() => item,
                () = tx.closed() => return,
            };
            let Some(item) = item else { return };
            let item = item
                .map(|c| OutputChunk {
                    stream: c.stream,
                    data: c.data,
                })
                .map_err(err);
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    OutputStream {
        tty: o.tty,
        chunks: rx,
    }
}

/// A request body as the engine's stream of I/O results (for import and load).
pub(crate) fn io_stream(mut body: ByteStream) -> mpsc::Receiver<std::io::Result<bytes::Bytes>> {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(item) = body.recv().await {
            let item = item.map_err(|e| std::io::Error::other(e.message));
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    rx
}
