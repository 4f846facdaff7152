//! IP address management: picking a subnet from a pool, overlap checks and per-network address
//! allocation. Pure logic over [`ipnet`]; the host's routes are passed in by the caller (read
//! them with [`crate::netlink::host_routes`]).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Errors of address management.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpamError {
    /// The requested subnet overlaps another network or a host route (docker's message).
    #[error("invalid pool request: Pool overlaps with other one on this address space")]
    PoolOverlap {
        /// The subnet that was asked for.
        subnet: Ipv4Net,
        /// What it overlaps (a network's name or `host route`).
        with: String,
    },
    /// Every subnet of the pool is taken.
    #[error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )]
    PoolExhausted,
    /// A pool whose split size is smaller than its base.
    #[error("invalid address pool {base} split into /{size}")]
    InvalidPool {
        /// The pool's base.
        base: Ipv4Net,
        /// The prefix length of each subnet.
        size: u8,
    },
    /// A subnet too small to hold a gateway and one container.
    #[error("subnet {0} is too small")]
    SubnetTooSmall(Ipv4Net),
    /// A gateway outside its subnet, or its network/broadcast address.
    #[error("gateway {gateway} is not a usable address of subnet {subnet}")]
    BadGateway {
        /// The gateway asked for.
        gateway: Ipv4Addr,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
    /// A requested address outside the subnet or reserved.
    #[error("address {ip} is not a usable address of subnet {subnet}")]
    BadAddress {
        /// The address asked for.
        ip: Ipv4Addr,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
    /// A requested address already held by someone else.
    #[error("Address already in use")]
    AddressInUse(Ipv4Addr),
    /// No free address is left in the subnet.
    #[error("no available IPv4 addresses on network {0}")]
    Exhausted(Ipv4Net),
    /// `--ip-range` outside its subnet.
    #[error("invalid pool request: ip-range {range} is not contained in subnet {subnet}")]
    BadRange {
        /// The range.
        range: Ipv4Net,
        /// The subnet.
        subnet: Ipv4Net,
    },
    /// An auxiliary address outside the subnet.
    #[error("invalid auxiliary address {name}={ip}: not in subnet {subnet}")]
    BadAux {
        /// Its name.
        name: String,
        /// The address.
        ip: Ipv4Addr,
        /// The subnet.
        subnet: Ipv4Net,
    },
    /// A static address on a network whose subnet berth picked (dockerd's message).
    #[error(
        "user specified IP address is supported only when connecting to networks with user configured subnets"
    )]
    StaticOnDynamic(Ipv4Addr),
    /// A static address outside the subnet or `--ip-range` (dockerd's message).
    #[error("no configured subnet or ip-range contain the IP address {0}")]
    NotInRange(Ipv4Addr),
}

/// A pool of subnets: `base` split into subnets of prefix length `size`
/// (docker's `default-address-pools`: `{"base":"172.30.0.0/16","size":24}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// The range subnets are taken from.
    pub base: Ipv4Net,
    /// The prefix length of each subnet.
    pub size: u8,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            base: Ipv4Net::new(Ipv4Addr::new(172, 30, 0, 0), 16).unwrap_or_default(),
            size: 24,
        }
    }
}

