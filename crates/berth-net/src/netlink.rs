//! Links, addresses and routes through rtnetlink.
//!
//! A netlink socket belongs to the network namespace of the thread that opened it, so every
//! job runs on a fresh OS thread (never a tokio worker): the thread `setns`es into the target
//! namespace if one is given, builds a current-thread runtime and its own connection, runs the
//! job and exits. The namespace switch dies with the thread, so nothing has to be restored.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use futures::TryStreamExt;
use ipnet::Ipv4Net;
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::{
    Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder,
};

/// Errors of netlink work.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The worker thread could not be spawned.
    #[error("spawn netlink thread")]
    Thread(#[source] std::io::Error),
    /// The worker thread panicked.
    #[error("netlink thread panicked")]
    Panicked,
    /// Entering the target network namespace failed.
    #[error("enter network namespace")]
    Setns(#[source] nix::Error),
    /// Building the worker's runtime failed.
    #[error("build netlink runtime")]
    Runtime(#[source] std::io::Error),
    /// Opening the netlink socket failed.
    #[error("open netlink socket")]
    Connect(#[source] std::io::Error),
    /// Duplicating the namespace descriptor failed.
    #[error("duplicate network namespace descriptor")]
    DupNetns(#[source] std::io::Error),
    /// A link that should exist does not.
    #[error("link {0} not found")]
    LinkNotFound(String),
    /// A link that should not exist does.
    #[error("link {0} already exists")]
    LinkExists(String),
    /// A netlink request failed.
    #[error("{what}")]
    Request {
        /// The request, naming its object (`"add address 10.0.0.1/24 to br0"`).
        what: String,
        /// The kernel's answer.
        #[source]
        source: rtnetlink::Error,
    },
}

impl NetlinkError {
    fn req(what: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetlinkError {
        let what = what.into();
        move |source| NetlinkError::Request { what, source }
    }
}

/// Runs `job` with a netlink handle on a dedicated thread, inside `netns` when given.
pub fn run<T, F, Fut>(netns: Option<OwnedFd>, job: F) -> Result<T, NetlinkError>
where
    T: Send + 'static,
    F: FnOnce(Handle) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, NetlinkError>>,
{
    let thread = std::thread::Builder::new()
        .name("berth-netlink".into())
        .spawn(move || {
            if let Some(ns) = netns {
                nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(NetlinkError::Setns)?;
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .map_err(NetlinkError::Runtime)?;
            rt.block_on(async move {
                let (conn, handle, _) =
                    rtnetlink::new_connection().map_err(NetlinkError::Connect)?;
                let conn = tokio::spawn(conn);
                let out = job(handle).await;
                conn.abort();
                out
            })
        })
        .map_err(NetlinkError::Thread)?;
    thread.join().map_err(|_| NetlinkError::Panicked)?
}

/// Runs `job` on a dedicated thread with two handles: one on the caller's namespace (opened
/// before the switch) and one inside `netns`. A netlink socket stays bound to the namespace it
/// was opened in, so one thread serves both ends of a veth.
pub fn run_both<T, F, Fut>(netns: OwnedFd, job: F) -> Result<T, NetlinkError>
where
    T: Send + 'static,
    F: FnOnce(Handle, Handle) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, NetlinkError>>,
{
    let thread = std::thread::Builder::new()
        .name("berth-netlink".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .map_err(NetlinkError::Runtime)?;
            // Sockets must be opened on this thread, so inside the runtime's context.
            let _guard = rt.enter();
            let (host_conn, host, _) =
                rtnetlink::new_connection().map_err(NetlinkError::Connect)?;
            nix::sched::setns(netns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(NetlinkError::Setns)?;
            let (ns_conn, inner, _) = rtnetlink::new_connection().map_err(NetlinkError::Connect)?;
            rt.block_on(async move {
                let host_conn = tokio::spawn(host_conn);
                let ns_conn = tokio::spawn(ns_conn);
                let out = job(host, inner).await;
                host_conn.abort();
                ns_conn.abort();
                out
            })
        })
        .map_err(NetlinkError::Thread)?;
    thread.join().map_err(|_| NetlinkError::Panicked)?
}

/// The index of link `name`, if it exists.
pub async fn link_index(handle: &Handle, name: &str) -> Result<Option<u32>, NetlinkError> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(msg)) => Ok(Some(msg.header.index)),
        Ok(None) => Ok(None),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(NetlinkError::Request {
            what: format!("get link {name}"),
            source: e,
        }),
    }
}

async fn must_index(handle: &Handle, name: &str) -> Result<u32, NetlinkError> {
    link_index(handle, name)
        .await?
        .ok_or_else(|| NetlinkError::LinkNotFound(name.to_string()))
}

/// How many links are enslaved to bridge `name` (0 when it does not exist).
pub async fn port_count(handle: &Handle, name: &str) -> Result<usize, NetlinkError> {
    let Some(index) = link_index(handle, name).await? else {
        return Ok(0);
    };
    Ok(all_links(handle)
        .await?
        .iter()
        .filter(|l| {
            l.attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::Controller(c) if *c == index))
        })
        .count())
}

async fn all_links(handle: &Handle) -> Result<Vec<LinkMessage>, NetlinkError> {
    handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(NetlinkError::req("list links"))
}

/// Names of all links in the namespace.
pub async fn link_names(handle: &Handle) -> Result<Vec<String>, NetlinkError> {
    Ok(all_links(handle)
        .await?
        .iter()
        .flat_map(|l| {
            l.attributes.iter().filter_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n.clone()),
                _ => None,
            })
        })
        .collect())
}

