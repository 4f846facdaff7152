//! `POST /build` (the classic builder's API: a context tar in, JSON lines out),
//! `POST /build/prune` and `POST /build/cancel`.
//!
//! The stream is dockerd's: `{"stream": ...}` text, `{"aux":{"ID": ...}}` after each
//! stage, and a failure as the last line `{"errorDetail":{"code":N,"message":...},
//! "error":...}`. With `q` only the image ID is written (`{"stream":"sha256:...\n"}`), or
//! on failure everything held back, then the error. Options berth cannot honour are a
//! 400 naming them. A client that goes away cancels the build.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use berth_api::container::{HostConfig, Ulimit};
use berth_engine::build::{
    BuildFailed, BuildMessage, BuildOptions, BuildRequest, BuildSettings, Platform,
};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::AppState;
use crate::backend::{Backend, BackendError};
use crate::http::{Params, channel_body, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/build", post(build::<B>))
        .route("/build/prune", post(prune::<B>))
        .route("/build/cancel", post(cancel))
}

type Reply = Result<Response, BackendError>;

/// Running builds by `buildid`, for `/build/cancel`.
fn running() -> &'static Mutex<HashMap<String, Arc<AtomicBool>>> {
    static RUNNING: OnceLock<Mutex<HashMap<String, Arc<AtomicBool>>>> = OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

fn json_param<T: serde::de::DeserializeOwned>(
    p: &Params,
    key: &str,
    what: &str,
) -> Result<Option<T>, BackendError> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => serde_json::from_str(v)
            .map(Some)
            .map_err(|e| BackendError::invalid(format!("error reading {what}: {e}"))),
    }
}

/// The query as a build request; what cannot be honoured is refused by name.
fn request(p: &Params) -> Result<(BuildRequest, bool), BackendError> {
    if p.bool("squash") {
        return Err(BackendError::invalid(
            "squash is only supported with experimental mode",
        ));
    }
    if !p.all("securityopt").iter().all(|s| s.is_empty()) {
        return Err(BackendError::invalid(
            "security options are not supported on linux",
        ));
    }
    if p.non_empty("remote").is_some() {
        return Err(BackendError::invalid(
            "remote: berth builds only from a context sent in the request body",
        ));
    }
    if let Some(v) = p.non_empty("version")
        && v != "1"
    {
        return Err(BackendError::invalid(format!(
            "version {v}: berth has only the classic builder (version 1); build with DOCKER_BUILDKIT=0"
        )));
    }
    if let Some(outputs) = p.non_empty("outputs")
        && outputs != "[]"
        && outputs != "null"
    {
        return Err(BackendError::invalid(
            "outputs: berth's classic builder writes only to the image store",
        ));
    }
    if let Some(i) = p.non_empty("isolation")
        && i != "default"
    {
        return Err(BackendError::invalid(format!(
            "unsupported isolation: {i:?}"
        )));
    }
    let host = Platform::host();
    let target_platform = match p.non_empty("platform") {
        None => host.clone(),
        Some(s) => {
            let plat = Platform::parse(&s).ok_or_else(|| {
                BackendError::invalid(format!(
                    "{s:?}: unknown operating system or architecture: invalid argument"
                ))
            })?;
            if plat.os != "linux" || plat.arch != host.arch {
                return Err(BackendError::invalid(format!(
                    "platform {s}: berth builds only for {host}"
                )));
            }
            plat
        }
    };
    let build_args: BTreeMap<String, Option<String>> =
        json_param(p, "buildargs", "build args")?.unwrap_or_default();
    let labels: BTreeMap<String, String> = json_param(p, "labels", "labels")?.unwrap_or_default();
    let cache_from: Vec<String> = json_param(p, "cachefrom", "cache-from")?.unwrap_or_default();
    let ulimits: Option<Vec<Ulimit>> = json_param(p, "ulimits", "ulimit settings")?;
    let int = |k: &str| p.int(k).map(|v| v.unwrap_or(0));
    let mut hc = HostConfig {
        shm_size: int("shmsize")?,
        memory: int("memory")?,
        memory_swap: int("memswap")?,
        cpu_shares: int("cpushares")?,
        cpu_period: int("cpuperiod")?,
        cpu_quota: int("cpuquota")?,
        cpuset_cpus: p.get("cpusetcpus").unwrap_or_default().to_owned(),
        cpuset_mems: p.get("cpusetmems").unwrap_or_default().to_owned(),
        cgroup_parent: p.get("cgroupparent").unwrap_or_default().to_owned(),
        ulimits,
        ..Default::default()
    };
    let extra_hosts: Vec<String> = p
        .all("extrahosts")
        .into_iter()
        .filter(|h| !h.is_empty())
        .collect();
    hc.extra_hosts = (!extra_hosts.is_empty()).then_some(extra_hosts);
    match p.non_empty("networkmode").as_deref() {
        None | Some("default") => {}
        Some(n) => hc.network_mode = n.to_owned(),
    }
    let force_remove = p.bool("forcerm");
    let req = BuildRequest {
        dockerfile: p.non_empty("dockerfile"),
        options: BuildOptions {
            build_args: build_args
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
            target: p.non_empty("target"),
            target_platform,
            build_platform: host,
        },
        settings: BuildSettings {
            no_cache: p.bool("nocache"),
            remove: force_remove || p.bool_or("rm", true),
            force_remove,
            labels,
            tags: p.all("t").into_iter().filter(|t| !t.is_empty()).collect(),
        },
        pull: p.bool("pull"),
        host_config: hc,
        puller: None,
        cache_from,
    };
    Ok((req, p.bool("q")))
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    b.into()
}

