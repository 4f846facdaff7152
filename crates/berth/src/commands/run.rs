//! `create` and `run`: the create body from docker's flags, and the run sequence
//! (create → attach → wait registered → start → exit code).

use std::collections::BTreeMap;

use berth_api::container::{
    ContainerConfig, ContainerCreateBody, ContainerCreateResponse, HostConfig, WaitResponse,
};
use hyper::Method;

use crate::cli::{CreateArgs, RunArgs};
use crate::client::{Client, DaemonError, decode, empty, enc, query};
use crate::format::units::ram_in_bytes;

/// An error of `run` that carries docker's exit code (125, 126, 127).
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct RunError {
    /// The exit code.
    pub code: i32,
    /// What failed.
    #[source]
    pub source: anyhow::Error,
}

/// docker's exit code for a failed start: 127 when the command is not found, 126 when it
/// cannot be invoked, 125 otherwise.
pub fn start_exit_code(message: &str) -> i32 {
    let m = message.to_lowercase();
    if m.contains("executable file not found")
        || m.contains("no such file or directory")
        || m.contains("not found in $path")
    {
        127
    } else if m.contains("permission denied") || m.contains("cannot execute") {
        126
    } else {
        125
    }
}

/// Reads `--env-file` lines: `KEY=value`, `KEY` (taken from this environment), comments.
fn env_file_lines(path: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("open {path}: {e}"))?;
    Ok(text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(env_entry)
        .collect())
}

/// `-e KEY=value` as is; `-e KEY` becomes `KEY=<value here>` when set, else is dropped.
fn env_entry(e: &str) -> Option<String> {
    if e.contains('=') {
        Some(e.to_string())
    } else {
        std::env::var(e).ok().map(|v| format!("{e}={v}"))
    }
}

/// `--log-driver` and `--log-opt key=value`.
fn log_config(a: &crate::cli::LogHealthArgs) -> anyhow::Result<berth_api::container::LogConfig> {
    let mut opts = BTreeMap::new();
    for o in &a.log_opt {
        let Some((k, v)) = o.split_once('=') else {
            anyhow::bail!("invalid log opt '{o}'");
        };
        opts.insert(k.to_owned(), v.to_owned());
    }
    Ok(berth_api::container::LogConfig {
        r#type: a.log_driver.clone().unwrap_or_default(),
        config: (!opts.is_empty()).then_some(opts),
    })
}

/// The `--health-*` flags as docker's CLI turns them into `Config.Healthcheck`.
fn healthcheck(
    a: &crate::cli::LogHealthArgs,
) -> anyhow::Result<Option<berth_api::container::HealthConfig>> {
    let ns = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
        match v {
            None => Ok(0),
            Some(s) => crate::format::units::go_duration(s)
                .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
                .ok_or_else(|| anyhow::anyhow!("invalid argument {s:?} for \"{flag}\" flag")),
        }
    };
    let timing = a.health_interval.is_some()
        || a.health_timeout.is_some()
        || a.health_retries.is_some()
        || a.health_start_period.is_some()
        || a.health_start_interval.is_some();
    if a.no_healthcheck {
        if a.health_cmd.is_some() || timing {
            anyhow::bail!("--no-healthcheck conflicts with --health-* options");
        }
        return Ok(Some(berth_api::container::HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }));
    }
    if a.health_cmd.is_none() && !timing {
        return Ok(None);
    }
    if a.health_retries.is_some_and(|r| r < 0) {
        anyhow::bail!("--health-retries cannot be negative");
    }
    Ok(Some(berth_api::container::HealthConfig {
        test: a
            .health_cmd
            .as_ref()
            .map(|c| vec!["CMD-SHELL".into(), c.clone()]),
        interval: ns("--health-interval", &a.health_interval)?,
        timeout: ns("--health-timeout", &a.health_timeout)?,
        retries: a.health_retries.unwrap_or(0),
        start_period: ns("--health-start-period", &a.health_start_period)?,
        start_interval: ns("--health-start-interval", &a.health_start_interval)?,
    }))
}

