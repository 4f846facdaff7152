//! One authenticated conversation with one repository of one registry.

use std::sync::Mutex;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};

use super::auth::{Challenge, Credentials, parse_challenge};
use super::{Client, RegistryError};
use crate::digest::Digest;
use crate::manifest;

/// A session with a repository: the base URL, the repository path and the current
/// `Authorization` value, renewed when the registry answers 401.
#[derive(Debug)]
pub struct Session {
    client: Client,
    base: String,
    host: String,
    repo: String,
    actions: &'static str,
    extra_scopes: Vec<String>,
    creds: Option<Credentials>,
    authorization: Mutex<Option<String>>,
}

impl Session {
    /// Opens a session on `domain`/`repo` for pulling (`push` false) or pushing, probing
    /// `/v2/` and authenticating as the registry asks. `mount_from` repositories get a
    /// pull scope too (cross-repository mounts). Credentials default to the client's
    /// docker `config.json`.
    pub async fn open(
        client: &Client,
        domain: &str,
        repo: &str,
        push: bool,
        creds: Option<Credentials>,
        mount_from: &[String],
    ) -> Result<Self, RegistryError> {
        let base = client.base_url(domain);
        Self::open_at(client, base, domain, repo, push, creds, mount_from).await
    }

    /// [`Session::open`] on another endpoint serving `domain` (a mirror).
    pub async fn open_at(
        client: &Client,
        base: String,
        domain: &str,
        repo: &str,
        push: bool,
        creds: Option<Credentials>,
        mount_from: &[String],
    ) -> Result<Self, RegistryError> {
        let s = Self {
            client: client.clone(),
            base,
            host: domain.to_owned(),
            repo: repo.to_owned(),
            actions: if push { "pull,push" } else { "pull" },
            extra_scopes: mount_from
                .iter()
                .map(|r| format!("repository:{r}:pull"))
                .collect(),
            creds: creds.or_else(|| client.stored_credentials(domain)),
            authorization: Mutex::new(None),
        };
        let url = format!("{}/v2/", s.base);
        let resp = s.raw(Method::GET, &url, &HeaderMap::new(), None).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            s.authenticate(&resp, &Method::GET, &url).await?;
        }
        Ok(s)
    }

    /// `docker login`: checks `creds` against the registry at `domain` (basic auth on
    /// `/v2/`, or a token from the Bearer realm without a repository scope). An open
    /// registry accepts anything, as with docker. Refusals are worded as moby words them:
    /// a token realm's refusal is `Get "BASE/v2/": unauthorized: ...`
    /// ([`RegistryError::Unauthorized`]), `/v2/` still failing with the credentials is
    /// [`RegistryError::LoginRefused`].
    pub async fn login(
        client: &Client,
        domain: &str,
        creds: Credentials,
    ) -> Result<(), RegistryError> {
        let s = Self {
            client: client.clone(),
            base: client.base_url(domain),
            host: domain.to_owned(),
            repo: String::new(),
            actions: "pull",
            extra_scopes: Vec::new(),
            creds: Some(creds),
            authorization: Mutex::new(None),
        };
        let url = format!("{}/v2/", s.base);
        let resp = s.raw(Method::GET, &url, &HeaderMap::new(), None).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return check(resp, "GET", &url).await.map(drop);
        }
        s.authenticate(&resp, &Method::GET, &url)
            .await
            .map_err(|e| match e {
                RegistryError::Unauthorized { host, message } => RegistryError::Unauthorized {
                    host,
                    message: format!("Get \"{url}\": {message}"),
                },
                e => e,
            })?;
        let resp = s.raw(Method::GET, &url, &HeaderMap::new(), None).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(RegistryError::LoginRefused {
                url,
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_owned(),
            });
        }
        Ok(())
    }

    /// The repository path.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The registry host as the reference names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `BASE/v2/<repo>/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repo)
    }

    /// Resolves a `Location` header (absolute or relative to the registry).
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        }
    }

    fn auth_header(&self) -> Option<String> {
        self.authorization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn raw(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, RegistryError> {
        let mut req = self
            .client
            .http
            .request(method.clone(), url)
            .headers(headers.clone());
        if let Some(a) = self.auth_header() {
            req = req.header(header::AUTHORIZATION, a);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        req.send().await.map_err(|source| RegistryError::Http {
            method: method.to_string(),
            url: url.to_owned(),
            source,
        })
    }

    /// Sends a request; a 401 is answered once by authenticating and retrying. Error
    /// statuses are returned as responses (see [`check`]).
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, RegistryError> {
        let resp = self.raw(method.clone(), url, headers, body.clone()).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        self.authenticate(&resp, &method, url).await?;
        let resp = self.raw(method, url, headers, body).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(self.unauthorized(resp).await);
        }
        Ok(resp)
    }

    /// A refusal: the registry's errors in docker's form, else docker's default for a
    /// 401 without them.
    async fn unauthorized(&self, resp: Response) -> RegistryError {
        let body = resp.bytes().await.unwrap_or_default();
        let message = registry_errors(&body)
            .unwrap_or_else(|| "unauthorized: authentication required".to_owned());
        RegistryError::Unauthorized {
            host: self.host.clone(),
            message,
        }
    }

    /// Turns a 401 to `method url` into an `Authorization` value for the next requests.
    async fn authenticate(
        &self,
        resp: &Response,
        method: &Method,
        url: &str,
    ) -> Result<(), RegistryError> {
        let challenge = resp
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(parse_challenge)
            .next();
        let value = match challenge {
            None => {
                return Err(RegistryError::Unauthorized {
                    host: self.host.clone(),
                    message: "unauthorized: no supported WWW-Authenticate challenge".into(),
                });
            }
            Some(Challenge::Basic) => match &self.creds {
                Some(c) => c.basic_header(),
                None => {
                    return Err(RegistryError::NoBasicAuthCredentials {
                        method: go_method(method),
                        url: url.to_owned(),
                    });
                }
            },
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => format!("Bearer {}", self.fetch_token(&realm, service, scope).await?),
        };
        *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
        Ok(())
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<String>,
        scope: Option<String>,
    ) -> Result<String, RegistryError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        let ours = format!("repository:{}:{}", self.repo, self.actions);
        if !self.repo.is_empty() {
            query.push(("scope", ours.clone()));
        }
        if let Some(s) = scope.filter(|s| *s != ours) {
            query.push(("scope", s));
        }
        for s in &self.extra_scopes {
            query.push(("scope", s.clone()));
        }
        let url = reqwest::Url::parse_with_params(realm, &query).map_err(|e| {
            RegistryError::Protocol {
                host: self.host.clone(),
                message: format!("invalid token realm {realm:?}: {e}"),
            }
        })?;
        let mut req = self.client.http.get(url);
        if let Some(c) = &self.creds {
            req = req.basic_auth(&c.username, Some(&c.password));
        }
        let resp = req.send().await.map_err(|source| RegistryError::Http {
            method: "GET".into(),
            url: realm.to_owned(),
            source,
        })?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            return Err(self.unauthorized(resp).await);
        }
        let resp = check(resp, "GET", realm).await?;
        let raw = resp.bytes().await.map_err(|source| RegistryError::Http {
            method: "GET".into(),
            url: realm.to_owned(),
            source,
        })?;
        let body: serde_json::Value =
            serde_json::from_slice(&raw).map_err(|e| RegistryError::Protocol {
                host: self.host.clone(),
                message: format!("token response is not JSON: {e}"),
            })?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| RegistryError::Protocol {
                host: self.host.clone(),
                message: "token response has no token".into(),
            })
    }

    /// Fetches a manifest by tag or digest: its bytes, media type and digest. A digest
    /// reference is verified against the bytes.
    pub async fn get_manifest(
        &self,
        reference: &str,
        display: &str,
    ) -> Result<(Vec<u8>, Option<String>, Digest), RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static(manifest::ACCEPT_ALL),
        );
        let resp = self.send(Method::GET, &url, &h, None).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::ManifestNotFound(display.to_owned()));
        }
        let resp = check(resp, "GET", &url).await?;
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(|source| RegistryError::Http {
            method: "GET".into(),
            url: url.clone(),
            source,
        })?;
        let actual = Digest::of(&body);
        if let Ok(expected) = reference.parse::<Digest>()
            && expected != actual
        {
            return Err(RegistryError::DigestMismatch { expected, actual });
        }
        Ok((body.to_vec(), ct, actual))
    }
}

