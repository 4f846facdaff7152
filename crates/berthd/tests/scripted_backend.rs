//! The HTTP layer against a scripted backend: a small in-test `Backend` whose containers
//! produce fixed output, so the streaming routes can be checked byte for byte before the
//! engine exists — the attach hijack (101, `Upgrade: tcp`, content type, 8-byte frames,
//! stdin echo, half-close), logs framing, wait, and the `berth` CLI's run path (create →
//! attach → wait → start → exit code) over a real unix socket.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use berth_api::ErrorKind;
use berth_api::container::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspect, ContainerSummary, WaitResponse,
};
use berth_api::event::EventMessage;
use berth_api::image::{ImageDeleteResponseItem, ImageInspect, ImageSummary};
use berth_api::progress::ProgressMessage;
use berth_api::stream::{StreamType, read_frame};
use berthd::backend::*;
use berthd::routes::{AppState, DaemonInfo, app};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// Container `c1`: prints `hello` on stdout and `oops` on stderr, echoes stdin to stdout
/// when attached with stdin, and exits 3. Container `tty`: the same with a TTY.
struct Scripted;

fn ni<T>(what: &str) -> Result<T, BackendError> {
    Err(BackendError::not_implemented(what))
}

fn known(id: &str) -> Result<bool, BackendError> {
    match id {
        "c1" => Ok(false),
        "tty" => Ok(true),
        _ => Err(BackendError::new(
            ErrorKind::NotFound,
            format!("No such container: {id}"),
        )),
    }
}

fn chunk(stream: StreamType, s: &str) -> Result<OutputChunk, BackendError> {
    Ok(OutputChunk {
        stream,
        data: Bytes::copy_from_slice(s.as_bytes()),
    })
}

impl Backend for Scripted {
    async fn counts(&self) -> Result<SystemCounts, BackendError> {
        Ok(SystemCounts::default())
    }
    async fn container_create(
        &self,
        _: Option<String>,
        body: ContainerCreateBody,
    ) -> Result<ContainerCreateResponse, BackendError> {
        if body.config.image != "scripted" {
            return Err(BackendError::new(
                ErrorKind::NotFound,
                format!("No such image: {}", body.config.image),
            ));
        }
        Ok(ContainerCreateResponse {
            id: "c1".into(),
            warnings: vec![],
        })
    }
    async fn container_start(&self, id: &str) -> Result<(), BackendError> {
        known(id).map(|_| ())
    }
    async fn container_stop(&self, _: &str, _: StopOptions) -> Result<(), BackendError> {
        ni("container stop")
    }
    async fn container_kill(&self, _: &str, _: Option<String>) -> Result<(), BackendError> {
        ni("container kill")
    }
    async fn container_restart(&self, _: &str, _: StopOptions) -> Result<(), BackendError> {
        ni("container restart")
    }
    async fn container_wait(
        &self,
        id: &str,
        _: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResponse>, BackendError> {
        known(id)?;
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = tx.send(WaitResponse {
                status_code: 3,
                error: None,
            });
        });
        Ok(rx)
    }
    async fn container_attach(
        &self,
        id: &str,
        opts: AttachOptions,
    ) -> Result<AttachSession, BackendError> {
        let tty = known(id)?;
        let (out_tx, out_rx) = mpsc::channel(8);
        let (in_tx, mut in_rx) = mpsc::channel::<Bytes>(8);
        tokio::spawn(async move {
            let _ = out_tx.send(chunk(StreamType::Stdout, "hello\n")).await;
            let _ = out_tx.send(chunk(StreamType::Stderr, "oops\n")).await;
            while let Some(b) = in_rx.recv().await {
                let stream = StreamType::Stdout;
                let _ = out_tx.send(Ok(OutputChunk { stream, data: b })).await;
            }
        });
        Ok(AttachSession {
            output: OutputStream {
                tty,
                chunks: out_rx,
            },
            stdin: opts.stdin.then_some(in_tx),
        })
    }
    async fn container_logs(&self, id: &str, _: LogsOptions) -> Result<OutputStream, BackendError> {
        let tty = known(id)?;
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            let _ = tx.send(chunk(StreamType::Stdout, "hello\n")).await;
            let _ = tx.send(chunk(StreamType::Stderr, "oops\n")).await;
        });
        Ok(OutputStream { tty, chunks: rx })
    }
    async fn container_inspect(&self, _: &str, _: bool) -> Result<ContainerInspect, BackendError> {
        ni("container inspect")
    }
    async fn container_list(&self, _: ListOptions) -> Result<Vec<ContainerSummary>, BackendError> {
        ni("container list")
    }
    async fn container_remove(&self, _: &str, _: RemoveOptions) -> Result<(), BackendError> {
        ni("container delete")
    }
    async fn image_import(
        &self,
        _: ImportOptions,
        mut body: ByteStream,
    ) -> Result<mpsc::Receiver<ProgressMessage>, BackendError> {
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut n = 0;
            while let Some(Ok(b)) = body.recv().await {
                n += b.len();
            }
            let _ = tx
                .send(ProgressMessage::status(format!("received {n} bytes")))
                .await;
        });
        Ok(rx)
    }
    async fn image_list(&self, _: ImageListOptions) -> Result<Vec<ImageSummary>, BackendError> {
        ni("image list")
    }
    async fn image_tag(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), BackendError> {
        ni("image tag")
    }
    async fn image_remove(
        &self,
        _: &str,
        _: ImageRemoveOptions,
    ) -> Result<Vec<ImageDeleteResponseItem>, BackendError> {
        ni("image delete")
    }
    async fn image_inspect(&self, _: &str) -> Result<ImageInspect, BackendError> {
        ni("image inspect")
    }
    async fn events(&self, _: EventsOptions) -> Result<mpsc::Receiver<EventMessage>, BackendError> {
        ni("events")
    }
}

