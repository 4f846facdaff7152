//! Interactive endpoints: `POST /containers/{id}/resize`, `POST /containers/{id}/exec`,
//! `POST /exec/{id}/start` (hijacked like attach), `POST /exec/{id}/resize`,
//! `GET /exec/{id}/json`.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use berth_api::exec::{ExecConfig, ExecCreateResponse, ExecStartConfig};

use super::AppState;
use super::attach::{detach_keys, hijack};
use super::containers::output_response;
use berth_api::stream::StreamType;

use crate::backend::{AttachSession, Backend, BackendError, OutputChunk, OutputStream};
use crate::http::{JsonBody, Params, json_response};

/// The largest terminal side accepted, in rows or columns.
pub const MAX_TERMINAL_SIDE: i64 = 10_000;

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/containers/{id}/resize", post(container_resize::<B>))
        .route("/containers/{id}/exec", post(exec_create::<B>))
        .route("/exec/{id}/start", post(exec_start::<B>))
        .route("/exec/{id}/resize", post(exec_resize::<B>))
        .route("/exec/{id}/json", get(exec_inspect::<B>))
}

/// `h` and `w`: both present, 1 to [`MAX_TERMINAL_SIDE`].
fn size(p: &Params) -> Result<(u16, u16), BackendError> {
    let side = |key: &str| -> Result<u16, BackendError> {
        let v = p
            .int(key)?
            .ok_or_else(|| BackendError::invalid(format!("missing parameter {key}")))?;
        if !(1..=MAX_TERMINAL_SIDE).contains(&v) {
            return Err(BackendError::invalid(format!(
                "invalid terminal size {key}={v}: must be 1 to {MAX_TERMINAL_SIDE}"
            )));
        }
        u16::try_from(v).map_err(|_| BackendError::invalid(format!("invalid {key}={v}")))
    };
    Ok((side("h")?, side("w")?))
}

async fn container_resize<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, BackendError> {
    let (h, w) = size(&p)?;
    s.backend.container_resize(&id, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

async fn exec_resize<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, BackendError> {
    let (h, w) = size(&p)?;
    s.backend.exec_resize(&id, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

async fn exec_create<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    JsonBody(config): JsonBody<ExecConfig>,
) -> Result<Response, BackendError> {
    if let Some(keys) = config.detach_keys.as_deref().filter(|k| !k.is_empty()) {
        detach_keys(true, Some(keys))?;
    }
    let id = s.backend.exec_create(&id, config).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &ExecCreateResponse { id },
    ))
}

async fn exec_inspect<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
) -> Result<Response, BackendError> {
    let e = s.backend.exec_inspect(&id).await?;
    Ok(json_response(StatusCode::OK, &e))
}

async fn exec_start<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    mut req: Request,
) -> Result<Response, BackendError> {
    let body = std::mem::take(req.body_mut());
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| BackendError::invalid(format!("read request body: {e}")))?;
    let config: ExecStartConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
        ExecStartConfig::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| BackendError::invalid(format!("invalid JSON: {e}")))?
    };
    let inspect = s.backend.exec_inspect(&id).await?;
    let keys = if inspect.detach_keys.is_empty() {
        None
    } else {
        Some(inspect.detach_keys.as_str())
    };
    let detach = detach_keys(inspect.open_stdin, keys)?;
    let detached = config.detach;
    // As dockerd: the start request's `Tty`, not the exec's, picks raw output or frames
    // (docker-py starts a TTY exec with `Tty: false` and reads frames).
    let raw = config.tty;
    let mut session = match s.backend.exec_start(&id, config).await {
        Ok(Some(session)) => session,
        Ok(None) => return Ok(StatusCode::OK.into_response()),
        // As dockerd: an attached exec whose process could not start (no such executable)
        // still gets its stream, carrying the error text; its exit code (126, 127) is in
        // exec inspect. docker and docker-py read it that way.
        Err(e) if !detached && failed_to_start(&*s.backend, &id).await => failed_session(e),
        Err(e) => return Err(e),
    };
    session.output.tty = raw;
    if detached || !req.headers().contains_key(axum::http::header::UPGRADE) {
        return Ok(output_response(session.output));
    }
    hijack(req, session, detach, id)
}

/// Whether exec `id` ended at its start (an exit code and no process).
async fn failed_to_start<B: Backend>(backend: &B, id: &str) -> bool {
    backend
        .exec_inspect(id)
        .await
        .is_ok_and(|e| !e.running && e.exit_code.is_some())
}

/// A session whose output is the start error, on stdout, and then its end.
fn failed_session(e: BackendError) -> AttachSession {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let _ = tx.try_send(Ok(OutputChunk {
        stream: StreamType::Stdout,
        data: format!("{}\r\n", e.message).into(),
    }));
    AttachSession {
        output: OutputStream {
            tty: false,
            chunks: rx,
        },
        stdin: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        let ok = Params::parse("h=24&w=80");
        assert_eq!(size(&ok).ok(), Some((24, 80)));
        for bad in [
            "h=0&w=80",
            "h=24&w=0",
            "h=24",
            "h=x&w=1",
            "h=99999&w=80",
            "h=-1&w=2",
        ] {
            assert!(size(&Params::parse(bad)).is_err(), "{bad}");
        }
    }
}
