//! The berthd binary: dockerd's flags, logging, then [`berthd::server::run`].

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berthd::daemon_config::{self, FileConfig, merge};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

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
    /// Linux name of the default `bridge` network's bridge; `none`: no default bridge.
    #[arg(
        short = 'b',
        long = "bridge",
        value_name = "NAME",
        default_value = "berth0"
    )]
    bridge: String,
    /// Pool of subnets for networks created without --subnet: base=CIDR,size=N;
    /// repeatable (default: dockerd's, 172.17-31.0.0/16 as /16s then 192.168.0.0/16 as /20s).
    #[arg(long = "default-address-pool", value_name = "base=CIDR,size=N")]
    default_address_pool: Vec<String>,
    /// A registry (`host[:port]`) to talk to over plain HTTP; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure_registry: Vec<String>,
    /// Keep containers running while the daemon is down (`--live-restore=false` stops them
    /// when the daemon stops).
    #[arg(
        long = "live-restore",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_value = "true",
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    live_restore: bool,
    /// Seconds the daemon may take to stop once signalled (SIGTERM, SIGINT).
    #[arg(
        long = "shutdown-timeout",
        value_name = "SECONDS",
        default_value_t = 15
    )]
    shutdown_timeout: u64,
    /// Group of the API socket (mode 0660); `berth` when that group exists, else root only.
    #[arg(
        short = 'G',
        long = "group",
        value_name = "GROUP",
        default_value = "berth"
    )]
    group: String,
    /// Daemon configuration file (dockerd's daemon.json keys).
    #[arg(long = "config-file", value_name = "FILE", default_value = daemon_config::DEFAULT_PATH)]
    config_file: PathBuf,
    #[arg(skip)]
    group_optional: bool,
}

/// Whether the flag of field `id` was given on the command line.
fn given(m: &ArgMatches, id: &str) -> bool {
    m.value_source(id) == Some(ValueSource::CommandLine)
}

/// Applies the configuration file to `args` (dockerd's rules, see `daemon_config`).
fn apply_file(args: &mut Args, m: &ArgMatches) -> anyhow::Result<()> {
    let f = FileConfig::load(&args.config_file, given(m, "config_file"))?;
    let a = args;
    a.data_root = merge(
        "data-root",
        a.data_root.clone(),
        given(m, "data_root"),
        f.data_root,
    )?;
    a.exec_root = merge(
        "exec-root",
        a.exec_root.clone(),
        given(m, "exec_root"),
        f.exec_root,
    )?;
    a.host = merge("hosts", a.host.clone(), given(m, "host"), f.hosts)?;
    a.pidfile = merge(
        "pidfile",
        a.pidfile.clone(),
        given(m, "pidfile"),
        f.pidfile.map(Some),
    )?;
    a.bridge = merge("bridge", a.bridge.clone(), given(m, "bridge"), f.bridge)?;
    let pools = f.default_address_pools.map(|ps| {
        ps.iter()
            .map(|p| format!("base={},size={}", p.base, p.size))
            .collect()
    });
    a.default_address_pool = merge(
        "default-address-pools",
        a.default_address_pool.clone(),
        given(m, "default_address_pool"),
        pools,
    )?;
    a.insecure_registry = merge(
        "insecure-registries",
        a.insecure_registry.clone(),
        given(m, "insecure_registry"),
        f.insecure_registries,
    )?;
    a.live_restore = merge(
        "live-restore",
        a.live_restore,
        given(m, "live_restore"),
        f.live_restore,
    )?;
    a.shutdown_timeout = merge(
        "shutdown-timeout",
        a.shutdown_timeout,
        given(m, "shutdown_timeout"),
        f.shutdown_timeout,
    )?;
    a.debug = merge("debug", a.debug, given(m, "debug"), f.debug)?;
    a.log_level = merge(
        "log-level",
        a.log_level.clone(),
        given(m, "log_level"),
        f.log_level,
    )?;
    // The default group is optional: without it the socket is root's only.
    a.group_optional = !given(m, "group") && f.group.is_none();
    a.group = merge("group", a.group.clone(), given(m, "group"), f.group)?;
    Ok(())
}

