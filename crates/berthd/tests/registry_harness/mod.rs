//! A small rate-limiting TCP proxy in front of a real `docker-registry` (`berth-testkit`'s,
//! on 127.0.0.1) for pull and push tests, recording every request head.
//!
//! The proxy forces `Connection: close` on each request, so one connection carries one
//! request and its head can be recorded without parsing responses. It only listens on and
//! connects to 127.0.0.1, and every thread stops by itself: the accept loop when the proxy
//! is dropped (or after two minutes), a connection when either side closes or after two
//! minutes.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test file uses some of them
pub use berth_testkit::{Registry, free_port, noise, which};

/// How long any proxy thread lives at most.
const PROXY_LIFETIME: Duration = Duration::from_secs(120);

/// A TCP proxy on 127.0.0.1 to a local upstream port, sending the upstream's bytes to the
/// client at most `rate` bytes a second (0: unlimited), recording each request head.
pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    rate: Arc<AtomicU64>,
    heads: Arc<Mutex<Vec<String>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free port and forwards to `127.0.0.1:upstream`.
    pub fn start(upstream: u16, rate: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let rate = Arc::new(AtomicU64::new(rate));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (s, r, h) = (stop.clone(), rate.clone(), heads.clone());
        let accept = std::thread::spawn(move || {
            let deadline = Instant::now() + PROXY_LIFETIME;
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (s, r, h) = (s.clone(), r.clone(), h.clone());
                        std::thread::spawn(move || {
                            let _ = serve(client, upstream, &s, &r, &h);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Proxy {
            port,
            stop,
            rate,
            heads,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Changes the rate for the bytes still to send (0: unlimited).
    pub fn set_rate(&self, rate: u64) {
        self.rate.store(rate, Ordering::Relaxed);
    }

    /// The request heads seen so far (request line and headers, as sent by the client).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Forgets the recorded heads.
    pub fn clear(&self) {
        if let Ok(mut h) = self.heads.lock() {
            h.clear();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// One connection: the request head (recorded, `Connection: close` forced), then the
/// rest both ways, the upstream's side rate-limited.
fn serve(
    mut client: TcpStream,
    upstream: u16,
    stop: &AtomicBool,
    rate: &AtomicU64,
    heads: &Mutex<Vec<String>>,
) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    if let Ok(mut h) = heads.lock() {
        h.push(head.clone());
    }
    let mut out = String::new();
    for line in head.trim_end().split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    up.write_all(out.as_bytes())?;
    up.write_all(&buf[end..])?;
    // The request body, if any, until the client closes its side.
    let (mut c2, mut u2) = (client.try_clone()?, up.try_clone()?);
    let deadline = Instant::now() + PROXY_LIFETIME;
    std::thread::spawn(move || {
        let mut b = [0u8; 65536];
        while Instant::now() < deadline {
            match c2.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if u2.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = u2.shutdown(Shutdown::Write);
    });
    let started = Instant::now();
    let mut sent = 0u64;
    let mut b = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let n = up.read(&mut b)?;
        if n == 0 {
            break;
        }
        client.write_all(&b[..n])?;
        sent += n as u64;
        let r = rate.load(Ordering::Relaxed);
        if r > 0 {
            let due = Duration::from_secs_f64(sent as f64 / r as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait.min(Duration::from_secs(1)));
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
    Ok(())
}
