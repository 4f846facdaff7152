//! Typed messages between the runtime (parent) and a container process (child) over a
//! `SOCK_SEQPACKET` socketpair: one datagram per message, a file descriptor riding along with
//! `SCM_RIGHTS` where needed.
//!
//! Both ends are close-on-exec, so a successful `execve` in the child shows up as end-of-file
//! on the parent's end, and a failed one as an [`Message::Error`].

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

/// Longest error text carried in one message.
const MAX_TEXT: usize = 4000;

/// A message between parent and child.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// Parent → child: the user namespace's id maps are written.
    Mapped,
    /// Parent → child: in the cgroup; go on.
    Go,
    /// Child → parent: moved itself into the cgroup's v1 hierarchies (the parent does the
    /// rest, which would otherwise block that move for an RCU grace period).
    Joined,
    /// Child → parent: set up and waiting for `start`.
    Ready,
    /// Child → parent: the PTY master rides along.
    Pty,
    /// Child → parent: setting up failed; the rendered error chain.
    Error(String),
}

impl Message {
    fn encode(&self) -> Vec<u8> {
        match self {
            Message::Go => vec![1],
            Message::Ready => vec![2],
            Message::Pty => vec![3],
            Message::Mapped => vec![5],
            Message::Joined => vec![6],
            Message::Error(text) => {
                let mut end = text.len().min(MAX_TEXT);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let mut out = Vec::with_capacity(end + 1);
                out.push(4);
                out.extend_from_slice(&text.as_bytes()[..end]);
                out
            }
        }
    }

    fn decode(bytes: &[u8]) -> Result<Message, SyncError> {
        match bytes.split_first() {
            Some((1, [])) => Ok(Message::Go),
            Some((2, [])) => Ok(Message::Ready),
            Some((3, [])) => Ok(Message::Pty),
            Some((5, [])) => Ok(Message::Mapped),
            Some((6, [])) => Ok(Message::Joined),
            Some((4, text)) => Ok(Message::Error(String::from_utf8_lossy(text).into_owned())),
            _ => Err(SyncError::Malformed(bytes.first().copied())),
        }
    }
}