impl Pool {
    /// dockerd's default address pools: 172.17.0.0/16 to 172.31.0.0/16 as /16s, then
    /// 192.168.0.0/16 as /20s. The default bridge takes the first free one (docker0's
    /// 172.17.0.0/16 on a host without it), so it holds 65,533 containers.
    pub fn docker_defaults() -> Vec<Pool> {
        let mut pools: Vec<Pool> = (17..=31)
            .filter_map(|b| Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16).ok())
            .map(|base| Pool { base, size: 16 })
            .collect();
        if let Ok(base) = Ipv4Net::new(Ipv4Addr::new(192, 168, 0, 0), 16) {
            pools.push(Pool { base, size: 20 });
        }
        pools
    }

    /// The first free subnet of the first pool that has one.
    pub fn pick_from(
        pools: &[Pool],
        taken: &[Ipv4Net],
        host_routes: &[Ipv4Net],
    ) -> Result<Ipv4Net, IpamError> {
        let mut last = Err(IpamError::PoolExhausted);
        for p in pools {
            last = p.pick(taken, host_routes);
            if last.is_ok() {
                return last;
            }
        }
        last
    }

    /// The first subnet of the pool that overlaps neither a taken subnet nor a host route.
    pub fn pick(&self, taken: &[Ipv4Net], host_routes: &[Ipv4Net]) -> Result<Ipv4Net, IpamError> {
        let subnets = self
            .base
            .subnets(self.size)
            .map_err(|_| IpamError::InvalidPool {
                base: self.base,
                size: self.size,
            })?;
        subnets
            .into_iter()
            .find(|s| !taken.iter().chain(host_routes).any(|t| overlaps(s, t)))
            .ok_or(IpamError::PoolExhausted)
    }
}

/// Whether two subnets share an address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Fails with docker's message when `subnet` overlaps one of `others` (name, subnet).
pub fn check_overlap<'a>(
    subnet: Ipv4Net,
    others: impl IntoIterator<Item = (&'a str, Ipv4Net)>,
) -> Result<(), IpamError> {
    match others.into_iter().find(|(_, o)| overlaps(&subnet, o)) {
        Some((name, _)) => Err(IpamError::PoolOverlap {
            subnet,
            with: name.to_string(),
        }),
        None => Ok(()),
    }
}

/// The addresses of one network: its subnet, its gateway and who holds which address.
/// Serializable so the engine can store it with the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addresses {
    /// The network's subnet (truncated to its network address).
    pub subnet: Ipv4Net,
    /// The gateway, held by the bridge.
    pub gateway: Ipv4Addr,
    /// Allocated addresses and their holders (container ids).
    pub allocated: BTreeMap<Ipv4Addr, String>,
    /// The address handed out last: the next search starts after it.
    #[serde(default)]
    pub last: Option<Ipv4Addr>,
    /// `--ip-range`: where dynamic addresses come from (default: the whole subnet).
    #[serde(default)]
    pub range: Option<Ipv4Net>,
    /// `--aux-address`es: never handed out.
    #[serde(default)]
    pub aux: BTreeMap<String, Ipv4Addr>,
    /// The subnet was given (`--subnet`): only then may a container ask for an address.
    #[serde(default)]
    pub user_subnet: bool,
}

impl Addresses {
    /// Addresses of `subnet` with `gateway` (default: the first host address).
    pub fn new(subnet: Ipv4Net, gateway: Option<Ipv4Addr>) -> Result<Self, IpamError> {
        let subnet = subnet.trunc();
        if subnet.prefix_len() > 30 {
            return Err(IpamError::SubnetTooSmall(subnet));
        }
        let gateway = match gateway {
            Some(g) => g,
            None => next(subnet.network()),
        };
        if !usable(&subnet, gateway) {
            return Err(IpamError::BadGateway { gateway, subnet });
        }
        Ok(Addresses {
            subnet,
            gateway,
            allocated: BTreeMap::new(),
            last: None,
            range: None,
            aux: BTreeMap::new(),
            user_subnet: false,
        })
    }

    /// Restricts dynamic addresses to `range` and keeps `aux` out of them.
    pub fn with_range(
        mut self,
        range: Option<Ipv4Net>,
        aux: BTreeMap<String, Ipv4Addr>,
    ) -> Result<Self, IpamError> {
        if let Some(r) = range {
            let r = r.trunc();
            if !self.subnet.contains(&r) {
                return Err(IpamError::BadRange {
                    range: r,
                    subnet: self.subnet,
                });
            }
            self.range = Some(r);
        }
        if let Some((name, ip)) = aux.iter().find(|(_, ip)| !self.subnet.contains(*ip)) {
            return Err(IpamError::BadAux {
                name: name.clone(),
                ip: *ip,
                subnet: self.subnet,
            });
        }
        self.aux = aux;
        Ok(self)
    }

