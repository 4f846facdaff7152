//! The DNS wire format, as much as the resolver needs: the header and the single question of
//! a query, answers with A, AAAA and PTR records, error replies, truncation for UDP.
//! Hand-written: nothing here trusts a length it has not checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record types the resolver answers itself.
pub const A: u16 = 1;
/// PTR.
pub const PTR: u16 = 12;
/// AAAA.
pub const AAAA: u16 = 28;

/// The largest UDP answer sent without EDNS (RFC 1035); larger ones are truncated (TC set).
pub const UDP_MAX: usize = 512;

/// A query's question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, lower-case, without the trailing dot.
    pub name: String,
    /// The type asked for.
    pub qtype: u16,
    /// Offset just past the question section.
    pub end: usize,
}

impl Question {
    /// The question of a query (QR clear, exactly one question); `None` for anything else.
    pub fn parse(msg: &[u8]) -> Option<Question> {
        if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) != 1 {
            return None;
        }
        let (name, i) = read_name(msg, 12)?;
        let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
        msg.get(i + 3)?;
        Some(Question {
            name,
            qtype,
            end: i + 4,
        })
    }
}

/// An uncompressed name at `at`: the dotted lower-case name and the offset past it.
fn read_name(msg: &[u8], mut i: usize) -> Option<(String, usize)> {
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
        labels.push(
            std::str::from_utf8(msg.get(i..i + len)?)
                .ok()?
                .to_ascii_lowercase(),
        );
        i += len;
    }
    Some((labels.join("."), i))
}

/// A name in wire form (labels longer than 63 bytes are cut: our names never are).
fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let l = &label.as_bytes()[..label.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
    out
}

/// One answer record's type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// The record type.
    pub rtype: u16,
    /// The record's data.
    pub data: Vec<u8>,
}

impl Rr {
    /// An A or AAAA record for `ip`.
    pub fn addr(ip: IpAddr) -> Rr {
        match ip {
            IpAddr::V4(v4) => Rr {
                rtype: A,
                data: v4.octets().to_vec(),
            },
            IpAddr::V6(v6) => Rr {
                rtype: AAAA,
                data: v6.octets().to_vec(),
            },
        }
    }

    /// A PTR record naming `name`.
    pub fn ptr(name: &str) -> Rr {
        Rr {
            rtype: PTR,
            data: encode_name(name),
        }
    }
}

fn header(query: &[u8], rcode: u8, ancount: u16, truncated: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&query[..2]);
    // QR, the query's opcode and RD, AA, TC when cut; RA.
    out.push(0x80 | (query[2] & 0x79) | 0x04 | if truncated { 0x02 } else { 0 });
    out.push(0x80 | rcode);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ancount.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// An authoritative answer with `rrs` (TTL 600, as docker's resolver gives), cut to `max`
/// bytes with TC set when they do not fit.
pub fn answer(query: &[u8], q: &Question, rrs: &[Rr], max: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut count = 0u16;
    let mut truncated = false;
    let fixed = 12 + (q.end - 12);
    for rr in rrs {
        let mut rec = vec![0xc0, 12]; // the name: a pointer to the question's
        rec.extend_from_slice(&rr.rtype.to_be_bytes());
        rec.extend_from_slice(&1u16.to_be_bytes()); // IN
        rec.extend_from_slice(&600u32.to_be_bytes());
        rec.extend_from_slice(&(rr.data.len() as u16).to_be_bytes());
        rec.extend_from_slice(&rr.data);
        if fixed + body.len() + rec.len() > max || count == u16::MAX {
            truncated = true;
            break;
        }
        body.extend_from_slice(&rec);
        count += 1;
    }
    let mut out = header(query, 0, count, truncated);
    out.extend_from_slice(&query[12..q.end]);
    out.extend_from_slice(&body);
    out
}

/// A reply with no answer and `rcode` (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN).
pub fn error_reply(query: &[u8], q: &Question, rcode: u8) -> Vec<u8> {
    let mut out = header(query, rcode, 0, false);
    out.extend_from_slice(&query[12..q.end]);
    out
}

