//! The events stream: a broadcast channel for live subscribers plus the last
//! [`HISTORY`] events in memory for `since` (docker keeps 256... in memory too; events do
//! not survive a daemon restart, as in docker).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use berth_api::event::{EventActor, EventMessage};
use tokio::sync::{broadcast, mpsc};

/// How many past events are kept for `since`.
pub const HISTORY: usize = 1024;

/// Filters of `/events`: type, event (action), container, image, label.
pub type Filters = BTreeMap<String, Vec<String>>;

/// The event bus.
#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<EventMessage>,
    history: Mutex<VecDeque<EventMessage>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Events {
    /// An empty bus.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(256);
        Self {
            tx,
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
        }
    }

    /// Publishes an event about `id` of `typ` (`container`, `image`).
    pub fn emit(&self, typ: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) {
        let t = now_nanos();
        let legacy = matches!(typ, "container" | "image");
        let msg = EventMessage {
            r#type: typ.to_owned(),
            action: action.to_owned(),
            actor: EventActor {
                id: id.to_owned(),
                attributes: attributes.clone(),
            },
            scope: "local".to_owned(),
            time: t / 1_000_000_000,
            time_nano: t,
            status: legacy.then(|| action.to_owned()),
            id: legacy.then(|| id.to_owned()),
            from: attributes
                .get("image")
                .filter(|_| typ == "container")
                .cloned(),
        };
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back(msg.clone());
        // No subscriber is not an error.
        let _ = self.tx.send(msg);
    }

    /// Past events since `since` (when given), then live ones until `until` (when given),
    /// matching `filters`.
    pub fn subscribe(
        &self,
        since: Option<SystemTime>,
        until: Option<SystemTime>,
        filters: Filters,
    ) -> mpsc::Receiver<EventMessage> {
        let (out, rx) = mpsc::channel(256);
        let (past, mut live) = {
            let h = self.history.lock().unwrap_or_else(|p| p.into_inner());
            let past: Vec<EventMessage> = match since {
                Some(s) => {
                    let s = nanos(s);
                    h.iter().filter(|e| e.time_nano >= s).cloned().collect()
                }
                None => Vec::new(),
            };
            (past, self.tx.subscribe())
        };
        let until_nanos = until.map(nanos);
        tokio::spawn(async move {
            let before_end = |e: &EventMessage| until_nanos.is_none_or(|u| e.time_nano <= u);
            for e in past {
                if before_end(&e) && matches(&e, &filters) && out.send(e).await.is_err() {
                    return;
                }
            }
            let deadline = until.map(|u| {
                let left = u.duration_since(SystemTime::now()).unwrap_or_default();
                tokio::time::Instant::now() + left
            });
            loop {
                let next = async {
                    match deadline {
                        Some(d) => tokio::time::timeout_at(d, live.recv()).await.ok(),
                        None => Some(live.recv().await),
                    }
                };
                match next.await {
                    None => return,
                    Some(Ok(e)) => {
                        if !before_end(&e) {
                            return;
                        }
                        if matches(&e, &filters) && out.send(e).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                    Some(Err(broadcast::error::RecvError::Closed)) => return,
                }
            }
        });
        rx
    }
}

/// docker's event filters: each key present must match one of its values.
pub fn matches(e: &EventMessage, filters: &Filters) -> bool {
    filters.iter().all(|(k, values)| {
        values.is_empty()
            || values.iter().any(|v| match k.as_str() {
                "type" => e.r#type == *v,
                "event" | "action" => e.action == *v,
                "container" => {
                    e.r#type == "container"
                        && (e.actor.id.starts_with(v.as_str())
                            || e.actor.attributes.get("name") == Some(v))
                }
                "image" => {
                    e.actor.attributes.get("image") == Some(v)
                        || (e.r#type == "image" && e.actor.id.contains(v.as_str()))
                }
                "label" => {
                    let (lk, lv) = v.split_once('=').unwrap_or((v, ""));
                    e.actor
                        .attributes
                        .get(lk)
                        .is_some_and(|x| lv.is_empty() || x == lv)
                }
                _ => true,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn since_replays_and_filters_apply() {
        let ev = Events::new();
        let start = SystemTime::now();
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), "web".to_string());
        ev.emit("container", "create", "abc", attrs.clone());
        ev.emit("image", "tag", "sha256:1", BTreeMap::new());
        let mut f = Filters::new();
        f.insert("type".into(), vec!["container".into()]);
        let mut rx = ev.subscribe(Some(start), None, f);
        let e = rx.recv().await.unwrap();
        assert_eq!((e.action.as_str(), e.actor.id.as_str()), ("create", "abc"));
        ev.emit("container", "start", "abc", attrs);
        assert_eq!(rx.recv().await.unwrap().action, "start");
    }
}
