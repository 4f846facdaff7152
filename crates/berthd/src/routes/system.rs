//! `/_ping`, `/version`, `/info`, `/events`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use berth_api::system::{ComponentVersion, Platform, PluginsInfo, SystemInfo, SystemVersion};
use berth_api::{API_VERSION, MIN_API_VERSION};

use super::AppState;
use crate::backend::{Backend, BackendError, EventsOptions};
use crate::host::{self, GIT_COMMIT, RUSTC_VERSION, VERSION};
use crate::http::{Params, json_lines_response, json_response};

pub(super) fn routes<B: Backend>() -> Router<AppState<B>> {
    Router::new()
        .route("/_ping", get(ping).head(ping))
        .route("/version", get(version::<B>))
        .route("/info", get(info::<B>))
        .route("/events", get(events::<B>))
}

async fn ping() -> Response {
    let mut resp = (StatusCode::OK, "OK").into_response();
    let h = resp.headers_mut();
    h.insert("docker-experimental", HeaderValue::from_static("false"));
    h.insert("ostype", HeaderValue::from_static("linux"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn version<B: Backend>(State(s): State<AppState<B>>) -> Response {
    let d = &s.daemon;
    let details: BTreeMap<String, String> = [
        ("ApiVersion", API_VERSION.to_string()),
        ("MinAPIVersion", MIN_API_VERSION.to_string()),
        ("GitCommit", GIT_COMMIT.to_string()),
        ("GoVersion", RUSTC_VERSION.to_string()),
        ("Os", "linux".to_string()),
        ("Arch", host::go_arch().to_string()),
        ("KernelVersion", d.host.kernel_version.clone()),
        ("Experimental", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let v = SystemVersion {
        platform: Platform {
            name: format!("berth {VERSION}"),
        },
        components: vec![ComponentVersion {
            name: "Engine".into(),
            version: VERSION.into(),
            details: Some(details),
        }],
        version: VERSION.into(),
        api_version: API_VERSION.to_string(),
        min_api_version: MIN_API_VERSION.to_string(),
        git_commit: GIT_COMMIT.into(),
        go_version: RUSTC_VERSION.into(),
        os: "linux".into(),
        arch: host::go_arch().into(),
        kernel_version: d.host.kernel_version.clone(),
        experimental: false,
        build_time: String::new(),
    };
    json_response(StatusCode::OK, &v)
}

/// `RegistryConfig` as dockerd reports it: docker.io with its mirrors and each insecure
/// registry (which `docker info` lists under "Insecure Registries" beside the loopback
/// ranges); `docker info` prints the mirrors under "Registry Mirrors".
fn registry_config(insecure: &[String], mirrors: &[String]) -> serde_json::Value {
    // dockerd normalises a mirror to its URL with a trailing slash.
    let mirrors: Vec<String> = mirrors
        .iter()
        .map(|m| format!("{}/", m.trim_end_matches('/')))
        .collect();
    let mut index = serde_json::Map::new();
    index.insert(
        "docker.io".into(),
        serde_json::json!({"Name": "docker.io", "Mirrors": mirrors, "Secure": true, "Official": true}),
    );
    for name in insecure {
        index.insert(
            name.clone(),
            serde_json::json!({"Name": name, "Mirrors": [], "Secure": false, "Official": false}),
        );
    }
    serde_json::json!({
        "InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"],
        "IndexConfigs": index,
        "Mirrors": mirrors
    })
}

async fn info<B: Backend>(State(s): State<AppState<B>>) -> Result<Response, BackendError> {
    let counts = s.backend.counts().await?;
    let d = &s.daemon;
    let settings = d.settings.get();
    let h = &d.host;
    let info = SystemInfo {
        id: d.engine_id.clone(),
        containers: counts.containers,
        containers_running: counts.running,
        containers_paused: counts.paused,
        containers_stopped: counts.stopped,
        images: counts.images,
        driver: "overlayfs".into(),
        driver_status: Some(vec![]),
        plugins: PluginsInfo::default(),
        memory_limit: h.memory_limit,
        swap_limit: h.swap_limit,
        cpu_cfs_period: h.cpu_cfs,
        cpu_cfs_quota: h.cpu_cfs,
        cpu_shares: h.cpu_shares,
        cpu_set: h.cpuset,
        pids_limit: h.pids_limit,
        oom_kill_disable: h.memory_limit && h.cgroup_version == "1",
        ipv4_forwarding: host::ipv4_forwarding(),
        debug: settings.debug,
        nfd: host::open_fds(),
        ngoroutines: host::threads(),
        system_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        logging_driver: d.logging_driver.clone(),
        cgroup_driver: "cgroupfs".into(),
        cgroup_version: h.cgroup_version.clone(),
        nevents_listener: 0,
        kernel_version: h.kernel_version.clone(),
        operating_system: h.operating_system.clone(),
        os_version: h.os_version.clone(),
        os_type: "linux".into(),
        architecture: std::env::consts::ARCH.into(),
        index_server_address: "https://index.docker.io/v1/".into(),
        registry_config: Some(registry_config(
            &settings.insecure_registries,
            &settings.registry_mirrors,
        )),
        ncpu: h.ncpu,
        mem_total: h.mem_total,
        docker_root_dir: d.data_root.display().to_string(),
        http_proxy: std::env::var("HTTP_PROXY").unwrap_or_default(),
        https_proxy: std::env::var("HTTPS_PROXY").unwrap_or_default(),
        no_proxy: std::env::var("NO_PROXY").unwrap_or_default(),
        name: h.hostname.clone(),
        labels: vec![],
        experimental_build: false,
        server_version: VERSION.into(),
        runtimes: BTreeMap::new(),
        default_runtime: String::new(),
        swarm: serde_json::json!({"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
            "ControlAvailable": false, "Error": "", "RemoteManagers": null}),
        live_restore_enabled: settings.live_restore,
        isolation: String::new(),
        init_binary: String::new(),
        containerd_commit: Default::default(),
        runc_commit: Default::default(),
        init_commit: Default::default(),
        security_options: vec![],
        warnings: None,
    };
    Ok(json_response(StatusCode::OK, &info))
}

async fn events<B: Backend>(
    State(s): State<AppState<B>>,
    p: Params,
) -> Result<Response, BackendError> {
    let opts = EventsOptions {
        since: p.time("since")?,
        until: p.time("until")?,
        filters: p.filters()?,
    };
    Ok(json_lines_response(s.backend.events(opts).await?))
}
