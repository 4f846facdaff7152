//! berthd's command line: dockerd's flags, and the configuration file applied over them.

use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_api::container::Ulimit;
use berth_engine::container_defaults::ContainerDefaults;
use berthd::daemon_config::{self, FileConfig, merge};
use berthd::settings::{GivenFlags, Reloadable};
use clap::parser::ValueSource;
use clap::{ArgMatches, Parser};

/// berth's daemon: serves the Docker Engine API on a unix socket.
#[derive(Debug, Parser)]
#[command(name = "berthd", version)]
pub struct Args {
    /// Daemon socket to listen on (unix:///path only).
    #[arg(
        short = 'H',
        long = "host",
        value_name = "ADDR",
        default_value = "unix:///run/berth/berth.sock"
    )]
    pub host: Vec<String>,
    /// Root of persistent state.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/berth")]
    pub data_root: PathBuf,
    /// Root of runtime state.
    #[arg(long, value_name = "DIR", default_value = "/run/berth")]
    pub exec_root: PathBuf,
    /// Path of the pid file.
    #[arg(short = 'p', long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,
    /// Log level: debug, info, warn, error, fatal.
    #[arg(short = 'l', long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
    /// Enable debug mode.
    #[arg(short = 'D', long)]
    pub debug: bool,
    /// Linux name of the default `bridge` network's bridge; `none`: no default bridge.
    #[arg(
        short = 'b',
        long = "bridge",
        value_name = "NAME",
        default_value = "berth0"
    )]
    pub bridge: String,
    /// The default bridge's address and prefix (`10.20.0.1/16`), instead of a pool's subnet.
    #[arg(long = "bip", value_name = "CIDR")]
    pub bip: Option<String>,
    /// Pool of subnets for networks created without --subnet: base=CIDR,size=N;
    /// repeatable (default: dockerd's, 172.17-31.0.0/16 as /16s then 192.168.0.0/16 as /20s).
    #[arg(long = "default-address-pool", value_name = "base=CIDR,size=N")]
    pub default_address_pool: Vec<String>,
    /// A registry (`host[:port]`) to talk to over plain HTTP; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// A mirror of Docker Hub (`https://host[:port]`) tried before it; repeatable.
    #[arg(long = "registry-mirror", value_name = "URL")]
    pub registry_mirror: Vec<String>,
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
    pub live_restore: bool,
    /// Seconds the daemon may take to stop once signalled (SIGTERM, SIGINT).
    #[arg(
        long = "shutdown-timeout",
        value_name = "SECONDS",
        default_value_t = 15
    )]
    pub shutdown_timeout: u64,
    /// Group of the API socket (mode 0660); `berth` when that group exists, else root only.
    #[arg(
        short = 'G',
        long = "group",
        value_name = "GROUP",
        default_value = "berth"
    )]
    pub group: String,
    /// Default log driver of containers: json-file, local or none.
    #[arg(
        long = "log-driver",
        value_name = "DRIVER",
        default_value = "json-file"
    )]
    pub log_driver: String,
    /// Default log driver option (`max-size=10m`); repeatable.
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,
    /// DNS server for containers that set none; repeatable.
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<String>,
    /// Default ulimit for containers (`nofile=1024:2048`, soft:hard); repeatable.
    #[arg(long = "default-ulimit", value_name = "NAME=SOFT[:HARD]")]
    pub default_ulimit: Vec<String>,
    /// Daemon configuration file (dockerd's daemon.json keys).
    #[arg(long = "config-file", value_name = "FILE", default_value = daemon_config::DEFAULT_PATH)]
    pub config_file: PathBuf,
    #[arg(skip)]
    pub group_optional: bool,
}

impl Args {
    /// The reloadable settings' values as the flags (or their defaults) give them.
    pub fn reloadable(&self) -> Reloadable {
        Reloadable {
            debug: self.debug,
            log_level: self.log_level.clone(),
            live_restore: self.live_restore,
            shutdown_timeout: self.shutdown_timeout,
            insecure_registries: self.insecure_registry.clone(),
            registry_mirrors: self.registry_mirror.clone(),
        }
    }

    fn set_reloadable(&mut self, r: Reloadable) {
        self.debug = r.debug;
        self.log_level = r.log_level;
        self.live_restore = r.live_restore;
        self.shutdown_timeout = r.shutdown_timeout;
        self.insecure_registry = r.insecure_registries;
        self.registry_mirror = r.registry_mirrors;
    }
}

