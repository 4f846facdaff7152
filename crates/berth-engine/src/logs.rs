//! `logs`: the shim's json-file log read back (stdout/stderr, since, until, tail,
//! timestamps), and followed while the container runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use berth_api::stream::StreamType;
use berth_shim::logfile::LogEntry;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
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

fn parse_line(l: &str) -> Option<Line> {
    let e: LogEntry = serde_json::from_str(l).ok()?;
    let stream = match e.stream.as_ref() {
        "stderr" => StreamType::Stderr,
        _ => StreamType::Stdout,
    };
    let at = chrono::DateTime::parse_from_rfc3339(&e.time)
        .ok()
        .map(SystemTime::from);
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
    let lines: Vec<Line> = text
        .lines()
        .filter_map(parse_line)
        .filter(|l| wanted(l, o))
        .collect();
    let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
    for l in lines.into_iter().skip(skip) {
        if out.send(Ok(chunk(l, o))).await.is_err() {
            return false;
        }
    }
    true
}

/// Reads the log from `offset` to its last complete line; returns the text and the new
/// offset.
async fn read_from(path: &Path, offset: u64) -> std::io::Result<(String, u64)> {
    let mut f = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((String::new(), offset)),
        Err(e) => return Err(e),
    };
    f.seek(std::io::SeekFrom::Start(offset)).await?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).await?;
    let end = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    buf.truncate(end);
    Ok((
        String::from_utf8_lossy(&buf).into_owned(),
        offset + end as u64,
    ))
}

/// Sends what the log holds (for attach's `logs=1`).
pub(crate) async fn replay(
    path: &PathBuf,
    o: &LogsOptions,
    out: &mpsc::Sender<Result<Chunk, EngineError>>,
) {
    match read_from(path, 0).await {
        Ok((text, _)) => {
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
        let path = self.log_path(&c.id);
        let (tx, rx) = mpsc::channel(64);
        let mut run = c.run.subscribe();
        let follow = o.follow && rec.state.status.has_process();
        tokio::spawn(async move {
            let (text, mut offset) = match read_from(&path, 0).await {
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
                match read_from(&path, offset).await {
                    Ok((text, next)) => {
                        offset = next;
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
