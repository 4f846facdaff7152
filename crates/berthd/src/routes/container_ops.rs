//! Operations on a container's process: pause, unpause, top, stats, update, rename; and
//! `POST /containers/prune`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use berth_api::container::ContainerUpdateBody;

use super::AppState;
use crate::backend::{Backend, BackendError};
use crate::http::{JsonBody, Params, json_lines_response, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/containers/{id}/pause", post(pause::<B>))
        .route("/containers/{id}/unpause", post(unpause::<B>))
        .route("/containers/{id}/top", get(top::<B>))
        .route("/containers/{id}/stats", get(stats::<B>))
        .route("/containers/{id}/update", post(update::<B>))
        .route("/containers/{id}/rename", post(rename::<B>))
        .route("/containers/prune", post(prune::<B>))
}

type Reply = Result<Response, BackendError>;

async fn pause<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    s.backend.container_pause(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn unpause<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    s.backend.container_unpause(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn top<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>, p: Params) -> Reply {
    let args = p.get("ps_args").unwrap_or("").to_owned();
    let top = s.backend.container_top(&id, args).await?;
    Ok(json_response(StatusCode::OK, &top))
}

async fn stats<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let stream = p.bool_or("stream", true);
    let one_shot = p.bool("one-shot");
    if one_shot && stream {
        return Err(BackendError::invalid(
            "cannot have stream=true and one-shot=true",
        ));
    }
    let mut rx = s.backend.container_stats(&id, stream, one_shot).await?;
    if stream {
        return Ok(json_lines_response(rx));
    }
    match rx.recv().await {
        Some(sample) => Ok(json_response(StatusCode::OK, &sample)),
        None => Err(BackendError::new(
            berth_api::ErrorKind::Internal,
            format!("no stats for container {id}"),
        )),
    }
}

async fn update<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ContainerUpdateBody>,
) -> Reply {
    let r = s.backend.container_update(&id, body).await?;
    Ok(json_response(StatusCode::OK, &r))
}

async fn rename<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    p: Params,
) -> Reply {
    let name = p.get("name").unwrap_or("").to_owned();
    s.backend.container_rename(&id, name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn prune<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let r = s.backend.container_prune(p.filters()?).await?;
    Ok(json_response(StatusCode::OK, &r))
}
