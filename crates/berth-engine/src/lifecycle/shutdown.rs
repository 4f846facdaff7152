//! Daemon stop. With live restore (berth's default) the containers keep running under their
//! shims and a restarted daemon reconnects to them; without it every running container gets
//! its stop signal, then SIGKILL after its stop timeout, all at once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::signals;

/// docker's stop signal when a container's own does not parse.
const SIGTERM: i32 = 15;
use crate::table::{Container, Engine};

impl Engine {
    /// Whether [`Engine::shutdown`] has begun.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Prepares the daemon's exit: no policy restarts from now on; unless `live_restore`,
    /// every running container is stopped (stop signal, SIGKILL after its stop timeout).
    /// The caller bounds the whole with its shutdown timeout.
    pub async fn shutdown(&self, live_restore: bool) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        if live_restore {
            return;
        }
        let running: Vec<Arc<Container>> = self
            .table()
            .by_id
            .values()
            .filter(|c| c.status().has_process())
            .cloned()
            .collect();
        tracing::info!("stopping {} running containers", running.len());
        let mut stops = tokio::task::JoinSet::new();
        for c in running {
            let engine = self.clone();
            stops.spawn(async move { engine.stop_for_shutdown(&c).await });
        }
        while stops.join_next().await.is_some() {}
    }

    /// Stops `c` as `docker stop` would, without marking it stopped by hand, so its restart
    /// policy still starts it at the next daemon start (as dockerd does).
    async fn stop_for_shutdown(&self, c: &Arc<Container>) {
        let rec = c.record();
        let sig = signals::parse(rec.stop_signal()).unwrap_or(SIGTERM);
        if let Err(e) = self.signal(c, sig, false).await {
            tracing::debug!("stop signal to {}: {e}", c.id);
        }
        let t = rec.stop_timeout();
        let timeout = (t >= 0).then(|| Duration::from_secs(t as u64));
        if !self.wait_stopped(c, timeout).await
            && let Err(e) = self.kill_and_wait(c).await
        {
            tracing::warn!("stop {} at daemon stop: {e}", c.id);
        }
    }
}
