//! `HEAD`, `GET` and `PUT /containers/{id}/archive` (`docker cp`).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use berth_engine::archive::{PathStat, PutOptions};
use berth_engine::filesystem::CommitOptions;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::AppState;
use super::distribution::ArchiveBody;
use crate::backend::{Backend, BackendError};
use crate::http::{Params, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route(
            "/containers/{id}/archive",
            get(get_archive::<B>).head(head::<B>).put(put::<B>),
        )
        .route("/containers/{id}/changes", get(changes::<B>))
        .route("/containers/{id}/export", get(export::<B>))
        .route("/commit", post(commit::<B>))
}

async fn changes<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    let c = s.backend.container_changes(&id).await?;
    Ok(json_response(StatusCode::OK, &c))
}

async fn export<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    let rx = s.backend.container_export(&id).await?;
    let mut resp = Body::new(ArchiveBody { rx }).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    Ok(resp)
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&changes=&pause=`; the body is an
/// optional container config.
async fn commit<B: Backend>(State(s): State<AppState<B>>, p: Params, body: Bytes) -> Reply {
    let Some(container) = p.non_empty("container") else {
        return Err(BackendError::invalid("container is required"));
    };
    let config = if body.iter().all(u8::is_ascii_whitespace) || &body[..] == b"null" {
        None
    } else {
        let v: berth_api::container::ContainerConfig = serde_json::from_slice(&body)
            .map_err(|e| BackendError::invalid(format!("invalid JSON: {e}")))?;
        (v != berth_api::container::ContainerConfig::default()).then_some(v)
    };
    let opts = CommitOptions {
        repo: p.non_empty("repo"),
        tag: p.non_empty("tag"),
        comment: p.get("comment").unwrap_or_default().to_owned(),
        author: p.get("author").unwrap_or_default().to_owned(),
        changes: p
            .all("changes")
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect(),
        config,
        pause: p.bool_or("pause", true),
    };
    let id = s.backend.commit(&container, opts).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": id }),
    ))
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
