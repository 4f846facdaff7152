//! The parent's side of the sync channel after the clone, shared by create and exec: wait for
//! the child's `Joined`, then receive until its `Ready` (create) or end of file (exec), handing
//! a PTY master on and turning an error the child reports into [`Error::Init`].

use std::os::fd::{AsFd, OwnedFd};

use super::ConsoleMode;
use crate::error::Error;
use crate::sync::{Channel, Message, Remote};

/// In the parent: waits for the child's `Joined` (it moved itself into the v1 hierarchies),
/// turning an error it reports into [`Error::Init`].
pub(super) fn await_joined(id: &str, chan: &Channel) -> Result<(), Error> {
    match chan.expect(Message::Joined) {
        Ok(_) => Ok(()),
        Err(Remote::Failed(message)) => Err(Error::Init {
            id: id.into(),
            message,
            exit_code: 1,
        }),
        Err(Remote::Sync(e)) => Err(e.into()),
    }
}

/// Wait for the child's `Ready`, handing over a PTY master on the way.
pub(super) fn wait_ready(
    id: &str,
    chan: &Channel,
    console: &ConsoleMode,
) -> Result<Option<OwnedFd>, Error> {
    recv_until(id, chan, console, Until::Ready)
}

/// What ends [`recv_until`]: init's `Ready`, or an exec'd child closing its end.
#[derive(Clone, Copy)]
pub(super) enum Until {
    Ready,
    Eof,
}

/// Receive from the child until `until`, handing over a PTY master on the way.
pub(super) fn recv_until(
    id: &str,
    chan: &Channel,
    console: &ConsoleMode,
    until: Until,
) -> Result<Option<OwnedFd>, Error> {
    let want = match until {
        Until::Ready => "ready",
        Until::Eof => "end of file",
    };
    let mut pty_master = None;
    loop {
        match (chan.recv()?, until) {
            (Some((Message::Ready, _)), Until::Ready) | (None, Until::Eof) => {
                return Ok(pty_master);
            }
            (Some((Message::Pty, Some(master))), _) => match console {
                ConsoleMode::Socket(path) => {
                    crate::terminal::send_to_socket(path, master.as_fd())?;
                }
                ConsoleMode::Return => pty_master = Some(master),
            },
            (Some((Message::Error(message), _)), _) => {
                return Err(Error::Init {
                    id: id.into(),
                    message,
                    exit_code: 1,
                });
            }
            (Some((got, _)), _) => {
                return Err(crate::sync::SyncError::Unexpected { got, want }.into());
            }
            (None, _) => return Err(crate::sync::SyncError::Closed(want).into()),
        }
    }
}