/// Parses dockerd's `--default-address-pool base=172.30.0.0/16,size=24`.
fn address_pool(spec: &str) -> anyhow::Result<berth_net::ipam::Pool> {
    let (mut base, mut size) = (None, None);
    for part in spec.split(',') {
        match part.split_once('=') {
            Some(("base", v)) => base = Some(v.parse().with_context(|| format!("base {v:?}"))?),
            Some(("size", v)) => size = Some(v.parse().with_context(|| format!("size {v:?}"))?),
            _ => bail!("invalid --default-address-pool {spec:?}: want base=CIDR,size=N"),
        }
    }
    match (base, size) {
        (Some(base), Some(size)) => Ok(berth_net::ipam::Pool { base, size }),
        _ => bail!("invalid --default-address-pool {spec:?}: want base=CIDR,size=N"),
    }
}

/// How long open connections (events, attach, logs -f) may delay the stop at most.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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

fn main() -> std::process::ExitCode {
    match daemon() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // What went wrong and why, on one line; never a backtrace.
            eprintln!("berthd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn daemon() -> anyhow::Result<()> {
    let matches = Args::command().get_matches();
    let mut args = Args::from_arg_matches(&matches)?;
    apply_file(&mut args, &matches)?;
    let socket_group = match daemon_config::group_id(&args.group) {
        Some(gid) => Some(gid),
        None if args.group_optional => None,
        None => bail!(
            "group {:?} for the API socket does not exist: create it (groupadd {}) or choose another with -G",
            args.group,
            args.group
        ),
    };
    let socket = socket_path(&args.host)?;
    let network = berth_engine::NetworkConfig {
        bridge: args.bridge.clone(),
        pools: if args.default_address_pool.is_empty() {
            berth_net::ipam::Pool::docker_defaults()
        } else {
            args.default_address_pool
                .iter()
                .map(|p| address_pool(p))
                .collect::<anyhow::Result<_>>()?
        },
    };
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
        socket_group,
        debug: args.debug,
        live_restore: args.live_restore,
        shutdown_grace: Duration::from_secs(args.shutdown_timeout).min(SHUTDOWN_GRACE),
    };
    let live_restore = args.live_restore;
    let shutdown_timeout = Duration::from_secs(args.shutdown_timeout);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start tokio runtime")?;
    // When the stop signal came: the shutdown timeout counts from there.
    let signalled = Arc::new(OnceLock::<Instant>::new());
    let result = rt.block_on(async {
        let signal = berthd::server::shutdown_signal();
        let mark = signalled.clone();
        let shutdown = async move {
            signal.await;
            let _ = mark.set(Instant::now());
        };
        let listener = berthd::server::listen(&config).await.context("berthd")?;
        // `--bridge none` (dockerd's `-b none`): no default bridge network, so no firewall.
        let engine = if network.bridge == "none" {
            berthd::engine_backend::EngineBackend::open(
                config.data_root.clone(),
                config.exec_root.clone(),
            )
            .await
        } else {
            berthd::engine_backend::EngineBackend::open_with_network(
                config.data_root.clone(),
                config.exec_root.clone(),
                network,
            )
            .await
        };
        let backend = match engine {
            Ok(engine) => Arc::new(engine.with_insecure_registries(insecure)),
            Err(e) => {
                let _ = std::fs::remove_file(&config.socket);
                if let Some(pidfile) = &config.pidfile {
                    let _ = std::fs::remove_file(pidfile);
                }
                return Err(anyhow::Error::new(e).context("open the engine"));
            }
        };
        let served = berthd::server::run(config, listener, backend.clone(), shutdown)
            .await
            .context("berthd");
        let left = shutdown_timeout
            .saturating_sub(signalled.get().map(Instant::elapsed).unwrap_or_default());
        let engine = backend.engine().clone();
        let stopped = tokio::time::timeout(left, async move {
            engine.shutdown(live_restore).await;
            engine.shutdown_networks().await;
        })
        .await;
        if stopped.is_err() {
            tracing::warn!(
                "shutdown timeout ({}s) reached; exiting with work undone",
                shutdown_timeout.as_secs()
            );
        }
        served
    });
    // Tasks still parked (waits on shims, open streams) must not hold the exit: the runtime
    // gets a moment for blocking calls in flight, then is dropped regardless.
    rt.shutdown_timeout(Duration::from_millis(500));
    tracing::info!("daemon stopped");
    result
}
