//! The shim's socket protocol.
//!
//! The shim listens on `STATE_DIR/shim.sock` (see [`SOCKET_NAME`]). A client sends one
//! [`Request`] as a single line of JSON and reads one [`Response`] line back. Simple requests
//! (`state`, `signal`, `resize`, `start`, `wait`, `shutdown`) leave the connection ready for the
//! next request line; `wait` answers only when the process has exited.
//!
//! `attach` and an attached `exec` switch the connection to a raw stream after the `ok` reply:
//! - the client's bytes go to the process's stdin (when it asked for stdin); closing the
//!   client's write side (`shutdown(SHUT_WR)`) closes the process's stdin when `close_stdin`
//!   was asked for (docker's `StdinOnce`; exec always closes it) and the process has no TTY;
//! - the process's output comes back raw when it has a TTY, otherwise framed with docker's
//!   8-byte header (see [`frame_header`]) so a daemon can forward the frames unchanged;
//! - the shim closes the connection when the process has exited and its output is drained.
//!
//! Any malformed request line gets `{"ok":false,"error":"..."}` and the connection is closed.

use serde::{Deserialize, Serialize};

use crate::status::ExitStatus;

/// The socket's file name inside the shim's state directory.
pub const SOCKET_NAME: &str = "shim.sock";
/// The longest request line the shim accepts (an exec carries a whole process spec).
pub const MAX_REQUEST_LINE: usize = 1 << 20;

/// One request line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Stream a process's stdio over this connection.
    Attach(AttachRequest),
    /// Start another process in the container.
    Exec(Box<ExecRequest>),
    /// Start the container's process (only when the shim was started with `--defer-start`).
    Start,
    /// Set the terminal size of the container's (or an exec's) PTY.
    Resize(ResizeRequest),
    /// Send a signal to the container's init (or all its processes, or an exec).
    Signal(SignalRequest),
    /// Block until the container's init (or an exec) has exited; reply with its status.
    Wait(WaitRequest),
    /// The shim's view of the container and its execs.
    State,
    /// Ask the shim to exit. Refused while the container runs; removes the socket.
    Shutdown,
}

/// Which streams an `attach` wants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttachRequest {
    /// Attach to this exec instead of the container's init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_id: Option<String>,
    /// Forward the client's bytes to the process's stdin.
    #[serde(default)]
    pub stdin: bool,
    /// Receive stdout.
    #[serde(default)]
    pub stdout: bool,
    /// Receive stderr.
    #[serde(default)]
    pub stderr: bool,
    /// Close the process's stdin when the client closes its write side (docker's StdinOnce).
    #[serde(default)]
    pub close_stdin: bool,
}

/// Start a process in the running container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// The caller's name for this exec, unique within the container.
    pub exec_id: String,
    /// What to run; `terminal` selects a PTY.
    pub process: oci_spec::runtime::Process,
    /// Give the process a stdin fed from this connection (otherwise /dev/null).
    #[serde(default)]
    pub stdin: bool,
    /// Receive stdout.
    #[serde(default)]
    pub stdout: bool,
    /// Receive stderr.
    #[serde(default)]
    pub stderr: bool,
    /// Do not attach: reply with the pid and keep the connection for further requests; the
    /// output is discarded (docker's `exec -d`).
    #[serde(default)]
    pub detach: bool,
}

/// New terminal size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeRequest {
    /// The exec to resize; the container's init when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_id: Option<String>,
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
}

/// A signal to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRequest {
    /// The exec to signal; the container's init when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_id: Option<String>,
    /// The signal number.
    pub signal: i32,
    /// Every process of the container, not just init (ignored for an exec).
    #[serde(default)]
    pub all: bool,
}

/// What to wait for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitRequest {
    /// The exec to wait for; the container's init when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_id: Option<String>,
}

/// One reply line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The pid of an exec'd process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// Whether the attached process has a TTY (then the stream is raw, not framed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    /// The exit status (`wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExitStatus>,
    /// The shim's state (`state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ShimState>,
}

impl Response {
    /// A success with nothing else to say.
    pub fn ok() -> Self {
        Response {
            ok: true,
            ..Response::default()
        }
    }

    /// A failure.
    pub fn error(message: impl Into<String>) -> Self {
        Response {
            ok: false,
            error: Some(message.into()),
            ..Response::default()
        }
    }
}

/// The lifecycle of the container as the shim sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, waiting for `start` (`--defer-start`).
    Created,
    /// The process runs.
    Running,
    /// The process has exited; its status is recorded.
    Stopped,
}

