//! `start`: mount the rootfs, write the hostname files and the OCI spec, spawn the shim
//! (`--defer-start`), connect waiting attach sessions, let the process run, record it and
//! watch it. A failure unmounts, stops the shim and leaves the container as it was (with
//! the error recorded), or removes it when it is `AutoRemove`.

use std::process::Stdio;
use std::sync::Arc;

use berth_image::snapshot::Snapshotter;

use crate::error::{EngineError, Result};
use crate::etcfiles;
use crate::model::Status;
use crate::spec;
use crate::table::{Container, Engine};

/// docker's exit code for a start that failed before the process ran.
const EXIT_UNKNOWN: i64 = 128;

impl Engine {
    /// `POST /containers/{id}/start`; `NotModified` when already running.
    pub async fn start(&self, name: &str) -> Result<()> {
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        self.start_locked(&c).await
    }

    /// Starts `c`; the caller holds its op lock.
    pub(crate) async fn start_locked(&self, c: &Arc<Container>) -> Result<()> {
        let rec = c.record();
        match rec.state.status {
            s if s.has_process() => {
                return Err(EngineError::NotModified(c.id.clone(), "started"));
            }
            Status::Removing | Status::Dead => {
                return Err(EngineError::Invalid(format!(
                    "container {} is marked for removal and cannot be started",
                    c.id
                )));
            }
            _ => {}
        }
        let dir = self.dir(&c.id);
        let t0 = std::time::Instant::now();
        let result = async {
            let rootfs = self.inner.snap.mount(&dir, &rec.lowers)?;
            etcfiles::write_all(
                &dir,
                &rec.config.hostname,
                &self.with_default_dns(&rec.host_config),
            )?;
            let netns = self.net_start(&rec).await?;
            let t_prep = t0.elapsed();
            let user_mounts = self.prepare_mounts(&rec, &rootfs)?;
            let mut spec = spec::build(&rec, &rootfs, &dir, &netns)?;
            self.apply_namespace_modes(&c.id, &rec.host_config, &mut spec)?;
            crate::mounts::apply(&mut spec, user_mounts);
            spec::write(&spec, &dir)?;
            let t_spec = t0.elapsed();
            let pid = self.spawn_shim(&c.id, rec.config.open_stdin).await?;
            let t_shim = t0.elapsed();
            for p in c.take_pending() {
                self.connect_attach(&c.id, p).await;
            }
            self.shim_start(&c.id).await?;
            tracing::debug!(
                id = %c.id,
                prepare = ?t_prep,
                spec = ?(t_spec - t_prep),
                shim = ?(t_shim - t_spec),
                start = ?(t0.elapsed() - t_shim),
                "started"
            );
            Ok::<i64, EngineError>(pid)
        }
        .await;
        let pid = match result {
            Ok(pid) => pid,
            Err(e) => return Err(self.start_failed(c, e).await),
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let saved = self.save(c, |r| {
            r.state.status = Status::Running;
            r.state.pid = pid;
            r.state.exit_code = 0;
            r.state.oom_killed = false;
            r.state.error.clear();
            r.state.started_at = now;
            r.generation += 1;
            r.manually_stopped = false;
        });
        let rec = match saved {
            Ok(r) => r,
            Err(e) => return Err(self.start_failed(c, e).await),
        };
        c.run.send_modify(|r| r.running = true);
        self.emit(&rec, "start", &[]);
        self.spawn_health(c, &rec);
        self.spawn_monitor(c.clone(), rec.generation);
        Ok(())
    }

    /// Undoes a failed start: the shim goes, the rootfs is unmounted, the error recorded.
    async fn start_failed(&self, c: &Arc<Container>, e: EngineError) -> EngineError {
        let mut cleanup = Vec::new();
        let shim_dir = self.shim_dir(&c.id);
        if shim_dir.join(berth_shim::protocol::SOCKET_NAME).exists() {
            let client = self.shim(&c.id);
            let killer = client.clone();
            let _ = tokio::task::spawn_blocking(move || {
                killer.signal(None, crate::signals::SIGKILL, true)
            })
            .await;
            let _ = crate::shim_wait::wait(client.socket(), None).await;
            let r = tokio::task::spawn_blocking(move || client.shutdown()).await;
            if let Ok(Err(err)) = r {
                cleanup.push(format!("stop shim: {err}"));
            }
        }
        if let Err(err) = std::fs::remove_dir_all(&shim_dir)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            cleanup.push(format!("remove {}: {err}", shim_dir.display()));
        }
        if let Err(err) = self.inner.snap.unmount(&self.dir(&c.id)) {
            cleanup.push(crate::error::full_message(&err));
        }
        if let Err(err) = self.release_host_mounts(&c.id) {
            cleanup.push(err.message());
        }
        self.volume_release(&Engine::volume_names(&c.record()));
        self.net_stop(&c.id, berth_net::LinkTeardown::Wait).await;
        if let Err(err) = berth_net::netns::remove(&self.netns_path(&c.id)) {
            cleanup.push(EngineError::from(err).message());
        }
        // Sessions waiting for this start get the error and end.
        for p in c.take_pending() {
            let _ = p.out.try_send(Err(EngineError::ShimStart(e.message())));
        }
        let message = e.message();
        let rec = self.save(c, |r| {
            r.state.error = message;
            if r.state.exit_code == 0 {
                r.state.exit_code = EXIT_UNKNOWN;
            }
        });
        if let Err(err) = &rec {
            cleanup.push(err.message());
        }
        if c.record().host_config.auto_remove {
            let c = c.clone();
            let engine = self.clone();
            // The caller holds the op lock; remove after it is released.
            tokio::spawn(async move {
                if let Err(e) = engine.remove_container(&c, true, true).await {
                    tracing::warn!("auto-remove {} after a failed start: {e}", c.id);
                }
            });
        }
        e.with_cleanup(cleanup)
    }

