//! Pull, push, save, load and login routes. `/images/{name}/push` and
//! `/images/{name}/get` arrive through the images module's catch-all and are handed here.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;
use tokio::sync::mpsc;

use super::AppState;
use crate::backend::{Backend, BackendError};
use crate::distribution::{PullRequest, PushRequest, RegistryAuth};
use crate::http::{Params, json_lines_response, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/images/get", get(save::<B>))
        .route("/images/load", post(load::<B>))
        .route("/auth", post(auth::<B>))
        .route("/images/prune", post(prune::<B>))
        .route("/system/df", get(df::<B>))
}

/// `POST /images/prune?filters={"dangling":["false"]}` (docker's `-a`).
async fn prune<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let filters = p.filters()?;
    let all = filters
        .get("dangling")
        .is_some_and(|v| v.iter().any(|x| matches!(x.as_str(), "false" | "0")));
    let v = s.backend.image_prune(all).await?;
    Ok(json_response(StatusCode::OK, &v))
}

/// `GET /system/df`.
async fn df<B: Backend>(State(s): State<AppState<B>>) -> Reply {
    let v = s.backend.system_df().await?;
    Ok(json_response(StatusCode::OK, &v))
}

type Reply = Result<Response, BackendError>;

fn registry_auth(headers: &HeaderMap) -> Result<Option<RegistryAuth>, BackendError> {
    match headers.get("x-registry-auth") {
        None => Ok(None),
        Some(v) => RegistryAuth::from_header(
            v.to_str()
                .map_err(|_| BackendError::invalid("invalid X-Registry-Auth header"))?,
        ),
    }
}

/// `POST /images/create?fromImage=NAME&tag=T&platform=P`.
pub(super) async fn pull<B: Backend>(
    s: AppState<B>,
    from_image: String,
    p: &Params,
    headers: &HeaderMap,
) -> Reply {
    let req = PullRequest {
        from_image,
        tag: p.non_empty("tag"),
        platform: p.non_empty("platform"),
        auth: registry_auth(headers)?,
    };
    Ok(json_lines_response(s.backend.image_pull(req).await?))
}

/// `POST /images/{name}/push?tag=T`.
pub(super) async fn push<B: Backend>(
    s: AppState<B>,
    name: &str,
    p: &Params,
    headers: &HeaderMap,
) -> Reply {
    let req = PushRequest {
        name: name.to_owned(),
        tag: p.non_empty("tag"),
        auth: registry_auth(headers)?,
    };
    Ok(json_lines_response(s.backend.image_push(req).await?))
}

/// A response body of archive chunks; an `Err` aborts the response (the client sees a
/// broken transfer, never a short archive that looks whole).
pub(super) struct ArchiveBody {
    pub(super) rx: mpsc::Receiver<Result<Bytes, BackendError>>,
}

impl http_body::Body for ArchiveBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|o| {
            o.map(|r| {
                r.map(http_body::Frame::data)
                    .map_err(|e| std::io::Error::other(e.message))
            })
        })
    }
}

async fn save_names<B: Backend>(s: &AppState<B>, names: Vec<String>) -> Reply {
    if names.is_empty() {
        return Err(BackendError::invalid("no image names given"));
    }
    let rx = s.backend.image_save(names).await?;
    let mut resp = Body::new(ArchiveBody { rx }).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    Ok(resp)
}

/// `GET /images/get?names=a&names=b`.
async fn save<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let names: Vec<String> = p
        .all("names")
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect();
    save_names(&s, names).await
}

/// `GET /images/{name}/get`.
pub(super) async fn save_one<B: Backend>(s: AppState<B>, name: &str) -> Reply {
    save_names(&s, vec![name.to_owned()]).await
}

/// `POST /images/load?quiet=`: the archive is the body; answers docker's JSON lines.
async fn load<B: Backend>(State(s): State<AppState<B>>, req: Request) -> Reply {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(super::images::feed_body(req.into_body(), tx));
    // As dockerd: the answer is a 200 stream whatever happens; a failed load ends it with
    // an `errorDetail` line (docker-py raises ImageLoadError from it, docker prints it).
    let messages = match s.backend.image_load(rx).await {
        Ok(lines) => lines
            .into_iter()
            .map(|l| json!({ "stream": format!("{l}\n") }))
            .collect(),
        Err(e) => vec![json!({ "errorDetail": { "message": e.message }, "error": e.message })],
    };
    let mut out = Vec::new();
    for m in messages {
        if let Ok(mut v) = serde_json::to_vec(&m) {
            v.push(b'\n');
            out.extend_from_slice(&v);
        }
    }
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `POST /auth`: docker login's check.
async fn auth<B: Backend>(State(s): State<AppState<B>>, body: Bytes) -> Reply {
    let auth: RegistryAuth = serde_json::from_slice(&body)
        .map_err(|e| BackendError::invalid(format!("invalid auth configuration: {e}")))?;
    s.backend.registry_login(auth).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "Status": "Login Succeeded", "IdentityToken": "" }),
    ))
}
