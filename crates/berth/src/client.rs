//! A small Engine API client: HTTP/1.1 over the daemon's unix socket with hyper's
//! connection API (one connection per request, as the docker CLI's short-lived commands
//! need), the API version in the path, and docker's error bodies turned into
//! [`DaemonError`].

use std::path::PathBuf;

use berth_api::{API_VERSION, ErrorResponse};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

/// A request body: nothing, bytes, or a stream.
pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// An error status from the daemon, with its message.
#[derive(Debug, thiserror::Error)]
#[error("Error response from daemon: {message}")]
pub struct DaemonError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `message` of the body.
    pub message: String,
}

/// Talking to the daemon failed before it answered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("Cannot connect to the berth daemon at unix://{0}. Is the berth daemon running?")]
    Connect(PathBuf, #[source] std::io::Error),
    /// HTTP failed.
    #[error("request to the daemon")]
    Http(#[source] hyper::Error),
    /// The request could not be built.
    #[error("build request")]
    Request(#[source] hyper::http::Error),
    /// The answer was not the JSON expected.
    #[error("decode daemon response")]
    Decode(#[source] serde_json::Error),
}

/// The client of one daemon socket.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

/// An empty request body.
pub fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

/// A JSON request body.
pub fn json_body<T: Serialize>(value: &T) -> Result<Body, ClientError> {
    let bytes = serde_json::to_vec(value).map_err(ClientError::Decode)?;
    Ok(Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed())
}

impl Client {
    /// A client of the daemon at `host` (`unix:///path`).
    pub fn new(host: &str) -> anyhow::Result<Self> {
        match host.strip_prefix("unix://") {
            Some(p) if !p.is_empty() => Ok(Self {
                socket: PathBuf::from(p),
            }),
            _ => anyhow::bail!("invalid host {host:?}: only unix:///path is supported"),
        }
    }

    /// Sends a request to `/v1.45{path}`; `upgrade` asks for a hijacked connection.
    /// Error statuses (≥ 400) become [`DaemonError`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        content_type: Option<&str>,
        upgrade: bool,
    ) -> anyhow::Result<Response<Incoming>> {
        self.send_with_headers(method, path, body, content_type, upgrade, &[])
            .await
    }

    /// A bodiless `method path` with `X-Registry-Auth` when given (pull, push).
    pub async fn send_with_auth(
        &self,
        method: Method,
        path: &str,
        auth: Option<String>,
    ) -> anyhow::Result<Response<Incoming>> {
        let headers: Vec<(&str, String)> =
            auth.into_iter().map(|a| ("x-registry-auth", a)).collect();
        self.send_with_headers(method, path, empty(), None, false, &headers)
            .await
    }

    /// [`Client::send`] with extra headers.
    pub async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        body: Body,
        content_type: Option<&str>,
        upgrade: bool,
        headers: &[(&str, String)],
    ) -> anyhow::Result<Response<Incoming>> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|e| ClientError::Connect(self.socket.clone(), e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        tokio::spawn(async move {
            // Errors surface through the response future.
            let _ = conn.with_upgrades().await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/v{API_VERSION}{path}"))
            .header(hyper::header::HOST, "berth")
            .header(
                hyper::header::USER_AGENT,
                concat!("berth-cli/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(ct) = content_type {
            req = req.header(hyper::header::CONTENT_TYPE, ct);
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        if upgrade {
            req = req
                .header(hyper::header::CONNECTION, "Upgrade")
                .header(hyper::header::UPGRADE, "tcp");
        }
        let req = req.body(body).map_err(ClientError::Request)?;
        let resp = sender.send_request(req).await.map_err(ClientError::Http)?;
        if resp.status().is_client_error() || resp.status().is_server_error() {
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(ClientError::Http)?
                .to_bytes();
            let message = serde_json::from_slice::<ErrorResponse>(&bytes)
                .map(|e| e.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_string());
            return Err(DaemonError { status, message }.into());
        }
        Ok(resp)
    }

    /// A request without body whose answer is ignored (204, 304).
    pub async fn call(&self, method: Method, path: &str) -> anyhow::Result<StatusCode> {
        let resp = self.send(method, path, empty(), None, false).await?;
        let status = resp.status();
        resp.into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?;
        Ok(status)
    }

    /// `GET path` decoded as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self.send(Method::GET, path, empty(), None, false).await?;
        decode(resp).await
    }

    /// `POST path` with a JSON body, decoded as JSON.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let resp = self
            .send(
                Method::POST,
                path,
                json_body(body)?,
                Some("application/json"),
                false,
            )
            .await?;
        decode(resp).await
    }
}

/// Reads a whole JSON response.
pub async fn decode<T: DeserializeOwned>(resp: Response<Incoming>) -> anyhow::Result<T> {
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(ClientError::Http)?
        .to_bytes();
    Ok(serde_json::from_slice(&bytes).map_err(ClientError::Decode)?)
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `?k=v&...` from pairs, skipping none.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A streamed body of newline-separated JSON values (progress messages, events), read one
/// value at a time; lines that do not parse as `T` are skipped.
pub struct JsonLines {
    body: Incoming,
    pending: Vec<u8>,
}

impl JsonLines {
    /// Reads `resp`'s body.
    pub fn new(resp: Response<Incoming>) -> Self {
        JsonLines {
            body: resp.into_body(),
            pending: Vec::new(),
        }
    }

    /// The next value, or `None` at the end of the body.
    pub async fn next<T: DeserializeOwned>(&mut self) -> anyhow::Result<Option<T>> {
        loop {
            while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                if let Ok(v) = serde_json::from_slice::<T>(&line) {
                    return Ok(Some(v));
                }
            }
            let Some(frame) = self.body.frame().await else {
                return Ok(None);
            };
            if let Ok(data) = frame.map_err(ClientError::Http)?.into_data() {
                self.pending.extend_from_slice(&data);
            }
        }
    }
}
