//! `pull`, `push`, `save`, `load`, `login`, `logout`.
//!
//! Credentials live in docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`, mode 0600), or in the credential helper it names
//! (`credHelpers`, `credsStore`: `docker-credential-<name>` on PATH), so docker and berth
//! share them; pull and push send them to the daemon in `X-Registry-Auth` as the docker
//! CLI does. Progress messages are
//! drawn as docker draws them: one line per layer redrawn in place on a terminal, plain
//! status lines otherwise.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use berth_api::progress::ProgressMessage;
use berth_image::Reference;
use berth_image::registry::Credentials;
use berth_image::registry::auth::{load_credentials, remove_credentials, save_credentials};
use http_body_util::BodyExt;
use hyper::Method;
use hyper::body::Incoming;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::cli::{LoadArgs, LoginArgs, LogoutArgs, PullArgs, PushArgs, SaveArgs};
use crate::client::{Client, ClientError, DaemonError, JsonLines, empty, enc, query};

/// docker's `config.json`.
pub fn docker_config() -> PathBuf {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("config.json");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".docker").join("config.json")
}

/// The registry host of a server argument (`https://index.docker.io/v1/` → `docker.io`).
pub fn server_host(server: &str) -> String {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    match s.split('/').next().unwrap_or(s) {
        "" | "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        h => h.into(),
    }
}

/// The `X-Registry-Auth` value for `host` from the stored credentials (`config.json` or
/// its credential helper). A helper that fails fails the command, as with docker; a
/// helper's `<token>` user means an identity token.
fn auth_header(host: &str) -> anyhow::Result<Option<String>> {
    let Some(creds) = load_credentials(&docker_config(), host)
        .map_err(|e| anyhow::Error::new(e).context("error getting credentials"))?
    else {
        return Ok(None);
    };
    let v = if creds.username == "<token>" {
        json!({ "identitytoken": creds.password, "serveraddress": host })
    } else {
        json!({
            "username": creds.username,
            "password": creds.password,
            "serveraddress": host,
        })
    };
    Ok(Some(URL_SAFE.encode(v.to_string())))
}

fn parse_reference(name: &str) -> anyhow::Result<Reference> {
    Reference::parse_normalized(name).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reads newline-separated JSON messages, drawing them; fails on an error message.
async fn stream_progress(resp: hyper::Response<Incoming>) -> anyhow::Result<()> {
    let mut lines = JsonLines::new(resp);
    let mut p = crate::format::progress::Progress::new();
    while let Some(m) = lines.next::<ProgressMessage>().await? {
        if let Some(e) = m
            .error_detail
            .as_ref()
            .map(|d| d.message.clone())
            .or(m.error.clone())
        {
            anyhow::bail!(DaemonError {
                status: hyper::StatusCode::INTERNAL_SERVER_ERROR,
                message: e,
            });
        }
        p.show(&m)?;
    }
    Ok(())
}

/// `berth pull`.
pub async fn pull(client: &Client, args: &PullArgs) -> anyhow::Result<i32> {
    let r = parse_reference(&args.name)?;
    let (name, tag) = match (r.digest(), r.tag()) {
        (Some(d), _) => (r.familiar_name(), Some(d.to_string())),
        (None, Some(t)) => (r.familiar_name(), Some(t.to_owned())),
        (None, None) => {
            println!("Using default tag: latest");
            (r.familiar_name(), Some("latest".to_owned()))
        }
    };
    let q = query(&[
        ("fromImage", Some(name)),
        ("tag", tag),
        ("platform", args.platform.clone()),
    ]);
    let auth = auth_header(r.domain())?;
    let resp = client
        .send_with_auth(Method::POST, &format!("/images/create{q}"), auth)
        .await?;
    stream_progress(resp).await?;
    if !args.quiet {
        let shown = r.with_default_tag();
        println!("{shown}");
    }
    Ok(0)
}

/// `berth push`.
pub async fn push(client: &Client, args: &PushArgs) -> anyhow::Result<i32> {
    let r = parse_reference(&args.name)?;
    let q = query(&[("tag", r.tag().map(str::to_owned))]);
    let auth = auth_header(r.domain())?;
    let path = format!("/images/{}/push{q}", r.familiar_name());
    let resp = client.send_with_auth(Method::POST, &path, auth).await?;
    stream_progress(resp).await?;
    Ok(0)
}

/// `berth save`: the archive to `-o FILE` or to stdout, never to a terminal.
pub async fn save(client: &Client, args: &SaveArgs) -> anyhow::Result<i32> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let names: Vec<String> = args
        .images
        .iter()
        .map(|n| format!("names={}", enc(n)))
        .collect();
    let path = format!("/images/get?{}", names.join("&"));
    let resp = client
        .send(Method::GET, &path, empty(), None, false)
        .await?;
    // As docker's CopyToFile: a temporary file beside the output, renamed over it once the
    // whole archive is in, so a failed save leaves no half file.
    let (mut out, tmp): (Box<dyn tokio::io::AsyncWrite + Unpin + Send>, _) = match &args.output {
        Some(f) => {
            let dir = std::path::Path::new(f)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = tempfile::Builder::new()
                .prefix(".berth_temp_")
                .tempfile_in(dir)
                .map_err(|e| anyhow::anyhow!("failed to save image: open {f}: {e}"))?;
            let file = tokio::fs::File::from_std(tmp.reopen()?);
            (Box::new(file), Some(tmp))
        }
        None => (Box::new(tokio::io::stdout()), None),
    };
    let mut body = resp.into_body();
    let res: anyhow::Result<()> = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(ClientError::Http)?;
            if let Ok(data) = frame.into_data() {
                out.write_all(&data).await?;
            }
        }
        out.flush().await?;
        Ok(())
    }
    .await;
    drop(out);
    // On error the temporary file is removed when `tmp` drops.
    res?;
    if let (Some(tmp), Some(f)) = (tmp, &args.output) {
        tmp.persist(f).map_err(|e| e.error)?;
    }
    Ok(0)
}

