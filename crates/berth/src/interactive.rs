//! Interactive sessions (`run -it`, `attach`, `exec -it`): a hijacked stream, the terminal's
//! size sent at once and on every SIGWINCH, stdin forwarded from a dedicated thread, and
//! detach keys.
//!
//! Detach keys are handled by the daemon, as docker does: the client sends its sequence in
//! the request (`detachKeys`, or the exec's `DetachKeys`) and forwards every byte it reads;
//! the daemon withholds the sequence from the container, ends the stream and leaves the
//! container running. The client runs the same matcher only to know, when the stream ends,
//! that it ended by a detach (exit 0, no wait for the container).
//!
//! stdin is read on its own thread, not tokio's blocking pool: a read blocked on a terminal
//! cannot be cancelled, and the process must be free to exit when the session ends.

use std::io::Read;
use std::os::fd::AsFd;

use berth_api::detach::{DetachMatcher, Scan};
use berth_api::stream::MULTIPLEXED_STREAM;
use bytes::Bytes;
use hyper::Method;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::attach::OutputSink;
use crate::client::{Body, Client, ClientError, empty};

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The daemon closed the stream: the process has exited (or its output closed).
    Closed,
    /// The user typed the detach keys; the container runs on.
    Detached,
}

/// A hijacked stream.
pub struct Hijacked {
    io: TokioIo<hyper::upgrade::Upgraded>,
    raw: bool,
}

/// POSTs `path` asking for an upgrade and returns the hijacked connection.
pub async fn hijack(
    client: &Client,
    path: &str,
    body: Body,
    content_type: Option<&str>,
) -> anyhow::Result<Hijacked> {
    let resp = client
        .send(Method::POST, path, body, content_type, true)
        .await?;
    let raw = resp
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(MULTIPLEXED_STREAM);
    if resp.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        anyhow::bail!("the daemon answered {} instead of 101", resp.status());
    }
    let upgraded = hyper::upgrade::on(resp).await.map_err(ClientError::Http)?;
    Ok(Hijacked {
        io: TokioIo::new(upgraded),
        raw,
    })
}

/// What a session does besides copying.
pub struct Options<'a> {
    /// Forward stdin.
    pub stdin: bool,
    /// The parsed detach sequence (empty: none).
    pub detach_keys: Vec<u8>,
    /// Where to POST `?h=&w=` when the terminal's size changes (TTY sessions).
    pub resize_path: Option<String>,
    /// Where to POST `?signal=` for SIGINT/SIGTERM (docker's `--sig-proxy`, without a TTY).
    pub kill_path: Option<String>,
    /// The daemon.
    pub client: &'a Client,
}

/// The terminal's size `(rows, columns)`, when stdout (or stdin) is a terminal.
pub fn terminal_size() -> Option<(u16, u16)> {
    let out = std::io::stdout();
    let inp = std::io::stdin();
    for fd in [out.as_fd(), inp.as_fd()] {
        if rustix::termios::isatty(fd)
            && let Ok(ws) = rustix::termios::tcgetwinsize(fd)
            && ws.ws_row > 0
            && ws.ws_col > 0
        {
            return Some((ws.ws_row, ws.ws_col));
        }
    }
    None
}

/// Sends the terminal's size to `path`; errors are ignored as docker's CLI does (the
/// process may have exited).
pub async fn send_size(client: &Client, path: &str) {
    if let Some((h, w)) = terminal_size() {
        let _ = client
            .send(
                Method::POST,
                &format!("{path}?h={h}&w={w}"),
                empty(),
                None,
                false,
            )
            .await;
    }
}

/// Reads stdin on a thread; the channel ends at end of input.
fn stdin_reader() -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(16);
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut buf = vec![0u8; 32 * 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        });
    if spawned.is_err() {
        // No thread: behave as an empty stdin.
        return mpsc::channel(1).1;
    }
    rx
}

impl Hijacked {
    /// Copies output to stdout/stderr and stdin to the stream until the daemon closes it.
    pub async fn run(self, opts: Options<'_>) -> anyhow::Result<End> {
        let (mut rd, mut wr) = tokio::io::split(self.io);
        let (detached_tx, mut detached_rx) = tokio::sync::watch::channel(false);
        if opts.stdin {
            let mut input = stdin_reader();
            let mut matcher = DetachMatcher::new(opts.detach_keys);
            tokio::spawn(async move {
                while let Some(b) = input.recv().await {
                    if wr.write_all(&b).await.is_err() {
                        return;
                    }
                    if matches!(matcher.scan(&b), Scan::Detach(_)) {
                        let _ = detached_tx.send(true);
                        // The daemon ends the stream; the write half stays open meanwhile.
                        std::future::pending::<()>().await;
                    }
                }
                let _ = wr.shutdown().await;
                std::future::pending::<()>().await;
            });
        }
        let mut winch = match (&opts.resize_path, self.raw) {
            (Some(path), true) => {
                send_size(opts.client, path).await;
                signal(SignalKind::window_change()).ok()
            }
            _ => None,
        };
        let mut int = opts
            .kill_path
            .as_ref()
            .and_then(|_| signal(SignalKind::interrupt()).ok());
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut sink = OutputSink::new(self.raw);
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            tokio::select! {
                n = rd.read(&mut buf) => {
                    let n = n?;
                    if n == 0 {
                        break;
                    }
                    sink.push(&buf[..n])?;
                }
                Some(()) = recv(&mut winch) => {
                    if let Some(path) = &opts.resize_path {
                        send_size(opts.client, path).await;
                    }
                }
                Some(()) = recv(&mut int) => {
                    proxy(opts.client, opts.kill_path.as_deref(), "SIGINT").await;
                }
                Some(()) = recv(&mut term) => {
                    if opts.kill_path.is_some() {
                        proxy(opts.client, opts.kill_path.as_deref(), "SIGTERM").await;
                    } else {
                        // Leave cleanly so the terminal is restored.
                        return Ok(End::Detached);
                    }
                }
                Some(()) = recv(&mut hup) => return Ok(End::Detached),
                Ok(()) = detached_rx.changed() => {
                    // Keep reading: the daemon closes the stream right after the keys.
                }
            }
        }
        Ok(if *detached_rx.borrow() {
            End::Detached
        } else {
            End::Closed
        })
    }
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn proxy(client: &Client, path: Option<&str>, sig: &str) {
    if let Some(path) = path {
        let _ = client
            .send(
                Method::POST,
                &format!("{path}?signal={sig}"),
                empty(),
                None,
                false,
            )
            .await;
    }
}
