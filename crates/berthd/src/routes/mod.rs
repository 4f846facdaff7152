//! The Docker Engine API routes, one module per resource, and the layer that strips and
//! checks `/v1.xx` version prefixes around the router.

mod archive;
mod attach;
mod build;
mod container_ops;
mod containers;
mod distribution;
mod exec;
mod images;
mod networks;
mod swarm;
mod system;
mod volumes;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use berth_api::{API_VERSION, ErrorResponse, version};

use crate::backend::Backend;
use crate::host::{HostFacts, VERSION};
use crate::http::{json_response, page_not_found};

/// What the daemon knows about itself, for `/version` and `/info`.
#[derive(Debug, Clone, Default)]
pub struct DaemonInfo {
    /// Persistent daemon ID.
    pub engine_id: String,
    /// Data root.
    pub data_root: PathBuf,
    /// Exec root.
    pub exec_root: PathBuf,
    /// The settings in force (debug, live restore), reloaded by SIGHUP.
    pub settings: Arc<crate::settings::LiveSettings>,
    /// The containers' default log driver.
    pub logging_driver: String,
    /// Host facts.
    pub host: HostFacts,
}

/// Shared state of every route.
pub struct AppState<B> {
    /// The engine.
    pub backend: Arc<B>,
    /// The daemon's own facts.
    pub daemon: Arc<DaemonInfo>,
}

impl<B> Clone for AppState<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            daemon: self.daemon.clone(),
        }
    }
}

/// The router of every endpoint, without version handling.
pub fn router<B: Backend>(state: AppState<B>) -> Router {
    Router::new()
        .merge(system::routes())
        .merge(containers::routes())
        .merge(archive::routes())
        .merge(container_ops::routes())
        .merge(attach::routes())
        .merge(build::routes())
        .merge(exec::routes())
        .merge(images::routes())
        .merge(distribution::routes())
        .merge(networks::routes())
        .merge(swarm::routes())
        .merge(volumes::routes())
        .fallback(page_not_found)
        .method_not_allowed_fallback(page_not_found)
        .with_state(state)
}

/// The whole HTTP application: [`router`] inside the version layer.
pub fn app<B: Backend>(
    state: AppState<B>,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    use tower::Layer;
    axum::middleware::from_fn(versioned).layer(router(state))
}

/// Strips a `/v1.xx` prefix after checking the version (400 with docker's message when
/// out of range), and sets docker's `Server` and `API-Version` headers on every response.
async fn versioned(mut req: Request, next: Next) -> Response {
    if let Some((v, rest)) = version::split_prefix(req.uri().path()) {
        if let Err(e) = version::check(v) {
            return with_headers(json_response(
                StatusCode::BAD_REQUEST,
                &ErrorResponse::new(e.to_string()),
            ));
        }
        let target = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        match target.parse::<Uri>() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(e) => {
                return with_headers(json_response(
                    StatusCode::BAD_REQUEST,
                    &ErrorResponse::new(format!("invalid request path: {e}")),
                ));
            }
        }
    }
    with_headers(next.run(req).await)
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("berth/{VERSION} (linux)")) {
        h.insert("server", v);
    }
    if let Ok(v) = HeaderValue::from_str(&API_VERSION.to_string()) {
        h.insert("api-version", v);
    }
    resp
}