/// `berth load`.
pub async fn load(client: &Client, args: &LoadArgs) -> anyhow::Result<i32> {
    let file = args.input.clone().unwrap_or_else(|| "-".into());
    if file == "-" && std::io::stdin().is_terminal() {
        anyhow::bail!("requested load from stdin, but stdin is empty");
    }
    if file != "-" && !std::path::Path::new(&file).exists() {
        anyhow::bail!("open {file}: no such file or directory");
    }
    let q = query(&[("quiet", args.quiet.then(|| "1".into()))]);
    let resp = client
        .send(
            Method::POST,
            &format!("/images/load{q}"),
            super::images::file_body(file),
            Some("application/x-tar"),
            false,
        )
        .await?;
    stream_progress(resp).await?;
    Ok(0)
}

fn read_line(prompt: &str) -> anyhow::Result<String> {
    if !prompt.is_empty() {
        print!("{prompt}");
        std::io::stdout().flush()?;
    }
    let mut s = String::new();
    std::io::stdin().read_line(&mut s)?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

/// `berth login`: checks the credentials through the daemon, then stores them.
pub async fn login(client: &Client, args: &LoginArgs) -> anyhow::Result<i32> {
    let server = args.server.clone().unwrap_or_else(|| "docker.io".into());
    let host = server_host(&server);
    if args.password.is_some() && args.password_stdin {
        anyhow::bail!("--password and --password-stdin are mutually exclusive");
    }
    let username = match &args.username {
        Some(u) => u.clone(),
        None if args.password_stdin => {
            anyhow::bail!("Must provide --username with --password-stdin")
        }
        None => read_line("Username: ")?,
    };
    let password = if args.password_stdin {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s.trim_end_matches(['\r', '\n']).to_owned()
    } else if let Some(p) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        p.clone()
    } else {
        read_line("Password: ")?
    };
    if username.is_empty() {
        anyhow::bail!("Error: Non-null Username Required");
    }
    let body = json!({
        "username": username,
        "password": password,
        "serveraddress": host,
    });
    let _: serde_json::Value = client.post_json("/auth", &body).await?;
    save_credentials(&docker_config(), &host, &Credentials { username, password })
        .map_err(|e| anyhow::anyhow!("store credentials: {e}"))?;
    println!("Login Succeeded");
    Ok(0)
}

/// `berth logout`.
pub async fn logout(_client: &Client, args: &LogoutArgs) -> anyhow::Result<i32> {
    let server = args.server.clone().unwrap_or_else(|| "docker.io".into());
    let host = server_host(&server);
    match remove_credentials(&docker_config(), &host) {
        Ok(true) => println!("Removing login credentials for {server}"),
        Ok(false) => println!("Not logged in to {server}"),
        Err(e) => anyhow::bail!("remove credentials: {e}"),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(server_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(server_host("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
