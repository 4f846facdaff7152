//! A container's resolver at `127.0.0.11:53`, as docker's: a UDP and a TCP socket created
//! *inside* the container's namespace on `127.0.0.11` with ephemeral ports, and an nftables
//! `nat output` DNAT there from `127.0.0.11:53` to them. The sockets are served by berthd on
//! a small runtime of its own whose threads never change namespace; forwarding happens from
//! those threads, so in the host's namespace (a `127.0.0.53` stub on the host works).
//!
//! Why ephemeral ports behind a DNAT rather than binding `127.0.0.11:53`: a socket on
//! `127.0.0.11:53` would make a container's own DNS server (dnsmasq, CoreDNS) fail to bind
//! `0.0.0.0:53` with `EADDRINUSE`; with the DNAT only queries addressed to `127.0.0.11:53` are
//! taken, and port 53 stays the container's.
//!
//! A socket holds its namespace: the resolver is stopped (its tasks aborted, which closes
//! every socket) when the container leaves its last network with DNS, so nothing keeps a dead
//! container's namespace alive.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

use super::DnsError;
use super::wire::{self, Question, Rr};
use super::zone::Zone;

/// The resolver's address inside every container, as in docker.
pub const RESOLVER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// The nftables table holding the DNAT inside the container's namespace.
const TABLE: &str = "berth_dns";

/// How long one upstream gets to answer a forwarded query.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// An idle TCP client is dropped after this long.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Forwarded queries in flight per container; beyond, SERVFAIL at once (a flood from one
/// container must not take every upstream socket of the daemon).
const MAX_FORWARDS: usize = 512;

/// Receive buffer of the UDP socket: a burst of queries queues instead of being dropped.
const UDP_RCVBUF: usize = 4 << 20;

fn runtime() -> Result<&'static tokio::runtime::Runtime, DnsError> {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = RT.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berth-dns")
        .enable_all()
        .build()
        .map_err(DnsError::Runtime)?;
    Ok(RT.get_or_init(|| rt))
}

/// What a resolver serves: the zones of the networks its container is on, and where other
/// names go.
#[derive(Debug)]
struct Shared {
    zones: RwLock<BTreeMap<String, Arc<Zone>>>,
    /// Network ID → this container's `--link NAME:ALIAS`es there, as (alias, name).
    links: RwLock<BTreeMap<String, Vec<(String, String)>>>,
    upstreams: Vec<SocketAddr>,
    forwards: AtomicUsize,
}

enum Outcome {
    Reply(Vec<u8>),
    Forward,
}

impl Shared {
    /// Our answer to `query`, or `Forward` for names that are not ours; `None` for garbage.
    fn answer(&self, query: &[u8], max: usize) -> Option<Outcome> {
        let q = Question::parse(query)?;
        let zones = self.zones.read().unwrap_or_else(PoisonError::into_inner);
        if q.qtype == wire::PTR {
            let Some(ip) = wire::reverse_addr(&q.name) else {
                return Some(Outcome::Forward);
            };
            return Some(match zones.values().find_map(|z| z.reverse(ip)) {
                Some(name) => Outcome::Reply(wire::answer(query, &q, &[Rr::ptr(&name)], max)),
                None => Outcome::Forward,
            });
        }
        let mut found = None;
        for z in zones.values() {
            if let Some(ips) = z.lookup(&q.name) {
                found.get_or_insert_with(Vec::new).extend(ips);
            }
        }
        let links = self.links.read().unwrap_or_else(PoisonError::into_inner);
        for (net_id, list) in links.iter() {
            let Some(z) = zones.get(net_id) else {
                continue;
            };
            for (_, target) in list.iter().filter(|(alias, _)| *alias == q.name) {
                if let Some(ips) = z.lookup(target) {
                    found.get_or_insert_with(Vec::new).extend(ips);
                }
            }
        }
        let Some(mut ips) = found else {
            return Some(Outcome::Forward);
        };
        ips.sort();
        ips.dedup();
        // A name of ours: its addresses of the asked family; other types get an empty
        // NOERROR (the name exists), as docker answers.
        let rrs: Vec<Rr> = ips
            .into_iter()
            .filter(|ip| match q.qtype {
                wire::A => ip.is_ipv4(),
                wire::AAAA => ip.is_ipv6(),
                _ => false,
            })
            .map(Rr::addr)
            .collect();
        Some(Outcome::Reply(wire::answer(query, &q, &rrs, max)))
    }