    /// Checks a requested address as dockerd does before anything is made: the subnet must
    /// be the user's, and the address in its `--ip-range` (or subnet).
    pub fn check_static(&self, ip: Ipv4Addr) -> Result<(), IpamError> {
        if !self.user_subnet {
            return Err(IpamError::StaticOnDynamic(ip));
        }
        if !self.range.unwrap_or(self.subnet).contains(&ip) {
            return Err(IpamError::NotInRange(ip));
        }
        Ok(())
    }

    /// Gives `owner` the requested address, or the first free one after the address handed out
    /// last, wrapping around (docker's serial allocation): an address just released (whose
    /// veth may still be on its way out) is not handed out again until the subnet has come
    /// round.
    pub fn allocate(
        &mut self,
        owner: &str,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, IpamError> {
        let ip = match requested {
            Some(ip) => {
                if !usable(&self.subnet, ip) || ip == self.gateway {
                    return Err(IpamError::BadAddress {
                        ip,
                        subnet: self.subnet,
                    });
                }
                // Aux addresses are kept out of allocation, a requested one included.
                if self.allocated.contains_key(&ip) || self.aux.values().any(|a| *a == ip) {
                    return Err(IpamError::AddressInUse(ip));
                }
                ip
            }
            None => {
                let free = |ip: &Ipv4Addr| {
                    *ip != self.gateway
                        && usable(&self.subnet, *ip)
                        && !self.allocated.contains_key(ip)
                        && !self.aux.values().any(|a| a == ip)
                };
                let pool = self.range.unwrap_or(self.subnet);
                let after = self.last.unwrap_or(pool.network());
                pool.hosts()
                    .filter(|ip| *ip > after)
                    .find(free)
                    .or_else(|| pool.hosts().find(free))
                    .ok_or(IpamError::Exhausted(self.subnet))?
            }
        };
        self.allocated.insert(ip, owner.to_string());
        // A requested address does not move the cursor (as in docker's allocator).
        if requested.is_none() {
            self.last = Some(ip);
        }
        Ok(ip)
    }

    /// Frees `ip`; returns whether it was held.
    pub fn release(&mut self, ip: Ipv4Addr) -> bool {
        self.allocated.remove(&ip).is_some()
    }
}

fn next(ip: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip).saturating_add(1))
}