    /// Runs `berth-shim` for the bundle; returns the container's init pid.
    async fn spawn_shim(&self, id: &str, stdin: bool) -> Result<i64> {
        let shim_dir = self.shim_dir(id);
        if let Err(e) = std::fs::remove_dir_all(&shim_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(EngineError::io("remove stale", &shim_dir, e));
        }
        let mut cmd = tokio::process::Command::new(&self.inner.cfg.shim_binary);
        cmd.arg("--id")
            .arg(id)
            .arg("--bundle")
            .arg(self.dir(id))
            .arg("--state-dir")
            .arg(&shim_dir)
            .arg("--runtime-root")
            .arg(self.runtime_root())
            .arg("--log")
            .arg(self.log_path(id))
            .arg("--defer-start");
        let log_config = self.lookup(id)?.record().host_config.log_config;
        match crate::logconfig::mode(&log_config)? {
            crate::logconfig::LogMode::Off => {
                cmd.arg("--no-log");
            }
            crate::logconfig::LogMode::File {
                max_size,
                max_file,
                compress,
            } => {
                cmd.arg("--log-max-size")
                    .arg(max_size.to_string())
                    .arg("--log-max-file")
                    .arg(max_file.to_string());
                if compress {
                    cmd.arg("--log-compress");
                }
            }
        }
        if stdin {
            cmd.arg("--stdin");
        }
        if let Ok(dbg) = std::env::var("BERTH_SHIM_DEBUG_LOG") {
            cmd.arg("--debug-log").arg(dbg);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|e| {
            EngineError::ShimStart(format!("run {}: {e}", self.inner.cfg.shim_binary.display()))
        })?;
        // The starting process reports the pid once the container is created, but with
        // `--defer-start` the created (not yet exec'd) init still holds the status pipe,
        // so the report only arrives after `start`. Whichever comes first wins: the
        // starter's exit (success or the error it prints) or the shim's socket answering
        // `state`. The starter is reaped in the background either way.
        let mut starter = tokio::spawn(child.wait_with_output());
        let client = self.shim(id);
        loop {
            tokio::select! {
                out = &mut starter => {
                    let out = out
                        .map_err(|e| EngineError::Task(e.to_string()))?
                        .map_err(|e| EngineError::ShimStart(format!("wait for the shim: {e}")))?;
                    if !out.status.success() {
                        let err = String::from_utf8_lossy(&out.stderr);
                        let err = err.trim();
                        let err = err.strip_prefix("berth-shim: ").unwrap_or(err);
                        return Err(EngineError::ShimStart(err.to_owned()));
                    }
                    let text = String::from_utf8_lossy(&out.stdout);
                    return text.trim().parse::<i64>().map_err(|_| {
                        EngineError::ShimStart(format!(
                            "the shim printed {:?}, not a pid",
                            text.trim()
                        ))
                    });
                }
                () = tokio::time::sleep(std::time::Duration::from_millis(2)) => {
                    if !client.socket().exists() {
                        continue;
                    }
                    let c = client.clone();
                    if let Ok(Ok(st)) = tokio::task::spawn_blocking(move || c.state()).await {
                        return Ok(i64::from(st.pid));
                    }
                }
            }
        }
    }

    async fn shim_start(&self, id: &str) -> Result<()> {
        let client = self.shim(id);
        let owned = id.to_owned();
        tokio::task::spawn_blocking(move || client.start())
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(|e| EngineError::ShimStart(format!("start {owned}: {e}")))
    }
}