/// The IPv4 addresses (with their prefix) of link `name`; `None` when there is no such link.
pub async fn link_ipv4(handle: &Handle, name: &str) -> Result<Option<Vec<Ipv4Net>>, NetlinkError> {
    let Some(index) = link_index(handle, name).await? else {
        return Ok(None);
    };
    let msgs: Vec<_> = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute()
        .try_collect()
        .await
        .map_err(NetlinkError::req(format!("list addresses of {name}")))?;
    Ok(Some(
        msgs.iter()
            .flat_map(|m| {
                m.attributes.iter().filter_map(move |a| match a {
                    AddressAttribute::Address(IpAddr::V4(ip)) => {
                        Ipv4Net::new(*ip, m.header.prefix_len).ok()
                    }
                    _ => None,
                })
            })
            .collect(),
    ))
}

/// Creates bridge `name` (or reuses it when `reuse`), gives it `gateway/prefix` and brings it up.
/// An existing link that already holds exactly `gateway/prefix` is reused in any case, as
/// dockerd reuses a `docker0` whose address matches.
pub async fn ensure_bridge(
    handle: &Handle,
    name: &str,
    gateway: Ipv4Net,
    mtu: u32,
    reuse: bool,
) -> Result<(), NetlinkError> {
    if let Some(addrs) = link_ipv4(handle, name).await? {
        if !reuse && !addrs.contains(&gateway) {
            return Err(NetlinkError::LinkExists(name.to_string()));
        }
    } else {
        handle
            .link()
            .add(LinkBridge::new(name).mtu(mtu).build())
            .execute()
            .await
            .map_err(NetlinkError::req(format!("add bridge {name}")))?;
    }
    let index = must_index(handle, name).await?;
    handle
        .address()
        .add(index, IpAddr::V4(gateway.addr()), gateway.prefix_len())
        .replace()
        .execute()
        .await
        .map_err(NetlinkError::req(format!(
            "add address {gateway} to {name}"
        )))?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .map_err(NetlinkError::req(format!("set {name} up")))
}

/// Deletes link `name`; a link that is already gone is not an error.
pub async fn delete_link(handle: &Handle, name: &str) -> Result<bool, NetlinkError> {
    let Some(index) = link_index(handle, name).await? else {
        return Ok(false);
    };
    match handle.link().del(index).execute().await {
        Ok(()) => Ok(true),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(false),
        Err(e) => Err(NetlinkError::Request {
            what: format!("delete link {name}"),
            source: e,
        }),
    }
}

/// The IPv4 destinations of the main table's routes, the default route excepted.
pub async fn routes(handle: &Handle) -> Result<Vec<Ipv4Net>, NetlinkError> {
    let msgs: Vec<_> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .map_err(NetlinkError::req("list routes"))?;
    Ok(msgs
        .iter()
        .filter(|m| m.header.destination_prefix_length > 0)
        .filter_map(|m| {
            m.attributes.iter().find_map(|a| match a {
                RouteAttribute::Destination(RouteAddress::Inet(ip)) => {
                    Ipv4Net::new(*ip, m.header.destination_prefix_length).ok()
                }
                _ => None,
            })
        })
        .collect())
}

