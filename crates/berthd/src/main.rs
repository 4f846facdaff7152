//! The berthd binary: dockerd's flags, logging, then [`berthd::server::run`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;

/// berth's daemon: serves the Docker Engine API on a unix socket.
#[derive(Debug, Parser)]
#[command(name = "berthd", version)]
struct Args {
    /// Daemon socket to listen on (unix:///path only).
    #[arg(
        short = 'H',
        long = "host",
        value_name = "ADDR",
        default_value = "unix:///run/berth/berth.sock"
    )]
    host: Vec<String>,
    /// Root of persistent state.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/berth")]
    data_root: PathBuf,
    /// Root of runtime state.
    #[arg(long, value_name = "DIR", default_value = "/run/berth")]
    exec_root: PathBuf,
    /// Path of the pid file.
    #[arg(short = 'p', long, value_name = "FILE")]
    pidfile: Option<PathBuf>,
    /// Log level: debug, info, warn, error, fatal.
    #[arg(short = 'l', long, value_name = "LEVEL", default_value = "info")]
    log_level: String,
    /// Enable debug mode.
    #[arg(short = 'D', long)]
    debug: bool,
    /// A registry (`host[:port]`) to talk to over plain HTTP; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure_registry: Vec<String>,
}

fn socket_path(hosts: &[String]) -> anyhow::Result<PathBuf> {
    let [host] = hosts else {
        bail!("exactly one -H/--host is supported, got {}", hosts.len());
    };
    match host.strip_prefix("unix://") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => bail!("invalid host {host:?}: only unix:///path is supported"),
    }
}

fn level(args: &Args) -> anyhow::Result<&'static str> {
    if args.debug {
        return Ok("debug");
    }
    Ok(match args.log_level.as_str() {
        "debug" | "trace" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "fatal" | "panic" => "error",
        other => bail!("invalid --log-level {other:?}"),
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let socket = socket_path(&args.host)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level(&args).unwrap_or("info")));
    level(&args)?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let insecure = args.insecure_registry.clone();
    let config = berthd::server::Config {
        socket,
        data_root: args.data_root,
        exec_root: args.exec_root,
        pidfile: args.pidfile,
        debug: args.debug,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start tokio runtime")?;
    rt.block_on(async {
        let backend = berthd::engine_backend::EngineBackend::open(
            config.data_root.clone(),
            config.exec_root.clone(),
        )
        .await
        .context("open the engine")?
        .with_insecure_registries(insecure);
        berthd::server::run(config, Arc::new(backend), berthd::server::shutdown_signal())
            .await
            .context("berthd")
    })
}
