//! What the daemon's configuration gives every container that does not set it itself, as
//! dockerd's `dns` and `default-ulimits` do: the DNS servers of a container without `--dns`
//! (its resolv.conf, and the upstreams of the embedded resolver), and the ulimits a container
//! does not name (merged into its host config at create, so inspect shows them).

use std::borrow::Cow;
use std::net::IpAddr;

use berth_api::container::{HostConfig, Ulimit};

use crate::error::{EngineError, Result};
use crate::table::Engine;

/// The daemon's defaults for containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDefaults {
    /// DNS servers (IP addresses) for containers without their own.
    pub dns: Vec<String>,
    /// Ulimits for containers that do not set one of that name.
    pub ulimits: Vec<Ulimit>,
}

impl ContainerDefaults {
    /// Checks them as a container's own would be checked (at the engine's open).
    pub fn validate(&self) -> Result<()> {
        for d in &self.dns {
            if d.parse::<IpAddr>().is_err() {
                return Err(EngineError::Invalid(format!(
                    "{d} is not an ip address (dns)"
                )));
            }
        }
        for u in &self.ulimits {
            crate::spec::rlimit_type(&u.name)?;
            if u.soft > u.hard {
                return Err(EngineError::Invalid(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                    u.soft, u.hard
                )));
            }
        }
        Ok(())
    }
}

impl Engine {
    fn container_defaults(&self) -> &ContainerDefaults {
        &self.inner.cfg.container_defaults
    }

    /// At create: the default ulimits whose names the container does not set are added.
    pub(crate) fn merge_default_ulimits(&self, hc: &mut HostConfig) {
        let defaults = &self.container_defaults().ulimits;
        if defaults.is_empty() {
            return;
        }
        let own = hc.ulimits.get_or_insert_with(Vec::new);
        for u in defaults {
            if !own.iter().any(|o| o.name == u.name) {
                own.push(u.clone());
            }
        }
    }

    /// The host config as the DNS settings see it: with the daemon's DNS servers when the
    /// container names none (its stored config keeps `Dns` empty, as dockerd's does).
    pub(crate) fn with_default_dns<'a>(&self, hc: &'a HostConfig) -> Cow<'a, HostConfig> {
        if hc.dns.as_ref().is_some_and(|d| !d.is_empty()) {
            return Cow::Borrowed(hc);
        }
        let dns = &self.container_defaults().dns;
        if dns.is_empty() {
            return Cow::Borrowed(hc);
        }
        let mut own = hc.clone();
        own.dns = Some(dns.clone());
        Cow::Owned(own)
    }
}
