//! The shim's `wait` as an async socket read: a running container costs the daemon one idle
//! connection and one parked task, never a thread, so any number of them can run and none
//! holds the daemon's exit or its blocking pool.

use std::path::Path;

use berth_shim::client::ClientError;
use berth_shim::protocol::{Request, Response, WaitRequest};
use berth_shim::status::ExitStatus;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The longest reply line accepted (a status is a few hundred bytes).
const MAX_REPLY: u64 = 64 * 1024;

/// Waits until init (`exec_id: None`) or an exec has exited; returns its status.
pub(crate) async fn wait(socket: &Path, exec_id: Option<&str>) -> Result<ExitStatus, ClientError> {
    let mut s = UnixStream::connect(socket)
        .await
        .map_err(|source| ClientError::Connect {
            path: socket.to_path_buf(),
            source,
        })?;
    let req = Request::Wait(WaitRequest {
        exec_id: exec_id.map(str::to_owned),
    });
    let mut line = serde_json::to_vec(&req).map_err(ClientError::Reply)?;
    line.push(b'\n');
    s.write_all(&line).await?;
    let mut reply = Vec::with_capacity(256);
    let mut r = tokio::io::AsyncReadExt::take(BufReader::new(s), MAX_REPLY);
    if r.read_until(b'\n', &mut reply).await? == 0 || reply.last() != Some(&b'\n') {
        return Err(ClientError::NoReply);
    }
    let resp: Response = serde_json::from_slice(&reply).map_err(ClientError::Reply)?;
    if !resp.ok {
        return Err(ClientError::Refused(
            resp.error.unwrap_or_else(|| "request failed".into()),
        ));
    }
    resp.status.ok_or(ClientError::Missing("status"))
}
