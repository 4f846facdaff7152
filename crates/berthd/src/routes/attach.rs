//! `POST /containers/{id}/attach`: the hijacked connection.
//!
//! docker's clients send `Connection: Upgrade` / `Upgrade: tcp`; the daemon answers
//! `101 UPGRADED` with `Upgrade: tcp` and the stream's content type, then the connection
//! carries the container's output (8-byte frames without a TTY, raw with one) one way and
//! the client's stdin the other. A client that does not ask for an upgrade gets the output
//! as an ordinary streamed 200 response (hyper cannot hijack a plain HTTP/1.1 exchange).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use berth_api::stream;
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::AppState;
use super::containers::{output_response, pump_output};
use crate::backend::{AttachOptions, AttachSession, Backend, BackendError};
use crate::http::Params;

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new().route("/containers/{id}/attach", post(attach::<B>))
}

async fn attach<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
    mut req: Request,
) -> Result<Response, BackendError> {
    let opts = AttachOptions {
        logs: p.bool("logs"),
        stream: p.bool("stream"),
        stdin: p.bool("stdin"),
        stdout: p.bool("stdout"),
        stderr: p.bool("stderr"),
        detach_keys: p.non_empty("detachKeys"),
    };
    let session = s.backend.container_attach(&id, opts).await?;
    if !req.headers().contains_key(header::UPGRADE) {
        return Ok(output_response(session.output));
    }
    let content_type = if session.output.tty {
        stream::RAW_STREAM
    } else {
        stream::MULTIPLEXED_STREAM
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => serve_hijacked(TokioIo::new(upgraded), session).await,
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

/// Copies output to the client and the client's bytes to stdin until the output ends.
async fn serve_hijacked<IO>(io: IO, session: AttachSession)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let AttachSession { output, stdin } = session;
    if let Some(tx) = stdin {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                            break;
                        }
                    }
                }
            }
            // Dropping `tx` closes the container's stdin.
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
    tokio::join!(pump_output(output, tx), write);
}
