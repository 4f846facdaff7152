//! The monitor of a run: an async wait on the shim's socket in the background; on exit it records
//! the status, lets the shim go, unmounts the rootfs, wakes waiters, emits `die` and applies
//! `AutoRemove`.

use std::sync::Arc;
use std::time::Duration;

use berth_image::snapshot::Snapshotter;
use berth_shim::status::{self, ExitStatus};

use super::policy;
use crate::model::Status;
use crate::table::{Container, Engine};

/// docker's exit code when the process's fate is unknown (its shim vanished).
const EXIT_LOST: i32 = 255;

impl Engine {
    /// Watches run `generation` of `c` until it exits.
    pub(crate) fn spawn_monitor(&self, c: Arc<Container>, generation: u64) {
        let engine = self.clone();
        tokio::spawn(async move {
            let status = engine.wait_exit_status(&c.id).await;
            engine.on_exit(&c, generation, status).await;
        });
    }

    /// The exit status from the shim, or from its `exit.json` when the shim is gone.
    async fn wait_exit_status(&self, id: &str) -> ExitStatus {
        let shim_dir = self.shim_dir(id);
        loop {
            let client = self.shim(id);
            match crate::shim_wait::wait(client.socket(), None).await {
                Ok(st) => return st,
                Err(e) => tracing::debug!("wait on shim of {id}: {e}"),
            }
            if let Ok(Some(st)) = status::read(&shim_dir) {
                return st;
            }
            let alive = std::os::unix::net::UnixStream::connect(
                shim_dir.join(berth_shim::protocol::SOCKET_NAME),
            )
            .is_ok();
            if !alive {
                // Read again: the shim writes exit.json before it goes.
                if let Ok(Some(st)) = status::read(&shim_dir) {
                    return st;
                }
                // The daemon may have recorded the status before it died mid-cleanup.
                if let Ok(c) = self.lookup(id) {
                    let s = c.record().state;
                    if s.finished_at > s.started_at {
                        let mut st = ExitStatus::exited(s.exit_code as i32, s.finished_at);
                        st.oom_killed = s.oom_killed;
                        return st;
                    }
                }
                return ExitStatus::exited(EXIT_LOST, berth_shim::time::now());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Records the end of run `generation`.
    pub(crate) async fn on_exit(&self, c: &Arc<Container>, generation: u64, st: ExitStatus) {
        if c.record().generation != generation {
            return;
        }
        // The status first, so a daemon killed during the cleanup below (which removes the
        // shim's exit.json) still finds it after its restart; the state changes last.
        let code = i64::from(st.exit_code);
        self.save_fact(c, "the exit status", |r| {
            r.state.exit_code = code;
            r.state.oom_killed = st.oom_killed;
            r.state.finished_at = st.finished_at.clone();
        });
        let client = self.shim(&c.id);
        let _ = tokio::task::spawn_blocking(move || client.shutdown()).await;
        let shim_dir = self.shim_dir(&c.id);
        if let Err(e) = std::fs::remove_dir_all(&shim_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("remove {}: {e}", shim_dir.display());
        }
        if let Err(e) = self.inner.snap.unmount(&self.dir(&c.id)) {
            tracing::warn!("unmount rootfs of {}: {e}", c.id);
        }
        if let Err(e) = self.release_host_mounts(&c.id) {
            tracing::warn!("release the host mounts of {}: {e}", c.id);
        }
        // A `--rm` container is removed next and never attached again: its veths can go in
        // the background, off the path of the `run --rm` waiting for the removal.
        let link = if c.record().host_config.auto_remove {
            berth_net::LinkTeardown::Background
        } else {
            berth_net::LinkTeardown::Wait
        };
        self.net_stop(&c.id, link).await;
        if let Err(e) = berth_net::netns::remove(&self.netns_path(&c.id)) {
            tracing::warn!("remove network namespace of {}: {e}", c.id);
        }
        let rec = self.save_fact(c, "the exit", |r| {
            if r.state.status.has_process() {
                r.state.status = Status::Exited;
            }
            r.state.pid = 0;
            r.state.exit_code = code;
            r.state.oom_killed = st.oom_killed;
            r.state.finished_at = st.finished_at.clone();
        });
        c.run.send_modify(|r| {
            r.running = false;
            r.exits += 1;
            r.exit_code = code;
        });
        self.volume_release(&Engine::volume_names(&rec));
        if st.oom_killed {
            self.emit(&rec, "oom", &[]);
        }
        self.emit(&rec, "die", &[("exitCode", code.to_string())]);
        // A daemon that stops its containers on its way out restarts none of them: their
        // policy applies at its next start.
        if policy::should_restart(&rec) && !self.is_shutting_down() {
            self.schedule_restart(c);
            return;
        }
        if rec.host_config.auto_remove {
            // Only this run's end removes: a restart that got the op lock first wins.
            let _op = c.op.lock().await;
            let current = c.record();
            if current.generation == generation && !current.state.status.has_process() {
                drop(_op);
                if let Err(e) = self.remove_container(c, true, true).await {
                    tracing::warn!("auto-remove {}: {e}", c.id);
                }
            }
        }
    }
}
