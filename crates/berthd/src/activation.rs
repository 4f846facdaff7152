//! systemd integration: the API socket passed by socket activation (`-H fd://`, as
//! dockerd's `docker.service` uses with `docker.socket`) and readiness notification
//! (`Type=notify`). Both are no-ops outside systemd.

use std::io;

use tokio::net::UnixListener;

/// Why the activated socket cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// `fd://` was given but systemd passed no socket.
    #[error(
        "-H fd:// needs a socket passed by systemd (LISTEN_FDS): start berthd through berth.socket, or use -H unix:///path"
    )]
    NoSocket,
    /// `fd://` with several sockets passed: berthd serves one.
    #[error("systemd passed {0} sockets; berthd serves one: name it with -H fd://N")]
    Several(usize),
    /// `fd://N` names no passed socket.
    #[error("-H fd://{0}: systemd passed no socket with that descriptor (LISTEN_FDS={1})")]
    NoSuchFd(i32, usize),
    /// The descriptor is not a listening unix socket.
    #[error("-H fd://{0}: not a listening unix socket")]
    NotUnix(i32, #[source] io::Error),
}

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// Takes the unix listener systemd passed: all of them for `None` (`fd://`, which must be
/// exactly one), descriptor `fd` for `Some(fd)` (`fd://N`).
pub fn take_listener(fd: Option<i32>) -> Result<UnixListener, ActivationError> {
    let mut fds = listenfd::ListenFd::from_env();
    let count = fds.len();
    let index = match fd {
        None if count == 0 => return Err(ActivationError::NoSocket),
        None if count > 1 => return Err(ActivationError::Several(count)),
        None => 0,
        Some(n) => match usize::try_from(n - FIRST_FD) {
            Ok(i) if i < count => i,
            _ => return Err(ActivationError::NoSuchFd(n, count)),
        },
    };
    let named = fd.unwrap_or(FIRST_FD);
    let listener = fds
        .take_unix_listener(index)
        .map_err(|e| ActivationError::NotUnix(named, e))?
        .ok_or(ActivationError::NoSuchFd(named, count))?;
    listener
        .set_nonblocking(true)
        .and_then(|()| UnixListener::from_std(listener))
        .map_err(|e| ActivationError::NotUnix(named, e))
}

/// Tells systemd the daemon serves (`READY=1`).
pub fn notify_ready() {
    notify(&[sd_notify::NotifyState::Ready]);
}

/// Tells systemd the daemon reloads its configuration (`RELOADING=1`), then is ready again.
pub fn notify_reloading() {
    notify(&[sd_notify::NotifyState::Reloading]);
}

/// Tells systemd the daemon is stopping (`STOPPING=1`).
pub fn notify_stopping() {
    notify(&[sd_notify::NotifyState::Stopping]);
}

fn notify(state: &[sd_notify::NotifyState]) {
    // Without NOTIFY_SOCKET this does nothing; a failure to tell systemd is worth a line,
    // never a stop.
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("notify systemd: {e}");
    }
}
