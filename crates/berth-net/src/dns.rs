//! The embedded DNS server of user-defined networks: a small UDP responder on the network's
//! gateway address, port 53. It answers A queries for the names, aliases and ID prefixes
//! registered by attachments (`AAAA` and other types for those names get an empty answer), and
//! relays every other query unchanged to the host's resolvers (from `/etc/resolv.conf`).
//! Hand-parsed: only the header and the single question are read.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Errors of the DNS server.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// Binding the server's socket failed.
    #[error("bind dns server on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddrV4,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Configuring the socket failed.
    #[error("configure dns socket")]
    Socket(#[source] std::io::Error),
    /// Spawning the server thread failed.
    #[error("spawn dns thread")]
    Thread(#[source] std::io::Error),
}

/// Shortest ID prefix that resolves (docker resolves the 12-character short ID; we accept any
/// unique-enough prefix of at least this length).
const MIN_ID_PREFIX: usize = 12;

#[derive(Debug, Default)]
struct Records {
    /// owner (container id) → (names, address)
    by_owner: BTreeMap<String, (Vec<String>, Ipv4Addr)>,
}

impl Records {
    fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut out: Vec<Ipv4Addr> = self
            .by_owner
            .iter()
            .filter(|(id, (names, _))| {
                names.iter().any(|n| n.eq_ignore_ascii_case(&name))
                    || (name.len() >= MIN_ID_PREFIX && id.starts_with(&name))
            })
            .map(|(_, (_, ip))| *ip)
            .collect();
        out.dedup();
        out
    }
}

/// A running server; stops when dropped.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddrV4,
    records: Arc<RwLock<Records>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Binds `addr` and serves on a dedicated thread, forwarding unknown names to `upstreams`.
    pub fn start(addr: SocketAddrV4, upstreams: Vec<SocketAddr>) -> Result<Self, DnsError> {
        let sock = UdpSocket::bind(addr).map_err(|source| DnsError::Bind { addr, source })?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(DnsError::Socket)?;
        let addr = match sock.local_addr().map_err(DnsError::Socket)? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => addr,
        };
        let records = Arc::new(RwLock::new(Records::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (records.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("berth-dns".into())
            .spawn(move || serve(sock, r, s, upstreams))
            .map_err(DnsError::Thread)?;
        Ok(DnsServer {
            addr,
            records,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// Registers (or replaces) `owner`'s names for `ip`.
    pub fn set(&self, owner: &str, names: Vec<String>, ip: Ipv4Addr) {
        let mut r = self.records.write().unwrap_or_else(PoisonError::into_inner);
        r.by_owner.insert(owner.to_string(), (names, ip));
    }

    /// Forgets `owner`.
    pub fn remove(&self, owner: &str) {
        let mut r = self.records.write().unwrap_or_else(PoisonError::into_inner);
        r.by_owner.remove(owner);
    }

    /// Addresses registered for `name`.
    pub fn lookup(&self, name: &str) -> Vec<Ipv4Addr> {
        let r = self.records.read().unwrap_or_else(PoisonError::into_inner);
        r.lookup(name)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The nameservers of a resolv.conf text.
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()).flatten()
        })
        .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

fn serve(
    sock: UdpSocket,
    records: Arc<RwLock<Records>>,
    stop: Arc<AtomicBool>,
    up: Vec<SocketAddr>,
) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let (n, peer) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let query = &buf[..n];
        let Some(q) = Question::parse(query) else {
            continue;
        };
        let ips = records
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(&q.name);
        if !ips.is_empty() {
            let reply = answer(query, &q, &ips);
            let _ = sock.send_to(&reply, peer);
        } else if let (Some(upstream), Ok(reply_sock)) = (up.first().copied(), sock.try_clone()) {
            let query = query.to_vec();
            let upstreams = up.clone();
            let spawned = std::thread::Builder::new()
                .name("berth-dns-fwd".into())
                .spawn(move || forward(&query, upstream, &upstreams, &reply_sock, peer));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "spawn dns forwarder");
            }
        } else {
            let _ = sock.send_to(&error_reply(query, &q, 2), peer);
        }
    }
}

fn forward(
    query: &[u8],
    first: SocketAddr,
    all: &[SocketAddr],
    reply: &UdpSocket,
    peer: SocketAddr,
) {
    for up in std::iter::once(first).chain(all.iter().copied().skip(1)) {
        let bind: SocketAddr = if up.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let Ok(s) = UdpSocket::bind(bind) else {
            continue;
        };
        if s.set_read_timeout(Some(Duration::from_secs(2))).is_err()
            || s.send_to(query, up).is_err()
        {
            continue;
        }
        let mut buf = [0u8; 4096];
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            let _ = reply.send_to(&buf[..n], peer);
            return;
        }
    }
}