/// The create request of `create`/`run` flags; `attach` is true for a foreground run.
pub fn create_body(args: &CreateArgs, attach: bool) -> anyhow::Result<ContainerCreateBody> {
    let mut env = Vec::new();
    for f in &args.env_file {
        env.extend(env_file_lines(f)?);
    }
    env.extend(args.env.iter().filter_map(|e| env_entry(e)));
    let labels: BTreeMap<String, String> = args
        .label
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect();
    let memory = match &args.memory {
        None => 0,
        Some(m) => ram_in_bytes(m)
            .ok_or_else(|| anyhow::anyhow!("invalid argument {m:?} for \"-m, --memory\" flag"))?,
    };
    let nano_cpus = match args.cpus {
        None => 0,
        Some(c) if c.is_finite() && c >= 0.0 => (c * 1e9) as i64,
        Some(c) => anyhow::bail!("invalid argument \"{c}\" for \"--cpus\" flag"),
    };
    let mut port_bindings = super::network::Bindings::new();
    for p in &args.publish {
        super::network::parse_publish(p, &mut port_bindings)?;
    }
    let mut exposed: BTreeMap<String, berth_api::container::EmptyObject> = BTreeMap::new();
    // `--expose PORT[-RANGE][/PROTO]`, one key per port, as docker's CLI expands it.
    for p in &args.expose {
        let range = berth_image::config::port::PortRange::parse(p)
            .map_err(|e| anyhow::anyhow!("invalid range format for --expose: {p}, error: {e}"))?;
        exposed.extend(range.keys().map(|k| (k, Default::default())));
    }
    for key in port_bindings.keys() {
        exposed.insert(key.clone(), Default::default());
    }
    let network_mode = args.network.clone().unwrap_or_else(|| "default".into());
    let storage = super::volume::mount_flags(args)?;
    let config = ContainerConfig {
        hostname: args.hostname.clone().unwrap_or_default(),
        user: args.user.clone().unwrap_or_default(),
        attach_stdin: attach && args.interactive,
        attach_stdout: attach,
        attach_stderr: attach,
        tty: args.tty,
        open_stdin: args.interactive,
        stdin_once: attach && args.interactive,
        env: (!env.is_empty()).then_some(env),
        cmd: (!args.command.is_empty()).then(|| args.command.clone()),
        image: args.image.clone(),
        working_dir: args.workdir.clone().unwrap_or_default(),
        entrypoint: args.entrypoint.as_ref().map(|e| vec![e.clone()]),
        labels: (!labels.is_empty()).then_some(labels),
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        volumes: storage.volumes,
        healthcheck: healthcheck(&args.log_health)?,
        ..Default::default()
    };
    let host_config = HostConfig {
        auto_remove: args.rm,
        network_mode: network_mode.clone(),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        publish_all_ports: args.publish_all,
        memory,
        nano_cpus,
        pids_limit: args.pids_limit,
        binds: storage.binds,
        mounts: storage.mounts,
        tmpfs: storage.tmpfs,
        volumes_from: storage.volumes_from,
        volume_driver: args.volume_driver.clone().unwrap_or_default(),
        log_config: log_config(&args.log_health)?,
        ..Default::default()
    };
    Ok(ContainerCreateBody {
        config,
        host_config: Some(host_config),
        networking_config: super::network::networking_config(&network_mode, &args.network_alias),
    })
}

async fn create_container(
    client: &Client,
    args: &CreateArgs,
    attach: bool,
) -> anyhow::Result<String> {
    let body = create_body(args, attach)?;
    let path = format!(
        "/containers/create{}",
        query(&[("name", args.name.clone())])
    );
    let created: ContainerCreateResponse = match client.post_json(&path, &body).await {
        Ok(c) => c,
        Err(e) => {
            if e.downcast_ref::<DaemonError>()
                .is_some_and(|d| d.status == hyper::StatusCode::NOT_FOUND)
            {
                eprintln!("Unable to find image '{}' locally", args.image);
            }
            return Err(e);
        }
    };
    for w in &created.warnings {
        eprintln!("WARNING: {w}");
    }
    Ok(created.id)
}

/// `berth create`: prints the new container's ID.
pub async fn create(client: &Client, args: &CreateArgs) -> anyhow::Result<i32> {
    let id = create_container(client, args, false).await?;
    println!("{id}");
    Ok(0)
}

/// `berth run`.
pub async fn run(client: &Client, args: &RunArgs) -> anyhow::Result<i32> {
    let id = create_container(client, &args.create, !args.detach)
        .await
        .map_err(|source| RunError { code: 125, source })?;
    if args.detach {
        start_container(client, &id).await?;
        println!("{id}");
        return Ok(0);
    }
    let _raw = if args.create.tty && args.create.interactive {
        Some(crate::terminal::RawMode::enter()?)
    } else {
        None
    };
    attach_start_wait(client, &id, args.create.interactive, args.create.rm).await
}