/// Which reloadable settings were given on the command line.
pub fn given_flags(m: &ArgMatches) -> GivenFlags {
    GivenFlags {
        debug: given(m, "debug"),
        log_level: given(m, "log_level"),
        live_restore: given(m, "live_restore"),
        shutdown_timeout: given(m, "shutdown_timeout"),
        insecure_registries: given(m, "insecure_registry"),
        registry_mirrors: given(m, "registry_mirror"),
    }
}

/// Whether the flag of field `id` was given on the command line.
fn given(m: &ArgMatches, id: &str) -> bool {
    m.value_source(id) == Some(ValueSource::CommandLine)
}

/// Applies the configuration file to `args` (dockerd's rules, see `daemon_config`).
pub fn apply_file(args: &mut Args, m: &ArgMatches, f: FileConfig) -> anyhow::Result<()> {
    let a = args;
    let reloadable = a.reloadable().with_file(given_flags(m), &f)?;
    a.set_reloadable(reloadable);
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
    a.bip = merge("bip", a.bip.clone(), given(m, "bip"), f.bip.map(Some))?;
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
    a.log_driver = merge(
        "log-driver",
        a.log_driver.clone(),
        given(m, "log_driver"),
        f.log_driver,
    )?;
    let opts = f
        .log_opts
        .map(|o| o.into_iter().map(|(k, v)| format!("{k}={v}")).collect());
    a.log_opt = merge("log-opts", a.log_opt.clone(), given(m, "log_opt"), opts)?;
    a.dns = merge("dns", a.dns.clone(), given(m, "dns"), f.dns)?;
    // dockerd's map is keyed by the name, which each entry repeats.
    let ulimits = f.default_ulimits.map(|u| {
        u.iter()
            .map(|(key, l)| {
                let name = if l.name.is_empty() { key } else { &l.name };
                format!("{name}={}:{}", l.soft, l.hard)
            })
            .collect()
    });
    a.default_ulimit = merge(
        "default-ulimits",
        a.default_ulimit.clone(),
        given(m, "default_ulimit"),
        ulimits,
    )?;
    // The default group is optional: without it the socket is root's only.
    a.group_optional = !given(m, "group") && f.group.is_none();
    a.group = merge("group", a.group.clone(), given(m, "group"), f.group)?;
    Ok(())
}

/// The containers' defaults from `--dns` and `--default-ulimit` (checked by the engine).
pub fn container_defaults(args: &Args) -> anyhow::Result<ContainerDefaults> {
    let ulimits = args
        .default_ulimit
        .iter()
        .map(|u| ulimit(u))
        .collect::<anyhow::Result<_>>()?;
    Ok(ContainerDefaults {
        dns: args.dns.clone(),
        ulimits,
    })
}

/// Parses docker's `NAME=SOFT[:HARD]` (`HARD` defaults to `SOFT`).
fn ulimit(spec: &str) -> anyhow::Result<Ulimit> {
    let bad = || anyhow::anyhow!("invalid default-ulimit {spec:?}: want NAME=SOFT[:HARD]");
    let (name, limits) = spec.split_once('=').ok_or_else(bad)?;
    let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
    Ok(Ulimit {
        name: name.to_owned(),
        soft: soft.parse().map_err(|_| bad())?,
        hard: hard.parse().map_err(|_| bad())?,
    })
}

/// Parses `--bip`: an address with its prefix, not the subnet's own first or last address.
pub fn bip(spec: &str) -> anyhow::Result<ipnet::Ipv4Net> {
    let net: ipnet::Ipv4Net = spec
        .parse()
        .with_context(|| format!("invalid bip {spec:?}: want ADDRESS/PREFIX (10.20.0.1/16)"))?;
    if net.prefix_len() > 30 || net.addr() == net.network() || net.addr() == net.broadcast() {
        bail!("invalid bip {spec:?}: the address must be a host address of a /30 or larger subnet");
    }
    Ok(net)
}

/// Parses dockerd's `--default-address-pool base=172.30.0.0/16,size=24`.
pub fn address_pool(spec: &str) -> anyhow::Result<berth_net::ipam::Pool> {
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

/// The daemon's default log config from `--log-driver` and `--log-opt k=v`.
pub fn log_config(args: &Args) -> anyhow::Result<berth_api::container::LogConfig> {
    let mut opts = std::collections::BTreeMap::new();
    for o in &args.log_opt {
        let Some((k, v)) = o.split_once('=') else {
            bail!("invalid --log-opt {o:?}: want KEY=VALUE");
        };
        opts.insert(k.to_string(), v.to_string());
    }
    Ok(berth_api::container::LogConfig {
        r#type: args.log_driver.clone(),
        config: (!opts.is_empty()).then_some(opts),
    })
}
