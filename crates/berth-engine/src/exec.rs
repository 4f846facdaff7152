//! `exec`: more processes in a running container.
//!
//! An exec is created (`POST /containers/{id}/exec`, a record in memory only, as docker
//! keeps them), then started once. The engine builds its OCI process from the container's
//! own spec (`config.json` in the bundle: capabilities, no-new-privileges, apparmor and
//! rlimits as the container has them) with the exec's command, environment, working
//! directory, user and TTY, and hands it to the container's shim, whose runtime joins the
//! container's namespaces and cgroup and applies its seccomp filter. The output of an
//! attached exec ends only after its exit code is recorded, so a client that inspects the
//! exec when its stream ends always finds the code.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use berth_api::exec::{ExecConfig, ExecInspect, ExecProcessConfig};
use berth_shim::protocol::ExecRequest;
use oci_spec::runtime::{LinuxCapabilities, Process, Spec};
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::lifecycle::attach::{AttachSession, Output, PendingAttach, pump};
use crate::table::Engine;

/// The exec instances of every container.
#[derive(Debug, Default)]
pub(crate) struct Execs {
    by_id: Mutex<HashMap<String, Arc<Mutex<ExecEntry>>>>,
}

#[derive(Debug, Clone)]
struct ExecEntry {
    id: String,
    container_id: String,
    config: ExecConfig,
    started: bool,
    running: bool,
    pid: i64,
    exit_code: Option<i64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Entries are updated field by field with no invariant spanning a panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How an exec is started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStartOptions {
    /// Return at once; the output is discarded.
    pub detach: bool,
    /// Initial console size `(height, width)`.
    pub console_size: Option<(u16, u16)>,
}

/// The exit code docker gives an exec that could not be started: 127 when the program
/// does not exist, 126 otherwise.
pub fn start_failure_code(message: &str) -> i64 {
    let m = message.to_ascii_lowercase();
    if m.contains("not found") || m.contains("no such file") {
        127
    } else {
        126
    }
}

impl Engine {
    fn exec_entry(&self, id: &str) -> Result<Arc<Mutex<ExecEntry>>> {
        lock(&self.inner.execs.by_id)
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::NoSuchExec(id.to_owned()))
    }

    /// `POST /containers/{id}/exec`: records an exec; the container must be running.
    pub async fn exec_create(&self, name: &str, config: ExecConfig) -> Result<String> {
        let c = self.lookup(name)?;
        if !c.status().has_process() {
            return Err(EngineError::NotRunning(c.id.clone()));
        }
        if config.cmd.is_empty() {
            return Err(EngineError::Invalid("No exec command specified".into()));
        }
        let id = crate::names::new_id()?;
        let entry = ExecEntry {
            id: id.clone(),
            container_id: c.id.clone(),
            config,
            started: false,
            running: false,
            pid: 0,
            exit_code: None,
        };
        let mut execs = lock(&self.inner.execs.by_id);
        // Execs of removed containers go when a new one is made.
        let t = self.table();
        execs.retain(|_, e| t.by_id.contains_key(&lock(e).container_id));
        drop(t);
        execs.insert(id.clone(), Arc::new(Mutex::new(entry)));
        Ok(id)
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, id: &str) -> Result<ExecInspect> {
        let entry = self.exec_entry(id)?;
        let e = lock(&entry).clone();
        let mut cmd = e.config.cmd.iter();
        Ok(ExecInspect {
            can_remove: false,
            id: e.id,
            container_id: e.container_id,
            detach_keys: e.config.detach_keys.clone().unwrap_or_default(),
            exit_code: e.exit_code,
            process_config: ExecProcessConfig {
                tty: e.config.tty,
                entrypoint: cmd.next().cloned().unwrap_or_default(),
                arguments: cmd.cloned().collect(),
                privileged: e.config.privileged,
                user: e.config.user.clone(),
            },
            open_stdin: e.config.attach_stdin,
            open_stderr: e.config.attach_stderr,
            open_stdout: e.config.attach_stdout,
            running: e.running,
            pid: e.pid,
        })
    }

    /// The detach keys an exec was created with.
    pub fn exec_detach_keys(&self, id: &str) -> Result<Option<String>> {
        let entry = self.exec_entry(id)?;
        let keys = lock(&entry).config.detach_keys.clone();
        Ok(keys)
    }

