//! The client side of attach and logs streams: a hijacked connection for attach, and the
//! copying of (multiplexed or raw) output to stdout and stderr.

use std::io::Write;

use berth_api::stream::{FrameDecoder, MULTIPLEXED_STREAM, StreamType};
use http_body_util::BodyExt;
use hyper::Method;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::client::{Client, ClientError, empty};

/// Writes output bytes to stdout or stderr, demultiplexing frames unless raw.
pub struct OutputSink {
    raw: bool,
    decoder: FrameDecoder,
}

impl OutputSink {
    /// A sink for a stream of this content type (or a TTY's raw bytes).
    pub fn new(raw: bool) -> Self {
        Self {
            raw,
            decoder: FrameDecoder::new(),
        }
    }

    /// Handles received bytes.
    pub fn push(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if self.raw {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            return Ok(out.flush()?);
        }
        self.decoder.push(bytes);
        while let Some((stream, payload)) = self.decoder.next_frame()? {
            match stream {
                StreamType::Stderr | StreamType::SystemErr => {
                    let mut err = std::io::stderr().lock();
                    err.write_all(&payload)?;
                    err.flush()?;
                }
                StreamType::Stdout | StreamType::Stdin => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&payload)?;
                    out.flush()?;
                }
            }
        }
        Ok(())
    }
}

/// Copies a streamed response body (logs, non-hijacked attach) to stdout/stderr.
pub async fn copy_response(resp: hyper::Response<Incoming>) -> anyhow::Result<()> {
    let raw = resp
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(MULTIPLEXED_STREAM);
    let mut sink = OutputSink::new(raw);
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::Http)?;
        if let Ok(data) = frame.into_data() {
            sink.push(&data)?;
        }
    }
    Ok(())
}

/// An attached, hijacked connection.
pub struct Attached {
    io: TokioIo<hyper::upgrade::Upgraded>,
    raw: bool,
}

/// Attaches to a container's output (and stdin when `stdin`).
pub async fn attach(client: &Client, id: &str, stdin: bool) -> anyhow::Result<Attached> {
    let path = format!(
        "/containers/{}/attach?stream=1&stdout=1&stderr=1{}",
        crate::client::enc(id),
        if stdin { "&stdin=1" } else { "" }
    );
    let resp = client
        .send(Method::POST, &path, empty(), None, true)
        .await?;
    let raw = resp
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(MULTIPLEXED_STREAM);
    if resp.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        anyhow::bail!(
            "attach: the daemon answered {} instead of 101",
            resp.status()
        );
    }
    let upgraded = hyper::upgrade::on(resp).await.map_err(ClientError::Http)?;
    Ok(Attached {
        io: TokioIo::new(upgraded),
        raw,
    })
}

impl Attached {
    /// Copies output to stdout/stderr until the daemon closes the stream, and (when
    /// `input` is given) input to the container, half-closing at its end.
    pub async fn run<R>(self, input: Option<R>) -> anyhow::Result<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let (mut rd, mut wr) = tokio::io::split(self.io);
        if let Some(mut input) = input {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut input, &mut wr).await;
                let _ = wr.shutdown().await;
            });
        }
        let mut sink = OutputSink::new(self.raw);
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = rd.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            sink.push(&buf[..n])?;
        }
    }
}
