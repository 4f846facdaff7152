//! The container log in docker's json-file format.
//!
//! One JSON object a line: `{"log":"text\n","stream":"stdout","time":"2026-11-30T14:55:01.123456789Z"}`.
//! Output is split at newlines as docker's copier does: each line keeps its `\n`; a line longer
//! than [`MAX_LINE`] is written in pieces of that size without a newline; what is left at the
//! end of the stream is written as a last partial line ([`LogWriter::finish`]).
//!
//! Rotation (docker's json-file `max-size`, `max-file`, `compress`) happens here, where the
//! log is written: before a write would take the file past `max_size`, `c.log.(n-1)` is
//! dropped, `c.log.i` becomes `c.log.(i+1)`, `c.log` becomes `c.log.1` (gzipped to
//! `c.log.1.gz` with `compress`) and a new `c.log` is started. With `max_file` 1 the file
//! is truncated instead. [`rotated_files`] lists what a reader must read, oldest first.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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

/// When to rotate the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before the file would grow past this many bytes; 0 never rotates.
    pub max_size: u64,
    /// Files kept, the live one included (at least 1).
    pub max_file: u32,
    /// Gzip the rotated files.
    pub compress: bool,
}

impl Rotation {
    /// No rotation.
    pub const NEVER: Rotation = Rotation {
        max_size: 0,
        max_file: 1,
        compress: false,
    };
}

/// The path of rotated file `i` (1 is the newest) of the log at `path`.
pub fn rotated_path(path: &Path, i: u32, compressed: bool) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{i}"));
    if compressed {
        name.push(".gz");
    }
    PathBuf::from(name)
}

/// The rotated files of the log at `path` that exist, oldest first, each with whether it
/// is gzipped. The live file itself is not included.
pub fn rotated_files(path: &Path) -> Vec<(PathBuf, bool)> {
    let mut found = Vec::new();
    let mut i = 1;
    loop {
        let plain = rotated_path(path, i, false);
        let gz = rotated_path(path, i, true);
        if plain.exists() {
            found.push((plain, false));
        } else if gz.exists() {
            found.push((gz, true));
        } else {
            break;
        }
        i += 1;
    }
    found.reverse();
    found
}

/// Appends a container's stdout and stderr to its log file.
pub struct LogWriter {
    file: File,
    path: PathBuf,
    size: u64,
    rotation: Rotation,
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
    /// Open (create, append) the log file; never rotate.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_rotating(path, Rotation::NEVER)
    }

    /// Open (create, append) the log file, rotating as `rotation` says.
    pub fn open_rotating(path: &Path, rotation: Rotation) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            file,
            path: path.to_owned(),
            size,
            rotation,
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
        let r = self.write_rotating();
        if self.out.capacity() > 64 * 1024 {
            self.out = Vec::new();
        } else {
            self.out.clear();
        }
        r
    }
}

impl LogWriter {
    /// Writes `out`, whole lines at a time, rotating first whenever the next lines would take
    /// the file past `max_size` (an empty file takes a line whatever its size).
    fn write_rotating(&mut self) -> io::Result<()> {
        let max = self.rotation.max_size;
        if max == 0 {
            self.file.write_all(&self.out)?;
            self.size += self.out.len() as u64;
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let mut start = 0;
        let r = (|| {
            while start < out.len() {
                // as many whole lines as fit
                let mut end = start;
                while end < out.len() {
                    let next = out[end..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(out.len(), |i| end + i + 1);
                    let fits = self.size + (next - start) as u64 <= max;
                    if !fits && (end > start || self.size > 0) {
                        break;
                    }
                    end = next;
                }
                if end == start {
                    self.rotate()?;
                    continue;
                }
                self.file.write_all(&out[start..end])?;
                self.size += (end - start) as u64;
                start = end;
            }
            Ok(())
        })();
        self.out = out;
        r
    }

    /// Shifts the rotated files and starts a new live file (truncates it with one file).
    fn rotate(&mut self) -> io::Result<()> {
        let r = self.rotation;
        self.size = 0;
        if r.max_file <= 1 {
            return self.file.set_len(0);
        }
        let oldest = r.max_file - 1;
        for gz in [false, true] {
            match std::fs::remove_file(rotated_path(&self.path, oldest, gz)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        for i in (1..oldest).rev() {
            for gz in [false, true] {
                let from = rotated_path(&self.path, i, gz);
                if from.exists() {
                    std::fs::rename(&from, rotated_path(&self.path, i + 1, gz))?;
                }
            }
        }
        let first = rotated_path(&self.path, 1, false);
        std::fs::rename(&self.path, &first)?;
        self.file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&self.path)?;
        if r.compress {
            gzip(&first, &rotated_path(&self.path, 1, true))?;
        }
        Ok(())
    }
}

/// Gzips `from` into `to` (through a temporary file, then renamed) and removes `from`.
fn gzip(from: &Path, to: &Path) -> io::Result<()> {
    let mut input = File::open(from)?;
    berth_runtime::fsutil::replace_with(to, Default::default(), |out| {
        let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        io::copy(&mut input, &mut enc)?;
        enc.finish().map(drop)
    })?;
    std::fs::remove_file(from)
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
    fn rotates_keeps_max_file_and_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let rot = Rotation {
            max_size: 300,
            max_file: 3,
            compress: true,
        };
        let mut w = LogWriter::open_rotating(&p, rot).unwrap();
        // one big read of many lines, then line by line
        let batch: String = (0..20).map(|i| format!("line {i:03}\n")).collect();
        w.write(StreamKind::Stdout, batch.as_bytes()).unwrap();
        for i in 20..40 {
            w.write(StreamKind::Stdout, format!("line {i:03}\n").as_bytes())
                .unwrap();
        }
        let files = rotated_files(&p);
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(files.iter().all(|(f, gz)| *gz && f.exists()));
        assert!(std::fs::metadata(&p).unwrap().len() <= 300);
        // the newest lines are all there, in order, across the files
        let mut text = String::new();
        for (f, _) in &files {
            let mut d = flate2::read::GzDecoder::new(File::open(f).unwrap());
            std::io::Read::read_to_string(&mut d, &mut text).unwrap();
        }
        text.push_str(&std::fs::read_to_string(&p).unwrap());
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<LogEntry>(l)
                    .unwrap()
                    .log
                    .into_owned()
            })
            .collect();
        assert_eq!(lines.last().unwrap(), "line 039\n");
        let first: usize = lines[0][5..8].parse().unwrap();
        let want: Vec<String> = (first..40).map(|i| format!("line {i:03}\n")).collect();
        assert_eq!(lines, want);
        // a single file is truncated in place
        let q = dir.path().join("d.log");
        let one = Rotation {
            max_size: 100,
            max_file: 1,
            compress: false,
        };
        let mut w = LogWriter::open_rotating(&q, one).unwrap();
        for _ in 0..10 {
            w.write(StreamKind::Stdout, b"0123456789\n").unwrap();
        }
        assert!(rotated_files(&q).is_empty());
        assert!(std::fs::metadata(&q).unwrap().len() <= 100);
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
