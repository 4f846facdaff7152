//! `pause` and `unpause`: the freezer (v1 `freezer.state`, v2 `cgroup.freeze`) on every
//! process of the container; the state is `paused` in between.

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::table::{Container, Engine};

impl Engine {
    /// `POST /containers/{id}/pause`.
    pub async fn pause(&self, name: &str) -> Result<()> {
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        match c.status() {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict(format!(
                    "Container {} is already paused",
                    c.id
                )));
            }
            _ => return Err(EngineError::NotRunning(c.id.clone())),
        }
        self.with_cgroup(&c.id, |cg| cg.freeze()).await?;
        let rec = self.save(&c, |r| r.state.status = Status::Paused)?;
        self.emit(&rec, "pause", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn unpause(&self, name: &str) -> Result<()> {
        let c = self.lookup(name)?;
        let _op = c.op.lock().await;
        if c.status() != Status::Paused {
            return Err(EngineError::Conflict(format!(
                "Container {} is not paused",
                c.id
            )));
        }
        self.thaw(&c).await?;
        self.emit(&c.record(), "unpause", &[]);
        Ok(())
    }

    /// Thaws a paused container and marks it running (a stop or kill does this first, so
    /// its signal is delivered). A container that is not paused is left alone.
    pub(crate) async fn thaw(&self, c: &Container) -> Result<()> {
        if c.status() != Status::Paused {
            return Ok(());
        }
        self.with_cgroup(&c.id, |cg| cg.thaw()).await?;
        self.save(c, |r| {
            if r.state.status == Status::Paused {
                r.state.status = Status::Running;
            }
        })?;
        Ok(())
    }
}
