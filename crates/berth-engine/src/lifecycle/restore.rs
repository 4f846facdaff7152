//! Daemon restart: every record is loaded back; containers that were running get a monitor
//! again, which reconnects to their shim (still holding the process) or, when the shim is
//! gone, takes the exit status it recorded; a removal that was cut short is finished.

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
        for (c, rec) in restored {
            match rec.state.status {
                s if s.has_process() => {
                    tracing::info!(id = %rec.id, "reconnecting to the shim");
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
                        if let Err(e) = engine.remove_container(&c, true).await {
                            tracing::warn!("finish removal of {}: {e}", c.id);
                        }
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}
