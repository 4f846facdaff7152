//! Network endpoints: list, inspect, create, remove, connect, disconnect, prune.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use berth_api::network::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest, NetworkPruneResponse,
};

use super::AppState;
use crate::backend::{Backend, BackendError};
use crate::http::{JsonBody, Params, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/networks", get(list::<B>))
        .route("/networks/create", post(create::<B>))
        .route("/networks/prune", post(prune::<B>))
        .route("/networks/{id}", get(inspect::<B>).delete(remove::<B>))
        .route("/networks/{id}/connect", post(connect::<B>))
        .route("/networks/{id}/disconnect", post(disconnect::<B>))
}

type Reply = Result<Response, BackendError>;

async fn list<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let nets = s.backend.network_list(p.filters()?).await?;
    Ok(json_response(StatusCode::OK, &nets))
}

async fn inspect<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    Ok(json_response(
        StatusCode::OK,
        &s.backend.network_inspect(&id).await?,
    ))
}

async fn create<B: Backend>(
    State(s): State<AppState<B>>,
    JsonBody(req): JsonBody<NetworkCreateRequest>,
) -> Reply {
    Ok(json_response(
        StatusCode::CREATED,
        &s.backend.network_create(req).await?,
    ))
}

async fn remove<B: Backend>(State(s): State<AppState<B>>, Path(id): Path<String>) -> Reply {
    s.backend.network_remove(&id).await?;
    Ok(no_content())
}

async fn connect<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<NetworkConnectRequest>,
) -> Reply {
    s.backend.network_connect(&id, req).await?;
    Ok(json_response(StatusCode::OK, &serde_json::Value::Null))
}

async fn disconnect<B: Backend>(
    State(s): State<AppState<B>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<NetworkDisconnectRequest>,
) -> Reply {
    s.backend.network_disconnect(&id, req).await?;
    Ok(json_response(StatusCode::OK, &serde_json::Value::Null))
}

async fn prune<B: Backend>(State(s): State<AppState<B>>) -> Reply {
    let deleted = s.backend.network_prune().await?;
    Ok(json_response(
        StatusCode::OK,
        &NetworkPruneResponse {
            networks_deleted: Some(deleted),
        },
    ))
}

fn no_content() -> Response {
    let mut r = Response::default();
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}
