//! The `network` and `volume` verbs and their flags (docker's names and defaults).

use clap::{Args, Subcommand};

/// `network` and its verbs.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// The verb.
    #[command(subcommand)]
    pub command: NetworkCommand,
}

/// The `network` verbs.
#[derive(Debug, Clone, Subcommand)]
pub enum NetworkCommand {
    /// Create a network.
    Create {
        /// Subnet in CIDR format.
        #[arg(long)]
        subnet: Option<String>,
        /// IPv4 gateway for the subnet.
        #[arg(long)]
        gateway: Option<String>,
        /// Restrict external access to the network.
        #[arg(long)]
        internal: bool,
        /// Set metadata on a network.
        #[arg(long)]
        label: Vec<String>,
        /// Driver (bridge).
        #[arg(short = 'd', long)]
        driver: Option<String>,
        /// The network's name.
        name: String,
    },
    /// List networks.
    #[command(alias = "list")]
    Ls {
        /// Provide filter values (e.g. "driver=bridge").
        #[arg(short = 'f', long)]
        filter: Vec<String>,
        /// Format output using a template.
        #[arg(long)]
        format: Option<String>,
        /// Do not truncate the output.
        #[arg(long)]
        no_trunc: bool,
        /// Only display network IDs.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Display detailed information on one or more networks.
    Inspect {
        /// Format output using a template.
        #[arg(short, long)]
        format: Option<String>,
        /// The networks.
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Remove one or more networks.
    #[command(alias = "remove")]
    Rm {
        /// The networks.
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Connect a container to a network.
    Connect {
        /// Add network-scoped alias for the container.
        #[arg(long)]
        alias: Vec<String>,
        /// The network.
        network: String,
        /// The container.
        container: String,
    },
    /// Disconnect a container from a network.
    Disconnect {
        /// Force the container to disconnect from a network.
        #[arg(short, long)]
        force: bool,
        /// The network.
        network: String,
        /// The container.
        container: String,
    },
    /// Remove all unused networks.
    Prune {
        /// Do not prompt for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}

/// `volume` and its verbs.
#[derive(Debug, Clone, Args)]
pub struct VolumeArgs {
    /// The verb.
    #[command(subcommand)]
    pub command: VolumeCommand,
}

/// The `volume` verbs.
#[derive(Debug, Clone, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume.
    Create {
        /// Specify volume driver name.
        #[arg(short = 'd', long, default_value = "local")]
        driver: String,
        /// Set metadata for a volume.
        #[arg(long)]
        label: Vec<String>,
        /// Set driver specific options.
        #[arg(short = 'o', long = "opt")]
        opt: Vec<String>,
        /// The volume's name (generated when missing).
        name: Option<String>,
    },
    /// List volumes.
    #[command(alias = "list")]
    Ls {
        /// Provide filter values (e.g. "dangling=true").
        #[arg(short = 'f', long)]
        filter: Vec<String>,
        /// Format output using a template.
        #[arg(long)]
        format: Option<String>,
        /// Only display volume names.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Display detailed information on one or more volumes.
    Inspect {
        /// Format output using a template.
        #[arg(short, long)]
        format: Option<String>,
        /// The volumes.
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Remove one or more volumes.
    #[command(alias = "remove")]
    Rm {
        /// Force the removal of one or more volumes.
        #[arg(short, long)]
        force: bool,
        /// The volumes.
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Remove unused local volumes (anonymous ones unless -a).
    Prune {
        /// Remove all unused volumes, not just anonymous ones.
        #[arg(short, long)]
        all: bool,
        /// Provide filter values (e.g. "label=<label>").
        #[arg(long)]
        filter: Vec<String>,
        /// Do not prompt for confirmation.
        #[arg(short, long)]
        force: bool,
    },
}
