//! Pull, push, save, load and login between the routes and the engine: the request
//! types of the [`Backend`](crate::backend::Backend) methods, docker's `X-Registry-Auth`
//! header, and the progress stream.
//!
//! A pull or push answers with docker's JSON progress messages. As in moby, a pull's
//! error before it got going (a reference the registry does not know or refuses, a
//! registry that is down) is an HTTP error status, not a stream: the first message
//! (`Pulling from ...`) is held back until a second one shows the pull is under way. A
//! push, as in moby, streams from its first message (`The push refers to ...`, written
//! before the registry is asked anything), so any registry error ends a 200 stream; a
//! missing local image is still a 404, checked before the stream starts.

use crate::settings::Reloadable;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use berth_api::ErrorKind;
use berth_api::progress::{ProgressDetail, ProgressMessage};
use berth_engine::distribution::{
    ClientOptions, Credentials, DistributionError, Progress, ProgressFn, RegistryClient,
    pull_reference, registry_login,
};
use berth_engine::{Engine, Kind};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::backend::BackendError;

/// docker's `X-Registry-Auth` (and `POST /auth` body): `{username, password,
/// serveraddress}` or an `identitytoken`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RegistryAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The registry (`127.0.0.1:5000`, `https://index.docker.io/v1/`).
    pub serveraddress: String,
    /// An OAuth identity token, used instead of the password.
    pub identitytoken: String,
}

impl RegistryAuth {
    /// Decodes the header: base64url (padded or not; docker also accepts standard) JSON.
    /// An empty or `{}` header is no credentials.
    pub fn from_header(value: &str) -> Result<Option<Self>, BackendError> {
        let v = value.trim();
        if v.is_empty() {
            return Ok(None);
        }
        let raw = URL_SAFE
            .decode(v)
            .or_else(|_| URL_SAFE_NO_PAD.decode(v))
            .or_else(|_| STANDARD.decode(v))
            .map_err(|_| BackendError::invalid("invalid X-Registry-Auth header: not base64"))?;
        let auth: Self = serde_json::from_slice(&raw)
            .map_err(|e| BackendError::invalid(format!("invalid X-Registry-Auth header: {e}")))?;
        Ok(Some(auth))
    }

    /// The credentials to send, if any.
    pub fn credentials(&self) -> Option<Credentials> {
        if !self.identitytoken.is_empty() {
            return Some(Credentials {
                username: "<token>".into(),
                password: self.identitytoken.clone(),
            });
        }
        if self.username.is_empty() && self.password.is_empty() {
            return None;
        }
        Some(Credentials {
            username: self.username.clone(),
            password: self.password.clone(),
        })
    }
}

/// `POST /images/create?fromImage=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequest {
    /// The image name (may carry a tag or digest).
    pub from_image: String,
    /// Tag, or a digest.
    pub tag: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: Option<String>,
    /// Credentials from `X-Registry-Auth`.
    pub auth: Option<RegistryAuth>,
}

/// `POST /images/{name}/push?tag=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushRequest {
    /// The repository (or reference).
    pub name: String,
    /// Tag; every tag of the repository when `None`.
    pub tag: Option<String>,
    /// Credentials from `X-Registry-Auth`.
    pub auth: Option<RegistryAuth>,
}

/// A distribution error as the routes report it.
pub fn backend_error(e: DistributionError) -> BackendError {
    let kind = match e.kind() {
        Kind::NotFound => ErrorKind::NotFound,
        Kind::Conflict => ErrorKind::Conflict,
        Kind::InvalidArgument => ErrorKind::InvalidArgument,
        Kind::NotModified => ErrorKind::NotModified,
        Kind::Unavailable => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    // moby answers a token realm's refusal of `docker login` with 401.
    let kind = match e {
        DistributionError::LoginFailed { .. } => ErrorKind::Unauthorized,
        _ => kind,
    };
    BackendError::new(kind, e.message())
}

fn client(settings: &Reloadable) -> Result<RegistryClient, BackendError> {
    RegistryClient::new(ClientOptions {
        insecure_registries: settings.insecure_registries.clone(),
        registry_mirrors: settings.registry_mirrors.clone(),
        docker_config: None,
    })
    .map_err(|e| backend_error(DistributionError::Registry(e)))
}

/// One progress event as docker's message.
pub fn message(p: &Progress) -> ProgressMessage {
    let mut m = ProgressMessage::status(p.status.text());
    if !p.id.is_empty() {
        m.id = Some(p.id.clone());
    }
    if let Some((current, total)) = p.status.detail() {
        m.progress_detail = Some(ProgressDetail {
            current: i64::try_from(current).ok(),
            total: i64::try_from(total).ok(),
        });
    } else if m.id.is_some() {
        m.progress_detail = Some(ProgressDetail::default());
    }
    m
}

fn progress_fn(tx: mpsc::UnboundedSender<ProgressMessage>) -> ProgressFn {
    Arc::new(move |p: Progress| {
        let _ = tx.send(message(&p));
    })
}

type Task = JoinHandle<Result<Vec<ProgressMessage>, DistributionError>>;

/// Holds back the first `hold - 1` messages until one more arrives or the task ends; an
/// error by then is the request's error, else the messages stream, ending with the task's
/// own messages or its error.
async fn start_stream(
    mut events: mpsc::UnboundedReceiver<ProgressMessage>,
    mut task: Task,
    hold: usize,
) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
    let joined = |r: Result<Result<Vec<ProgressMessage>, DistributionError>, _>| match r {
        Ok(r) => r,
        Err(e) => Err(DistributionError::Task(format!("{e}"))),
    };
    let mut held = Vec::new();
    let mut done = None;
    let mut open = true;
    while held.len() < hold && done.is_none() {
        tokio::select! {
            ev = events.recv(), if open => match ev {
                Some(m) => held.push(m),
                None => open = false,
            },
            r = &mut task => done = Some(joined(r)),
        }
    }
    if let Some(Err(e)) = done {
        return Err(backend_error(e));
    }
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        for m in held {
            if tx.send(m).await.is_err() {
                return;
            }
        }
        while let Some(m) = events.recv().await {
            if tx.send(m).await.is_err() {
                return;
            }
        }
        let result = match done {
            Some(r) => r,
            None => joined(task.await),
        };
        match result {
            Ok(tail) => {
                for m in tail {
                    let _ = tx.send(m).await;
                }
            }
            Err(e) => {
                let _ = tx.send(ProgressMessage::error(e.message())).await;
            }
        }
    });
    Ok(rx)
}

