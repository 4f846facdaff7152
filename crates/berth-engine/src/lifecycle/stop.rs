//! `stop` (the stop signal, then SIGKILL after the timeout), `kill` and `restart`.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::signals::{self, SIGKILL};
use crate::table::{Container, Engine};

/// How long to wait for an exit after SIGKILL before giving up.
const KILL_GRACE: Duration = Duration::from_secs(30);

impl Engine {
    /// Sends `signal` to the container's init (`all`: to every process of it).
    pub(crate) async fn signal(&self, c: &Container, signal: i32, all: bool) -> Result<()> {
        // A frozen process gets no signal: thaw a paused container first.
        if let Err(e) = self.thaw(c).await {
            tracing::warn!("thaw {} to signal it: {e}", c.id);
        }
        let client = self.shim(&c.id);
        let id = c.id.clone();
        tokio::task::spawn_blocking(move || client.signal(None, signal, all))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(|e| EngineError::Shim(id, e))
    }

    /// Waits until the run that is current now has exited (or the container is gone);
    /// false on timeout.
    pub(crate) async fn wait_stopped(&self, c: &Container, timeout: Option<Duration>) -> bool {
        let mut rx = c.run.subscribe();
        let fut = rx.wait_for(|r| !r.running || r.removed);
        match timeout {
            Some(t) => matches!(tokio::time::timeout(t, fut).await, Ok(Ok(_)) | Ok(Err(_))),
            None => {
                let _ = fut.await;
                true
            }
        }
    }

    /// `POST /containers/{id}/stop`; `NotModified` when not running.
    pub async fn stop(
        &self,
        name: &str,
        signal: Option<String>,
        timeout: Option<i64>,
    ) -> Result<()> {
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        self.stop_locked(&c, signal, timeout).await
    }

    pub(crate) async fn stop_locked(
        &self,
        c: &Arc<Container>,
        signal: Option<String>,
        timeout: Option<i64>,
    ) -> Result<()> {
        let rec = c.record();
        if rec.state.status == Status::Restarting {
            // Cancels the pending restart.
            let rec = self.save(c, |r| {
                r.state.status = Status::Exited;
                r.manually_stopped = true;
            })?;
            self.emit(&rec, "stop", &[]);
            return Ok(());
        }
        if !rec.state.status.has_process() {
            return Err(EngineError::NotModified(c.id.clone(), "stopped"));
        }
        let sig = signals::parse(signal.as_deref().unwrap_or(rec.stop_signal()))?;
        self.save(c, |r| r.manually_stopped = true)?;
        let t = timeout.unwrap_or(rec.stop_timeout());
        if let Err(e) = self.signal(c, sig, false).await {
            tracing::debug!("stop signal to {}: {e}", c.id);
        }
        self.emit(&rec, "kill", &[("signal", sig.to_string())]);
        let graceful = if t < 0 {
            self.wait_stopped(c, None).await
        } else {
            self.wait_stopped(c, Some(Duration::from_secs(t as u64)))
                .await
        };
        if !graceful {
            self.kill_and_wait(c).await?;
        }
        self.emit(&c.record(), "stop", &[]);
        Ok(())
    }

    /// SIGKILL to every process, then wait for the exit.
    pub(crate) async fn kill_and_wait(&self, c: &Container) -> Result<()> {
        let rec = c.record();
        if let Err(e) = self.signal(c, SIGKILL, true).await {
            tracing::debug!("SIGKILL to {}: {e}", c.id);
        }
        self.emit(&rec, "kill", &[("signal", SIGKILL.to_string())]);
        if self.wait_stopped(c, Some(KILL_GRACE)).await {
            Ok(())
        } else {
            Err(EngineError::Invalid(format!(
                "container {} did not exit {}s after SIGKILL",
                c.id,
                KILL_GRACE.as_secs()
            )))
        }
    }

    /// `POST /containers/{id}/kill`.
    pub async fn kill(&self, name: &str, signal: Option<String>) -> Result<()> {
        let c = self.lookup(name)?;
        let rec = c.record();
        if !rec.state.status.has_process() {
            return Err(EngineError::NotRunning(c.id.clone()));
        }
        let sig = match signal.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => signals::parse(s)?,
            None => SIGKILL,
        };
        if sig == SIGKILL || rec.stop_signal() == signal.as_deref().unwrap_or("SIGKILL") {
            self.save(&c, |r| r.manually_stopped = true)?;
        }
        if sig == SIGKILL {
            return self.kill_and_wait(&c).await;
        }
        self.signal(&c, sig, false).await?;
        self.emit(&rec, "kill", &[("signal", sig.to_string())]);
        Ok(())
    }

    /// `POST /containers/{id}/restart`: stop when running, then start.
    pub async fn restart(
        &self,
        name: &str,
        signal: Option<String>,
        timeout: Option<i64>,
    ) -> Result<()> {
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        match self.stop_locked(&c, signal, timeout).await {
            Ok(()) | Err(EngineError::NotModified(..)) => {}
            Err(e) => return Err(e),
        }
        // The monitor records the exit; wait for it before starting again.
        self.wait_stopped(&c, Some(KILL_GRACE)).await;
        self.start_locked(&c).await?;
        self.emit(&c.record(), "restart", &[]);
        Ok(())
    }
}

impl Engine {
    /// `POST /containers/{id}/resize`: the size of the container's TTY.
    pub async fn resize(&self, name: &str, width: u16, height: u16) -> Result<()> {
        let c = self.lookup(name)?;
        if !c.status().has_process() {
            return Err(EngineError::NotRunning(c.id.clone()));
        }
        let client = self.shim(&c.id);
        let id = c.id.clone();
        tokio::task::spawn_blocking(move || client.resize(None, width, height))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
            .map_err(|e| EngineError::Shim(id, e))
    }
}
