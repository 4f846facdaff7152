//! The container log in docker's json-file format.
//!
//! One JSON object a line: `{"log":"text\n","stream":"stdout","time":"2026-11-30T14:55:01.123456789Z"}`.
//! Output is split at newlines as docker's copier does: each line keeps its `\n`; a line longer
//! than [`MAX_LINE`] is written in pieces of that size without a newline; what is left at the
//! end of the stream is written as a last partial line ([`LogWriter::finish`]).

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::protocol::StreamKind;
use crate::time;

/// The longest piece written without a newline (docker's 16 KiB).
pub const MAX_LINE: usize = 16 * 1024;

/// One line of the log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry<'a> {
    /// The text, with its newline when it had one.
    #[serde(borrow)]
    pub log: Cow<'a, str>,
    /// `stdout` or `stderr`.
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    /// When the shim read it (RFC 3339, UTC, nanoseconds).
    #[serde(borrow)]
    pub time: Cow<'a, str>,
}

/// Appends a container's stdout and stderr to its log file.
pub struct LogWriter {
    file: File,
    pending: [Vec<u8>; 2],
    out: Vec<u8>,
}

fn slot(stream: StreamKind) -> usize {
    match stream {
        StreamKind::Stderr => 1,
        _ => 0,
    }
}

impl LogWriter {
    /// Open (create, append) the log file.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogWriter {
            file,
            pending: [Vec::new(), Vec::new()],
            out: Vec::new(),
        })
    }

    /// Add output of `stream`; every complete line (and every full 16 KiB piece) is written.
    pub fn write(&mut self, stream: StreamKind, data: &[u8]) -> io::Result<()> {
        let i = slot(stream);
        let mut buf = std::mem::take(&mut self.pending[i]);
        buf.extend_from_slice(data);
        let time = time::now();
        let mut start = 0;
        while start < buf.len() {
            let rest = &buf[start..];
            let end = match rest.iter().position(|&b| b == b'\n') {
                Some(nl) if nl < MAX_LINE => nl + 1,
                _ if rest.len() >= MAX_LINE => MAX_LINE,
                _ => break,
            };
            self.encode(stream, &rest[..end], &time);
            start += end;
        }
        buf.drain(..start);
        if buf.is_empty() {
            // give the memory back: an idle shim should hold no buffers
            buf = Vec::new();
        }
        self.pending[i] = buf;
        self.flush_out()
    }

    /// Write what is left of both streams as partial lines (at the end of the output).
    pub fn finish(&mut self) -> io::Result<()> {
        let time = time::now();
        for stream in [StreamKind::Stdout, StreamKind::Stderr] {
            let buf = std::mem::take(&mut self.pending[slot(stream)]);
            if !buf.is_empty() {
                self.encode(stream, &buf, &time);
            }
        }
        self.flush_out()
    }

    fn encode(&mut self, stream: StreamKind, text: &[u8], time: &str) {
        let entry = LogEntry {
            log: String::from_utf8_lossy(text),
            stream: Cow::Borrowed(stream.name()),
            time: Cow::Borrowed(time),
        };
        // serializing plain strings into a Vec cannot fail
        if serde_json::to_writer(&mut self.out, &entry).is_ok() {
            self.out.push(b'\n');
        }
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = self.file.write_all(&self.out);
        if self.out.capacity() > 64 * 1024 {
            self.out = Vec::new();
        } else {
            self.out.clear();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(path: &Path) -> Vec<(String, String)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let e: LogEntry = serde_json::from_str(l).unwrap();
                assert_eq!(e.time.len(), 30, "{}", e.time);
                assert!(e.time.ends_with('Z'));
                (e.stream.into_owned(), e.log.into_owned())
            })
            .collect()
    }

    #[test]
    fn splits_at_newlines_and_keeps_streams_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = LogWriter::open(&p).unwrap();
        w.write(StreamKind::Stdout, b"hel").unwrap();
        w.write(StreamKind::Stderr, b"oops\n").unwrap();
        w.write(StreamKind::Stdout, b"lo\nwor").unwrap();
        w.write(StreamKind::Stdout, b"ld\n\"q\"\n").unwrap();
        w.write(StreamKind::Stdout, b"tail").unwrap();
        w.finish().unwrap();
        assert_eq!(
            entries(&p),
            vec![
                ("stderr".into(), "oops\n".into()),
                ("stdout".into(), "hello\n".into()),
                ("stdout".into(), "world\n".into()),
                ("stdout".into(), "\"q\"\n".into()),
                ("stdout".into(), "tail".into()),
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_at_16k() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = LogWriter::open(&p).unwrap();
        let mut data = vec![b'a'; MAX_LINE + 10];
        data.push(b'\n');
        w.write(StreamKind::Stdout, &data).unwrap();
        w.finish().unwrap();
        let e = entries(&p);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].1.len(), MAX_LINE);
        assert_eq!(e[1].1, format!("{}\n", "a".repeat(10)));
    }

    #[test]
    fn appends_to_an_existing_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        LogWriter::open(&p)
            .unwrap()
            .write(StreamKind::Stdout, b"one\n")
            .unwrap();
        LogWriter::open(&p)
            .unwrap()
            .write(StreamKind::Stdout, b"two\n")
            .unwrap();
        assert_eq!(entries(&p).len(), 2);
    }
}