struct Question {
    name: String,
    qtype: u16,
    /// Offset just past the question section.
    end: usize,
}

impl Question {
    fn parse(msg: &[u8]) -> Option<Question> {
        if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) != 1 {
            return None;
        }
        let mut i = 12;
        let mut labels = Vec::new();
        loop {
            let len = *msg.get(i)? as usize;
            i += 1;
            if len == 0 {
                break;
            }
            if len > 63 {
                return None;
            }
            labels.push(std::str::from_utf8(msg.get(i..i + len)?).ok()?.to_string());
            i += len;
        }
        let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
        msg.get(i + 3)?;
        Some(Question {
            name: labels.join("."),
            qtype,
            end: i + 4,
        })
    }
}

fn header(query: &[u8], rcode: u8, ancount: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&query[..2]);
    // QR, the query's opcode and RD, AA; RA.
    out.push(0x80 | (query[2] & 0x79) | 0x04);
    out.push(0x80 | rcode);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ancount.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

fn answer(query: &[u8], q: &Question, ips: &[Ipv4Addr]) -> Vec<u8> {
    const A: u16 = 1;
    let ips: &[Ipv4Addr] = if q.qtype == A { ips } else { &[] };
    let mut out = header(query, 0, ips.len() as u16);
    out.extend_from_slice(&query[12..q.end]);
    for ip in ips {
        out.extend_from_slice(&[0xc0, 12]); // name: pointer to the question
        out.extend_from_slice(&A.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&600u32.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    out
}

fn error_reply(query: &[u8], q: &Question, rcode: u8) -> Vec<u8> {
    let mut out = header(query, rcode, 0);
    out.extend_from_slice(&query[12..q.end]);
    out
}

/// Builds an A query for `name` (used by tests and health checks).
pub fn build_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// The A records of a reply (used by tests): answers whose data is 4 bytes long.
pub fn parse_a_records(reply: &[u8]) -> Vec<Ipv4Addr> {
    let Some(q) = Question::parse(&{
        let mut r = reply.to_vec();
        if let Some(b) = r.get_mut(2) {
            *b &= 0x7f;
        }
        r
    }) else {
        return Vec::new();
    };
    let ancount = u16::from_be_bytes([reply[6], reply[7]]);
    let mut i = q.end;
    let mut out = Vec::new();
    for _ in 0..ancount {
        // Only compressed names (2 bytes) are produced by our server and most resolvers.
        let Some(rdlen) = reply.get(i + 10..i + 12) else {
            break;
        };
        let rdlen = u16::from_be_bytes([rdlen[0], rdlen[1]]) as usize;
        if let (4, Some(d)) = (rdlen, reply.get(i + 12..i + 16)) {
            out.push(Ipv4Addr::new(d[0], d[1], d[2], d[3]));
        }
        i += 12 + rdlen;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_names_and_id_prefixes_forwards_others() {
        // A fake upstream on 127.0.0.1 that answers everything with 10.0.0.9.
        let up = UdpSocket::bind("127.0.0.1:0").unwrap();
        let up_addr = up.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            if let Ok((n, peer)) = up.recv_from(&mut buf) {
                let q = Question::parse(&buf[..n]).unwrap();
                let _ = up.send_to(&answer(&buf[..n], &q, &[Ipv4Addr::new(10, 0, 0, 9)]), peer);
            }
        });
        let srv =
            DnsServer::start(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), vec![up_addr]).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        srv.set(
            id,
            vec!["web".into(), "alias1".into()],
            Ipv4Addr::new(172, 30, 0, 2),
        );
        let c = UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let ask = |name: &str| {
            c.send_to(&build_query(7, name), srv.addr()).unwrap();
            let mut buf = [0u8; 512];
            let (n, _) = c.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..2], &[0, 7]);
            parse_a_records(&buf[..n])
        };
        let ip = vec![Ipv4Addr::new(172, 30, 0, 2)];
        assert_eq!(ask("web"), ip);
        assert_eq!(ask("WEB."), ip);
        assert_eq!(ask("alias1"), ip);
        assert_eq!(ask(&id[..12]), ip);
        assert_eq!(ask("other.example"), vec![Ipv4Addr::new(10, 0, 0, 9)]);
        srv.remove(id);
        assert!(srv.lookup("web").is_empty());
    }

    #[test]
    fn resolv_conf_nameservers() {
        let ns = parse_resolv_conf("# c\nnameserver 10.1.1.1\nsearch x\nnameserver ::1\n");
        assert_eq!(
            ns,
            vec!["10.1.1.1:53".parse().unwrap(), "[::1]:53".parse().unwrap()]
        );
    }
}
