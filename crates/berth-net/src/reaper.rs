//! Deleting veths off the caller's path. Unregistering a link makes the kernel wait for RCU
//! grace periods (about 12 ms here), which a `run --rm` would otherwise spend after the
//! container has already exited. The reaper deletes such links on a background thread and
//! remembers which are still pending, so that a new link of the same name, and the daemon's
//! stop, wait for them instead of racing them.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::netlink;

/// Links being deleted in the background.
#[derive(Debug, Default)]
pub(crate) struct Reaper {
    state: Arc<(Mutex<HashSet<String>>, Condvar)>,
}

impl Reaper {
    /// Deletes link `name` (in the caller's namespace) on a background thread. Failures are
    /// logged: the link's namespace is gone by then and takes the pair with it when it dies.
    pub(crate) fn delete(&self, name: String) {
        let state = Arc::clone(&self.state);
        state
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone());
        let failed = name.clone();
        let job = move || {
            let link = name.clone();
            if let Err(e) = netlink::run(None, move |h| async move {
                netlink::delete_link(&h, &link).await
            }) {
                tracing::warn!("delete link {name}: {e}");
            }
            let (set, cv) = &*state;
            set.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&name);
            cv.notify_all();
        };
        if let Err(e) = std::thread::Builder::new()
            .name("berth-reaper".into())
            .spawn(job)
        {
            // No thread to be had: nothing is pending, the namespace's death reclaims the link.
            tracing::warn!("spawn link reaper: {e}");
            let (set, _) = &*self.state;
            set.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&failed);
        }
    }

    /// Waits (at most `timeout`) until no pending deletion matches `pred`; returns whether none
    /// is left.
    pub(crate) fn wait(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let (set, cv) = &*self.state;
        let mut pending = set.lock().unwrap_or_else(PoisonError::into_inner);
        while pending.iter().any(|n| pred(n)) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = cv
                .wait_timeout(pending, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}
