//! Port specs as docker writes them, parsed here once for every crate: `port[-range][/proto]`
//! (an `EXPOSE` word, an `ExposedPorts` or `PortBindings` key, a `publish`/`expose` filter
//! value, the container side of `-p`).
//!
//! docker's rules (go-connections' `nat.SplitProtoPort` and `nat.ParsePortRange`): the
//! protocol follows the first `/`, is `tcp` when absent or empty, is matched in any case and
//! is one of `tcp`, `udp`, `sctp`; the ports are one number or `first-last` with
//! `first <= last`. Port 0 parses; whoever cannot use it refuses it.

use std::fmt;

/// A transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Proto {
    /// `tcp`, `udp` or `sctp`, in any case.
    pub fn parse(s: &str) -> Result<Proto, PortSpecError> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "sctp" => Ok(Proto::Sctp),
            other => Err(PortSpecError::Proto(other.to_owned())),
        }
    }

    /// The lower-case name, as keys have it.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port spec that does not parse (docker's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    /// `80/foo`.
    #[error("invalid proto: {0}")]
    Proto(String),
    /// `x`, `70000` (the ports, without the protocol).
    #[error("invalid containerPort: {0}")]
    Port(String),
    /// `90-80`.
    #[error("invalid range specified for containerPort: {0}")]
    Range(String),
}

/// Splits `ports/proto` at the first `/`: `("80", "udp")`; the protocol is `tcp` when absent
/// or empty.
pub fn split_proto(spec: &str) -> (&str, &str) {
    match spec.split_once('/') {
        Some((ports, proto)) if !proto.is_empty() => (ports, proto),
        Some((ports, _)) => (ports, "tcp"),
        None => (spec, "tcp"),
    }
}

/// `80` → `(80, 80)`, `8000-8002` → `(8000, 8002)`.
pub fn parse_range(ports: &str) -> Result<(u16, u16), PortSpecError> {
    let num = |s: &str| {
        s.parse::<u16>()
            .map_err(|_| PortSpecError::Port(ports.to_owned()))
    };
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let p = num(ports)?;
            (p, p)
        }
    };
    if last < first {
        return Err(PortSpecError::Range(ports.to_owned()));
    }
    Ok((first, last))
}

/// `port[-range][/proto]`: container ports `first..=last` of one protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// The first port.
    pub first: u16,
    /// The last port (`first` for one port).
    pub last: u16,
    /// The protocol.
    pub proto: Proto,
}

impl PortRange {
    /// Parses `80`, `80/udp`, `8000-8002/tcp`.
    pub fn parse(spec: &str) -> Result<PortRange, PortSpecError> {
        let (ports, proto) = split_proto(spec);
        let proto = Proto::parse(proto)?;
        let (first, last) = parse_range(ports)?;
        Ok(PortRange { first, last, proto })
    }

    /// The one port of a spec that must name one (a `PortBindings` key).
    pub fn single(&self) -> Option<u16> {
        (self.first == self.last).then_some(self.first)
    }

    /// The keys of its ports, `80/tcp`, ... (docker's `nat.ParsePortSpecs`).
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        (self.first..=self.last).map(move |p| format!("{p}/{}", self.proto))
    }

    /// Whether the port of `key` (`80/tcp`, or `80` for tcp) is one of these.
    pub fn contains_key(&self, key: &str) -> bool {
        PortRange::parse(key).is_ok_and(|k| {
            k.proto == self.proto
                && k.first == k.last
                && (self.first..=self.last).contains(&k.first)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_ranges_and_protocols() {
        let r = |s| PortRange::parse(s);
        assert_eq!(
            r("80"),
            Ok(PortRange {
                first: 80,
                last: 80,
                proto: Proto::Tcp
            })
        );
        assert_eq!(r("53/UDP").map(|p| p.proto), Ok(Proto::Udp));
        assert_eq!(r("80/").map(|p| p.proto), Ok(Proto::Tcp));
        assert_eq!(r("1-3/sctp").map(|p| (p.first, p.last)), Ok((1, 3)));
        assert_eq!(
            r("8000-8001").unwrap().keys().collect::<Vec<_>>(),
            ["8000/tcp", "8001/tcp"]
        );
        assert_eq!(r("80/foo"), Err(PortSpecError::Proto("foo".into())));
        assert_eq!(r("x/udp"), Err(PortSpecError::Port("x".into())));
        assert_eq!(r("70000"), Err(PortSpecError::Port("70000".into())));
        assert_eq!(r("90-80"), Err(PortSpecError::Range("90-80".into())));
        assert_eq!(r("0").map(|p| p.single()), Ok(Some(0)));
        assert_eq!(r("1-2").map(|p| p.single()), Ok(None));
    }

    #[test]
    fn keys_inside_a_range() {
        let r = PortRange::parse("70-90").unwrap();
        assert!(r.contains_key("80/tcp") && r.contains_key("80"));
        assert!(!r.contains_key("80/udp") && !r.contains_key("91/tcp"));
        assert!(!r.contains_key("x/tcp"));
    }
}