fn error_line(e: &BuildFailed) -> Bytes {
    let mut detail = serde_json::Map::new();
    if let Some(c) = e.code.filter(|c| *c != 0) {
        detail.insert("code".into(), json!(c));
    }
    detail.insert("message".into(), json!(e.message));
    line(&json!({ "errorDetail": detail, "error": e.message }))
}

async fn build<B: Backend>(State(s): State<AppState<B>>, p: Params, req: Request) -> Reply {
    let (build_req, quiet) = request(&p)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let build_id = p.non_empty("buildid");
    let (body_tx, body_rx) = mpsc::channel(8);
    tokio::spawn(super::images::feed_body(req.into_body(), body_tx));
    let mut run = s.backend.build(build_req, body_rx, cancel.clone()).await?;
    if let Some(id) = &build_id
        && let Ok(mut m) = running().lock()
    {
        m.insert(id.clone(), cancel.clone());
    }
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        // The client going away closes the body: cancel the build.
        let watch = {
            let (tx, cancel) = (tx.clone(), cancel.clone());
            tokio::spawn(async move {
                tx.closed().await;
                cancel.store(true, Ordering::Relaxed);
            })
        };
        let mut held = Vec::new();
        while let Some(m) = run.messages.recv().await {
            let v = match m {
                BuildMessage::Stream(s) => json!({ "stream": s }),
                BuildMessage::Aux(id) => json!({ "aux": { "ID": id } }),
            };
            if quiet {
                held.push(line(&v));
            } else if tx.send(line(&v)).await.is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
        }
        let outcome = run.outcome.await.unwrap_or_else(|_| {
            Err(BuildFailed {
                message: "the build ended early".into(),
                code: None,
                invalid: false,
            })
        });
        match outcome {
            Ok(built) => {
                if quiet {
                    let _ = tx
                        .send(line(&json!({ "stream": format!("{}\n", built.id) })))
                        .await;
                }
            }
            Err(e) => {
                for l in held {
                    let _ = tx.send(l).await;
                }
                let _ = tx.send(error_line(&e)).await;
            }
        }
        watch.abort();
        if let Some(id) = build_id
            && let Ok(mut m) = running().lock()
        {
            m.remove(&id);
        }
    });
    let mut resp = channel_body(rx).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `POST /build/prune`: docker's `{"CachesDeleted", "SpaceReclaimed"}`.
async fn prune<B: Backend>(State(s): State<AppState<B>>) -> Reply {
    let (deleted, bytes) = s.backend.build_prune().await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "CachesDeleted": deleted, "SpaceReclaimed": bytes }),
    ))
}

/// `POST /build/cancel?id=`: stops the build started with that `buildid`.
async fn cancel(p: Params) -> Reply {
    let Some(id) = p.non_empty("id") else {
        return Err(BackendError::invalid("build ID not provided"));
    };
    let flag = running().lock().ok().and_then(|m| m.get(&id).cloned());
    match flag {
        Some(f) => {
            f.store(true, Ordering::Relaxed);
            Ok(StatusCode::OK.into_response())
        }
        None => Err(BackendError::new(
            berth_api::ErrorKind::NotFound,
            format!("no such build: {id}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_options_map_onto_the_request_and_refusals_name_the_option() {
        let p = Params::parse(
            "t=a:1&t=b&dockerfile=sub%2FDf&buildargs=%7B%22A%22%3A%221%22%2C%22N%22%3Anull%7D&labels=%7B%22l%22%3A%22v%22%7D&target=t1&nocache=1&rm=0&networkmode=none&extrahosts=h%3A1.2.3.4&shmsize=1024&memory=100000000&q=1",
        );
        let (r, quiet) = request(&p).unwrap();
        assert!(quiet);
        assert_eq!(r.settings.tags, vec!["a:1", "b"]);
        assert_eq!(r.dockerfile.as_deref(), Some("sub/Df"));
        assert_eq!(r.options.build_args.len(), 1);
        assert_eq!(r.settings.labels["l"], "v");
        assert_eq!(r.options.target.as_deref(), Some("t1"));
        assert!(r.settings.no_cache && !r.settings.remove);
        assert_eq!(r.host_config.network_mode, "none");
        assert_eq!(
            r.host_config.extra_hosts,
            Some(vec!["h:1.2.3.4".to_string()])
        );
        assert_eq!(
            (r.host_config.shm_size, r.host_config.memory),
            (1024, 100000000)
        );
        // forcerm implies rm
        let (r, _) = request(&Params::parse("forcerm=1&rm=0")).unwrap();
        assert!(r.settings.remove && r.settings.force_remove);
        for (q, word) in [
            ("squash=1", "squash"),
            ("remote=https://x/y.git", "remote"),
            ("version=2", "version 2"),
            ("platform=foobar", "unknown operating system"),
            ("platform=linux/s390x", "platform"),
            ("isolation=hyperv", "isolation"),
            ("buildargs=notjson", "build args"),
        ] {
            let e = request(&Params::parse(q)).unwrap_err();
            assert!(e.message.contains(word), "{q}: {}", e.message);
        }
    }
}
