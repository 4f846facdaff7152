//! `logs`: the shim's json-file log read back (stdout/stderr, since, until, tail,
//! timestamps), and followed while the container runs.
//!
//! The shim rotates the log (`c.log` → `c.log.1[.gz]` → ...; see `berth_shim::logfile`), so
//! a read starts with the rotated files, oldest first (gzipped ones decompressed), then the
//! live file. A follower keeps the live file's inode and offset; when the inode changes the
//! file was rotated, and the rest of the old one is read from `c.log.1` (or `.1.gz`) before
//! the new one from its start.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use berth_api::stream::StreamType;
use berth_shim::logfile::LogEntry;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::lifecycle::attach::{Chunk, Output};
use crate::table::Engine;

/// How often a follower looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsOptions {
    /// Keep streaming while the container runs.
    pub follow: bool,
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
    /// Only entries at or after this time.
    pub since: Option<SystemTime>,
    /// Only entries before this time.
    pub until: Option<SystemTime>,
    /// Prefix each entry with its timestamp and a space.
    pub timestamps: bool,
    /// Only the last n entries.
    pub tail: Option<usize>,
}

struct Line {
    stream: StreamType,
    text: String,
    time: String,
    at: Option<SystemTime>,
}

fn parse_line(l: &str, need_time: bool) -> Option<Line> {
    let e: LogEntry = serde_json::from_str(l).ok()?;
    let stream = match e.stream.as_ref() {
        "stderr" => StreamType::Stderr,
        _ => StreamType::Stdout,
    };
    // parsing the time is most of a line's cost: only when a filter needs it
    let at = if need_time {
        chrono::DateTime::parse_from_rfc3339(&e.time)
            .ok()
            .map(SystemTime::from)
    } else {
        None
    };
    Some(Line {
        stream,
        text: e.log.into_owned(),
        time: e.time.into_owned(),
        at,
    })
}

fn wanted(l: &Line, o: &LogsOptions) -> bool {
    let stream_ok = match l.stream {
        StreamType::Stderr => o.stderr,
        _ => o.stdout,
    };
    let since_ok = match (o.since, l.at) {
        (Some(s), Some(t)) => t >= s,
        _ => true,
    };
    let until_ok = match (o.until, l.at) {
        (Some(u), Some(t)) => t < u,
        _ => true,
    };
    stream_ok && since_ok && until_ok
}

fn chunk(l: Line, o: &LogsOptions) -> Chunk {
    let data = if o.timestamps {
        format!("{} {}", rfc3339_nano(&l.time), l.text)
    } else {
        l.text
    };
    Chunk {
        stream: l.stream,
        data: Bytes::from(data),
    }
}

/// Go's `RFC3339Nano`, as docker prints timestamps: trailing zeros of the fraction dropped.
fn rfc3339_nano(t: &str) -> String {
    match (t.find('.'), t.strip_suffix('Z')) {
        (Some(dot), Some(body)) => {
            let frac = body[dot + 1..].trim_end_matches('0');
            if frac.is_empty() {
                format!("{}Z", &body[..dot])
            } else {
                format!("{}.{frac}Z", &body[..dot])
            }
        }
        _ => t.to_owned(),
    }
}

/// Sends the whole lines of `text` that pass the options; returns false when the receiver
/// is gone.
async fn send_lines(
    text: &str,
    o: &LogsOptions,
    tail: Option<usize>,
    out: &mpsc::Sender<Result<Chunk, EngineError>>,
) -> bool {
    /// Consecutive lines of one stream go out as one chunk up to this size (clients
    /// read frames as a byte stream; a chunk a line made the channel the bottleneck).
    const BATCH: usize = 64 * 1024;
    let need_time = o.since.is_some() || o.until.is_some();
    let lines: Vec<Line> = text
        .lines()
        .filter_map(|l| parse_line(l, need_time))
        .filter(|l| wanted(l, o))
        .collect();
    let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
    let mut batch: Option<(StreamType, Vec<u8>)> = None;
    for l in lines.into_iter().skip(skip) {
        let c = chunk(l, o);
        match &mut batch {
            Some((s, buf)) if *s == c.stream && buf.len() + c.data.len() <= BATCH => {
                buf.extend_from_slice(&c.data);
                continue;
            }
            _ => {}
        }
        if let Some((stream, buf)) = batch.replace((c.stream, c.data.to_vec()))
            && out
                .send(Ok(Chunk {
                    stream,
                    data: Bytes::from(buf),
                }))
                .await
                .is_err()
        {
            return false;
        }
    }
    if let Some((stream, buf)) = batch {
        return out
            .send(Ok(Chunk {
                stream,
                data: Bytes::from(buf),
            }))
            .await
            .is_ok();
    }
    true
}

/// A rotated file's whole text (gunzipped when `gz`).
fn read_rotated(path: &Path, gz: bool) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    if gz {
        flate2::read::GzDecoder::new(f).read_to_end(&mut buf)?;
    } else {
        std::io::BufReader::new(f).read_to_end(&mut buf)?;
    }
    Ok(buf)
}

