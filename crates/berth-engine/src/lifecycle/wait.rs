//! `wait`: registered at once (so a start that follows is seen), answered when the
//! condition holds.

use berth_api::container::WaitResponse;
use tokio::sync::oneshot;

use crate::error::Result;
use crate::table::Engine;

/// What a wait waits for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitCondition {
    /// Until the container is not running (at once when it is not).
    #[default]
    NotRunning,
    /// Until the current or next run exits.
    NextExit,
    /// Until the container is removed.
    Removed,
}

impl Engine {
    /// `POST /containers/{id}/wait`: returns the receiver of the exit status.
    pub async fn wait(
        &self,
        name: &str,
        condition: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResponse>> {
        let c = self.lookup(name)?;
        let mut rx = c.run.subscribe();
        let start = *rx.borrow_and_update();
        let running = c.status().has_process();
        let (tx, out) = oneshot::channel();
        tokio::spawn(async move {
            let done = |r: &crate::table::RunState| match condition {
                WaitCondition::NotRunning => !running || r.exits > start.exits || r.removed,
                WaitCondition::NextExit => r.exits > start.exits || r.removed,
                WaitCondition::Removed => r.removed,
            };
            let waited = rx.wait_for(done).await.map(|r| r.exit_code);
            // On error the container is gone (its state with it): the last code seen.
            let code = waited.unwrap_or_else(|_| rx.borrow().exit_code);
            let _ = tx.send(WaitResponse {
                status_code: code,
                error: None,
            });
        });
        Ok(out)
    }
}