    /// `POST /exec/{id}/start`. Returns the attached session unless `detach`; an exec that
    /// cannot start gets its exit code (126/127) recorded and the error returned.
    pub async fn exec_start(
        &self,
        id: &str,
        opts: ExecStartOptions,
    ) -> Result<Option<AttachSession>> {
        let entry = self.exec_entry(id)?;
        let e = {
            let mut g = lock(&entry);
            if g.started {
                return Err(EngineError::Invalid(format!(
                    "exec {id} has already been started"
                )));
            }
            g.started = true;
            g.clone()
        };
        let c = self.lookup(&e.container_id)?;
        if !c.status().has_process() {
            return Err(EngineError::NotRunning(c.id.clone()));
        }
        let process = self.exec_process(&c.id, &e.config)?;
        let tty = e.config.tty;
        let stdin = e.config.attach_stdin && !opts.detach;
        let req = ExecRequest {
            exec_id: e.id.clone(),
            process,
            stdin,
            stdout: e.config.attach_stdout,
            stderr: e.config.attach_stderr,
            detach: opts.detach,
        };
        let client = self.shim(&c.id);
        let started = tokio::task::spawn_blocking(move || client.exec(req))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
        let (pid, stream) = match started {
            Ok(v) => v,
            Err(err) => {
                let msg = err.to_string();
                let full = EngineError::Shim(c.id.clone(), err);
                let mut g = lock(&entry);
                g.exit_code = Some(start_failure_code(&full.message()));
                tracing::debug!("exec {id} in {}: {msg}", c.id);
                return Err(full);
            }
        };
        {
            let mut g = lock(&entry);
            g.pid = i64::from(pid);
            g.running = true;
        }
        let size = opts
            .console_size
            .or(e.config.console_size.map(|[h, w]| (h, w)));
        if let Some((h, w)) = size.filter(|_| tty)
            && h > 0
            && w > 0
        {
            let client = self.shim(&c.id);
            let eid = e.id.clone();
            let _ = tokio::task::spawn_blocking(move || client.resize(Some(&eid), w, h)).await;
        }
        let Some(stream) = stream else {
            let engine = self.clone();
            tokio::spawn(async move { engine.exec_reap(&entry).await });
            return Ok(None);
        };
        let (out_tx, out_rx) = mpsc::channel(64);
        let (in_tx, in_rx) = if stdin {
            let (t, r) = mpsc::channel(16);
            (Some(t), Some(r))
        } else {
            (None, None)
        };
        let (inner_tx, mut inner_rx) = mpsc::channel(64);
        let pending = PendingAttach {
            out: inner_tx,
            stdin: in_rx,
            stdout: e.config.attach_stdout,
            stderr: e.config.attach_stderr,
            stdin_once: true,
        };
        tokio::spawn(async move {
            if let Err(err) = pump(stream, pending).await {
                tracing::debug!("exec stream ended: {err}");
            }
        });
        let engine = self.clone();
        tokio::spawn(async move {
            while let Some(item) = inner_rx.recv().await {
                if out_tx.send(item).await.is_err() {
                    break;
                }
            }
            drop(inner_rx);
            engine.exec_reap(&entry).await;
            drop(out_tx);
        });
        Ok(Some(AttachSession {
            output: Output { tty, rx: out_rx },
            stdin: in_tx,
        }))
    }