/// Everything the log holds: the rotated files, oldest first, then the live file up to its
/// last complete line. Returns the text, the offset reached in the live file and its inode.
fn read_history(path: &Path) -> std::io::Result<(String, u64, u64)> {
    let mut all = Vec::new();
    for (f, gz) in berth_shim::logfile::rotated_files(path) {
        match read_rotated(&f, gz) {
            Ok(b) => all.extend_from_slice(&b),
            // rotated away while we read: what it held is in the next older file now
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let (live, ino) = match std::fs::File::open(path) {
        Ok(mut f) => {
            let ino = f.metadata()?.ino();
            let mut b = Vec::new();
            f.read_to_end(&mut b)?;
            (b, ino)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), 0),
        Err(e) => return Err(e),
    };
    let end = live.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    all.extend_from_slice(&live[..end]);
    Ok((String::from_utf8_lossy(&all).into_owned(), end as u64, ino))
}

/// What a follower reads next: after a rotation (the live file's inode changed), the rest
/// of the old file, now `c.log.1[.gz]`, from `offset`, then the new file from its start.
fn read_next(path: &Path, offset: u64, ino: u64) -> std::io::Result<(String, u64, u64)> {
    let now_ino = std::fs::metadata(path).map(|m| m.ino()).unwrap_or(ino);
    if now_ino == ino {
        return read_tail(path, offset).map(|(t, o)| (t, o, ino));
    }
    let mut text = String::new();
    for gz in [false, true] {
        let p = berth_shim::logfile::rotated_path(path, 1, gz);
        if let Ok(b) = read_rotated(&p, gz) {
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
            text = String::from_utf8_lossy(&b[start..]).into_owned();
            break;
        }
    }
    let (more, next) = read_tail(path, 0)?;
    text.push_str(&more);
    Ok((text, next, now_ino))
}

/// The live file from `offset` to its last complete line, and the new offset.
fn read_tail(path: &Path, offset: u64) -> std::io::Result<(String, u64)> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((String::new(), offset)),
        Err(e) => return Err(e),
    };
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    let end = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    buf.truncate(end);
    Ok((
        String::from_utf8_lossy(&buf).into_owned(),
        offset + end as u64,
    ))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

/// Sends what the log holds (for attach's `logs=1`).
pub(crate) async fn replay(
    path: &Path,
    o: &LogsOptions,
    out: &mpsc::Sender<Result<Chunk, EngineError>>,
) {
    let p = path.to_owned();
    match blocking(move || read_history(&p)).await {
        Ok((text, _, _)) => {
            send_lines(&text, o, o.tail, out).await;
        }
        Err(e) => {
            let _ = out.send(Err(EngineError::io("read log", path, e))).await;
        }
    }
}

impl Engine {
    /// `GET /containers/{id}/logs`.
    pub async fn logs(&self, name: &str, o: LogsOptions) -> Result<Output> {
        let c = self.lookup(name)?;
        let rec = c.record();
        if crate::logconfig::mode(&rec.host_config.log_config)? == crate::logconfig::LogMode::Off {
            return Err(EngineError::LogsUnreadable);
        }
        let path = self.log_path(&c.id);
        let (tx, rx) = mpsc::channel(64);
        let mut run = c.run.subscribe();
        let follow = o.follow && rec.state.status.has_process();
        tokio::spawn(async move {
            let p = path.clone();
            let (text, mut offset, mut ino) = match blocking(move || read_history(&p)).await {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(EngineError::io("read log", &path, e))).await;
                    return;
                }
            };
            if !send_lines(&text, &o, o.tail, &tx).await || !follow {
                return;
            }
            loop {
                let stopped = {
                    let r = run.borrow_and_update();
                    !r.running || r.removed
                };
                if o.until.is_some_and(|u| SystemTime::now() >= u) {
                    return;
                }
                let p = path.clone();
                match blocking(move || read_next(&p, offset, ino)).await {
                    Ok((text, next, next_ino)) => {
                        offset = next;
                        ino = next_ino;
                        if !send_lines(&text, &o, None, &tx).await {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(EngineError::io("read log", &path, e))).await;
                        return;
                    }
                }
                if stopped {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(FOLLOW_POLL) => {}
                    _ = run.changed() => {}
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Output {
            tty: rec.config.tty,
            rx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tail_streams_and_timestamps() {
        let text = concat!(
            r#"{"log":"a\n","stream":"stdout","time":"2026-11-30T15:00:00.000000001Z"}"#,
            "\n",
            r#"{"log":"b\n","stream":"stderr","time":"2026-11-30T15:00:01.000000000Z"}"#,
            "\n",
            r#"{"log":"c\n","stream":"stdout","time":"2026-11-30T15:00:02.000000000Z"}"#,
            "\n"
        );
        let (tx, mut rx) = mpsc::channel(8);
        let o = LogsOptions {
            stdout: true,
            stderr: false,
            timestamps: true,
            ..LogsOptions::default()
        };
        assert!(send_lines(text, &o, Some(1), &tx).await);
        let c = rx.recv().await.unwrap().unwrap();
        assert_eq!(&c.data[..], b"2026-11-30T15:00:02Z c\n");
        assert_eq!(
            rfc3339_nano("2026-11-30T15:00:02.120000000Z"),
            "2026-11-30T15:00:02.12Z"
        );
        let since = SystemTime::from(
            chrono::DateTime::parse_from_rfc3339("2026-11-30T15:00:00.5Z").unwrap(),
        );
        let o = LogsOptions {
            stdout: true,
            stderr: true,
            since: Some(since),
            ..LogsOptions::default()
        };
        drop(tx);
        let (tx, mut rx) = mpsc::channel(8);
        assert!(send_lines(text, &o, None, &tx).await);
        drop(tx);
        let mut got = Vec::new();
        while let Some(Ok(c)) = rx.recv().await {
            got.push((c.stream, String::from_utf8_lossy(&c.data).into_owned()));
        }
        assert_eq!(
            got,
            vec![
                (StreamType::Stderr, "b\n".to_string()),
                (StreamType::Stdout, "c\n".to_string())
            ]
        );
    }
}