/// Passes a success through; turns an error status into [`RegistryError::Status`] with
/// the registry's own message.
pub async fn check(resp: Response, method: &str, url: &str) -> Result<Response, RegistryError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let message = error_message(resp).await;
    Err(RegistryError::Status {
        method: method.to_owned(),
        url: url.to_owned(),
        status,
        message,
    })
}

/// A method as Go's `url.Error` writes it: `Get`, `Head`, `Post`.
fn go_method(m: &Method) -> String {
    let s = m.as_str();
    let mut out = s.get(..1).unwrap_or("").to_owned();
    out.push_str(&s.get(1..).unwrap_or("").to_ascii_lowercase());
    out
}

/// The registry's `{"errors":[{"code","message"}]}` as docker's distribution client words
/// them (`UNAUTHORIZED` → `unauthorized: authentication required`), or a token server's
/// `{"details": ...}` (`unauthorized: incorrect username or password`).
fn registry_errors(body: &[u8]) -> Option<String> {
    let v = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
        let msgs: Vec<String> = errs
            .iter()
            .map(|e| {
                let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
                let code = code.to_ascii_lowercase().replace('_', " ");
                let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                format!("{code}: {msg}").trim_matches([' ', ':']).to_owned()
            })
            .collect();
        if !msgs.is_empty() {
            return Some(msgs.join("; "));
        }
    }
    v.get("details")
        .and_then(|d| d.as_str())
        .filter(|d| !d.is_empty())
        .map(|d| format!("unauthorized: {d}"))
}

/// The registry's errors (see [`registry_errors`]), or the start of the body.
async fn error_message(resp: Response) -> String {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    if let Some(m) = registry_errors(&body) {
        return m;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(200)])
        .trim()
        .to_owned();
    if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_in_dockers_words() {
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
        assert_eq!(
            registry_errors(body).as_deref(),
            Some("unauthorized: authentication required")
        );
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(
            registry_errors(body).as_deref(),
            Some("manifest unknown: manifest unknown")
        );
        let body = br#"{"details":"incorrect username or password"}"#;
        assert_eq!(
            registry_errors(body).as_deref(),
            Some("unauthorized: incorrect username or password")
        );
        assert_eq!(registry_errors(b"<html>"), None);
        assert_eq!(go_method(&Method::HEAD), "Head");
        assert_eq!(go_method(&Method::GET), "Get");
    }
}
