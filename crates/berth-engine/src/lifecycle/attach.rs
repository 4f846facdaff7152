//! `attach`: a session bridged to the shim's attach stream.
//!
//! docker's clients attach before they start (`run`, `start -a`), when no shim exists yet,
//! so a session on a container without a process waits in the container's pending list;
//! start spawns the shim with `--defer-start`, connects every pending session, and only
//! then lets the process run, so no output is lost. A session on a running container
//! connects at once.

use berth_api::stream::{StreamType, read_frame};
use berth_shim::protocol::AttachRequest;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::logs::{self, LogsOptions};
use crate::table::Engine;

/// What an attach asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Replay the log first.
    pub logs: bool,
    /// Stream live output.
    pub stream: bool,
    /// Forward the client's input to the container's stdin (needs `OpenStdin`).
    pub stdin: bool,
    /// Send stdout.
    pub stdout: bool,
    /// Send stderr.
    pub stderr: bool,
}

/// A piece of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Stdout or stderr (always stdout with a TTY).
    pub stream: StreamType,
    /// The bytes.
    pub data: Bytes,
}

/// Output as it is produced; ends when the sender goes.
#[derive(Debug)]
pub struct Output {
    /// The container has a TTY: raw bytes, not frames.
    pub tty: bool,
    /// The chunks; an `Err` ends the stream with that error.
    pub rx: mpsc::Receiver<Result<Chunk, EngineError>>,
}

/// An attached session.
#[derive(Debug)]
pub struct AttachSession {
    /// The output.
    pub output: Output,
    /// The container's stdin, when asked for and open; dropping it closes the stream's input.
    pub stdin: Option<mpsc::Sender<Bytes>>,
}

/// A session waiting for its container's shim.
#[derive(Debug)]
pub(crate) struct PendingAttach {
    pub out: mpsc::Sender<Result<Chunk, EngineError>>,
    pub stdin: Option<mpsc::Receiver<Bytes>>,
    pub stdout: bool,
    pub stderr: bool,
    pub stdin_once: bool,
}

impl Engine {
    /// `POST /containers/{id}/attach`.
    pub async fn attach(&self, name: &str, opts: AttachOptions) -> Result<AttachSession> {
        let c = self.lookup(name)?;
        let rec = c.record();
        let tty = rec.config.tty;
        let (out_tx, out_rx) = mpsc::channel(64);
        let (stdin_tx, stdin_rx) = if opts.stdin && rec.config.open_stdin {
            let (t, r) = mpsc::channel(16);
            (Some(t), Some(r))
        } else {
            (None, None)
        };
        let pending = PendingAttach {
            out: out_tx,
            stdin: stdin_rx,
            stdout: opts.stdout,
            stderr: opts.stderr,
            stdin_once: rec.config.stdin_once,
        };
        if opts.logs {
            let lo = LogsOptions {
                stdout: opts.stdout,
                stderr: opts.stderr,
                ..LogsOptions::default()
            };
            logs::replay(&self.log_path(&c.id), &lo, &pending.out).await;
        }
        if opts.stream {
            // Under the op lock, so a start in progress either sees this session in the
            // pending list or has finished and it connects at once.
            let _op = c.op.lock().await;
            if c.status().has_process() {
                self.connect_attach(&c.id, pending).await;
            } else {
                c.add_pending(pending);
            }
            self.emit(&rec, "attach", &[]);
        }
        Ok(AttachSession {
            output: Output { tty, rx: out_rx },
            stdin: stdin_tx,
        })
    }

    /// Connects a session to the shim's attach stream; returns once the shim has accepted
    /// it (so output produced after this is not missed), then copies in the background.
    pub(crate) async fn connect_attach(&self, id: &str, p: PendingAttach) {
        let client = self.shim(id);
        let req = AttachRequest {
            exec_id: None,
            stdin: p.stdin.is_some(),
            stdout: p.stdout,
            stderr: p.stderr,
            close_stdin: p.stdin_once,
        };
        let stream = tokio::task::spawn_blocking(move || client.attach(req)).await;
        let stream = match stream {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let _ = p.out.send(Err(EngineError::Shim(id.to_owned(), e))).await;
                return;
            }
            Err(e) => {
                let _ = p.out.send(Err(EngineError::Task(e.to_string()))).await;
                return;
            }
        };
        let id = id.to_owned();
        tokio::spawn(async move {
            if let Err(e) = pump(stream, p).await {
                tracing::debug!("attach to {id} ended: {e}");
            }
        });
    }
}

/// Copies the shim stream's output to the session and the session's input to the shim.
pub(crate) async fn pump(
    stream: berth_shim::client::AttachStream,
    p: PendingAttach,
) -> std::io::Result<()> {
    let tty = stream.tty();
    let sock = stream.socket().try_clone()?;
    drop(stream);
    sock.set_nonblocking(true)?;
    let sock = tokio::net::UnixStream::from_std(sock)?;
    let (mut rd, mut wr) = sock.into_split();
    let PendingAttach { out, stdin, .. } = p;
    // Without stdin the write half stays open (unused) until the output ends, so the shim
    // never sees an early end of input.
    let _hold = match stdin {
        Some(mut input) => {
            tokio::spawn(async move {
                while let Some(b) = input.recv().await {
                    if wr.write_all(&b).await.is_err() {
                        return;
                    }
                }
                let _ = wr.shutdown().await;
            });
            None
        }
        None => Some(wr),
    };
    if tty {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // A session dropped by its client ends the shim connection at once, even
            // while the container prints nothing.
            let n = tokio::select! {
                n = rd.read(&mut buf) => n?,
                () = out.closed() => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            let chunk = Chunk {
                stream: StreamType::Stdout,
                data: Bytes::copy_from_slice(&buf[..n]),
            };
            if out.send(Ok(chunk)).await.is_err() {
                return Ok(());
            }
        }
    }
    loop {
        let frame = tokio::select! {
            f = read_frame(&mut rd) => f,
            () = out.closed() => return Ok(()),
        };
        match frame {
            Ok(Some((stream, data))) => {
                let chunk = Chunk {
                    stream,
                    data: Bytes::from(data),
                };
                if out.send(Ok(chunk)).await.is_err() {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
    }
}
