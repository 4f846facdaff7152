//! `diff`, `export`, `history`, `commit` and `cp`, as the docker CLI prints and does them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::print_rows;
use crate::client::{Client, ClientError, empty, enc, query};
use crate::format::units::{ago, human_size};

/// `berth diff CONTAINER`.
pub async fn diff(client: &Client, container: &str) -> anyhow::Result<i32> {
    let changes: Vec<Value> = client
        .get(&format!("/containers/{}/changes", enc(container)))
        .await?;
    for c in changes {
        let kind = match c["Kind"].as_u64() {
            Some(0) => "C",
            Some(1) => "A",
            _ => "D",
        };
        println!("{kind} {}", c["Path"].as_str().unwrap_or_default());
    }
    Ok(0)
}

async fn body_to(
    resp: hyper::Response<hyper::body::Incoming>,
    output: Option<&str>,
) -> anyhow::Result<()> {
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match output {
        Some(f) => Box::new(
            tokio::fs::File::create(f)
                .await
                .with_context(|| format!("open {f}"))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::Http)?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data).await?;
        }
    }
    out.flush().await?;
    Ok(())
}

/// `berth export [-o FILE] CONTAINER`.
pub async fn export(client: &Client, container: &str, output: Option<&str>) -> anyhow::Result<i32> {
    if output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let resp = client
        .send(
            Method::GET,
            &format!("/containers/{}/export", enc(container)),
            empty(),
            None,
            false,
        )
        .await?;
    body_to(resp, output).await?;
    Ok(0)
}

/// `berth history IMAGE`.
pub async fn history(
    client: &Client,
    image: &str,
    no_trunc: bool,
    quiet: bool,
    format: Option<&str>,
) -> anyhow::Result<i32> {
    let items: Vec<Value> = client
        .get(&format!("/images/{}/history", enc(image)))
        .await?;
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Value> = items
        .iter()
        .map(|h| {
            let mut id = h["Id"].as_str().unwrap_or_default().to_owned();
            if !no_trunc && id.starts_with("sha256:") {
                id = id.trim_start_matches("sha256:").chars().take(12).collect();
            }
            let mut by = h["CreatedBy"].as_str().unwrap_or_default().to_owned();
            if !no_trunc && by.chars().count() > 45 {
                by = format!("{}…", by.chars().take(44).collect::<String>());
            }
            serde_json::json!({
                "ID": id,
                "CreatedSince": ago(h["Created"].as_i64().unwrap_or(0), now),
                "CreatedBy": by,
                "Size": human_size(h["Size"].as_i64().unwrap_or(0)),
                "Comment": h["Comment"].as_str().unwrap_or_default(),
            })
        })
        .collect();
    let default = if quiet {
        "{{.ID}}"
    } else {
        "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
    };
    print_rows(&rows, format.or(Some(default)), default, |f| {
        Some(match f {
            "ID" => "IMAGE",
            "CreatedSince" => "CREATED",
            "CreatedBy" => "CREATED BY",
            "Size" => "SIZE",
            "Comment" => "COMMENT",
            _ => return None,
        })
    })?;
    Ok(0)
}

/// What `berth commit` sends.
pub struct CommitArgs {
    /// `-a`.
    pub author: Option<String>,
    /// `-c`.
    pub change: Vec<String>,
    /// `-m`.
    pub message: Option<String>,
    /// `-p`.
    pub pause: bool,
    /// The container.
    pub container: String,
    /// `REPOSITORY[:TAG]`.
    pub repository: Option<String>,
}

/// `berth commit CONTAINER [REPOSITORY[:TAG]]`.
pub async fn commit(client: &Client, a: CommitArgs) -> anyhow::Result<i32> {
    let (repo, tag) = match &a.repository {
        Some(r) => match r.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((r, t)) => (Some(r.to_owned()), Some(t.to_owned())),
            None => (Some(r.clone()), None),
        },
        None => (None, None),
    };
    let mut pairs = vec![
        ("container", Some(a.container.clone())),
        ("repo", repo),
        ("tag", tag),
        ("comment", a.message.clone()),
        ("author", a.author.clone()),
        ("pause", Some(a.pause.to_string())),
    ];
    for c in &a.change {
        pairs.push(("changes", Some(c.clone())));
    }
    let path = format!("/commit{}", query(&pairs));
    let v: Value = client.post_json(&path, &Value::Null).await?;
    println!("{}", v["Id"].as_str().unwrap_or_default());
    Ok(0)
}

/// `CONTAINER:PATH` → (container, path); a path that is absolute or starts with `.` is
/// local, as docker decides.
fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') || arg.starts_with('.') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.is_empty() => (Some(c), p),
        _ => (None, arg),
    }
}

#[derive(serde::Deserialize, Default)]
struct PathStat {
    #[serde(default)]
    mode: u32,
    #[serde(default, rename = "linkTarget")]
    link_target: String,
}