/// The reply to `state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShimState {
    /// The container id.
    pub id: String,
    /// The shim's own pid.
    pub shim_pid: i32,
    /// The container's init pid (host pid namespace).
    pub pid: i32,
    /// Where the container is in its lifecycle.
    pub status: Status,
    /// The container has a PTY.
    pub tty: bool,
    /// The container has a stdin fed by attach clients.
    pub stdin: bool,
    /// The exit status once stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
    /// Processes started by `exec`.
    #[serde(default)]
    pub execs: Vec<ExecState>,
}

/// One exec in [`ShimState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecState {
    /// The caller's exec id.
    pub exec_id: String,
    /// Its pid.
    pub pid: i32,
    /// Whether it has a PTY.
    pub tty: bool,
    /// Its exit status once it has exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
}

/// The stream a frame carries (docker's multiplexed stream byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// 0
    Stdin,
    /// 1
    Stdout,
    /// 2
    Stderr,
}

impl StreamKind {
    /// The header byte.
    pub fn byte(self) -> u8 {
        match self {
            StreamKind::Stdin => 0,
            StreamKind::Stdout => 1,
            StreamKind::Stderr => 2,
        }
    }

    /// The stream of a header byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(StreamKind::Stdin),
            1 => Some(StreamKind::Stdout),
            2 => Some(StreamKind::Stderr),
            _ => None,
        }
    }

    /// The name docker's json-file log uses.
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Stdin => "stdin",
            StreamKind::Stdout => "stdout",
            StreamKind::Stderr => "stderr",
        }
    }
}

/// Docker's 8-byte frame header: `[stream, 0, 0, 0, len as big-endian u32]`.
pub fn frame_header(stream: StreamKind, len: u32) -> [u8; 8] {
    let l = len.to_be_bytes();
    [stream.byte(), 0, 0, 0, l[0], l[1], l[2], l[3]]
}

/// Parse a frame header into its stream and payload length.
pub fn parse_frame_header(h: &[u8; 8]) -> Option<(StreamKind, u32)> {
    let stream = StreamKind::from_byte(h[0])?;
    Some((stream, u32::from_be_bytes([h[4], h[5], h[6], h[7]])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wire_format() {
        let r: Request =
            serde_json::from_str(r#"{"type":"attach","stdin":true,"stdout":true}"#).unwrap();
        assert_eq!(
            r,
            Request::Attach(AttachRequest {
                stdin: true,
                stdout: true,
                ..AttachRequest::default()
            })
        );
        let r: Request = serde_json::from_str(r#"{"type":"state"}"#).unwrap();
        assert_eq!(r, Request::State);
        let r: Request =
            serde_json::from_str(r#"{"type":"resize","width":80,"height":24}"#).unwrap();
        assert_eq!(
            r,
            Request::Resize(ResizeRequest {
                exec_id: None,
                width: 80,
                height: 24
            })
        );
        let line = serde_json::to_string(&Request::Wait(WaitRequest::default())).unwrap();
        assert_eq!(line, r#"{"type":"wait"}"#);
    }

    #[test]
    fn exec_request_carries_a_process() {
        let r: Request = serde_json::from_str(
            r#"{"type":"exec","exec_id":"e1","process":{"args":["sh"],"cwd":"/","terminal":true,"user":{"uid":0,"gid":0}},"stdin":true}"#,
        )
        .unwrap();
        match r {
            Request::Exec(e) => {
                assert_eq!(e.exec_id, "e1");
                assert_eq!(e.process.terminal(), Some(true));
                assert!(e.stdin && !e.detach);
            }
            other => panic!("not an exec: {other:?}"),
        }
    }

    #[test]
    fn malformed_requests_are_errors_not_panics() {
        for bad in [
            "",
            "{",
            "null",
            r#"{"type":"nope"}"#,
            r#"{"type":"resize","width":-1,"height":2}"#,
            r#"{"type":"signal"}"#,
            "\u{0}\u{1}",
        ] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frame_header_round_trip() {
        let h = frame_header(StreamKind::Stderr, 0x0102_0304);
        assert_eq!(h, [2, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(
            parse_frame_header(&h),
            Some((StreamKind::Stderr, 0x0102_0304))
        );
        assert_eq!(parse_frame_header(&[7, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn response_omits_empty_fields() {
        assert_eq!(
            serde_json::to_string(&Response::ok()).unwrap(),
            r#"{"ok":true}"#
        );
        assert_eq!(
            serde_json::to_string(&Response::error("no such exec")).unwrap(),
            r#"{"ok":false,"error":"no such exec"}"#
        );
    }
}
