//! The embedded resolver (issue 16) through the `docker` CLI: `127.0.0.11` in each container's
//! namespace answering A, AAAA and PTR over UDP and TCP for names on every network the
//! container is on, forwarding the rest, following `network connect`/`disconnect`, and a load
//! test with `br_netfilter` loaded. Same rules as `networking.rs`: own daemon, bridge and pool
//! per test; only loopback addresses and the test's own containers and namespaces.
//!
//! Needs root, busybox-static, nftables, iproute2 (`ss`) and the docker CLI
//! (`scripts/install-deps.sh --test`).

mod engine_harness;
mod networking_support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use engine_harness::{eventually, stderr, stdout};
use networking_support::Net;

/// A DNS query for `name` of type `qtype`, as the octal escapes busybox `printf` takes,
/// prefixed with its 2-byte length when `tcp`.
fn query_escapes(id: u16, name: &str, qtype: u16, tcp: bool) -> String {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    if tcp {
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        q = framed;
    }
    q.iter().map(|b| format!("\\{b:03o}")).collect()
}

/// Whether `bridge-nf-call-iptables` is on, loading `br_netfilter` if needed; returns whether
/// this test loaded the module (and so must unload it).
fn ensure_br_netfilter() -> bool {
    let knob = std::path::Path::new("/proc/sys/net/bridge/bridge-nf-call-iptables");
    let loaded_here = if knob.exists() {
        false
    } else {
        let st = Command::new("modprobe")
            .arg("br_netfilter")
            .status()
            .expect("run modprobe (apt-get install kmod)");
        assert!(st.success(), "modprobe br_netfilter");
        true
    };
    let on = std::fs::read_to_string(knob).expect("read bridge-nf-call-iptables");
    assert_eq!(
        on.trim(),
        "1",
        "bridge-nf-call-iptables is off: the test needs br_netfilter's default (1)"
    );
    loaded_here
}

/// A fake upstream resolver on a loopback address of this test's own (`127.77.x.y:53`, UDP and
/// TCP): `ext.example` is 192.0.2.55, everything else NXDOMAIN. Stopped on drop.
struct Upstream {
    ip: Ipv4Addr,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

const EXT_IP: [u8; 4] = [192, 0, 2, 55];

fn fake_reply(q: &[u8]) -> Option<Vec<u8>> {
    // Header, then the question's labels up to the root, then type and class.
    let mut i = 12;
    let mut labels = Vec::new();
    while *q.get(i)? != 0 {
        let len = *q.get(i)? as usize;
        labels.push(String::from_utf8_lossy(q.get(i + 1..i + 1 + len)?).to_ascii_lowercase());
        i += 1 + len;
    }
    let end = i + 5;
    let question = q.get(12..end)?;
    let known = labels.join(".") == "ext.example";
    let mut r = q[..2].to_vec();
    r.extend_from_slice(&[0x81, if known { 0x80 } else { 0x83 }, 0, 1]);
    r.extend_from_slice(&[0, u8::from(known), 0, 0, 0, 0]);
    r.extend_from_slice(question);
    if known {
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend_from_slice(&EXT_IP);
    }
    Some(r)
}

impl Upstream {
    fn start() -> Self {
        let pid = std::process::id();
        let ip = Ipv4Addr::new(127, 77, (pid >> 8) as u8, pid as u8 | 1);
        let udp = UdpSocket::bind((ip, 53)).expect("bind the fake upstream's UDP 53");
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("udp timeout");
        let tcp = TcpListener::bind((ip, 53)).expect("bind the fake upstream's TCP 53");
        tcp.set_nonblocking(true).expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let (s1, s2) = (stop.clone(), stop.clone());
        let threads = vec![
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while !s1.load(Ordering::Relaxed) {
                    if let Ok((n, peer)) = udp.recv_from(&mut buf)
                        && let Some(r) = fake_reply(&buf[..n])
                    {
                        let _ = udp.send_to(&r, peer);
                    }
                }
            }),
            std::thread::spawn(move || {
                while !s2.load(Ordering::Relaxed) {
                    let Ok((mut c, _)) = tcp.accept() else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let _ = c.set_nonblocking(false);
                    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut len = [0u8; 2];
                    if c.read_exact(&mut len).is_err() {
                        continue;
                    }
                    let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                    if c.read_exact(&mut q).is_err() {
                        continue;
                    }
                    if let Some(r) = fake_reply(&q) {
                        let mut out = (r.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&r);
                        let _ = c.write_all(&out);
                    }
                }
            }),
        ];
        Upstream { ip, stop, threads }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A shell snippet printing the A record of a TCP query for `name` to 127.0.0.11:53 as
/// `a.b.c.d` (the reply's last 4 bytes), or `NOANSWER`.
fn tcp_lookup(name: &str) -> String {
    format!(
        "printf '{}' | nc 127.0.0.11 53 | od -An -tu1 | tr -s ' \\n' ' ' | awk '{{if (NF >= 6) print $(NF-3)\".\"$(NF-2)\".\"$(NF-1)\".\"$NF; else print \"NOANSWER\"}}'",
        query_escapes(0x5151, name, 1, true)
    )
}

/// A container on a user network has `nameserver 127.0.0.11` and `options ndots:0`; its
/// resolver answers A (name, alias, `NAME.NETWORK`), AAAA (an empty answer: the name exists,
/// with no IPv6 address) and PTR (`NAME.NETWORK`) over UDP, A over TCP, and forwards other
/// names to the container's `--dns` server over UDP and TCP (a fake upstream on this test's own
/// loopback address, reached from the daemon's namespace).
#[test]
fn resolver_at_127_0_0_11_answers_a_aaaa_ptr_over_udp_and_tcp_and_forwards() {
    let up = Upstream::start();
    let mut n = Net::start();
    n.network("front");
    n.web("web", &["--network", "front", "--network-alias", "www"]);
    let web_ip = n.ip_of("web", "front");
    let dns = up.ip.to_string();
    let script = format!(
        "cat /etc/resolv.conf; echo ---; nslookup web; nslookup www.front; echo ---; \
         nslookup -type=AAAA web; echo ---; nslookup {web_ip}; echo ---; nslookup ext.example; \
         echo ---; {}; {}",
        tcp_lookup("web"),
        tcp_lookup("ext.example")
    );
    let out = n.ok(&[
        "run",
        "--rm",
        "--network",
        "front",
        "--dns",
        &dns,
        "busybox",
        "sh",
        "-c",
        &script,
    ]);
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 6, "{out}");
    assert!(
        parts[0].starts_with("nameserver 127.0.0.11\n") && parts[0].contains("options ndots:0"),
        "resolv.conf: {}",
        parts[0]
    );
    assert!(
        !parts[0].contains(&dns),
        "the --dns server is the resolver's upstream: {out}"
    );
    assert_eq!(
        parts[1].matches(&format!("Address: {web_ip}")).count(),
        2,
        "A for web and www.front: {out}"
    );
    assert!(
        !parts[2].contains("Address: ") && !parts[2].contains("can't find"),
        "AAAA for web (an empty NOERROR): {out}"
    );
    assert!(parts[3].contains("name = web.front"), "PTR: {out}");
    assert!(
        parts[4].contains("Address: 192.0.2.55"),
        "ext.example forwarded over UDP: {out}"
    );
    let tcp: Vec<&str> = parts[5].lines().collect();
    assert_eq!(
        tcp,
        [web_ip.as_str(), "192.0.2.55"],
        "A over TCP, ours then forwarded: {out}"
    );
}