async fn start_container(client: &Client, id: &str) -> Result<(), RunError> {
    client
        .call(Method::POST, &format!("/containers/{}/start", enc(id)))
        .await
        .map(|_| ())
        .map_err(|source| {
            let code = source
                .downcast_ref::<DaemonError>()
                .map_or(125, |d| start_exit_code(&d.message));
            RunError { code, source }
        })
}

/// Attaches, registers a wait, starts, streams output, and returns the exit code.
pub async fn attach_start_wait(
    client: &Client,
    id: &str,
    stdin: bool,
    removed: bool,
) -> anyhow::Result<i32> {
    let path = format!(
        "/containers/{}/attach?stream=1&stdout=1&stderr=1{}",
        enc(id),
        if stdin { "&stdin=1" } else { "" }
    );
    let attached = crate::interactive::hijack(client, &path, empty(), None)
        .await
        .map_err(|source| RunError { code: 125, source })?;
    let condition = if removed { "removed" } else { "next-exit" };
    let wait_resp = client
        .send(
            Method::POST,
            &format!("/containers/{}/wait?condition={condition}", enc(id)),
            empty(),
            None,
            false,
        )
        .await
        .map_err(|source| RunError { code: 125, source })?;
    start_container(client, id).await?;
    let (_, keys) = super::exec::detach_keys(None)?;
    let end = attached
        .run(crate::interactive::Options {
            stdin,
            detach_keys: keys,
            resize_path: Some(format!("/containers/{}/resize", enc(id))),
            kill_path: Some(format!("/containers/{}/kill", enc(id))),
            client,
        })
        .await?;
    if end == crate::interactive::End::Detached {
        return Ok(0);
    }
    let w: WaitResponse = decode(wait_resp).await?;
    if let Some(e) = w.error {
        return Err(RunError {
            code: 125,
            source: anyhow::anyhow!("{}", e.message),
        }
        .into());
    }
    Ok(i32::try_from(w.status_code).unwrap_or(125))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> RunArgs {
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            run: RunArgs,
        }
        let mut v = vec!["run"];
        v.extend_from_slice(args);
        T::parse_from(v).run
    }

    #[test]
    fn run_flags_become_docker_body() {
        let a = parse(&[
            "--rm",
            "-i",
            "--name",
            "x",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "-u",
            "1:1",
            "-h",
            "box",
            "-l",
            "k=v",
            "-m",
            "64m",
            "--cpus",
            "1.5",
            "--pids-limit",
            "10",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "3",
            "busybox",
            "sh",
            "-c",
            "echo hi",
        ]);
        assert_eq!(a.create.name.as_deref(), Some("x"));
        let b = create_body(&a.create, true).unwrap();
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["Image"], "busybox");
        assert_eq!(v["Cmd"], serde_json::json!(["sh", "-c", "echo hi"]));
        assert_eq!(v["Env"], serde_json::json!(["A=1"]));
        assert_eq!(v["WorkingDir"], "/tmp");
        assert_eq!(v["User"], "1:1");
        assert_eq!(v["Hostname"], "box");
        assert_eq!(v["Labels"]["k"], "v");
        assert_eq!(v["OpenStdin"], true);
        assert_eq!(v["AttachStdin"], true);
        assert_eq!(v["StdinOnce"], true);
        assert_eq!(v["StopSignal"], "SIGINT");
        assert_eq!(v["StopTimeout"], 3);
        assert_eq!(v["HostConfig"]["AutoRemove"], true);
        assert_eq!(v["HostConfig"]["Memory"], 64 << 20);
        assert_eq!(v["HostConfig"]["NanoCpus"], 1_500_000_000i64);
        assert_eq!(v["HostConfig"]["PidsLimit"], 10);
        assert_eq!(v["Entrypoint"], serde_json::Value::Null);
    }

    #[test]
    fn bad_memory_is_an_error() {
        let a = parse(&["-m", "lots", "busybox"]);
        assert!(create_body(&a.create, true).is_err());
    }

    #[test]
    fn exit_codes_as_docker_documents() {
        assert_eq!(
            start_exit_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_exit_code("exec /etc/passwd: permission denied"), 126);
        assert_eq!(start_exit_code("cgroup setup failed"), 125);
    }
}
