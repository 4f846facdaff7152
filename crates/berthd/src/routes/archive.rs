//! `HEAD`, `GET` and `PUT /containers/{id}/archive` (`docker cp`).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use berth_engine::archive::{PathStat, PutOptions};
use tokio::sync::mpsc;

use super::AppState;
use super::distribution::ArchiveBody;
use crate::backend::{Backend, BackendError};
use crate::http::Params;

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new().route(
        "/containers/{id}/archive",
        get(get_archive::<B>).head(head::<B>).put(put::<B>),
    )
}

type Reply = Result<Response, BackendError>;

const STAT_HEADER: &str = "x-docker-container-path-stat";

fn path_param(p: &Params) -> Result<String, BackendError> {
    p.non_empty("path")
        .ok_or_else(|| BackendError::invalid("path is required"))
}

fn with_stat(mut resp: Response, stat: &PathStat) -> Reply {
    let json = serde_json::to_vec(stat)
        .map_err(|e| BackendError::invalid(format!("encode the path's stat: {e}")))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(json);
    let v = HeaderValue::from_str(&b64)
        .map_err(|e| BackendError::invalid(format!("encode the path's stat: {e}")))?;
    resp.headers_mut().insert(STAT_HEADER, v);
    Ok(resp)
}

async fn head<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let path = path_param(&p)?;
    let stat = s.backend.archive_stat(&id, &path).await?;
    with_stat(StatusCode::OK.into_response(), &stat)
}

async fn get_archive<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let path = path_param(&p)?;
    let (stat, rx) = s.backend.archive_get(&id, &path).await?;
    let mut resp = Body::new(ArchiveBody { rx }).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    with_stat(resp, &stat)
}

async fn put<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
    req: Request,
) -> Reply {
    let path = path_param(&p)?;
    let opts = PutOptions {
        no_overwrite_dir_non_dir: p.bool("noOverwriteDirNonDir"),
        copy_uid_gid: p.bool("copyUIDGID"),
    };
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(super::images::feed_body(req.into_body(), tx));
    s.backend.archive_put(&id, &path, rx, opts).await?;
    Ok(StatusCode::OK.into_response())
}