    fn servfail(query: &[u8]) -> Option<Vec<u8>> {
        Question::parse(query).map(|q| wire::error_reply(query, &q, 2))
    }

    /// Takes a forwarding slot; `None` when `MAX_FORWARDS` are in flight.
    fn slot(self: &Arc<Self>) -> Option<Slot> {
        if self.forwards.fetch_add(1, Ordering::AcqRel) >= MAX_FORWARDS {
            self.forwards.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(self.clone()))
    }
}

struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.forwards.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running resolver; dropping it aborts its tasks, closing its sockets.
#[derive(Debug)]
pub(crate) struct Resolver {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Resolver {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Resolver {
    /// Opens the sockets inside `netns`, installs the DNAT there and serves `zones`,
    /// forwarding other names to `upstreams`.
    pub(crate) fn start(
        netns: BorrowedFd<'_>,
        zones: BTreeMap<String, Arc<Zone>>,
        upstreams: Vec<SocketAddr>,
    ) -> Result<Self, DnsError> {
        let rt = runtime()?;
        let ns = netns.try_clone_to_owned().map_err(DnsError::Socket)?;
        let (udp, tcp) = open_in(ns)?;
        let _ctx = rt.enter();
        let udp = UdpSocket::from_std(udp).map_err(DnsError::Socket)?;
        let tcp = TcpListener::from_std(tcp).map_err(DnsError::Socket)?;
        let shared = Arc::new(Shared {
            zones: RwLock::new(zones),
            links: RwLock::new(BTreeMap::new()),
            upstreams,
            forwards: AtomicUsize::new(0),
        });
        let tasks = vec![
            rt.spawn(serve_udp(Arc::new(udp), shared.clone())),
            rt.spawn(serve_tcp(tcp, shared.clone())),
        ];
        Ok(Resolver { shared, tasks })
    }

    /// Serves `zone` (network `net_id`'s) too, with the container's links there.
    pub(crate) fn add_zone(&self, net_id: &str, zone: Arc<Zone>, links: &[(String, String)]) {
        self.shared
            .zones
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(net_id.to_owned(), zone);
        let links: Vec<(String, String)> = links
            .iter()
            .map(|(a, t)| (a.to_ascii_lowercase(), t.to_ascii_lowercase()))
            .collect();
        let mut l = self
            .shared
            .links
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if links.is_empty() {
            l.remove(net_id);
        } else {
            l.insert(net_id.to_owned(), links);
        }
    }

