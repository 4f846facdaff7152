//! Image endpoints. Image names contain slashes (`library/busybox`), so
//! `/images/{name}/json`, `/images/{name}/tag` and `DELETE /images/{name}` are routed
//! through one catch-all and split here.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::AppState;
use crate::backend::{Backend, BackendError, ImageListOptions, ImageRemoveOptions, ImportOptions};
use crate::http::{Params, json_lines_response, json_response, page_not_found};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/images/json", get(list::<B>))
        .route("/images/create", post(create::<B>))
        .route(
            "/images/{*rest}",
            get(by_name_get::<B>)
                .post(by_name_post::<B>)
                .delete(remove::<B>),
        )
}

type Reply = Result<Response, BackendError>;

async fn list<B: Backend>(State(s): State<AppState<B>>, p: Params) -> Reply {
    let opts = ImageListOptions {
        all: p.bool("all"),
        filters: p.filters()?,
        shared_size: p.bool("shared-size"),
        digests: p.bool("digests"),
    };
    let list = s.backend.image_list(opts).await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// `POST /images/create`: `fromSrc` imports (the body when `-`); `fromImage` would pull.
async fn create<B: Backend>(State(s): State<AppState<B>>, p: Params, req: Request) -> Reply {
    let Some(from_src) = p.non_empty("fromSrc") else {
        return if let Some(from_image) = p.non_empty("fromImage") {
            super::distribution::pull(s, from_image, &p, req.headers()).await
        } else {
            Err(BackendError::invalid("fromImage or fromSrc is required"))
        };
    };
    let opts = ImportOptions {
        from_src,
        repo: p.non_empty("repo"),
        tag: p.non_empty("tag"),
        message: p.non_empty("message"),
        changes: p
            .all("changes")
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect(),
        platform: p.non_empty("platform"),
    };
    let (body_tx, body_rx) = mpsc::channel(8);
    tokio::spawn(feed_body(req.into_body(), body_tx));
    Ok(json_lines_response(
        s.backend.image_import(opts, body_rx).await?,
    ))
}

/// Forwards the request body's data frames into the backend's channel.
pub(super) async fn feed_body(mut body: Body, tx: mpsc::Sender<Result<Bytes, BackendError>>) {
    loop {
        let item = match body.frame().await {
            None => return,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => Ok(data),
                Err(_) => continue,
            },
            Some(Err(e)) => Err(BackendError::invalid(format!("read request body: {e}"))),
        };
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            return;
        }
    }
}

async fn by_name_get<B: Backend>(State(s): State<AppState<B>>, Path(rest): Path<String>) -> Reply {
    if let Some(name) = rest.strip_suffix("/get").filter(|n| !n.is_empty()) {
        return super::distribution::save_one(s, name).await;
    }
    if let Some(name) = rest.strip_suffix("/history").filter(|n| !n.is_empty()) {
        let h = s.backend.image_history(name).await?;
        return Ok(json_response(StatusCode::OK, &h));
    }
    match rest.strip_suffix("/json") {
        Some(name) if !name.is_empty() => {
            let i = s.backend.image_inspect(name).await?;
            Ok(json_response(StatusCode::OK, &i))
        }
        _ => Ok(page_not_found().await),
    }
}

async fn by_name_post<B: Backend>(
    State(s): State<AppState<B>>,
    Path(rest): Path<String>,
    p: Params,
    headers: HeaderMap,
) -> Reply {
    if let Some(name) = rest.strip_suffix("/push").filter(|n| !n.is_empty()) {
        return super::distribution::push(s, name, &p, &headers).await;
    }
    match rest.strip_suffix("/tag") {
        Some(name) if !name.is_empty() => {
            let Some(repo) = p.non_empty("repo") else {
                return Err(BackendError::invalid(
                    "repository name must have at least one component",
                ));
            };
            let tag = p.non_empty("tag");
            s.backend.image_tag(name, &repo, tag.as_deref()).await?;
            Ok(StatusCode::CREATED.into_response())
        }
        _ => Ok(page_not_found().await),
    }
}

async fn remove<B: Backend>(
    State(s): State<AppState<B>>,
    Path(name): Path<String>,
    p: Params,
) -> Reply {
    let opts = ImageRemoveOptions {
        force: p.bool("force"),
        noprune: p.bool("noprune"),
    };
    let deleted = s.backend.image_remove(&name, opts).await?;
    Ok(json_response(StatusCode::OK, &deleted))
}
