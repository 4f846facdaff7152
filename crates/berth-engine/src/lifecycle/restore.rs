//! Daemon restart: every record is loaded back; containers that were running get a monitor
//! again, which reconnects to their shim (still holding the process) or, when the shim is
//! gone, takes the exit status it recorded; a removal that was cut short is finished; what
//! a create cut short left (a directory, a snapshot, a namespace with no record) is swept;
//! a shim with no record, or whose record never ran, is killed (see `reconcile`).

use std::collections::HashSet;
use std::path::Path;

use berth_image::snapshot::Snapshotter;

use crate::error::Result;
use crate::model::Status;
use crate::table::{Container, Engine};

impl Engine {
    pub(crate) async fn restore(&self) -> Result<()> {
        let records = self.inner.store.load_all()?;
        let mut restored = Vec::with_capacity(records.len());
        {
            let mut t = self.table();
            for rec in records {
                let c = Container::new(rec.clone());
                t.names.insert(rec.name.clone(), rec.id.clone());
                t.by_id.insert(rec.id.clone(), c.clone());
                restored.push((c, rec));
            }
        }
        let known: HashSet<String> = restored.iter().map(|(_, r)| r.id.clone()).collect();
        self.sweep_orphans(&known);
        for (c, rec) in restored {
            match rec.state.status {
                s if s.has_process() => {
                    tracing::info!(id = %rec.id, "reconnecting to the shim");
                    self.spawn_health(&c, &rec);
                    self.spawn_monitor(c, rec.generation);
                }
                Status::Restarting => self.schedule_restart(&c),
                Status::Exited if super::policy::start_on_boot(&rec) => {
                    let engine = self.clone();
                    tokio::spawn(async move {
                        let _op = c.op.lock().await;
                        if let Err(e) = engine.start_locked(&c).await {
                            tracing::warn!("start {} on daemon start: {e}", c.id);
                        }
                    });
                }
                Status::Removing => {
                    let engine = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = engine.remove_container(&c, true, true).await {
                            tracing::warn!("finish removal of {}: {e}", c.id);
                        }
                    });
                }
                _ => self.undo_cut_start(&c).await,
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Removes container directories, shim directories and network namespaces that no
    /// record names (a daemon killed in the middle of a create or a removal).
    fn sweep_orphans(&self, known: &HashSet<String>) {
        let short: HashSet<&str> = known.iter().filter_map(|id| id.get(..24)).collect();
        let entries = |dir: &Path| -> Vec<(String, std::path::PathBuf)> {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                        .collect()
                })
                .unwrap_or_default()
        };
        // Shims first: their containers hold the rootfs mounts and cgroups removed next.
        let containers = entries(&self.inner.cfg.data_root.join("containers"));
        for (name, path) in entries(&self.inner.cfg.exec_root.join("shims")) {
            if !short.contains(name.as_str()) {
                if super::reconcile::kill_shim(&path) {
                    tracing::info!("killed the shim {} (no record)", path.display());
                }
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        for (name, path) in containers {
            if !known.contains(&name) {
                tracing::info!("removing {} (no record)", path.display());
                super::reconcile::remove_cgroup(&crate::spec::cgroups_path(
                    &Default::default(),
                    &name,
                ));
                if let Err(e) = self.inner.snap.remove(&path) {
                    tracing::warn!("remove orphan snapshot {}: {e}", path.display());
                }
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        for (name, path) in entries(&self.inner.cfg.exec_root.join("netns")) {
            if !short.contains(name.as_str())
                && let Err(e) = berth_net::netns::remove(&path)
            {
                tracing::warn!("remove orphan network namespace: {e}");
            }
        }
    }
}