/// `POST /images/create?fromImage=`.
pub async fn pull(
    engine: &Engine,
    settings: &Reloadable,
    req: PullRequest,
) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
    let reference = pull_reference(&req.from_image, req.tag.as_deref()).map_err(backend_error)?;
    let client = client(settings)?;
    let creds = req.auth.as_ref().and_then(RegistryAuth::credentials);
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = engine.clone();
    let task: Task = tokio::spawn(async move {
        engine
            .image_pull(
                &client,
                &reference,
                req.platform.as_deref(),
                creds,
                progress_fn(tx),
            )
            .await
            .map(|_| Vec::new())
    });
    // `Pulling from` comes once the manifest is in: a refused or unknown image is a status.
    start_stream(rx, task, 2).await
}

/// `POST /images/{name}/push?tag=`: every target in turn, each closed by docker's
/// `aux` message (`Tag`, `Digest`, `Size`).
pub async fn push(
    engine: &Engine,
    settings: &Reloadable,
    req: PushRequest,
) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
    let targets = engine
        .push_targets(&req.name, req.tag.as_deref())
        .map_err(backend_error)?;
    let client = client(settings)?;
    let creds = req.auth.as_ref().and_then(RegistryAuth::credentials);
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = engine.clone();
    let task: Task = tokio::spawn(async move {
        for t in targets {
            let (digest, size) = engine
                .image_push(&client, &t, creds.clone(), progress_fn(tx.clone()))
                .await?;
            let aux = ProgressMessage {
                progress_detail: Some(ProgressDetail::default()),
                aux: Some(serde_json::json!({
                    "Tag": t.tag().unwrap_or("latest"),
                    "Digest": digest.to_string(),
                    "Size": size,
                })),
                ..ProgressMessage::default()
            };
            let _ = tx.send(aux);
        }
        Ok(Vec::new())
    });
    // moby writes `The push refers to repository` before it talks to the registry, so a
    // refused push (`unauthorized: authentication required`) ends a 200 stream.
    start_stream(rx, task, 1).await
}

/// `POST /auth`.
pub async fn login(settings: &Reloadable, auth: RegistryAuth) -> Result<(), BackendError> {
    let client = client(settings)?;
    let creds = auth.credentials().unwrap_or(Credentials {
        username: String::new(),
        password: String::new(),
    });
    let server = if auth.serveraddress.is_empty() {
        "docker.io"
    } else {
        auth.serveraddress.as_str()
    };
    registry_login(&client, server, creds)
        .await
        .map_err(backend_error)
}

/// Pulls `FROM` images for a build (from the builder's blocking thread): the pull's
/// status lines go to the build's stream once it is over.
pub fn build_puller(engine: Engine, settings: Reloadable) -> berth_engine::build::Puller {
    std::sync::Arc::new(move |name: &str, progress: &mut dyn FnMut(&str)| {
        let fail = |m: String| berth_engine::EngineError::Invalid(m);
        let reference = pull_reference(name, None).map_err(|e| fail(e.message()))?;
        let client = client(&settings).map_err(|e| fail(e.message))?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let handle = tokio::runtime::Handle::current();
        let pulled =
            handle.block_on(engine.image_pull(&client, &reference, None, None, progress_fn(tx)));
        while let Ok(m) = rx.try_recv() {
            if let Some(status) = &m.status {
                let id =
                    m.id.as_deref()
                        .map(|i| format!("{i}: "))
                        .unwrap_or_default();
                progress(&format!("{id}{status}\n"));
            }
        }
        pulled.map(|_| ()).map_err(|e| fail(e.message()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_realms_login_refusal_is_401() {
        use berth_engine::distribution::RegistryError;
        let e = DistributionError::LoginFailed {
            server: "reg".into(),
            source: RegistryError::Unauthorized {
                host: "reg".into(),
                message: "Get \"https://reg/v2/\": unauthorized: incorrect username or password"
                    .into(),
            },
        };
        let b = backend_error(e);
        assert_eq!(b.kind, ErrorKind::Unauthorized);
        assert_eq!(
            crate::error::status_for(b.kind),
            axum::http::StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            b.message,
            "Get \"https://reg/v2/\": unauthorized: incorrect username or password"
        );
    }

    #[test]
    fn registry_auth_header() {
        let json = r#"{"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}"#;
        for enc in [URL_SAFE.encode(json), URL_SAFE_NO_PAD.encode(json)] {
            let a = RegistryAuth::from_header(&enc).unwrap().unwrap();
            assert_eq!(a.username, "u");
            assert_eq!(a.credentials().unwrap().password, "p?>");
        }
        assert_eq!(RegistryAuth::from_header("").unwrap(), None);
        let empty = RegistryAuth::from_header(&URL_SAFE.encode("{}")).unwrap();
        assert_eq!(empty.and_then(|a| a.credentials()), None);
        assert!(RegistryAuth::from_header("!!!").is_err());
    }
}
