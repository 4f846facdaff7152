//! `POST /containers/{id}/attach`: the hijacked connection.
//!
//! docker's clients send `Connection: Upgrade` / `Upgrade: tcp`; the daemon answers
//! `101 UPGRADED` with `Upgrade: tcp` and the stream's content type, then the connection
//! carries the container's output (8-byte frames without a TTY, raw with one) one way and
//! the client's stdin the other. A client that does not ask for an upgrade gets the output
//! as an ordinary streamed 200 response (hyper cannot hijack a plain HTTP/1.1 exchange).

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use berth_api::detach::{self, DetachMatcher, Scan};
use berth_api::stream;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::AppState;
use super::containers::{output_response, pump_output};
use crate::backend::{AttachOptions, AttachSession, Backend, BackendError};
use crate::http::Params;
use crate::peer::PeerSocket;

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new().route("/containers/{id}/attach", post(attach::<B>))
}

async fn attach<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
    req: Request,
) -> Result<Response, BackendError> {
    let opts = AttachOptions {
        logs: p.bool("logs"),
        stream: p.bool("stream"),
        stdin: p.bool("stdin"),
        stdout: p.bool("stdout"),
        stderr: p.bool("stderr"),
        detach_keys: p.non_empty("detachKeys"),
    };
    let detach = detach_keys(opts.stdin, opts.detach_keys.as_deref())?;
    let session = s.backend.container_attach(&id, opts).await?;
    if !req.headers().contains_key(header::UPGRADE) {
        return Ok(output_response(session.output));
    }
    hijack(req, session, detach, id)
}

/// The detach sequence of a session with stdin: the given keys or docker's default; a
/// sequence that does not parse is a 400.
pub(super) fn detach_keys(stdin: bool, keys: Option<&str>) -> Result<Vec<u8>, BackendError> {
    if !stdin {
        return Ok(Vec::new());
    }
    detach::parse(keys.unwrap_or(detach::DEFAULT_DETACH_KEYS))
        .map_err(|e| BackendError::invalid(e.to_string()))
}

/// Answers `101 UPGRADED` and serves the session on the upgraded connection once the client
/// has read that answer (see [`crate::peer`]).
pub(super) fn hijack(
    mut req: Request,
    session: AttachSession,
    detach: Vec<u8>,
    id: String,
) -> Result<Response, BackendError> {
    let content_type = if session.output.tty {
        stream::RAW_STREAM
    } else {
        stream::MULTIPLEXED_STREAM
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<PeerSocket>>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                // nothing may follow the reply in the client's buffered read of it
                peer.drained().await;
                serve_hijacked(TokioIo::new(upgraded), session, detach).await
            }
            Err(e) => tracing::warn!("attach to {id}: upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::empty())
        .map_err(|e| BackendError::new(berth_api::ErrorKind::Internal, format!("attach: {e}")))
}

/// Copies output to the client and the client's bytes to stdin until the output ends or
/// the client types the detach sequence (then the stream ends and the container runs on).
async fn serve_hijacked<IO>(io: IO, session: AttachSession, detach: Vec<u8>)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let AttachSession { output, stdin } = session;
    let (detached_tx, detached) = tokio::sync::oneshot::channel::<()>();
    if let Some(tx) = stdin {
        tokio::spawn(async move {
            let mut matcher = DetachMatcher::new(detach);
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let (bytes, done) = match matcher.scan(&buf[..n]) {
                            Scan::Forward(b) => (b, false),
                            Scan::Detach(b) => (b, true),
                        };
                        if !bytes.is_empty() && tx.send(Bytes::from(bytes)).await.is_err() {
                            break;
                        }
                        if done {
                            let _ = detached_tx.send(());
                            break;
                        }
                    }
                }
            }
            // Dropping `tx` closes the container's stdin (a TTY's stays open).
        });
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let write = async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    };
    // On detach the output is dropped (the engine lets go of the shim's stream) and the
    // client's connection closes.
    tokio::select! {
        _ = async { tokio::join!(pump_output(output, tx), write) } => {}
        Ok(()) = detached => {}
    }
}