async fn has_default_route(handle: &Handle) -> Result<bool, NetlinkError> {
    let msgs: Vec<_> = handle
        .route()
        .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
        .execute()
        .try_collect()
        .await
        .map_err(NetlinkError::req("list routes"))?;
    Ok(msgs
        .iter()
        .any(|m| m.header.destination_prefix_length == 0 && m.header.table == 254))
}

/// The host's IPv4 routes (read in the caller's namespace), for [`crate::ipam::Pool::pick`].
pub fn host_routes() -> Result<Vec<Ipv4Net>, NetlinkError> {
    run(None, |h| async move { routes(&h).await })
}

/// What to build for one attachment.
#[derive(Debug, Clone)]
pub struct VethSpec {
    /// The host end's name (on the bridge).
    pub host: String,
    /// The bridge to enslave the host end to.
    pub bridge: String,
    /// The MTU of both ends.
    pub mtu: u32,
    /// The container end's MAC address.
    pub mac: [u8; 6],
}

/// Creates the veth pair in one request: the host end enslaved to the bridge and up, the peer
/// born inside the container's namespace (`netns`) as `ifname` with its MAC. Creating the peer
/// where it belongs avoids moving a link between namespaces, which costs the kernel an RCU
/// grace period or two (about 20 ms here). On a later failure the caller deletes the pair
/// (`delete_link` of the host end).
pub async fn create_veth(
    host: &Handle,
    spec: &VethSpec,
    ifname: &str,
    netns: BorrowedFd<'_>,
) -> Result<(), NetlinkError> {
    let bridge = must_index(host, &spec.bridge).await?;
    let peer = LinkMessageBuilder::<LinkUnspec>::new()
        .name(ifname.to_string())
        .mtu(spec.mtu)
        .address(spec.mac.to_vec())
        .setns_by_fd(netns.as_raw_fd())
        .build();
    let msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
        .name(spec.host.clone())
        .mtu(spec.mtu)
        .controller(bridge)
        .up()
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
        .build();
    match host.link().add(msg).execute().await {
        Ok(()) => Ok(()),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EEXIST => {
            Err(NetlinkError::LinkExists(spec.host.clone()))
        }
        Err(source) => Err(NetlinkError::Request {
            what: format!("add veth {} on {}", spec.host, spec.bridge),
            source,
        }),
    }
}

/// Inside the container's namespace: gives `ifname` its address, brings it and `lo` up and,
/// with `gateway`, adds the default route through it unless one exists (an `--internal`
/// network passes none: docker gives it no way out, not even a route).
pub async fn configure_peer(
    handle: &Handle,
    ifname: &str,
    addr: Ipv4Net,
    gateway: Option<Ipv4Addr>,
) -> Result<(), NetlinkError> {
    let peer = must_index(handle, ifname).await?;
    handle
        .address()
        .add(peer, IpAddr::V4(addr.addr()), addr.prefix_len())
        .execute()
        .await
        .map_err(NetlinkError::req(format!("add address {addr} to {ifname}")))?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(peer).up().build())
        .execute()
        .await
        .map_err(NetlinkError::req(format!("set {ifname} up")))?;
    let lo = must_index(handle, "lo").await?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(lo).up().build())
        .execute()
        .await
        .map_err(NetlinkError::req("set lo up"))?;
    let Some(gateway) = gateway else {
        return Ok(());
    };
    // A second network does not replace the first one's default route (docker's behaviour).
    if !has_default_route(handle).await? {
        handle
            .route()
            .add(
                RouteMessageBuilder::<Ipv4Addr>::new()
                    .output_interface(peer)
                    .gateway(gateway)
                    .build(),
            )
            .execute()
            .await
            .map_err(NetlinkError::req(format!(
                "add default route via {gateway} on {ifname}"
            )))?;
    }
    Ok(())
}

/// The first `ethN` name not taken in the namespace behind `handle`.
pub async fn free_ifname(handle: &Handle) -> Result<String, NetlinkError> {
    let names = link_names(handle).await?;
    Ok((0..)
        .map(|n| format!("eth{n}"))
        .find(|n| !names.contains(n))
        .unwrap_or_else(|| "eth0".to_string()))
}

/// Duplicates a namespace descriptor for another worker thread.
pub fn dup(fd: &OwnedFd) -> Result<OwnedFd, NetlinkError> {
    fd.try_clone().map_err(NetlinkError::DupNetns)
}