    /// Runs `cmd` in running container `cid` through the exec path and returns its exit
    /// code and first 4 KiB of output (stdout and stderr); after `timeout` the process is
    /// killed and the code is -1. The exec is forgotten afterwards (health checks).
    pub(crate) async fn exec_probe(
        &self,
        cid: &str,
        cmd: Vec<String>,
        timeout: std::time::Duration,
    ) -> Result<(i64, String)> {
        const MAX_OUTPUT: usize = 4096;
        let config = ExecConfig {
            attach_stdout: true,
            attach_stderr: true,
            cmd,
            ..Default::default()
        };
        let id = self.exec_create(cid, config).await?;
        let result = async {
            let Some(mut session) = self.exec_start(&id, ExecStartOptions::default()).await? else {
                return Ok((-1, String::new()));
            };
            let mut out = Vec::new();
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                match tokio::time::timeout_at(deadline, session.output.rx.recv()).await {
                    Ok(Some(Ok(c))) => {
                        let room = MAX_OUTPUT.saturating_sub(out.len());
                        out.extend_from_slice(&c.data[..c.data.len().min(room)]);
                    }
                    Ok(Some(Err(_))) | Ok(None) => break,
                    Err(_) => {
                        let client = self.shim(cid);
                        let eid = id.clone();
                        let _ = tokio::task::spawn_blocking(move || {
                            client.signal(Some(&eid), crate::signals::SIGKILL, false)
                        })
                        .await;
                        return Ok((
                            -1,
                            format!(
                                "Health check exceeded timeout ({})",
                                crate::lifecycle::health::go_duration(timeout)
                            ),
                        ));
                    }
                }
            }
            let code = self.exec_inspect(&id)?.exit_code.unwrap_or(-1);
            Ok((code, String::from_utf8_lossy(&out).into_owned()))
        }
        .await;
        lock(&self.inner.execs.by_id).remove(&id);
        result
    }

    /// Waits for the exec's exit and records it.
    async fn exec_reap(&self, entry: &Arc<Mutex<ExecEntry>>) {
        let (cid, eid) = {
            let g = lock(entry);
            (g.container_id.clone(), g.id.clone())
        };
        let client = self.shim(&cid);
        let waited = crate::shim_wait::wait(client.socket(), Some(&eid)).await;
        let code = match waited {
            Ok(status) => Some(i64::from(status.exit_code)),
            Err(e) => {
                tracing::warn!("wait for an exec in {cid}: {e}");
                None
            }
        };
        let mut g = lock(entry);
        g.running = false;
        g.exit_code = code.or(Some(126));
    }

    /// `POST /exec/{id}/resize`.
    pub async fn exec_resize(&self, id: &str, width: u16, height: u16) -> Result<()> {
        let entry = self.exec_entry(id)?;
        let e = lock(&entry).clone();
        if !e.running {
            return Err(EngineError::Invalid(format!("exec {id} is not running")));
        }
        let client = self.shim(&e.container_id);
        let cid = e.container_id.clone();
        tokio::task::spawn_blocking(move || client.resize(Some(&e.id), width, height))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(|e| EngineError::Shim(cid, e))
    }

    /// The exec's OCI process: the container's, with the exec's changes.
    fn exec_process(&self, id: &str, cfg: &ExecConfig) -> Result<Process> {
        let bundle = self.dir(id);
        let path = bundle.join("config.json");
        let spec = Spec::load(&path).map_err(|e| {
            EngineError::io("load OCI spec", &path, std::io::Error::other(e.to_string()))
        })?;
        let mut p = spec.process().clone().unwrap_or_default();
        let rootfs = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .map(|r| if r.is_absolute() { r } else { bundle.join(r) })
            .unwrap_or_else(|| PathBuf::from("/"));
        let base_env = p.env().clone().unwrap_or_default();
        p.set_env(Some(crate::spec::merge_env(&base_env, &cfg.env)));
        p.set_args(Some(cfg.cmd.clone()));
        p.set_terminal(Some(cfg.tty));
        p.set_console_size(None);
        if !cfg.working_dir.is_empty() {
            p.set_cwd(PathBuf::from(&cfg.working_dir));
        }
        if !cfg.user.is_empty() {
            let u = crate::user::resolve(&rootfs, &cfg.user, &[])?;
            let mut user = p.user().clone();
            user.set_uid(u.uid);
            user.set_gid(u.gid);
            user.set_additional_gids((!u.additional_gids.is_empty()).then_some(u.additional_gids));
            p.set_user(user);
        }
        if cfg.privileged {
            let all = berth_runtime::capabilities::all_capabilities();
            let mut lc = LinuxCapabilities::default();
            lc.set_bounding(Some(all.clone()));
            lc.set_effective(Some(all.clone()));
            lc.set_permitted(Some(all));
            lc.set_inheritable(None);
            lc.set_ambient(None);
            p.set_capabilities(Some(lc));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_as_docker() {
        assert_eq!(
            start_failure_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_failure_code("permission denied"), 126);
    }
}
