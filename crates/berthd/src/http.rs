//! Request and response helpers shared by the routes: query parameters with docker's
//! parsing rules, JSON bodies with docker's 400 on malformed input, JSON responses.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{BackendError, Filters};

/// Serialises `value` as a JSON response with this status.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => {
            tracing::error!("encode response: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "encode response").into_response()
        }
    }
}

/// The 404 of an unknown route, as docker words it.
pub async fn page_not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &berth_api::ErrorResponse::new("page not found"),
    )
}

/// A JSON request body; malformed JSON is a 400 with a `{"message": ...}` body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = BackendError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| BackendError::invalid(format!("read request body: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(BackendError::invalid("invalid JSON: request body is empty"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| BackendError::invalid(format!("invalid JSON: {e}")))
    }
}

/// The query string, decoded; parameters may repeat.
#[derive(Debug, Default, Clone)]
pub struct Params(BTreeMap<String, Vec<String>>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = BackendError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// Parses `a=1&b=x%20y&b=z`.
    pub fn parse(query: &str) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(percent_decode(k))
                .or_default()
                .push(percent_decode(v));
        }
        Self(map)
    }

    /// The first value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// A non-empty value of a parameter.
    pub fn non_empty(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// Every value of a repeated parameter.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }

    /// docker's boolean: absent, empty, `0`, `no`, `false`, `none` are false.
    pub fn bool(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "" | "0" | "no" | "false" | "none"
            )
        })
    }

    /// A boolean that defaults to true when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> bool {
        if self.get(key).is_some() {
            self.bool(key)
        } else {
            default
        }
    }

    /// An integer parameter; a non-integer is a 400.
    pub fn int(&self, key: &str) -> Result<Option<i64>, BackendError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                BackendError::invalid(format!("invalid value for {key}: {v:?} is not an integer"))
            }),
        }
    }

    /// A Unix timestamp with optional fraction (`1700000000.123456789`).
    pub fn time(&self, key: &str) -> Result<Option<SystemTime>, BackendError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_timestamp(v).map(Some).ok_or_else(|| {
                BackendError::invalid(format!("invalid value for {key}: {v:?} is not a timestamp"))
            }),
        }
    }

    /// The `filters` parameter: `{"k":["v"]}` or the older `{"k":{"v":true}}`.
    pub fn filters(&self) -> Result<Filters, BackendError> {
        match self.get("filters").filter(|v| !v.is_empty()) {
            None => Ok(Filters::new()),
            Some(v) => parse_filters(v),
        }
    }
}

/// Parses docker's filters JSON.
pub fn parse_filters(text: &str) -> Result<Filters, BackendError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Values {
        List(Vec<String>),
        Set(BTreeMap<String, bool>),
    }
    let raw: BTreeMap<String, Values> = serde_json::from_str(text)
        .map_err(|e| BackendError::invalid(format!("invalid filter: {e}")))?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let values = match v {
                Values::List(l) => l,
                Values::Set(s) => s
                    .into_iter()
                    .filter(|(_, on)| *on)
                    .map(|(k, _)| k)
                    .collect(),
            };
            (k, values)
        })
        .collect())
}

fn parse_timestamp(v: &str) -> Option<SystemTime> {
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{frac:0<9}").parse().ok()?
    };
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Decodes `%XX` escapes and `+` (as a space), leaving malformed escapes as they are.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// A streaming response body fed from a channel of already-encoded chunks.
pub fn channel_body(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
    Body::new(ChannelBody { rx })
}

/// A streaming `application/json` response: each value from `rx` as one line of JSON.
pub fn json_lines_response<T: Serialize + Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> Response {
    let (tx, body_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        while let Some(value) = rx.recv().await {
            let Ok(mut line) = serde_json::to_vec(&value) else {
                continue;
            };
            line.push(b'\n');
            if tx.send(line.into()).await.is_err() {
                break;
            }
        }
    });
    let mut resp = channel_body(body_rx).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|o| o.map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let p = Params::parse(
            "all=1&name=a%2Fb+c&x=&t=True&f=0&filters=%7B%22status%22%3A%5B%22running%22%5D%7D",
        );
        assert!(p.bool("all"));
        assert!(p.bool("t"));
        assert!(!p.bool("f"));
        assert!(!p.bool("x"));
        assert!(!p.bool("missing"));
        assert!(p.bool_or("missing", true));
        assert_eq!(p.get("name"), Some("a/b c"));
        assert_eq!(p.filters().unwrap()["status"], vec!["running"]);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn legacy_filters_and_times() {
        let f = parse_filters(r#"{"label":{"a=b":true,"c":false}}"#).unwrap();
        assert_eq!(f["label"], vec!["a=b"]);
        assert!(parse_filters("nope").is_err());
        let t = parse_timestamp("10.5").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(10, 500_000_000)
        );
        assert!(parse_timestamp("x").is_none());
    }
}