/// Serves the scripted backend on a socket in `dir`.
async fn serve(dir: &Path) -> PathBuf {
    let sock = dir.join("s.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    let state = AppState {
        backend: Arc::new(Scripted),
        daemon: Arc::new(DaemonInfo::default()),
    };
    let svc = axum::ServiceExt::<axum::extract::Request>::into_make_service(app(state));
    tokio::spawn(async move {
        let _ = axum::serve(listener, svc).await;
    });
    sock
}

/// Sends a request head and returns the connection and the response head.
async fn request(sock: &Path, head: &str) -> (UnixStream, String) {
    let mut s = UnixStream::connect(sock).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).await.expect("read head"), 1, "eof in head");
        got.push(b[0]);
    }
    (s, String::from_utf8_lossy(&got).to_lowercase())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_hijacks_with_frames_and_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = serve(dir.path()).await;
    let (mut s, head) = request(
        &sock,
        "POST /v1.45/containers/c1/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n\
         Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("\r\nupgrade: tcp\r\n"), "{head}");
    assert!(
        head.contains("content-type: application/vnd.docker.multiplexed-stream"),
        "{head}"
    );
    let f = read_frame(&mut s).await.expect("frame");
    assert_eq!(f, Some((StreamType::Stdout, b"hello\n".to_vec())));
    let f = read_frame(&mut s).await.expect("frame");
    assert_eq!(f, Some((StreamType::Stderr, b"oops\n".to_vec())));
    s.write_all(b"ping\n").await.expect("stdin");
    let f = read_frame(&mut s).await.expect("frame");
    assert_eq!(f, Some((StreamType::Stdout, b"ping\n".to_vec())));
    // Closing stdin ends the container's input; its output then ends and the daemon
    // closes the stream.
    s.shutdown().await.expect("half-close");
    let end = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s)).await;
    assert!(matches!(end, Ok(Ok(None))), "{end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_with_tty_is_raw_and_unknown_container_is_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = serve(dir.path()).await;
    let (mut s, head) = request(
        &sock,
        "POST /containers/tty/attach?stream=1&stdout=1 HTTP/1.1\r\n\
         Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    )
    .await;
    assert!(
        head.contains("content-type: application/vnd.docker.raw-stream"),
        "{head}"
    );
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.expect("read");
    assert_eq!(rest, b"hello\noops\n");
    let (mut s, head) = request(
        &sock,
        "POST /containers/nope/attach?stream=1 HTTP/1.1\r\nHost: x\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    let mut body = vec![0u8; 64];
    let n = s.read(&mut body).await.expect("body");
    assert_eq!(
        String::from_utf8_lossy(&body[..n]).trim(),
        r#"{"message":"No such container: nope"}"#
    );
}

fn berth(sock: &Path, args: &[&str]) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_berthd")).with_file_name("berth");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p berth` (or `cargo test --workspace`)",
        bin.display()
    );
    Command::new(bin)
        .arg("-H")
        .arg(format!("unix://{}", sock.display()))
        .args(args)
        .output()
        .expect("run berth")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn berth_cli_run_logs_wait_and_import_over_the_wire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = serve(dir.path()).await;
    let s2 = sock.clone();
    let run = tokio::task::spawn_blocking(move || berth(&s2, &["run", "scripted", "x"]))
        .await
        .expect("join");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&run.stderr), "oops\n");
    assert_eq!(
        run.status.code(),
        Some(3),
        "run exits with the container's code"
    );

    let s2 = sock.clone();
    let missing = tokio::task::spawn_blocking(move || berth(&s2, &["run", "nothing"]))
        .await
        .expect("join");
    assert_eq!(missing.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "Unable to find image 'nothing' locally\nError response from daemon: No such image: nothing\n"
    );

    let s2 = sock.clone();
    let logs = tokio::task::spawn_blocking(move || berth(&s2, &["logs", "c1"]))
        .await
        .expect("join");
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "oops\n");

    let s2 = sock.clone();
    let wait = tokio::task::spawn_blocking(move || berth(&s2, &["wait", "c1", "zz"]))
        .await
        .expect("join");
    assert_eq!(String::from_utf8_lossy(&wait.stdout), "3\n");
    assert_eq!(
        String::from_utf8_lossy(&wait.stderr),
        "Error response from daemon: No such container: zz\n"
    );
    assert_eq!(wait.status.code(), Some(1));

    let tar = dir.path().join("rootfs.tar");
    std::fs::write(&tar, vec![7u8; 200_000]).expect("write");
    let s2 = sock.clone();
    let t = tar.display().to_string();
    let import = tokio::task::spawn_blocking(move || berth(&s2, &["import", &t, "x:y"]))
        .await
        .expect("join");
    assert_eq!(
        String::from_utf8_lossy(&import.stdout),
        "received 200000 bytes\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_cli_run_reads_the_hijacked_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = serve(dir.path()).await;
    let docker = Path::new("/usr/local/bin/docker");
    assert!(
        docker.is_file(),
        "the docker CLI is missing: apt-get install docker.io"
    );
    let cfg = dir.path().join("docker-config");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("/usr/local/bin/docker")
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(["run", "scripted", "x"])
            .env("DOCKER_CONFIG", cfg)
            .env_remove("DOCKER_HOST")
            .output()
            .expect("run docker")
    })
    .await
    .expect("join");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n",
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    assert_eq!(out.status.code(), Some(3));
}
