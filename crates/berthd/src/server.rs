//! The daemon's lifecycle: directories, the API socket (mode 0660, removed on shutdown),
//! the pid file, serving until a shutdown signal.

use std::future::Future;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use crate::backend::Backend;
use crate::host::{self, HostFacts};
use crate::routes::{self, AppState, DaemonInfo};
use crate::settings::LiveSettings;

/// How the daemon is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the API listens.
    pub listen: Listen,
    /// Persistent state.
    pub data_root: PathBuf,
    /// Runtime state.
    pub exec_root: PathBuf,
    /// Where to write the daemon's pid, if anywhere.
    pub pidfile: Option<PathBuf>,
    /// The API socket's group (`None`: root's).
    pub socket_group: Option<u32>,
    /// The settings SIGHUP reloads (debug and live restore are reported by `/info`).
    pub settings: Arc<LiveSettings>,
    /// The containers' default log driver (reported by `/info`).
    pub logging_driver: String,
}

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A socket berthd binds (mode 0660, its group), and removes when it stops.
    Path(PathBuf),
    /// The socket systemd passed (`fd://`, or `fd://N`): systemd owns its path and mode.
    Activated(Option<i32>),
}

impl Listen {
    /// Parses dockerd's `-H`: `unix:///path`, `fd://` or `fd://N`.
    pub fn parse(host: &str) -> Result<Self, String> {
        if let Some(path) = host.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("invalid host {host:?}: unix:// needs a path"));
            }
            return Ok(Listen::Path(PathBuf::from(path)));
        }
        if let Some(fd) = host.strip_prefix("fd://") {
            if fd.is_empty() {
                return Ok(Listen::Activated(None));
            }
            return match fd.parse::<i32>() {
                Ok(n) if n >= 3 => Ok(Listen::Activated(Some(n))),
                _ => Err(format!(
                    "invalid host {host:?}: fd://N needs a descriptor of 3 or more"
                )),
            };
        }
        Err(format!(
            "invalid host {host:?}: berthd listens on unix:///path or fd:// (systemd) only"
        ))
    }

    /// The socket file berthd owns, if it binds one.
    fn owned_path(&self) -> Option<&Path> {
        match self {
            Listen::Path(p) => Some(p),
            Listen::Activated(_) => None,
        }
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Path(p) => write!(f, "unix://{}", p.display()),
            Listen::Activated(None) => f.write_str("fd://"),
            Listen::Activated(Some(n)) => write!(f, "fd://{n}"),
        }
    }
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A directory could not be created.
    #[error("create directory {0}")]
    CreateDir(PathBuf, #[source] io::Error),
    /// The daemon ID could not be read or written.
    #[error("engine id in {0}")]
    EngineId(PathBuf, #[source] io::Error),
    /// Another daemon is listening on the socket.
    #[error("socket {0} is in use by another daemon")]
    SocketInUse(PathBuf),
    /// A stale socket could not be removed.
    #[error("remove stale socket {0}")]
    RemoveSocket(PathBuf, #[source] io::Error),
    /// The socket could not be bound.
    #[error("listen on {0}")]
    Bind(PathBuf, #[source] io::Error),
    /// The socket's mode could not be set.
    #[error("chmod socket {0}")]
    Chmod(PathBuf, #[source] io::Error),
    /// The pid file could not be written.
    #[error("write pid file {0}")]
    Pidfile(PathBuf, #[source] io::Error),
    /// Serving failed.
    #[error("serve http")]
    Serve(#[source] io::Error),
    /// The socket systemd passed cannot be used.
    #[error(transparent)]
    Activation(#[from] crate::activation::ActivationError),
}

impl Config {
    /// Removes the socket berthd bound (never systemd's).
    fn remove_socket(&self) {
        if let Some(path) = self.listen.owned_path()
            && let Err(e) = std::fs::remove_file(path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!("remove socket {}: {e}", path.display());
        }
    }

    /// Removes what [`listen`] made: the socket berthd bound and the pid file.
    pub fn remove_socket_and_pidfile(&self) {
        self.remove_socket();
        if let Some(pidfile) = &self.pidfile {
            let _ = std::fs::remove_file(pidfile);
        }
    }
}

fn mkdir(path: &Path, mode: u32) -> Result<(), ServerError> {
    std::fs::create_dir_all(path).map_err(|e| ServerError::CreateDir(path.into(), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ServerError::CreateDir(path.into(), e))
}

/// Binds the socket, replacing a stale one but never a live daemon's.
async fn bind(path: &Path) -> Result<UnixListener, ServerError> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ServerError::SocketInUse(path.into()));
        }
        std::fs::remove_file(path).map_err(|e| ServerError::RemoveSocket(path.into(), e))?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ServerError::CreateDir(dir.into(), e))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| ServerError::Bind(path.into(), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| ServerError::Chmod(path.into(), e))?;
    Ok(listener)
}

/// Makes the data and exec roots and binds the API socket: done before the engine opens, so
/// a second daemon on a live socket stops before it touches anything.
pub async fn listen(config: &Config) -> Result<UnixListener, ServerError> {
    mkdir(&config.data_root, 0o711)?;
    // 0711: the default socket lives in the exec root, and its group must reach it; what is
    // inside keeps its own modes (shim sockets 0755 are not writable by others).
    mkdir(&config.exec_root, 0o711)?;
    let listener = match &config.listen {
        Listen::Activated(fd) => crate::activation::take_listener(*fd)?,
        Listen::Path(path) => {
            let listener = bind(path).await?;
            if let Some(gid) = config.socket_group
                && let Err(e) = std::os::unix::fs::chown(path, Some(0), Some(gid))
            {
                let _ = std::fs::remove_file(path);
                return Err(ServerError::Chmod(path.clone(), e));
            }
            listener
        }
    };
    if let Some(pidfile) = &config.pidfile
        && let Err(e) = std::fs::write(pidfile, format!("{}\n", std::process::id()))
    {
        config.remove_socket();
        return Err(ServerError::Pidfile(pidfile.clone(), e));
    }
    Ok(listener)
}

/// Serves the API on `listener` (from [`listen`]) with `backend` until `shutdown` completes,
/// then removes the socket and the pid file.
pub async fn run<B: Backend>(
    config: Config,
    listener: UnixListener,
    backend: Arc<B>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let engine_id = match host::engine_id(&config.data_root) {
        Ok(id) => id,
        Err(e) => {
            config.remove_socket_and_pidfile();
            return Err(ServerError::EngineId(config.data_root.clone(), e));
        }
    };
    let daemon = Arc::new(DaemonInfo {
        engine_id,
        data_root: config.data_root.clone(),
        exec_root: config.exec_root.clone(),
        settings: config.settings.clone(),
        logging_driver: config.logging_driver.clone(),
        host: HostFacts::detect(),
    });
    let app = routes::app(AppState { backend, daemon });
    tracing::info!(listen = %config.listen, "API listening");
    crate::activation::notify_ready();

    let settings = config.settings.clone();
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let server = axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service_with_connect_info::<crate::peer::PeerSocket>(
            app,
        ),
    )
    .with_graceful_shutdown(async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    });
    let result = tokio::select! {
        r = server.into_future() => r.map_err(ServerError::Serve),
        () = async {
            shutdown.await;
            tracing::info!("shutting down");
            crate::activation::notify_stopping();
            let _ = stop_tx.send(true);
            tokio::time::sleep(settings.shutdown_grace()).await;
        } => {
            tracing::warn!("connections still open after {:?}; closing them", config.settings.shutdown_grace());
            Ok(())
        }
    };
    config.remove_socket_and_pidfile();
    result
}

/// Completes on SIGTERM or SIGINT. The handlers are installed when this is called (inside the
/// runtime), not when the future is first polled, so a signal that arrives while the engine
/// opens still ends the daemon cleanly once it serves.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers; stop the daemon with SIGKILL");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}
