//! The names of one network: each attached container's names (its name, aliases, short ID)
//! with its addresses. A container's resolver reads the zones of every network it is on.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{PoisonError, RwLock};

/// Shortest ID prefix that resolves (docker resolves the 12-character short ID; we accept any
/// unique-enough prefix of at least this length).
const MIN_ID_PREFIX: usize = 12;

#[derive(Debug, Clone)]
struct Entry {
    names: Vec<String>,
    v4: Ipv4Addr,
    v6: Option<Ipv6Addr>,
}

/// One network's names.
#[derive(Debug)]
pub struct Zone {
    /// The network's name: `NAME.NETWORK` resolves too, and PTR answers are `NAME.NETWORK`.
    pub network: String,
    entries: RwLock<BTreeMap<String, Entry>>,
}

impl Zone {
    /// An empty zone for `network`.
    pub fn new(network: &str) -> Self {
        Zone {
            network: network.to_ascii_lowercase(),
            entries: RwLock::new(BTreeMap::new()),
        }
    }

    /// Registers (or replaces) `owner`'s names for its addresses.
    pub fn set(&self, owner: &str, names: Vec<String>, v4: Ipv4Addr, v6: Option<Ipv6Addr>) {
        let names = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(owner.to_string(), Entry { names, v4, v6 });
    }

    /// Forgets `owner`.
    pub fn remove(&self, owner: &str) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(owner);
    }

    /// Whether `name` (lower-case, no trailing dot) is one of ours, and its addresses.
    pub fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let suffix = format!(".{}", self.network);
        let name = name.strip_suffix(suffix.as_str()).unwrap_or(name);
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for (id, e) in entries.iter() {
            if e.names.iter().any(|n| n == name)
                || (name.len() >= MIN_ID_PREFIX && id.starts_with(name))
            {
                out.push(IpAddr::V4(e.v4));
                out.extend(e.v6.map(IpAddr::V6));
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// `NAME.NETWORK` for the container holding `ip`.
    pub fn reverse(&self, ip: IpAddr) -> Option<String> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .values()
            .find(|e| IpAddr::V4(e.v4) == ip || e.v6.map(IpAddr::V6) == Some(ip))
            .and_then(|e| e.names.first())
            .map(|n| format!("{n}.{}", self.network))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_network_suffix_id_prefix_and_reverse() {
        let z = Zone::new("Front");
        let id = "0123456789abcdef0123456789abcdef";
        let v6: Ipv6Addr = "fd00::2".parse().unwrap();
        z.set(
            id,
            vec!["Web".into(), "www".into()],
            Ipv4Addr::new(10, 0, 0, 2),
            Some(v6),
        );
        let both = Some(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), IpAddr::V6(v6)]);
        assert_eq!(z.lookup("web"), both);
        assert_eq!(z.lookup("www.front"), both);
        assert_eq!(z.lookup(&id[..12]), both);
        assert_eq!(z.lookup(&id[..6]), None);
        assert_eq!(z.lookup("other"), None);
        assert_eq!(
            z.reverse(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))).as_deref(),
            Some("web.front")
        );
        z.remove(id);
        assert_eq!(z.lookup("web"), None);
    }
}
