//! `berth build`: the context directory (or a tar on stdin) sent to `POST /build`, the
//! daemon's stream printed as docker's classic builder prints it.
//!
//! The whole directory is sent; the daemon applies `.dockerignore` (the docker CLI filters
//! first, to send less; the result is the same). A Dockerfile given with `-f` outside the
//! context, or on stdin (`-f -`), travels in the tar under a name of its own, as the
//! docker CLI does. A failed step exits with its code (`RUN exit 3` exits 3), as docker.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use serde_json::Value;

use crate::cli::BuildArgs;
use crate::client::{Body, Client, JsonLines, enc};

/// A name for a Dockerfile carried in the context.
fn carried_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(".dockerfile.{:x}{nanos:x}", std::process::id())
}

/// The context tar, and the `dockerfile` parameter.
fn context(args: &BuildArgs) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let mut stdin_dockerfile = None;
    if args.file.as_deref() == Some("-") {
        if args.path == "-" {
            anyhow::bail!(
                "invalid argument: can't use stdin for both build context and dockerfile"
            );
        }
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        stdin_dockerfile = Some(s);
    }
    if args.path == "-" {
        let mut tar = Vec::new();
        std::io::stdin().read_to_end(&mut tar)?;
        return Ok((tar, args.file.clone()));
    }
    let root = PathBuf::from(&args.path);
    if !root.is_dir() {
        anyhow::bail!("unable to prepare context: path {:?} not found", args.path);
    }
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", &root)
        .map_err(|e| anyhow::anyhow!("unable to prepare context: {e}"))?;
    let mut dockerfile = None;
    let carried = match (&stdin_dockerfile, &args.file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(f)) => {
            let real = std::fs::canonicalize(f)
                .map_err(|e| anyhow::anyhow!("unable to prepare context: {f}: {e}"))?;
            let root_real = std::fs::canonicalize(&root)?;
            match real.strip_prefix(&root_real) {
                Ok(rel) => {
                    dockerfile = Some(rel.to_string_lossy().into_owned());
                    None
                }
                Err(_) => Some(std::fs::read_to_string(&real)?),
            }
        }
        (None, None) => None,
    };
    if let Some(text) = carried {
        let name = carried_name();
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, &name, text.as_bytes())?;
        dockerfile = Some(name);
    }
    Ok((b.into_inner()?, dockerfile))
}

fn query(args: &BuildArgs, dockerfile: Option<&str>) -> anyhow::Result<String> {
    let mut q = vec![
        "rm=".to_owned() + if args.rm { "1" } else { "0" },
        "forcerm=".to_owned() + if args.force_rm { "1" } else { "0" },
        "nocache=".to_owned() + if args.no_cache { "1" } else { "0" },
        "q=".to_owned() + if args.quiet { "1" } else { "0" },
        "pull=".to_owned() + if args.pull { "1" } else { "0" },
    ];
    for t in &args.tags {
        q.push(format!("t={}", enc(t)));
    }
    if let Some(f) = dockerfile {
        q.push(format!("dockerfile={}", enc(f)));
    }
    if let Some(t) = &args.target {
        q.push(format!("target={}", enc(t)));
    }
    if let Some(n) = &args.network {
        q.push(format!("networkmode={}", enc(n)));
    }
    if let Some(p) = &args.platform {
        q.push(format!("platform={}", enc(p)));
    }
    for h in &args.add_host {
        q.push(format!("extrahosts={}", enc(h)));
    }
    let mut build_args = serde_json::Map::new();
    for a in &args.build_args {
        // `--build-arg NAME` takes NAME from the environment, as docker does.
        let (k, v) = match a.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (a.clone(), std::env::var(a).ok()),
        };
        if let Some(v) = v {
            build_args.insert(k, Value::String(v));
        }
    }
    if !build_args.is_empty() {
        q.push(format!(
            "buildargs={}",
            enc(&Value::Object(build_args).to_string())
        ));
    }
    let mut labels = serde_json::Map::new();
    for l in &args.label {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    if !labels.is_empty() {
        q.push(format!(
            "labels={}",
            enc(&Value::Object(labels).to_string())
        ));
    }
    if !args.cache_from.is_empty() {
        q.push(format!(
            "cachefrom={}",
            enc(&serde_json::to_string(&args.cache_from)?)
        ));
    }
    Ok(format!("?{}", q.join("&")))
}

/// `berth build`.
pub async fn build(client: &Client, args: &BuildArgs) -> anyhow::Result<i32> {
    let (tar, dockerfile) = context(args)?;
    let path = format!("/build{}", query(args, dockerfile.as_deref())?);
    let body: Body = Full::new(Bytes::from(tar))
        .map_err(|never| match never {})
        .boxed();
    let resp = client
        .send(Method::POST, &path, body, Some("application/x-tar"), false)
        .await?;
    let mut lines = JsonLines::new(resp);
    let mut id = None;
    let mut out = std::io::stdout();
    let mut progress = crate::format::progress::Progress::new();
    while let Some(v) = lines.next::<Value>().await? {
        if let Some(detail) = v.get("errorDetail") {
            let msg = detail
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| v.get("error").and_then(Value::as_str))
                .unwrap_or("build failed");
            eprintln!("{msg}");
            let code = detail.get("code").and_then(Value::as_i64).unwrap_or(1);
            return Ok(i32::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1));
        }
        if let Some(aux) = v
            .get("aux")
            .and_then(|a| a.get("ID"))
            .and_then(Value::as_str)
        {
            id = Some(aux.to_owned());
        }
        if let Some(s) = v.get("stream").and_then(Value::as_str) {
            if args.quiet {
                id = Some(s.trim().to_owned());
            }
            out.write_all(s.as_bytes())?;
            out.flush()?;
        } else if v.get("status").is_some() {
            // A FROM's pull: docker's per-layer lines, with bars on a terminal.
            let m: berth_api::progress::ProgressMessage = serde_json::from_value(v)?;
            progress.show(&m)?;
        }
    }
    if let (Some(file), Some(id)) = (&args.iidfile, &id) {
        write_iid(Path::new(file), id)?;
    }
    Ok(0)
}

fn write_iid(file: &Path, id: &str) -> anyhow::Result<()> {
    std::fs::write(file, id).map_err(|e| anyhow::anyhow!("failed to write image ID to file: {e}"))
}
