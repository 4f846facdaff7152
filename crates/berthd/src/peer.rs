//! The client's end of a connection, kept for hijacked streams.
//!
//! A client that hijacks a connection (attach, exec start) reads the `101` reply through a
//! buffered HTTP reader and then switches to the raw socket; docker-py (through Python's
//! `http.client`) drops whatever its buffer read past the headers. dockerd gets away with it
//! because its exec takes tens of milliseconds to start; berth's output of a quick `echo`
//! can arrive with the headers and be lost. So a hijacked stream writes nothing until the
//! client has read the reply: on a unix socket the kernel counts the bytes the peer has not
//! read yet (`SIOCOUTQ`), and the stream waits for that count to reach zero.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::UnixListener;

/// How long a stream waits for its client to read the reply before it writes regardless.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// A duplicate of the connection's socket, to ask how much of the reply the client has read.
#[derive(Debug, Clone, Default)]
pub struct PeerSocket(Option<Arc<OwnedFd>>);

impl Connected<IncomingStream<'_, UnixListener>> for PeerSocket {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        // Without a duplicate (out of descriptors) streams just do not wait.
        PeerSocket(stream.io().as_fd().try_clone_to_owned().ok().map(Arc::new))
    }
}

impl PeerSocket {
    /// Waits until the client has read everything sent so far (at most [`DRAIN_LIMIT`]),
    /// then lets go of the duplicate so the connection closes with its stream.
    pub async fn drained(self) {
        let Some(fd) = self.0 else { return };
        let mut pause = Duration::from_micros(200);
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        while matches!(unread(&fd), Some(n) if n > 0) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

/// The bytes sent on `fd` that the peer has not read yet; `None` if the kernel won't say.
#[allow(unsafe_code)]
fn unread(fd: &OwnedFd) -> Option<i32> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) on a socket writes one c_int through the pointer, which
    // points at a live local; the fd is open for the call's duration.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    (r == 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn counts_what_the_peer_has_not_read() {
        let (mut a, mut b) = UnixStream::pair().expect("socketpair");
        let fd = a.as_fd().try_clone_to_owned().expect("dup");
        assert_eq!(unread(&fd), Some(0));
        a.write_all(b"HTTP/1.1 101 UPGRADED\r\n\r\n")
            .expect("write");
        assert!(unread(&fd).is_some_and(|n| n > 0));
        let mut buf = [0u8; 64];
        let n = b.read(&mut buf).expect("read");
        assert_eq!(n, 25);
        assert_eq!(unread(&fd), Some(0));
    }
}
