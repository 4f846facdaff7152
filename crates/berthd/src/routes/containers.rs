//! Container endpoints (attach is in `attach.rs`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use berth_api::container::{ContainerCreateBody, WaitExitError, WaitResponse};
use berth_api::stream::{self, StreamType};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::AppState;
use crate::backend::{
    Backend, BackendError, ListOptions, LogsOptions, OutputStream, RemoveOptions, StopOptions,
    WaitCondition,
};
use crate::http::{JsonBody, Params, channel_body, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/containers/json", get(list::<B>))
        .route("/containers/create", post(create::<B>))
        .route("/containers/{id}/json", get(inspect::<B>))
        .route("/containers/{id}/start", post(start::<B>))
        .route("/containers/{id}/stop", post(stop::<B>))
        .route("/containers/{id}/kill", post(kill::<B>))
        .route("/containers/{id}/restart", post(restart::<B>))
        .route("/containers/{id}/wait", post(wait::<B>))
        .route("/containers/{id}/logs", get(logs::<B>))
        .route("/containers/{id}", delete(remove::<B>))
}

type Reply = Result<Response, BackendError>;

async fn create<B: Backend>(
    State(s): State<AppState<B>>,
    p: Params,
    JsonBody(body): JsonBody<ContainerCreateBody>,
) -> Reply {
    let created = s
        .backend
        .container_create(p.non_empty("name"), body)
        .await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

async fn start<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    s.backend.container_start(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn stop_options(p: &Params) -> Result<StopOptions, BackendError> {
    Ok(StopOptions {
        signal: p.non_empty("signal"),
        timeout: p.int("t")?,
    })
}

async fn stop<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    s.backend.container_stop(&id, stop_options(&p)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn restart<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    s.backend.container_restart(&id, stop_options(&p)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn kill<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    s.backend.container_kill(&id, p.non_empty("signal")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Parses `condition`: `not-running` (default), `next-exit`, `removed`.
pub(super) fn wait_condition(p: &Params) -> Result<WaitCondition, BackendError> {
    match p.get("condition").unwrap_or("") {
        "" | "not-running" => Ok(WaitCondition::NotRunning),
        "next-exit" => Ok(WaitCondition::NextExit),
        "removed" => Ok(WaitCondition::Removed),
        other => Err(BackendError::invalid(format!(
            "invalid condition: {other:?}"
        ))),
    }
}

/// Registers the wait, sends the headers at once, and the body when the wait ends.
async fn wait<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let result = s.backend.container_wait(&id, wait_condition(&p)?).await?;
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        let resp = result.await.unwrap_or_else(|_| WaitResponse {
            status_code: -1,
            error: Some(WaitExitError {
                message: "wait aborted: the daemon is shutting down".into(),
            }),
        });
        if let Ok(mut body) = serde_json::to_vec(&resp) {
            body.push(b'\n');
            // The client may be gone; nothing to do then.
            let _ = tx.send(body.into()).await;
        }
    });
    let mut resp = channel_body(rx).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

async fn logs<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let tail = match p.get("tail").unwrap_or("all") {
        "" | "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| BackendError::invalid(format!("invalid value for tail: {n:?}")))?,
        ),
    };
    let opts = LogsOptions {
        follow: p.bool("follow"),
        stdout: p.bool("stdout"),
        stderr: p.bool("stderr"),
        since: p.time("since")?,
        until: p.time("until")?,
        timestamps: p.bool("timestamps"),
        tail,
    };
    if !opts.stdout && !opts.stderr {
        return Err(BackendError::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let out = s.backend.container_logs(&id, opts).await?;
    // As dockerd: one frame per log line (docker-py's `logs(stream=True)` yields frames),
    // though the engine hands lines over in batches.
    Ok(framed_response(out, Framing::PerLine))
}

/// How output chunks become frames (without a TTY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// A frame per chunk, as the process wrote it (attach, exec).
    PerChunk,
    /// A frame per line (logs, whose chunks are whole lines).
    PerLine,
}

/// Streams a container's output as a 200 response: frames without a TTY, raw bytes with.
pub(super) fn output_response(out: OutputStream) -> Response {
    framed_response(out, Framing::PerChunk)
}

fn framed_response(out: OutputStream, framing: Framing) -> Response {
    let tty = out.tty;
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(pump_framed(out, tx, framing));
    let mut resp = channel_body(rx).into_response();
    let ct = if tty {
        stream::RAW_STREAM
    } else {
        stream::MULTIPLEXED_STREAM
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

/// Encodes output chunks (framed unless `tty`) into `tx` until either side ends.
pub(super) async fn pump_output(out: OutputStream, tx: mpsc::Sender<Bytes>) {
    pump_framed(out, tx, Framing::PerChunk).await;
}

async fn pump_framed(mut out: OutputStream, tx: mpsc::Sender<Bytes>, framing: Framing) {
    while let Some(chunk) = out.chunks.recv().await {
        let bytes = match chunk {
            Ok(c) if out.tty => c.data,
            Ok(c) if framing == Framing::PerLine => {
                let mut buf = Vec::with_capacity(c.data.len() + stream::HEADER_LEN);
                for line in c.data.split_inclusive(|&b| b == b'\n') {
                    stream::encode(c.stream, line, &mut buf);
                }
                buf.into()
            }
            Ok(c) => {
                let mut buf = Vec::with_capacity(c.data.len() + stream::HEADER_LEN);
                stream::encode(c.stream, &c.data, &mut buf);
                buf.into()
            }
            Err(e) => {
                tracing::warn!("output stream ended: {e}");
                if out.tty {
                    break;
                }
                let mut buf = Vec::new();
                stream::encode(StreamType::SystemErr, e.message.as_bytes(), &mut buf);
                buf.into()
            }
        };
        if tx.send(bytes).await.is_err() {
            break;
        }
    }
}

async fn inspect<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let c = s.backend.container_inspect(&id, p.bool("size")).await?;
    Ok(json_response(StatusCode::OK, &c))
}

async fn list<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let limit = match p.int("limit")? {
        Some(n) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => None,
    };
    let opts = ListOptions {
        all: p.bool("all"),
        limit,
        size: p.bool("size"),
        filters: p.filters()?,
    };
    let list = s.backend.container_list(opts).await?;
    Ok(json_response(StatusCode::OK, &list))
}

async fn remove<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let opts = RemoveOptions {
        force: p.bool("force"),
        volumes: p.bool("v"),
        link: p.bool("link"),
    };
    s.backend.container_remove(&id, opts).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