/// The address a reverse name (`4.3.2.1.in-addr.arpa`, nibbles under `ip6.arpa`) stands for.
pub fn reverse_addr(name: &str) -> Option<IpAddr> {
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let parts: Vec<u8> = rest
            .split('.')
            .map(|p| p.parse::<u8>().ok())
            .collect::<Option<_>>()?;
        let [d, c, b, a] = parts.as_slice() else {
            return None;
        };
        return Some(IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d)));
    }
    let rest = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = rest
        .split('.')
        .map(|p| u8::from_str_radix(p, 16).ok().filter(|_| p.len() == 1))
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        octets[i] = (pair[1] << 4) | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

/// Builds a query for `name` of type `qtype` (tests, benches).
pub fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(&encode_name(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

/// The answers of a reply as (type, data), reading compressed (2-byte) answer names only, as
/// our resolver and most servers write them (tests).
pub fn parse_answers(reply: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut as_query = reply.to_vec();
    if let Some(b) = as_query.get_mut(2) {
        *b &= 0x7f;
    }
    let Some(q) = Question::parse(&as_query) else {
        return Vec::new();
    };
    let ancount = u16::from_be_bytes([reply[6], reply[7]]);
    let mut i = q.end;
    let mut out = Vec::new();
    for _ in 0..ancount {
        let (Some(t), Some(len)) = (reply.get(i + 2..i + 4), reply.get(i + 10..i + 12)) else {
            break;
        };
        let rtype = u16::from_be_bytes([t[0], t[1]]);
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        let Some(data) = reply.get(i + 12..i + 12 + len) else {
            break;
        };
        out.push((rtype, data.to_vec()));
        i += 12 + len;
    }
    out
}

/// The name a PTR record's data holds (uncompressed, as ours are).
pub fn ptr_name(data: &[u8]) -> Option<String> {
    read_name(data, 0).map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_truncate() {
        let query = build_query(7, "Web.Net", A);
        let q = Question::parse(&query).unwrap();
        assert_eq!((q.name.as_str(), q.qtype), ("web.net", A));
        let ip = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
        let reply = answer(&query, &q, &[Rr::addr(ip)], UDP_MAX);
        assert_eq!(&reply[..2], &[0, 7]);
        assert_eq!(parse_answers(&reply), vec![(A, vec![10, 1, 2, 3])]);
        let many: Vec<Rr> = (0..100).map(|_| Rr::addr(ip)).collect();
        let cut = answer(&query, &q, &many, UDP_MAX);
        assert!(cut.len() <= UDP_MAX && cut[2] & 0x02 != 0);
        assert_eq!(answer(&query, &q, &many, 65535)[2] & 0x02, 0);
        let p = answer(&query, &q, &[Rr::ptr("web.net")], UDP_MAX);
        let (t, data) = &parse_answers(&p)[0];
        assert_eq!((*t, ptr_name(data).as_deref()), (PTR, Some("web.net")));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_addr("4.3.2.1.in-addr.arpa"),
            Some(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(reverse_addr("3.2.1.in-addr.arpa"), None);
        let v6: Ipv6Addr = "fd00::1".parse().unwrap();
        let name = v6
            .octets()
            .iter()
            .rev()
            .map(|b| format!("{:x}.{:x}", b & 0xf, b >> 4))
            .collect::<Vec<_>>()
            .join(".")
            + ".ip6.arpa";
        assert_eq!(reverse_addr(&name), Some(IpAddr::V6(v6)));
    }

    #[test]
    fn bad_queries_are_refused() {
        assert!(Question::parse(&[0; 11]).is_none());
        let mut q = build_query(1, "x", A);
        q[2] |= 0x80;
        assert!(Question::parse(&q).is_none());
        let mut long = build_query(1, "x", A);
        long[12] = 64;
        assert!(Question::parse(&long).is_none());
    }
}