/// A failure on the sync channel.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// socketpair(2) failed.
    #[error("create sync socketpair")]
    Pair(#[source] nix::Error),
    /// sendmsg(2) failed.
    #[error("send {0:?} on sync socket")]
    Send(&'static str, #[source] nix::Error),
    /// recvmsg(2) failed.
    #[error("receive on sync socket")]
    Recv(#[source] nix::Error),
    /// A datagram that is no message.
    #[error("malformed sync message (tag {0:?})")]
    Malformed(Option<u8>),
    /// The peer closed its end before the expected message.
    #[error("sync socket closed while waiting for {0}")]
    Closed(&'static str),
    /// A different message than the expected one.
    #[error("unexpected sync message {got:?} while waiting for {want}")]
    Unexpected {
        /// What came.
        got: Message,
        /// What was awaited.
        want: &'static str,
    },
}

/// One end of the parent ↔ child channel.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// A fresh connected pair (parent end, child end), both close-on-exec.
pub fn pair() -> Result<(Channel, Channel), SyncError> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(SyncError::Pair)?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// Send a message.
    pub fn send(&self, msg: &Message) -> Result<(), SyncError> {
        self.send_with(msg, None)
    }

    /// Send a message with a file descriptor attached.
    pub fn send_with(&self, msg: &Message, fd: Option<BorrowedFd<'_>>) -> Result<(), SyncError> {
        let bytes = msg.encode();
        let iov = [IoSlice::new(&bytes)];
        let fds: [RawFd; 1] = [fd.map_or(-1, |f| f.as_raw_fd())];
        let cmsgs: &[ControlMessage<'_>] = if fd.is_some() {
            &[ControlMessage::ScmRights(&fds)]
        } else {
            &[]
        };
        sendmsg::<()>(
            self.fd.as_raw_fd(),
            &iov,
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .map_err(|e| SyncError::Send(msg.name(), e))?;
        Ok(())
    }

    /// The error the peer reported, if one is waiting (never blocks).
    pub fn pending_error(&self) -> Option<String> {
        let mut buf = [0u8; MAX_TEXT + 16];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC;
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        loop {
            let len = match recvmsg::<()>(self.fd.as_raw_fd(), &mut iov, Some(&mut cmsg), flags) {
                Ok(msg) => msg.bytes,
                Err(_) => return None,
            };
            if len == 0 {
                return None;
            }
            if let Ok(Message::Error(text)) = Message::decode(&iov[0][..len]) {
                return Some(text);
            }
        }
    }

    /// Receive the next message and any descriptor riding along; `None` at end-of-file.
    pub fn recv(&self) -> Result<Option<(Message, Option<OwnedFd>)>, SyncError> {
        let mut buf = [0u8; MAX_TEXT + 16];
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        let mut reset_seen = false;
        let (len, fd) = loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => {
                    let mut fd = None;
                    for c in msg.cmsgs().map_err(SyncError::Recv)? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for raw in fds {
                                fd = Some(crate::sys::received_fd(raw));
                            }
                        }
                    }
                    break (msg.bytes, fd);
                }
                Err(nix::Error::EINTR) => continue,
                // A peer that exits with a message of ours unread (a child whose setup failed
                // before it read `Go`) leaves ECONNRESET pending, which a seqpacket receive
                // reports once before the datagrams still queued: read on to get its error.
                Err(nix::Error::ECONNRESET) if !reset_seen => reset_seen = true,
                Err(e) => return Err(SyncError::Recv(e)),
            }
        };
        if len == 0 {
            return Ok(None);
        }
        Ok(Some((Message::decode(&buf[..len])?, fd)))
    }

    /// Wait for `want`; an [`Message::Error`] from the peer becomes `Err(Ok(text))`.
    pub fn expect(&self, want: Message) -> Result<Option<OwnedFd>, Remote> {
        let name = want.name();
        match self.recv().map_err(Remote::Sync)? {
            None => Err(Remote::Sync(SyncError::Closed(name))),
            Some((Message::Error(text), _)) => Err(Remote::Failed(text)),
            Some((got, fd)) if got == want => Ok(fd),
            Some((got, _)) => Err(Remote::Sync(SyncError::Unexpected { got, want: name })),
        }
    }

    /// Wait for end-of-file (the peer exec'd or exited) or an error report.
    pub fn expect_eof(&self) -> Result<(), Remote> {
        match self.recv().map_err(Remote::Sync)? {
            None => Ok(()),
            Some((Message::Error(text), _)) => Err(Remote::Failed(text)),
            Some((got, _)) => Err(Remote::Sync(SyncError::Unexpected {
                got,
                want: "end of file",
            })),
        }
    }

    /// The socket, e.g. to keep it across a `clone`.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }
}

/// What waiting for a peer's message may end in.
#[derive(Debug)]
pub enum Remote {
    /// The channel itself failed.
    Sync(SyncError),
    /// The peer reported an error (its rendered chain).
    Failed(String),
}

impl Message {
    fn name(&self) -> &'static str {
        match self {
            Message::Go => "go",
            Message::Mapped => "mapped",
            Message::Joined => "joined",
            Message::Ready => "ready",
            Message::Pty => "pty",
            Message::Error(_) => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let (a, b) = pair().unwrap();
        a.send(&Message::Go).unwrap();
        a.send(&Message::Error("mount proc on /proc: EPERM".into()))
            .unwrap();
        assert_eq!(b.recv().unwrap().unwrap().0, Message::Go);
        match b.expect(Message::Ready) {
            Err(Remote::Failed(text)) => assert_eq!(text, "mount proc on /proc: EPERM"),
            other => panic!("{other:?}"),
        }
        drop(a);
        assert!(b.recv().unwrap().is_none());
    }

    #[test]
    fn a_descriptor_rides_along() {
        let (a, b) = pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsFd;
        a.send_with(&Message::Pty, Some(file.as_fd())).unwrap();
        let fd = b.expect(Message::Pty).unwrap();
        assert!(fd.is_some());
    }

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let text = "é".repeat(MAX_TEXT);
        let bytes = Message::Error(text).encode();
        assert!(bytes.len() <= MAX_TEXT + 1);
        assert!(std::str::from_utf8(&bytes[1..]).is_ok());
    }
}
