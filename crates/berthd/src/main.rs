//! The berthd binary: dockerd's flags and configuration file, logging, systemd, then
//! [`berthd::server::run`]; SIGHUP reloads the reloadable settings.

mod daemon_args;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::{Context, bail};
use berthd::daemon_config::{self, FileConfig};
use berthd::server::Listen;
use berthd::settings::{GivenFlags, LiveSettings, Reloadable, restart_keys};
use clap::{CommandFactory, FromArgMatches};
use daemon_args::{Args, address_pool, apply_file, given_flags, log_config};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::reload;

fn listen_on(hosts: &[String]) -> anyhow::Result<Listen> {
    let [host] = hosts else {
        bail!("exactly one -H/--host is supported, got {}", hosts.len());
    };
    Listen::parse(host).map_err(anyhow::Error::msg)
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

/// What SIGHUP needs to re-read the configuration file.
struct ReloadSource {
    path: PathBuf,
    required: bool,
    /// The reloadable values the flags (or defaults) give.
    flags: Reloadable,
    given: GivenFlags,
    /// The file as read at start-up, to name the keys a reload cannot apply.
    file_at_start: FileConfig,
    /// Changes the log filter (`None` when RUST_LOG fixes it).
    filter: Option<reload::Handle<EnvFilter, tracing_subscriber::Registry>>,
}

impl ReloadSource {
    /// Re-reads the file and applies what can change while running; a bad file changes
    /// nothing, as in dockerd.
    fn reload(&self, settings: &LiveSettings) {
        berthd::activation::notify_reloading();
        match self.load() {
            Ok((values, restart)) => {
                if let (Some(handle), Ok(level)) = (&self.filter, values.level())
                    && let Err(e) = handle.modify(|f| *f = EnvFilter::new(level))
                {
                    tracing::warn!("reload log level: {e}");
                }
                tracing::info!(
                    debug = values.debug,
                    log_level = %values.log_level,
                    live_restore = values.live_restore,
                    shutdown_timeout = values.shutdown_timeout,
                    insecure_registries = ?values.insecure_registries,
                    "configuration reloaded"
                );
                if !restart.is_empty() {
                    tracing::warn!(
                        "configuration reload: {} changed; a restart applies {}",
                        restart.join(", "),
                        if restart.len() == 1 { "it" } else { "them" }
                    );
                }
                settings.set(values);
            }
            Err(e) => tracing::error!("configuration reload failed, nothing changed: {e:#}"),
        }
        berthd::activation::notify_ready();
    }

    fn load(&self) -> anyhow::Result<(Reloadable, Vec<&'static str>)> {
        let file = FileConfig::load(&self.path, self.required)?;
        let values = self.flags.with_file(self.given, &file)?;
        values.level().map_err(anyhow::Error::msg)?;
        Ok((values, restart_keys(&self.file_at_start, &file)))
    }
}

fn init_logging(level: &str) -> Option<reload::Handle<EnvFilter, tracing_subscriber::Registry>> {
    if let Ok(fixed) = EnvFilter::try_from_default_env() {
        tracing_subscriber::registry()
            .with(fixed)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init();
        return None;
    }
    let (filter, handle) = reload::Layer::new(EnvFilter::new(level));
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .init();
    Some(handle)
}

fn daemon() -> anyhow::Result<()> {
    let matches = Args::command().get_matches();
    let mut args = Args::from_arg_matches(&matches)?;
    let required =
        matches.value_source("config_file") == Some(clap::parser::ValueSource::CommandLine);
    let file = FileConfig::load(&args.config_file, required)?;
    let flags = args.reloadable();
    apply_file(&mut args, &matches, file.clone())?;
    let socket_group = match daemon_config::group_id(&args.group) {
        Some(gid) => Some(gid),
        None if args.group_optional => None,
        None => bail!(
            "group {:?} for the API socket does not exist: create it (groupadd {}) or choose another with -G",
            args.group,
            args.group
        ),
    };
    let listen = listen_on(&args.host)?;
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
        bip: args.bip.as_deref().map(daemon_args::bip).transpose()?,
    };
    let log_config = log_config(&args)?;
    let defaults = daemon_args::container_defaults(&args)?;
    // Checked before the engine opens: a refused start must leave no bridge behind.
    berth_engine::logconfig::validate(&mut log_config.clone())
        .map_err(|e| anyhow::anyhow!("log-driver and log-opts: {}", e.message()))?;
    defaults
        .validate()
        .map_err(|e| anyhow::anyhow!("dns and default-ulimits: {}", e.message()))?;
    let values = args.reloadable();
    let level = values.level().map_err(anyhow::Error::msg)?;
    let filter = init_logging(level);
    let reloader = ReloadSource {
        path: args.config_file.clone(),
        required,
        flags,
        given: given_flags(&matches),
        file_at_start: file,
        filter,
    };
    let settings = Arc::new(LiveSettings::new(values));
    let config = berthd::server::Config {
        listen,
        data_root: args.data_root,
        exec_root: args.exec_root,
        pidfile: args.pidfile,
        socket_group,
        settings: settings.clone(),
        logging_driver: log_config.r#type.clone(),
    };
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
        spawn_reloader(reloader, settings.clone());
        let listener = berthd::server::listen(&config).await.context("berthd")?;
        let opened = open_engine(&config.data_root, &config.exec_root, defaults, network)
            .await
            .context("open the engine")
            .and_then(|engine| {
                engine
                    .engine()
                    .set_default_log_config(log_config)
                    .context("log-driver and log-opts")?;
                Ok(engine)
            });
        let backend = match opened {
            Ok(engine) => Arc::new(engine.with_settings(settings.clone())),
            Err(e) => {
                config.remove_socket_and_pidfile();
                return Err(e);
            }
        };
        let served = berthd::server::run(config, listener, backend.clone(), shutdown)
            .await
            .context("berthd");
        // Read now: a reload may have changed them since the start.
        let (timeout, live_restore) = (settings.shutdown_timeout(), settings.get().live_restore);
        let left =
            timeout.saturating_sub(signalled.get().map(Instant::elapsed).unwrap_or_default());
        let engine = backend.engine().clone();
        let stopped = tokio::time::timeout(left, async move {
            engine.shutdown(live_restore).await;
            engine.shutdown_networks().await;
        })
        .await;
        if stopped.is_err() {
            tracing::warn!(
                "shutdown timeout ({}s) reached; exiting with work undone",
                timeout.as_secs()
            );
        }
        served
    });
    // Tasks still parked (waits on shims, open streams) must not hold the exit: the runtime
    // gets a moment for blocking calls in flight, then is dropped regardless.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    tracing::info!("daemon stopped");
    result
}

/// `--bridge none` (dockerd's `-b none`): no default bridge network, so no firewall.
async fn open_engine(
    data_root: &Path,
    exec_root: &Path,
    defaults: berth_engine::container_defaults::ContainerDefaults,
    network: berth_engine::NetworkConfig,
) -> Result<berthd::engine_backend::EngineBackend, berth_engine::EngineError> {
    let network = Some(network).filter(|n| n.bridge != "none");
    berthd::engine_backend::EngineBackend::open(
        data_root.into(),
        exec_root.into(),
        defaults,
        network,
    )
    .await
}

/// Reloads on each SIGHUP (installed before the engine opens, so an early SIGHUP does not
/// kill the daemon).
fn spawn_reloader(source: ReloadSource, settings: Arc<LiveSettings>) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    source.reload(&settings);
                }
            });
        }
        Err(e) => tracing::warn!("cannot install the SIGHUP handler (no reload): {e}"),
    }
}