    /// Stops serving network `net_id`'s names; returns how many networks are left.
    pub(crate) fn remove_zone(&self, net_id: &str) -> usize {
        let mut z = self
            .shared
            .zones
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        z.remove(net_id);
        self.shared
            .links
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(net_id);
        z.len()
    }
}

/// The nft script that sends `127.0.0.11:53` to the resolver's ports (replacing an earlier
/// one: a restarted daemon's sockets have new ports).
fn dnat_script(udp_port: u16, tcp_port: u16) -> String {
    format!(
        "table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n\
         \tchain output {{\n\t\ttype nat hook output priority -100; policy accept;\n\
         \t\tip daddr {RESOLVER_IP} udp dport 53 dnat to {RESOLVER_IP}:{udp_port}\n\
         \t\tip daddr {RESOLVER_IP} tcp dport 53 dnat to {RESOLVER_IP}:{tcp_port}\n\
         \t}}\n}}\n"
    )
}

/// Runs `job` on a thread inside `netns` (the thread exits afterwards, so nothing has to be
/// switched back).
fn in_netns<T: Send + 'static>(
    netns: OwnedFd,
    job: impl FnOnce() -> Result<T, DnsError> + Send + 'static,
) -> Result<T, DnsError> {
    std::thread::Builder::new()
        .name("berth-dns-ns".into())
        .spawn(move || {
            nix::sched::setns(netns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| DnsError::Setns(e.into()))?;
            job()
        })
        .map_err(DnsError::Thread)?
        .join()
        .map_err(|_| DnsError::Panicked)?
}

/// Binds the resolver's sockets inside `netns` and points `127.0.0.11:53` at them.
fn open_in(netns: OwnedFd) -> Result<(std::net::UdpSocket, std::net::TcpListener), DnsError> {
    in_netns(netns, || {
        let bind_err = |source| DnsError::Bind {
            addr: SocketAddr::from((RESOLVER_IP, 0)),
            source,
        };
        let udp = std::net::UdpSocket::bind((RESOLVER_IP, 0)).map_err(bind_err)?;
        // Root may exceed rmem_max; a failure only leaves the default size.
        let _ =
            nix::sys::socket::setsockopt(&udp, nix::sys::socket::sockopt::RcvBufForce, &UDP_RCVBUF);
        let tcp = std::net::TcpListener::bind((RESOLVER_IP, 0)).map_err(bind_err)?;
        udp.set_nonblocking(true).map_err(DnsError::Socket)?;
        tcp.set_nonblocking(true).map_err(DnsError::Socket)?;
        let ports = (
            udp.local_addr().map_err(DnsError::Socket)?.port(),
            tcp.local_addr().map_err(DnsError::Socket)?.port(),
        );
        crate::firewall::nftables::script(&dnat_script(ports.0, ports.1), "resolver dnat")?;
        Ok((udp, tcp))
    })
}

/// Removes the DNAT from `netns` (a running container that left its last network with DNS).
pub(crate) fn remove_rules(netns: BorrowedFd<'_>) -> Result<(), DnsError> {
    let ns = netns.try_clone_to_owned().map_err(DnsError::Socket)?;
    in_netns(ns, || {
        let script = format!("table ip {TABLE}\ndelete table ip {TABLE}\n");
        crate::firewall::nftables::script(&script, "remove resolver dnat")?;
        Ok(())
    })
}

async fn serve_udp(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    // Forwards run in this set: aborting the server aborts them, and with them the last
    // references to the socket.
    let mut forwards = JoinSet::new();
    let mut buf = vec![0u8; 65535];
    loop {
        while forwards.try_join_next().is_some() {}
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "resolver recv");
                continue;
            }
        };
        let query = &buf[..n];
        match shared.answer(query, wire::UDP_MAX) {
            None => {}
            Some(Outcome::Reply(r)) => {
                let _ = sock.send_to(&r, peer).await;
            }
            Some(Outcome::Forward) => {
                let Some(slot) = shared.slot() else {
                    if let Some(r) = Shared::servfail(query) {
                        let _ = sock.send_to(&r, peer).await;
                    }
                    continue;
                };
                let (query, sock, shared) = (query.to_vec(), sock.clone(), shared.clone());
                forwards.spawn(async move {
                    let _slot = slot;
                    let reply = match forward_udp(&query, &shared.upstreams).await {
                        Some(r) => r,
                        None => match Shared::servfail(&query) {
                            Some(r) => r,
                            None => return,
                        },
                    };
                    let _ = sock.send_to(&reply, peer).await;
                });
            }
        }
    }
}

async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    // Connections run in this set: aborting the server closes them.
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        conns.spawn(serve_conn(stream, shared.clone()));
    }
}

async fn read_framed(s: &mut TcpStream) -> Option<Vec<u8>> {
    let len = s.read_u16().await.ok()? as usize;
    let mut msg = vec![0u8; len];
    s.read_exact(&mut msg).await.ok()?;
    Some(msg)
}

async fn write_framed(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| std::io::ErrorKind::InvalidData)?;
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    s.write_all(&out).await
}