fn usable(subnet: &Ipv4Net, ip: Ipv4Addr) -> bool {
    subnet.contains(&ip) && ip != subnet.network() && ip != subnet.broadcast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn range_aux_and_static_checks() {
        let a = Addresses::new(net("10.5.0.0/16"), None)
            .unwrap()
            .with_range(
                Some(net("10.5.7.0/30")),
                BTreeMap::from([("x".to_owned(), Ipv4Addr::new(10, 5, 7, 1))]),
            )
            .unwrap();
        let mut a = Addresses {
            user_subnet: true,
            ..a
        };
        assert_eq!(a.allocate("c1", None), Ok(Ipv4Addr::new(10, 5, 7, 2)));
        assert_eq!(
            a.allocate("c2", Some(Ipv4Addr::new(10, 5, 7, 1))),
            Err(IpamError::AddressInUse(Ipv4Addr::new(10, 5, 7, 1))),
            "an aux address is never handed out, asked for or not"
        );
        assert_eq!(
            a.check_static(Ipv4Addr::new(10, 5, 1, 1)),
            Err(IpamError::NotInRange(Ipv4Addr::new(10, 5, 1, 1)))
        );
        assert_eq!(a.check_static(Ipv4Addr::new(10, 5, 7, 3)), Ok(()));
        a.user_subnet = false;
        assert!(matches!(
            a.check_static(Ipv4Addr::new(10, 5, 7, 3)),
            Err(IpamError::StaticOnDynamic(_))
        ));
        assert!(
            Addresses::new(net("10.5.0.0/24"), None)
                .unwrap()
                .with_range(Some(net("10.6.0.0/24")), BTreeMap::new())
                .is_err()
        );
    }

    #[test]
    fn pick_skips_taken_and_host_routes() {
        let pool = Pool::default();
        let got = pool
            .pick(
                &[net("172.30.0.0/24")],
                &[net("172.30.1.0/25"), net("0.0.0.0/0")][..1],
            )
            .unwrap();
        assert_eq!(got, net("172.30.2.0/24"));
        // A host route that covers the whole pool exhausts it.
        assert_eq!(
            pool.pick(&[], &[net("172.16.0.0/12")]),
            Err(IpamError::PoolExhausted)
        );
    }

    #[test]
    fn docker_default_pools_give_16s_then_20s() {
        let pools = Pool::docker_defaults();
        assert_eq!(
            Pool::pick_from(&pools, &[], &[]).unwrap(),
            net("172.17.0.0/16")
        );
        // docker0's range taken (or routed): the next /16.
        assert_eq!(
            Pool::pick_from(&pools, &[net("172.17.0.0/16")], &[]).unwrap(),
            net("172.18.0.0/16")
        );
        // All of 172.16.0.0/12 routed elsewhere: /20s of 192.168.0.0/16.
        assert_eq!(
            Pool::pick_from(&pools, &[], &[net("172.16.0.0/12")]).unwrap(),
            net("192.168.0.0/20")
        );
        assert_eq!(
            Pool::pick_from(&pools, &[], &[net("172.16.0.0/12"), net("192.168.0.0/16")]),
            Err(IpamError::PoolExhausted)
        );
        assert_eq!(
            Pool::pick_from(&[], &[], &[]),
            Err(IpamError::PoolExhausted)
        );
    }

    #[test]
    fn overlap_has_dockers_message() {
        let err = check_overlap(net("10.1.0.0/16"), [("a", net("10.1.2.0/24"))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pool request: Pool overlaps with other one on this address space"
        );
        assert!(check_overlap(net("10.2.0.0/16"), [("a", net("10.1.2.0/24"))]).is_ok());
    }

    #[test]
    fn allocation_is_serial() {
        let mut a = Addresses::new(net("10.9.0.0/29"), None).unwrap();
        let ip = |n| Ipv4Addr::new(10, 9, 0, n);
        assert_eq!(a.allocate("c1", None).unwrap(), ip(2));
        assert_eq!(a.allocate("c2", None).unwrap(), ip(3));
        assert!(a.release(ip(2)));
        // The next after the last given, not the lowest free.
        assert_eq!(a.allocate("c3", None).unwrap(), ip(4));
        assert_eq!(a.allocate("c4", None).unwrap(), ip(5));
        assert_eq!(a.allocate("c5", None).unwrap(), ip(6));
        // Then round again to the freed one.
        assert_eq!(a.allocate("c6", None).unwrap(), ip(2));
        assert_eq!(a.allocate("c7", None), Err(IpamError::Exhausted(a.subnet)));
    }

    #[test]
    fn allocate_release() {
        let mut a = Addresses::new(net("10.9.0.0/30"), None).unwrap();
        assert_eq!(a.gateway, Ipv4Addr::new(10, 9, 0, 1));
        assert_eq!(a.allocate("c1", None).unwrap(), Ipv4Addr::new(10, 9, 0, 2));
        assert_eq!(a.allocate("c2", None), Err(IpamError::Exhausted(a.subnet)));
        assert!(a.release(Ipv4Addr::new(10, 9, 0, 2)));
        assert_eq!(
            a.allocate("c2", Some(Ipv4Addr::new(10, 9, 0, 2))).unwrap(),
            Ipv4Addr::new(10, 9, 0, 2)
        );
        assert!(matches!(
            a.allocate("c3", Some(Ipv4Addr::new(10, 9, 0, 3))),
            Err(IpamError::BadAddress { .. })
        ));
        assert!(matches!(
            Addresses::new(net("10.9.0.0/24"), Some(Ipv4Addr::new(10, 8, 0, 1))),
            Err(IpamError::BadGateway { .. })
        ));
    }
}
