//! The multiplexed stream framing of attach and logs when the container has no TTY.
//!
//! Each frame is an 8-byte header — the stream byte (0 stdin, 1 stdout, 2 stderr, 3 the
//! daemon's own error), three zero bytes, the payload length as a big-endian `u32` —
//! followed by the payload. With a TTY the stream is raw bytes and none of this applies.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Content type of a hijacked or logs stream without TTY.
pub const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";
/// Content type of a hijacked or logs stream with a TTY.
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";

/// Length of a frame header.
pub const HEADER_LEN: usize = 8;

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    /// Standard input (written by clients only).
    Stdin = 0,
    /// Standard output.
    Stdout = 1,
    /// Standard error.
    Stderr = 2,
    /// An error of the daemon, written in place of further output.
    SystemErr = 3,
}

impl StreamType {
    /// The stream of a header's first byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Stdin,
            1 => Self::Stdout,
            2 => Self::Stderr,
            3 => Self::SystemErr,
            _ => return None,
        })
    }
}

/// A malformed frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The header's stream byte is not 0-3.
    #[error("invalid stream type {0} in frame header")]
    BadStream(u8),
    /// Reading or writing failed.
    #[error("stream i/o")]
    Io(#[source] io::Error),
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame")]
    Truncated,
}

/// The header of a frame of `len` payload bytes. Payloads longer than `u32::MAX` must be
/// split by the caller ([`encode`] does).
pub fn header(stream: StreamType, len: u32) -> [u8; HEADER_LEN] {
    let l = len.to_be_bytes();
    [stream as u8, 0, 0, 0, l[0], l[1], l[2], l[3]]
}

/// Appends `payload` to `out` as frames; an empty payload writes nothing.
pub fn encode(stream: StreamType, payload: &[u8], out: &mut Vec<u8>) {
    for chunk in payload.chunks(u32::MAX as usize) {
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&header(stream, len));
        out.extend_from_slice(chunk);
    }
}

/// Writes `payload` as frames.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    stream: StreamType,
    payload: &[u8],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(HEADER_LEN + payload.len());
    encode(stream, payload, &mut buf);
    w.write_all(&buf).await
}

/// Reads one frame; `Ok(None)` at a clean end of stream (between frames).
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<Option<(StreamType, Vec<u8>)>, FrameError> {
    let mut h = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        let n = r.read(&mut h[got..]).await.map_err(FrameError::Io)?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(FrameError::Truncated)
            };
        }
        got += n;
    }
    let stream = StreamType::from_byte(h[0]).ok_or(FrameError::BadStream(h[0]))?;
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await.map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Io(e)
        }
    })?;
    Ok(Some((stream, payload)))
}

/// An incremental decoder: feed bytes as they arrive, take whole frames out.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<(StreamType, Vec<u8>)>, FrameError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let stream =
            StreamType::from_byte(self.buf[0]).ok_or(FrameError::BadStream(self.buf[0]))?;
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some((stream, payload)))
    }

    /// Bytes buffered but not yet returned as a frame (a partial frame at end of stream).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        assert_eq!(
            header(StreamType::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn decoder_handles_split_input() {
        let mut wire = Vec::new();
        encode(StreamType::Stdout, b"hello\n", &mut wire);
        encode(StreamType::Stderr, b"", &mut wire);
        encode(StreamType::Stderr, b"oops", &mut wire);
        let mut d = FrameDecoder::new();
        let mut frames = Vec::new();
        for b in &wire {
            d.push(std::slice::from_ref(b));
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(
            frames,
            vec![
                (StreamType::Stdout, b"hello\n".to_vec()),
                (StreamType::Stderr, b"oops".to_vec()),
            ]
        );
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn decoder_rejects_bad_stream_byte() {
        let mut d = FrameDecoder::new();
        d.push(&[9, 0, 0, 0, 0, 0, 0, 1, b'x']);
        assert!(matches!(d.next_frame(), Err(FrameError::BadStream(9))));
    }

    #[tokio::test]
    async fn async_roundtrip_and_truncation() {
        let mut wire = Vec::new();
        write_frame(&mut wire, StreamType::Stdout, b"abc")
            .await
            .unwrap();
        let mut r = &wire[..];
        assert_eq!(
            read_frame(&mut r).await.unwrap(),
            Some((StreamType::Stdout, b"abc".to_vec()))
        );
        assert!(read_frame(&mut r).await.unwrap().is_none());
        let mut cut = &wire[..5];
        assert!(matches!(
            read_frame(&mut cut).await,
            Err(FrameError::Truncated)
        ));
        let mut cut = &wire[..9];
        assert!(matches!(
            read_frame(&mut cut).await,
            Err(FrameError::Truncated)
        ));
    }
}
