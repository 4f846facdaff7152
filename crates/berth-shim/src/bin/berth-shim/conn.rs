//! One client connection: its request bytes, its output backlog, what it is doing.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use berth_shim::protocol::{Response, StreamKind, frame_header};
use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, send};

/// A client whose backlog grows past this is disconnected: a slow or dead client never
/// holds the container back, and never makes the shim grow.
pub const MAX_BACKLOG: usize = 1 << 20;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reading request lines.
    Request,
    /// Parked in `wait` for process `proc`.
    Waiting(usize),
    /// Streaming the stdio of process `proc`.
    Attached(Attach),
}

/// The streams of an attached connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attach {
    /// Index of the process.
    pub proc: usize,
    /// Forward the client's bytes to stdin.
    pub stdin: bool,
    /// Send stdout.
    pub stdout: bool,
    /// Send stderr.
    pub stderr: bool,
    /// Close the process's stdin when the client closes its write side.
    pub close_stdin: bool,
    /// Raw (TTY) rather than framed output.
    pub tty: bool,
}

/// A client.
pub struct Conn {
    /// The socket (non-blocking).
    pub stream: UnixStream,
    /// Request bytes not yet parsed.
    pub inbuf: Vec<u8>,
    /// Bytes not yet sent.
    pub out: Vec<u8>,
    /// What it is doing.
    pub mode: Mode,
    /// The client closed its write side.
    pub read_closed: bool,
    /// Close once `out` is sent.
    pub close_after_flush: bool,
    /// Broken: close now.
    pub dead: bool,
}

/// What a read from a client produced.
pub enum Input {
    /// Some bytes.
    Data(usize),
    /// Nothing now.
    WouldBlock,
    /// The client closed its write side.
    Eof,
}

impl Conn {
    /// A fresh connection reading requests.
    pub fn new(stream: UnixStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(Conn {
            stream,
            inbuf: Vec::new(),
            out: Vec::new(),
            mode: Mode::Request,
            read_closed: false,
            close_after_flush: false,
            dead: false,
        })
    }

    /// Read into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> Input {
        loop {
            match self.stream.read(buf) {
                Ok(0) => {
                    self.read_closed = true;
                    return Input::Eof;
                }
                Ok(n) => return Input::Data(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Input::WouldBlock,
                Err(_) => {
                    self.dead = true;
                    self.read_closed = true;
                    return Input::Eof;
                }
            }
        }
    }

    /// Queue a reply line.
    pub fn reply(&mut self, r: &Response) {
        match serde_json::to_vec(r) {
            Ok(mut line) => {
                line.push(b'\n');
                self.push(&line);
            }
            Err(_) => self.dead = true,
        }
    }

    /// Queue a reply line and close after it is sent.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.reply(&Response::error(message));
        self.close_after_flush = true;
    }

    /// Queue output of the attached process.
    pub fn output(&mut self, kind: StreamKind, data: &[u8], tty: bool) {
        if !tty {
            // chunks are at most READ_CHUNK long
            let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            self.push(&frame_header(kind, len));
        }
        self.push(data);
    }

    fn push(&mut self, data: &[u8]) {
        if self.dead {
            return;
        }
        if self.out.len() + data.len() > MAX_BACKLOG {
            self.dead = true;
            self.out = Vec::new();
            return;
        }
        self.out.extend_from_slice(data);
        self.flush();
    }

    /// Send what the socket takes now.
    pub fn flush(&mut self) {
        let mut sent = 0;
        while sent < self.out.len() {
            match send(
                self.stream.as_raw_fd(),
                &self.out[sent..],
                MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(n) => sent += n,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    self.dead = true;
                    break;
                }
            }
        }
        self.out.drain(..sent);
        if self.out.is_empty() && self.out.capacity() > 4096 {
            self.out = Vec::new();
        }
    }

    /// Whether it should be closed now.
    pub fn finished(&self) -> bool {
        self.dead || (self.close_after_flush && self.out.is_empty())
    }
}