async fn serve_conn(mut s: TcpStream, shared: Arc<Shared>) {
    loop {
        let Ok(Some(query)) = tokio::time::timeout(TCP_IDLE, read_framed(&mut s)).await else {
            return;
        };
        let reply = match shared.answer(&query, usize::from(u16::MAX)) {
            None => return,
            Some(Outcome::Reply(r)) => r,
            Some(Outcome::Forward) => {
                let forwarded = match shared.slot() {
                    Some(_slot) => forward_tcp(&query, &shared.upstreams).await,
                    None => None,
                };
                match forwarded.or_else(|| Shared::servfail(&query)) {
                    Some(r) => r,
                    None => return,
                }
            }
        };
        if write_framed(&mut s, &reply).await.is_err() {
            return;
        }
    }
}

/// Asks each upstream in turn over UDP; the first answer with the query's ID wins.
async fn forward_udp(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for up in upstreams {
        let bind: SocketAddr = if up.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        let Ok(s) = UdpSocket::bind(bind).await else {
            continue;
        };
        if s.connect(up).await.is_err() || s.send(query).await.is_err() {
            continue;
        }
        let wait = async {
            let mut buf = vec![0u8; 65535];
            loop {
                let n = s.recv(&mut buf).await.ok()?;
                if n >= 2 && buf[..2] == query[..2] {
                    return Some(buf[..n].to_vec());
                }
            }
        };
        if let Ok(Some(r)) = tokio::time::timeout(UPSTREAM_TIMEOUT, wait).await {
            return Some(r);
        }
    }
    None
}

/// Asks each upstream in turn over TCP.
async fn forward_tcp(query: &[u8], upstreams: &[SocketAddr]) -> Option<Vec<u8>> {
    for up in upstreams {
        let ask = async {
            let mut s = TcpStream::connect(up).await.ok()?;
            write_framed(&mut s, query).await.ok()?;
            read_framed(&mut s).await
        };
        if let Ok(Some(r)) = tokio::time::timeout(UPSTREAM_TIMEOUT, ask).await {
            return Some(r);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        let z = Arc::new(Zone::new("front"));
        z.set(
            "0123456789abcdef",
            vec!["web".into()],
            Ipv4Addr::new(10, 0, 0, 2),
            None,
        );
        Shared {
            zones: RwLock::new(BTreeMap::from([("n1".to_owned(), z)])),
            links: RwLock::new(BTreeMap::from([(
                "n1".to_owned(),
                vec![("bar".to_owned(), "web".to_owned())],
            )])),
            upstreams: Vec::new(),
            forwards: AtomicUsize::new(0),
        }
    }

    fn reply(s: &Shared, name: &str, qtype: u16) -> Option<Vec<(u16, Vec<u8>)>> {
        match s.answer(&wire::build_query(1, name, qtype), wire::UDP_MAX)? {
            Outcome::Reply(r) => Some(wire::parse_answers(&r)),
            Outcome::Forward => None,
        }
    }

    #[test]
    fn answers_a_aaaa_ptr_and_forwards_the_rest() {
        let s = shared();
        assert_eq!(
            reply(&s, "web", wire::A),
            Some(vec![(wire::A, vec![10, 0, 0, 2])])
        );
        // Known name, no IPv6 address: an empty answer, not a forward.
        assert_eq!(reply(&s, "web", wire::AAAA), Some(vec![]));
        let ptr = reply(&s, "2.0.0.10.in-addr.arpa", wire::PTR).unwrap();
        assert_eq!(wire::ptr_name(&ptr[0].1).as_deref(), Some("web.front"));
        assert_eq!(
            reply(&s, "bar", wire::A),
            Some(vec![(wire::A, vec![10, 0, 0, 2])]),
            "a link's alias"
        );
        assert!(reply(&s, "example.com", wire::A).is_none());
        assert!(reply(&s, "3.0.0.10.in-addr.arpa", wire::PTR).is_none());
    }

    #[test]
    fn dnat_script_replaces_the_table() {
        let s = dnat_script(1000, 2000);
        assert!(s.contains("delete table ip berth_dns"));
        assert!(s.contains("udp dport 53 dnat to 127.0.0.11:1000"));
        assert!(s.contains("tcp dport 53 dnat to 127.0.0.11:2000"));
    }
}
