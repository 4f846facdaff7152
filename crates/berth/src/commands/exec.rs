//! `exec` and `attach`: interactive sessions with a running container (see
//! [`crate::interactive`] for the stream, resizing and detach keys).

use berth_api::container::ContainerInspect;
use berth_api::detach;
use berth_api::exec::{ExecConfig, ExecCreateResponse, ExecInspect, ExecStartConfig};
use hyper::Method;

use crate::cli::{AttachArgs, ExecArgs};
use crate::client::{Client, DaemonError, enc, json_body};
use crate::interactive::{self, End, Options, hijack};
use crate::terminal::RawMode;

/// Parses `--detach-keys` (else `detachKeys` of docker's `config.json`, else docker's
/// default) into its bytes.
pub fn detach_keys(keys: Option<&str>) -> anyhow::Result<(String, Vec<u8>)> {
    let configured = super::config_value("detachKeys");
    let keys = keys
        .filter(|k| !k.is_empty())
        .or(configured.as_deref().filter(|k| !k.is_empty()))
        .unwrap_or(detach::DEFAULT_DETACH_KEYS);
    let bytes = detach::parse(keys)?;
    Ok((keys.to_owned(), bytes))
}

/// `berth exec`.
pub async fn exec(client: &Client, args: &ExecArgs) -> anyhow::Result<i32> {
    let (keys, key_bytes) = detach_keys(args.detach_keys.as_deref())?;
    let Some((container, cmd)) = args.args.split_first() else {
        anyhow::bail!("\"berth exec\" requires at least 2 arguments");
    };
    if cmd.is_empty() {
        anyhow::bail!("\"berth exec\" requires at least 2 arguments");
    }
    let size = if args.tty {
        interactive::terminal_size()
    } else {
        None
    };
    let config = ExecConfig {
        attach_stdin: args.interactive && !args.detach,
        attach_stdout: !args.detach,
        attach_stderr: !args.detach,
        detach_keys: Some(keys),
        tty: args.tty,
        console_size: size.map(|(h, w)| [h, w]),
        env: args.env.clone(),
        cmd: cmd.to_vec(),
        privileged: args.privileged,
        user: args.user.clone().unwrap_or_default(),
        working_dir: args.workdir.clone().unwrap_or_default(),
    };
    let created: ExecCreateResponse = client
        .post_json(&format!("/containers/{}/exec", enc(container)), &config)
        .await?;
    let id = created.id;
    let start = ExecStartConfig {
        detach: args.detach,
        tty: args.tty,
        console_size: config.console_size,
    };
    let path = format!("/exec/{}/start", enc(&id));
    if args.detach {
        client
            .send(
                Method::POST,
                &path,
                json_body(&start)?,
                Some("application/json"),
                false,
            )
            .await?;
        return Ok(0);
    }
    let _raw = if args.tty && args.interactive {
        Some(RawMode::enter()?)
    } else {
        None
    };
    let stream = match hijack(client, &path, json_body(&start)?, Some("application/json")).await {
        Ok(s) => s,
        Err(e) => {
            // A process that could not start has docker's 126/127 recorded.
            let code = exec_exit_code(client, &id).await;
            return match code {
                Some(c) if c != 0 => {
                    drop(_raw);
                    eprintln!("{}", super::error_line(&e));
                    Ok(i32::try_from(c).unwrap_or(126))
                }
                _ => Err(e),
            };
        }
    };
    let end = stream
        .run(Options {
            stdin: args.interactive,
            detach_keys: key_bytes,
            resize_path: Some(format!("/exec/{}/resize", enc(&id))),
            kill_path: None,
            client,
        })
        .await?;
    drop(_raw);
    if end == End::Detached {
        return Ok(0);
    }
    Ok(exec_exit_code(client, &id)
        .await
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(0))
}

/// The exec's exit code once recorded.
async fn exec_exit_code(client: &Client, id: &str) -> Option<i64> {
    // The daemon records the code before it ends the stream; a few tries cover a process
    // whose stream ended before it exited (it closed its output).
    for _ in 0..50 {
        let e: ExecInspect = client.get(&format!("/exec/{}/json", enc(id))).await.ok()?;
        if !e.running && e.exit_code.is_some() {
            return e.exit_code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

/// `berth attach`.
pub async fn attach(client: &Client, args: &AttachArgs) -> anyhow::Result<i32> {
    let (keys, key_bytes) = detach_keys(args.detach_keys.as_deref())?;
    let c: ContainerInspect = client
        .get(&format!("/containers/{}/json", enc(&args.container)))
        .await?;
    let running = c.state.as_ref().is_some_and(|s| s.running);
    if !running {
        return Err(DaemonError {
            status: hyper::StatusCode::CONFLICT,
            message: "You cannot attach to a stopped container, start it first".into(),
        }
        .into());
    }
    let cfg = c.config.as_ref();
    let tty = cfg.is_some_and(|c| c.tty);
    let stdin = !args.no_stdin && cfg.is_some_and(|c| c.open_stdin);
    let id = c.id.clone();
    let path = format!(
        "/containers/{}/attach?stream=1&stdout=1&stderr=1{}&detachKeys={}",
        enc(&id),
        if stdin { "&stdin=1" } else { "" },
        enc(&keys)
    );
    // Registered before attaching, as docker's CLI does: when the stream ends, the exit code
    // comes from the wait, not from an inspect that may run before the daemon recorded it.
    let wait = client
        .send(
            hyper::Method::POST,
            &format!("/containers/{}/wait?condition=not-running", enc(&id)),
            crate::client::empty(),
            None,
            false,
        )
        .await?;
    let _raw = if tty && stdin {
        Some(RawMode::enter()?)
    } else {
        None
    };
    let stream = hijack(client, &path, crate::client::empty(), None).await?;
    let end = stream
        .run(Options {
            stdin,
            detach_keys: key_bytes,
            resize_path: Some(format!("/containers/{}/resize", enc(&id))),
            kill_path: (args.sig_proxy && !tty).then(|| format!("/containers/{}/kill", enc(&id))),
            client,
        })
        .await?;
    drop(_raw);
    if end == End::Detached {
        return Ok(0);
    }
    let w: berth_api::container::WaitResponse = crate::client::decode(wait).await?;
    if let Some(e) = w.error {
        anyhow::bail!("{}", e.message);
    }
    Ok(i32::try_from(w.status_code).unwrap_or(0))
}
