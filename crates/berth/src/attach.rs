//! The copying of (multiplexed or raw) output to stdout and stderr, for logs and attach
//! streams (the hijacked connection itself is in [`crate::interactive`]).

use std::io::Write;

use berth_api::stream::{FrameDecoder, MULTIPLEXED_STREAM, StreamType};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::client::ClientError;

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
