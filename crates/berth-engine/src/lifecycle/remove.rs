//! `DELETE /containers/{id}`: refuse a running container unless forced (then kill it
//! first), mark it `removing`, delete its snapshot, directories and record, free its name.
//! A cleanup failure leaves it `dead` with the error, as docker does.

use std::sync::Arc;

use berth_image::snapshot::Snapshotter;

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::table::{Container, Engine};

impl Engine {
    /// Removes a container by name, ID or prefix; `volumes` also removes its anonymous
    /// volumes (`rm -v`).
    pub async fn remove(&self, name: &str, force: bool, volumes: bool) -> Result<()> {
        let c = self.lookup(name)?;
        self.remove_container(&c, force, volumes).await
    }

    /// Removes `c` (takes its op lock). Removing an already removed container is a no-op.
    pub(crate) async fn remove_container(
        &self,
        c: &Arc<Container>,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
        let _op = c.op.lock().await;
        if c.run.borrow().removed {
            return Ok(());
        }
        let rec = c.record();
        // Under the op lock `removing` is only seen after a crash mid-removal: finish it.
        if rec.state.status == Status::Restarting && force {
            self.save(c, |r| r.manually_stopped = true)?;
        }
        if rec.state.status == Status::Restarting && !force {
            return Err(EngineError::Invalid(format!(
                "You cannot remove a restarting container {}. Stop the container before attempting removal or force remove",
                c.id
            )));
        }
        if rec.state.status.has_process() {
            if !force {
                return Err(EngineError::RemoveRunning(c.id.clone()));
            }
            // No restart policy may bring it back.
            self.save(c, |r| r.manually_stopped = true)?;
            self.kill_and_wait(c).await?;
        }
        self.save(c, |r| r.state.status = Status::Removing)?;
        let mut errors = Vec::new();
        let dir = self.dir(&c.id);
        if let Err(e) = self.release_host_mounts(&c.id) {
            errors.push(e.message());
        }
        if let Err(e) = self.inner.snap.remove(&dir) {
            errors.push(crate::error::full_message(&e));
        }
        self.net_forget(&c.id).await;
        if let Err(e) = berth_net::netns::remove(&self.netns_path(&c.id)) {
            errors.push(EngineError::from(e).message());
        }
        for d in [dir, self.shim_dir(&c.id)] {
            if let Err(e) = std::fs::remove_dir_all(&d)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                errors.push(format!("remove {}: {e}", d.display()));
            }
        }
        if !errors.is_empty() {
            let msg = errors.join("; ");
            let _ = self.save(c, |r| {
                r.state.status = Status::Dead;
                r.state.error = msg.clone();
            });
            return Err(EngineError::Invalid(format!(
                "unable to remove container {}: {msg}",
                c.id
            )));
        }
        self.inner.store.delete(&c.id)?;
        {
            let mut t = self.table();
            t.by_id.remove(&c.id);
            if t.names.get(&rec.name) == Some(&c.id) {
                t.names.remove(&rec.name);
            }
        }
        // Sessions waiting for a start that will never come end now.
        drop(c.take_pending());
        c.run.send_modify(|r| r.removed = true);
        if volumes {
            self.remove_anonymous_volumes(&rec);
        }
        self.emit(&rec, "destroy", &[]);
        Ok(())
    }
}