fn stat_of(resp: &hyper::Response<hyper::body::Incoming>) -> PathStat {
    resp.headers()
        .get("x-docker-container-path-stat")
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_bytes())
                .ok()
        })
        .and_then(|j| serde_json::from_slice(&j).ok())
        .unwrap_or_default()
}

async fn body_bytes(resp: hyper::Response<hyper::body::Incoming>) -> anyhow::Result<Vec<u8>> {
    Ok(resp
        .into_body()
        .collect()
        .await
        .map_err(ClientError::Http)?
        .to_bytes()
        .to_vec())
}

/// Extracts `tar` into `dir`, the top entry `from` renamed `to`.
fn untar_renamed(tar: &[u8], dir: &Path, from: &str, to: &str) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(tar);
    ar.set_preserve_permissions(true);
    ar.set_overwrite(true);
    for e in ar.entries()? {
        let mut e = e?;
        let name = e.path()?.into_owned();
        let rel = match name.strip_prefix(from) {
            Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from(to),
            Ok(rest) => Path::new(to).join(rest),
            Err(_) => name.clone(),
        };
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            bail!("invalid path in the archive: {}", name.display());
        }
        e.unpack(dir.join(rel))?;
    }
    Ok(())
}

/// `berth cp [-a] [-L] SRC DST`, one side `CONTAINER:PATH`.
pub async fn cp(
    client: &Client,
    src: &str,
    dst: &str,
    archive: bool,
    follow: bool,
) -> anyhow::Result<i32> {
    match (split_cp_arg(src), split_cp_arg(dst)) {
        ((Some(c), path), (None, local)) => {
            let get = |p: &str| {
                format!(
                    "/containers/{}/archive{}",
                    enc(c),
                    query(&[("path", Some(p.to_owned()))])
                )
            };
            let mut path = path.to_owned();
            let base = Path::new(&path)
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_else(|| ".".into());
            let mut served_base = base.clone();
            if follow {
                let head = client
                    .send(Method::HEAD, &get(&path), empty(), None, false)
                    .await?;
                let st = stat_of(&head);
                if st.mode & (1 << 27) != 0 && !st.link_target.is_empty() {
                    path = st.link_target.clone();
                    served_base = Path::new(&path)
                        .file_name()
                        .map(|b| b.to_string_lossy().into_owned())
                        .unwrap_or_default();
                }
            }
            let resp = client
                .send(Method::GET, &get(&path), empty(), None, false)
                .await?;
            if local == "-" {
                body_to(resp, None).await?;
                return Ok(0);
            }
            let tar = body_bytes(resp).await?;
            let target = PathBuf::from(local);
            if target.is_dir() {
                untar_renamed(&tar, &target, &served_base, &base)?;
            } else {
                let parent = target
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let name = target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or(base);
                untar_renamed(&tar, parent, &served_base, &name)?;
            }
            Ok(0)
        }
        ((None, local), (Some(c), path)) => {
            let put = |p: &str| {
                format!(
                    "/containers/{}/archive{}",
                    enc(c),
                    query(&[
                        ("path", Some(p.to_owned())),
                        ("noOverwriteDirNonDir", Some("true".into())),
                        ("copyUIDGID", archive.then(|| "true".to_owned())),
                    ])
                )
            };
            let (tar, dest) = if local == "-" {
                let mut buf = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut buf).await?;
                (buf, path.to_owned())
            } else {
                let src = Path::new(local);
                let base = src
                    .file_name()
                    .map(|b| b.to_string_lossy().into_owned())
                    .context("the source has no name")?;
                // Into an existing directory keeps the name; otherwise the last part of
                // the destination is the new name, in its parent.
                let head = client
                    .send(Method::HEAD, &put(path), empty(), None, false)
                    .await;
                let dest_is_dir = head
                    .as_ref()
                    .is_ok_and(|h| stat_of(h).mode & (1 << 31) != 0);
                let (dest, name) = if dest_is_dir || path.ends_with('/') {
                    (path.to_owned(), base)
                } else {
                    let p = Path::new(path);
                    (
                        p.parent().map_or("/".into(), |d| d.display().to_string()),
                        p.file_name()
                            .map_or(base, |n| n.to_string_lossy().into_owned()),
                    )
                };
                let mut b = tar::Builder::new(Vec::new());
                b.follow_symlinks(follow);
                if src.is_dir() {
                    b.append_dir_all(&name, src)?;
                } else {
                    b.append_path_with_name(src, &name)?;
                }
                (b.into_inner()?, dest)
            };
            client
                .send(
                    Method::PUT,
                    &put(&dest),
                    http_body_util::Full::new(bytes::Bytes::from(tar))
                        .map_err(|never| match never {})
                        .boxed(),
                    Some("application/x-tar"),
                    false,
                )
                .await?;
            Ok(0)
        }
        _ => bail!("copying between containers is not supported; one side must be CONTAINER:PATH"),
    }
}
