//! A blocking client for the shim's socket (std `UnixStream`), for the engine and for tests.
//!
//! Every call opens its own connection, so calls may be made from several threads at once.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use crate::protocol::{
    AttachRequest, ExecRequest, Request, ResizeRequest, Response, ShimState, SignalRequest,
    StreamKind, WaitRequest, parse_frame_header,
};
use crate::status::ExitStatus;

/// Errors talking to a shim.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("connect to shim socket {path}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Sending the request or reading the reply failed.
    #[error("talk to shim")]
    Io(#[from] io::Error),
    /// The reply was not JSON the client understands.
    #[error("parse shim reply")]
    Reply(#[source] serde_json::Error),
    /// The shim closed the connection without replying.
    #[error("shim closed the connection without a reply")]
    NoReply,
    /// The shim refused the request.
    #[error("shim: {0}")]
    Refused(String),
    /// The reply lacks a field the request must return.
    #[error("shim reply lacks {0}")]
    Missing(&'static str),
}

/// A shim's socket.
#[derive(Debug, Clone)]
pub struct ShimClient {
    socket: PathBuf,
}

impl ShimClient {
    /// A client for the socket at `socket` (`STATE_DIR/shim.sock`).
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        ShimClient {
            socket: socket.into(),
        }
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn connect(&self) -> Result<UnixStream, ClientError> {
        UnixStream::connect(&self.socket).map_err(|source| ClientError::Connect {
            path: self.socket.clone(),
            source,
        })
    }

    /// Send one request on a fresh connection and read its reply; the connection is returned
    /// for requests that continue as a stream.
    fn call(&self, req: &Request) -> Result<(Response, UnixStream), ClientError> {
        let mut s = self.connect()?;
        let mut line = serde_json::to_vec(req).map_err(ClientError::Reply)?;
        line.push(b'\n');
        s.write_all(&line)?;
        let resp = read_reply(&mut s)?;
        if !resp.ok {
            return Err(ClientError::Refused(
                resp.error.unwrap_or_else(|| "request failed".into()),
            ));
        }
        Ok((resp, s))
    }

    /// The shim's state.
    pub fn state(&self) -> Result<ShimState, ClientError> {
        self.call(&Request::State)?
            .0
            .state
            .ok_or(ClientError::Missing("state"))
    }

    /// Start the container (after `--defer-start`).
    pub fn start(&self) -> Result<(), ClientError> {
        self.call(&Request::Start).map(drop)
    }

    /// Send `signal` to init (`all`: every process of the container) or to an exec.
    pub fn signal(&self, exec_id: Option<&str>, signal: i32, all: bool) -> Result<(), ClientError> {
        self.call(&Request::Signal(SignalRequest {
            exec_id: exec_id.map(str::to_owned),
            signal,
            all,
        }))
        .map(drop)
    }

    /// Set the PTY size of init or an exec.
    pub fn resize(
        &self,
        exec_id: Option<&str>,
        width: u16,
        height: u16,
    ) -> Result<(), ClientError> {
        self.call(&Request::Resize(ResizeRequest {
            exec_id: exec_id.map(str::to_owned),
            width,
            height,
        }))
        .map(drop)
    }

    /// Block until init (or an exec) has exited and return its status.
    pub fn wait(&self, exec_id: Option<&str>) -> Result<ExitStatus, ClientError> {
        self.call(&Request::Wait(WaitRequest {
            exec_id: exec_id.map(str::to_owned),
        }))?
        .0
        .status
        .ok_or(ClientError::Missing("status"))
    }

    /// Ask the shim to exit (after the container has exited).
    pub fn shutdown(&self) -> Result<(), ClientError> {
        self.call(&Request::Shutdown).map(drop)
    }

    /// Attach to init or an exec.
    pub fn attach(&self, req: AttachRequest) -> Result<AttachStream, ClientError> {
        let (resp, stream) = self.call(&Request::Attach(req))?;
        Ok(AttachStream {
            stream,
            tty: resp.tty.unwrap_or(false),
        })
    }

    /// Start a process in the container. Returns its pid and, unless `req.detach`, the stream.
    pub fn exec(&self, req: ExecRequest) -> Result<(i32, Option<AttachStream>), ClientError> {
        let detach = req.detach;
        let (resp, stream) = self.call(&Request::Exec(Box::new(req)))?;
        let pid = resp.pid.ok_or(ClientError::Missing("pid"))?;
        let attach = (!detach).then(|| AttachStream {
            stream,
            tty: resp.tty.unwrap_or(false),
        });
        Ok((pid, attach))
    }
}

/// Read one reply line byte by byte, so no stream bytes after it are consumed.
fn read_reply(s: &mut UnixStream) -> Result<Response, ClientError> {
    let mut line = Vec::with_capacity(128);
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(0) => return Err(ClientError::NoReply),
            Ok(_) if b[0] == b'\n' => break,
            Ok(_) => line.push(b[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    serde_json::from_slice(&line).map_err(ClientError::Reply)
}

/// An attached stream: write stdin, read output (framed without a TTY, raw with one).
#[derive(Debug)]
pub struct AttachStream {
    stream: UnixStream,
    tty: bool,
}

impl AttachStream {
    /// Whether the process has a TTY (raw output) or not (framed output).
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// The underlying socket.
    pub fn socket(&self) -> &UnixStream {
        &self.stream
    }

    /// Close the write side: the process's stdin closes when the attach asked for it.
    pub fn close_stdin(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Read one frame (no TTY); `None` at the end of the stream.
    pub fn read_frame(&mut self) -> io::Result<Option<(StreamKind, Vec<u8>)>> {
        let mut h = [0u8; 8];
        match self.stream.read_exact(&mut h) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let (kind, len) = parse_frame_header(&h)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad frame header"))?;
        let mut data = vec![0u8; len as usize];
        self.stream.read_exact(&mut data)?;
        Ok(Some((kind, data)))
    }

    /// Read frames to the end; returns (stdout, stderr). With a TTY everything is stdout.
    pub fn read_to_end(&mut self) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        if self.tty {
            self.stream.read_to_end(&mut out)?;
            return Ok((out, err));
        }
        while let Some((kind, data)) = self.read_frame()? {
            match kind {
                StreamKind::Stderr => err.extend_from_slice(&data),
                _ => out.extend_from_slice(&data),
            }
        }
        Ok((out, err))
    }
}

impl Read for AttachStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for AttachStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