/// Docker's join rules: a container on the default bridge has the host's resolvers and does
/// not know the user network's names; `network connect` starts its resolver and rewrites
/// resolv.conf, so the names resolve; `disconnect` stops it (no socket left in the
/// container's namespace, no DNAT) and puts the host's resolvers back.
#[test]
fn connect_then_resolve_and_disconnect_then_not() {
    let mut n = Net::start();
    n.network("app");
    n.web("srv", &["--network", "app"]);
    let srv_ip = n.ip_of("srv", "app");
    n.web("late", &[]);
    let resolv = |n: &Net| n.ok(&["exec", "late", "cat", "/etc/resolv.conf"]);
    assert!(!resolv(&n).contains("127.0.0.11"), "{}", resolv(&n));
    let pid = n.d().inspect("late", "{{.State.Pid}}");
    let in_ns = |args: &[&str]| {
        let out = Command::new("nsenter")
            .args(["-t", &pid, "-n"])
            .args(args)
            .output()
            .expect("run nsenter (apt-get install util-linux)");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert!(!in_ns(&["ss", "-aun"]).contains("127.0.0.11"));

    n.ok(&["network", "connect", "app", "late"]);
    assert!(
        resolv(&n).starts_with("nameserver 127.0.0.11\n"),
        "after connect: {}",
        resolv(&n)
    );
    let found = n.ok(&["exec", "late", "nslookup", "srv"]);
    assert!(found.contains(&format!("Address: {srv_ip}")), "{found}");
    let fetched = n.ok(&["exec", "late", "wget", "-qO-", "http://srv/hostname"]);
    assert_eq!(fetched.trim(), n.d().inspect("srv", "{{.Config.Hostname}}"));
    assert!(in_ns(&["ss", "-aun"]).contains("127.0.0.11"));
    assert!(in_ns(&["nft", "list", "ruleset"]).contains("127.0.0.11"));

    n.ok(&["network", "disconnect", "app", "late"]);
    assert!(
        !resolv(&n).contains("127.0.0.11"),
        "after disconnect: {}",
        resolv(&n)
    );
    eventually("the resolver's sockets to close", || {
        !in_ns(&["ss", "-atun"]).contains("127.0.0.11")
    });
    assert!(
        !in_ns(&["nft", "list", "ruleset"]).contains("127.0.0.11"),
        "DNAT left"
    );
    let gone = n.docker(&["exec", "late", "nslookup", "srv", "127.0.0.11"]);
    assert!(
        !gone.status.success(),
        "srv resolves after disconnect: {}",
        stdout(&gone)
    );
}

/// Sends `count` A queries for `name` at once to `server` from inside the namespace of process
/// `pid`, one datagram each and no retry; returns, per query answered within `wait`, its A
/// record or `rcode N` for an answer without records.
fn burst_in_netns(
    pid: &str,
    server: Ipv4Addr,
    name: &str,
    count: u16,
    wait: Duration,
) -> Vec<String> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("open the netns");
    let name = name.to_owned();
    std::thread::spawn(move || {
        // This thread only; it exits afterwards.
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let socks: Vec<UdpSocket> = (0..count)
            .map(|i| {
                let s = UdpSocket::bind("0.0.0.0:0").expect("bind a client socket");
                s.set_nonblocking(true).expect("nonblocking");
                let q: Vec<u8> = query_bytes(i, &name);
                s.send_to(&q, SocketAddr::from((server, 53)))
                    .expect("send a query");
                s
            })
            .collect();
        let mut answers: Vec<Option<String>> = vec![None; socks.len()];
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline && answers.iter().any(Option::is_none) {
            for (s, a) in socks
                .iter()
                .zip(answers.iter_mut())
                .filter(|(_, a)| a.is_none())
            {
                let mut buf = [0u8; 512];
                if let Ok(n) = s.recv(&mut buf)
                    && n >= 12
                {
                    // The A record's data (the last 4 bytes), or the rcode of an empty answer.
                    let d = &buf[n - 4..n];
                    *a = Some(if buf[6] == 0 && buf[7] == 0 {
                        format!("rcode {}", buf[3] & 0x0f)
                    } else {
                        format!("{}.{}.{}.{}", d[0], d[1], d[2], d[3])
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        answers.into_iter().flatten().collect()
    })
    .join()
    .expect("burst thread")
}

fn query_bytes(id: u16, name: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// Load with `br_netfilter` loaded (`bridge-nf-call-iptables` on, as after any dockerd):
/// 250 queries at once from each of 4 containers (1000 in flight) for a container's name and
/// 100 more each for a forwarded name, each a single datagram with no retry: every one is
/// answered (the forwarded ones by the fake upstream) within a 5 s bound, so none timed out;
/// and 100 forwarded to an upstream that never answers all get SERVFAIL within that bound.
#[test]
fn resolver_under_load_with_br_netfilter_answers_every_query() {
    let loaded_here = ensure_br_netfilter();
    let up = Upstream::start();
    let mut n = Net::start();
    n.network("load");
    n.web("srv", &["--network", "load"]);
    let srv_ip = n.ip_of("srv", "load");
    let dns = up.ip.to_string();
    let clients: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
    for c in &clients {
        n.web(c, &["--network", "load", "--dns", &dns]);
    }
    let pid = std::process::id();
    let silent_ip = Ipv4Addr::new(127, 78, (pid >> 8) as u8, pid as u8 | 1);
    let silent = UdpSocket::bind((silent_ip, 53)).expect("bind a silent upstream");
    n.web(
        "mute",
        &["--network", "load", "--dns", &silent_ip.to_string()],
    );
    let pids: Vec<String> = clients
        .iter()
        .map(|c| n.d().inspect(c, "{{.State.Pid}}"))
        .collect();
    let run = |name: &str, count: u16| -> Vec<Vec<String>> {
        std::thread::scope(|s| {
            let hs: Vec<_> = pids
                .iter()
                .map(|pid| {
                    s.spawn(move || {
                        burst_in_netns(
                            pid,
                            Ipv4Addr::new(127, 0, 0, 11),
                            name,
                            count,
                            Duration::from_secs(5),
                        )
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("client")).collect()
        })
    };
    let local = run("srv", 250);
    let forwarded = run("ext.example", 100);
    // An upstream that never answers (a bound socket that reads nothing): every query still
    // gets an answer, SERVFAIL, within the bound (the first pass's server sent nothing, so
    // clients waited out their timeouts and retried).
    let mute_pid = n.d().inspect("mute", "{{.State.Pid}}");
    let muted = burst_in_netns(
        &mute_pid,
        Ipv4Addr::new(127, 0, 0, 11),
        "ext.example",
        100,
        Duration::from_secs(5),
    );
    drop(silent);
    if loaded_here {
        let _ = Command::new("modprobe")
            .args(["-r", "br_netfilter"])
            .status();
    }
    for (c, got) in clients.iter().zip(&local) {
        assert_eq!(got.len(), 250, "{c}: {} of 250 answered", got.len());
        assert!(got.iter().all(|a| *a == srv_ip), "{c}: {got:?}");
    }
    for (c, got) in clients.iter().zip(&forwarded) {
        assert_eq!(
            got.len(),
            100,
            "{c}: {} of 100 forwarded answered",
            got.len()
        );
        assert!(got.iter().all(|a| a == "192.0.2.55"), "{c}: {got:?}");
    }
    assert_eq!(
        muted.len(),
        100,
        "{} of 100 answered with a mute upstream",
        muted.len()
    );
    assert!(muted.iter().all(|a| a == "rcode 2"), "{muted:?}");
}
