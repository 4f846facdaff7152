//! The swarm-mode and plugin routes, answered as dockerd answers them on a node where swarm
//! is inactive and no plugin is installed: berth has no swarm mode (a single engine) and no
//! plugins. Clients call `swarm leave` in their cleanups and list plugins, so these must be
//! dockerd's answers, not 404s.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get};
use berth_api::ErrorResponse;

use super::AppState;
use crate::backend::Backend;
use crate::http::json_response;

/// dockerd's answer to a swarm-manager request on a node outside a swarm.
const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \
                             \"docker swarm join\" to connect this node to swarm and try again.";

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    let mut r = Router::new()
        .route("/swarm/leave", any(leave))
        .route("/plugins", get(no_plugins))
        .route("/plugins/{name}/json", get(no_such_plugin));
    for prefix in [
        "/swarm",
        "/nodes",
        "/services",
        "/tasks",
        "/secrets",
        "/configs",
    ] {
        r = r
            .route(prefix, any(not_a_manager))
            .route(&format!("{prefix}/{{*rest}}"), any(not_a_manager));
    }
    r
}

fn unavailable(message: &str) -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &ErrorResponse::new(message),
    )
}

async fn not_a_manager() -> Response {
    unavailable(NOT_A_MANAGER)
}

async fn leave() -> Response {
    unavailable("This node is not part of a swarm")
}

async fn no_plugins() -> Response {
    json_response(StatusCode::OK, &Vec::<()>::new())
}

async fn no_such_plugin(Path(name): Path<String>) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &ErrorResponse::new(format!("plugin \"{name}\" not found")),
    )
}
