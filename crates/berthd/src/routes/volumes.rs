//! Volume endpoints: list, create, inspect, remove, prune.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use berth_api::volume::{VolumeCreateOptions, VolumeListResponse};

use super::AppState;
use crate::backend::{Backend, BackendError};
use crate::http::{JsonBody, Params, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/volumes", get(list::<B>))
        .route("/volumes/create", post(create::<B>))
        .route("/volumes/prune", post(prune::<B>))
        .route("/volumes/{name}", get(inspect::<B>).delete(remove::<B>))
}

type Reply = Result<Response, BackendError>;

async fn list<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let volumes = s.backend.volume_list(p.filters()?).await?;
    Ok(json_response(
        StatusCode::OK,
        &VolumeListResponse {
            volumes: Some(volumes),
            warnings: None,
        },
    ))
}

async fn create<B: Backend>(
    State(s): State<AppState<B>>,
    JsonBody(req): JsonBody<VolumeCreateOptions>,
) -> Reply {
    Ok(json_response(
        StatusCode::CREATED,
        &s.backend.volume_create(req).await?,
    ))
}

async fn inspect<B: Backend>(State(s): State<AppState<B>>, Path(name): Path<String>) -> Reply {
    Ok(json_response(
        StatusCode::OK,
        &s.backend.volume_inspect(&name).await?,
    ))
}

async fn remove<B: Backend>(
    State(s): State<AppState<B>>,
    Path(name): Path<String>,
    p: Params,
) -> Reply {
    s.backend.volume_remove(&name, p.bool("force")).await?;
    let mut r = Response::default();
    *r.status_mut() = StatusCode::NO_CONTENT;
    Ok(r)
}

async fn prune<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    Ok(json_response(
        StatusCode::OK,
        &s.backend.volume_prune(p.filters()?).await?,
    ))
}
