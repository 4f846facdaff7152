//! The engine handle, its directories, and the in-memory table of containers (IDs and
//! names) in front of the database.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_image::snapshot::AnySnapshotter;
use berth_image::store::ImageStore;
use berth_shim::ShimClient;
use tokio::sync::watch;

use crate::error::{EngineError, Result};
use crate::events::Events;
use crate::lifecycle::attach::PendingAttach;
use crate::model::{ContainerRecord, Status};
use crate::store::Store;

/// Where the engine keeps its state and finds the shim.
#[derive(Debug, Clone)]
pub struct Config {
    /// Persistent state (`berth.db`, images, `containers/<id>/`).
    pub data_root: PathBuf,
    /// Runtime state (`shims/<id>/`, the runtime's root).
    pub exec_root: PathBuf,
    /// The `berth-shim` binary.
    pub shim_binary: PathBuf,
    /// The daemon's `dns` and `default-ulimits` for containers.
    pub container_defaults: crate::container_defaults::ContainerDefaults,
}

/// Options of container list.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Include stopped containers.
    pub all: bool,
    /// At most this many, newest first.
    pub limit: Option<usize>,
    /// docker's filters.
    pub filters: BTreeMap<String, Vec<String>>,
}

/// Numbers for `/info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// All containers.
    pub containers: i64,
    /// Running.
    pub running: i64,
    /// Paused.
    pub paused: i64,
    /// Stopped.
    pub stopped: i64,
    /// Images.
    pub images: i64,
}

/// What waits and followers see of a container's runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RunState {
    /// A process runs.
    pub running: bool,
    /// How many runs have ended.
    pub exits: u64,
    /// The last exit code.
    pub exit_code: i64,
    /// The container is gone.
    pub removed: bool,
}

/// One container in memory.
#[derive(Debug)]
pub(crate) struct Container {
    pub id: String,
    pub rec: Mutex<ContainerRecord>,
    /// Serialises start, stop, restart and remove.
    pub op: tokio::sync::Mutex<()>,
    pub run: watch::Sender<RunState>,
    /// Attach sessions waiting for the next start.
    pub pending: Mutex<Vec<PendingAttach>>,
    /// Health of the current run (in memory: a daemon restart starts it over).
    pub health: Mutex<Option<berth_api::container::Health>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Records are replaced whole under the lock, so a poisoned lock holds a whole value.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Container {
    pub fn new(rec: ContainerRecord) -> Arc<Self> {
        let run = RunState {
            running: rec.state.status.has_process(),
            exits: 0,
            exit_code: rec.state.exit_code,
            removed: false,
        };
        Arc::new(Self {
            id: rec.id.clone(),
            rec: Mutex::new(rec),
            op: tokio::sync::Mutex::new(()),
            run: watch::channel(run).0,
            pending: Mutex::new(Vec::new()),
            health: Mutex::new(None),
        })
    }

    /// A copy of the record.
    pub fn record(&self) -> ContainerRecord {
        lock(&self.rec).clone()
    }

    pub fn status(&self) -> Status {
        lock(&self.rec).state.status
    }

    pub fn take_pending(&self) -> Vec<PendingAttach> {
        std::mem::take(&mut *lock(&self.pending))
    }

    pub fn add_pending(&self, p: PendingAttach) {
        lock(&self.pending).push(p);
    }

    /// A copy of the current health.
    pub fn health(&self) -> Option<berth_api::container::Health> {
        lock(&self.health).clone()
    }

    /// Changes the health under its lock; returns the result.
    pub fn update_health<T>(
        &self,
        f: impl FnOnce(&mut Option<berth_api::container::Health>) -> T,
    ) -> T {
        f(&mut lock(&self.health))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Table {
    pub by_id: BTreeMap<String, Arc<Container>>,
    /// `/name` → ID.
    pub names: HashMap<String, String>,
}

/// The engine. Cheap to clone; every clone is the same engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub cfg: Config,
    pub store: Store,
    pub images: Arc<ImageStore>,
    pub snap: AnySnapshotter,
    pub events: Events,
    pub table: Mutex<Table>,
    /// Networks and the containers' endpoints.
    pub net: Arc<crate::network::Networks>,
    /// Exec instances.
    pub execs: crate::exec::Execs,
    /// Volumes.
    pub volumes: crate::volume::Volumes,
    /// Set when the daemon stops: exits seen after it start nothing again.
    pub shutting_down: std::sync::atomic::AtomicBool,
    /// The last stats sample of each container, the `precpu` of the next one-shot.
    pub stats: crate::lifecycle::stats::LastSamples,
    /// The daemon's `log-driver` and `log-opts`, for containers that name no driver.
    pub default_log: std::sync::RwLock<berth_api::container::LogConfig>,
}

impl Engine {
    /// Opens the engine's state under the configured roots, reloads every container and
    /// reconnects to the shims that still run (see the crate docs). Needs a tokio runtime.
    pub async fn open(cfg: Config) -> Result<Self> {
        Self::open_inner(cfg, None).await
    }

    /// [`Engine::open`] with networking: the default `bridge` network (its Linux bridge name
    /// and the address pool from `net`) is made at the first start, stored networks are
    /// restored. Plain [`Engine::open`] makes no bridge: `bridge` containers get a namespace
    /// with only `lo` (what tests of the engine alone need, side by side).
    pub async fn open_with_network(
        cfg: Config,
        net: crate::network::NetworkConfig,
    ) -> Result<Self> {
        Self::open_inner(cfg, Some(net)).await
    }

    async fn open_inner(cfg: Config, net: Option<crate::network::NetworkConfig>) -> Result<Self> {
        for d in [
            cfg.data_root.clone(),
            cfg.data_root.join("containers"),
            cfg.data_root.join("volumes"),
        ] {
            std::fs::create_dir_all(&d).map_err(|e| EngineError::io("create", &d, e))?;
        }
        // Root's only: the exec root may be traversable (the API socket's group reaches the
        // socket in it), what the shims and the runtime keep there is not for others.
        for d in ["shims", "runtime", "netns"].map(|n| cfg.exec_root.join(n)) {
            std::fs::create_dir_all(&d).map_err(|e| EngineError::io("create", &d, e))?;
            std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .map_err(|e| EngineError::io("chmod", &d, e))?;
        }
        cfg.container_defaults.validate()?;
        let store = Store::open(&cfg.data_root.join("berth.db"))?;
        let images = Arc::new(ImageStore::open(&cfg.data_root)?);
        let engine = Engine {
            inner: Arc::new(Inner {
                cfg,
                store,
                images,
                snap: AnySnapshotter::detect(),
                events: Events::new(),
                table: Mutex::new(Table::default()),
                net: Arc::new(crate::network::Networks::new(net)),
                execs: crate::exec::Execs::default(),
                volumes: crate::volume::Volumes::default(),
                shutting_down: std::sync::atomic::AtomicBool::new(false),
                default_log: Default::default(),
                stats: Default::default(),
            }),
        };
        engine.restore_volumes()?;
        engine.restore_networks().await?;
        engine.restore().await?;
        Ok(engine)
    }

    pub(crate) fn table(&self) -> MutexGuard<'_, Table> {
        lock(&self.inner.table)
    }

    /// The container's directory: bundle, snapshot, hostname files, log.
    pub(crate) fn dir(&self, id: &str) -> PathBuf {
        self.inner.cfg.data_root.join("containers").join(id)
    }

    /// The json-file log.
    pub(crate) fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).join(format!("{id}-json.log"))
    }

    /// The shim's state directory: `EXEC_ROOT/shims/<first 24 hex of the ID>`. Shortened
    /// because the shim's socket lives in it and a unix socket path has at most 107 bytes;
    /// 96 random bits cannot collide among one host's containers.
    pub(crate) fn shim_dir(&self, id: &str) -> PathBuf {
        self.inner
            .cfg
            .exec_root
            .join("shims")
            .join(id.get(..24).unwrap_or(id))
    }

    /// The bind mount pinning the container's network namespace.
    pub(crate) fn netns_path(&self, id: &str) -> PathBuf {
        self.inner
            .cfg
            .exec_root
            .join("netns")
            .join(id.get(..24).unwrap_or(id))
    }

    pub(crate) fn runtime_root(&self) -> PathBuf {
        self.inner.cfg.exec_root.join("runtime")
    }

    pub(crate) fn shim(&self, id: &str) -> ShimClient {
        ShimClient::new(self.shim_dir(id).join(berth_shim::protocol::SOCKET_NAME))
    }

    /// Finds a container as docker does: full ID, then name, then unique ID prefix.
    pub(crate) fn lookup(&self, name: &str) -> Result<Arc<Container>> {
        let t = self.table();
        if let Some(c) = t.by_id.get(name) {
            return Ok(c.clone());
        }
        let slashed = if name.starts_with('/') {
            name.to_owned()
        } else {
            format!("/{name}")
        };
        if let Some(c) = t.names.get(&slashed).and_then(|id| t.by_id.get(id)) {
            return Ok(c.clone());
        }
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut hits = t
                .by_id
                .range(name.to_owned()..)
                .take_while(|(k, _)| k.starts_with(name));
            return match (hits.next(), hits.next()) {
                (Some((_, c)), None) => Ok(c.clone()),
                (Some(_), Some(_)) => Err(EngineError::AmbiguousPrefix(name.to_owned())),
                (None, _) => Err(EngineError::NoSuchContainer(name.to_owned())),
            };
        }
        Err(EngineError::NoSuchContainer(name.to_owned()))
    }

    /// Applies `f` to a copy of the record, stores it, then keeps it in memory.
    pub(crate) fn save(
        &self,
        c: &Container,
        f: impl FnOnce(&mut ContainerRecord),
    ) -> Result<ContainerRecord> {
        let mut g = lock(&c.rec);
        let mut next = g.clone();
        f(&mut next);
        // A removed container's record is gone for good: a late writer must not revive it.
        if c.run.borrow().removed {
            return Ok(next);
        }
        self.inner.store.put(&next)?;
        *g = next.clone();
        Ok(next)
    }

    /// [`Engine::save`] for facts that happened whatever the store says (a process exited):
    /// when the store cannot be written (a full disk), the change is still kept in memory,
    /// so `inspect` and `wait` agree, and the error is logged.
    pub(crate) fn save_fact(
        &self,
        c: &Container,
        what: &str,
        f: impl Fn(&mut ContainerRecord),
    ) -> ContainerRecord {
        match self.save(c, &f) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("record {what} of {}: {e} (kept in memory only)", c.id);
                let mut g = lock(&c.rec);
                if !c.run.borrow().removed {
                    f(&mut g);
                }
                g.clone()
            }
        }
    }

    /// Event attributes of a container: name, image and labels.
    pub(crate) fn attrs(&self, rec: &ContainerRecord) -> BTreeMap<String, String> {
        let mut a: BTreeMap<String, String> = rec.config.labels.clone().unwrap_or_default();
        a.insert("name".into(), rec.name.trim_start_matches('/').to_owned());
        a.insert("image".into(), rec.image_name.clone());
        a
    }

    pub(crate) fn emit(&self, rec: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
        let mut a = self.attrs(rec);
        for (k, v) in extra {
            a.insert((*k).to_owned(), v.clone());
        }
        self.inner.events.emit("container", action, &rec.id, a);
    }

    /// Counts for `/info`.
    pub fn counts(&self) -> Counts {
        let statuses: Vec<Status> = self.table().by_id.values().map(|c| c.status()).collect();
        let mut n = Counts {
            containers: statuses.len() as i64,
            images: self
                .inner
                .images
                .list()
                .map(|l| l.len() as i64)
                .unwrap_or(0),
            ..Counts::default()
        };
        for s in statuses {
            match s {
                Status::Running | Status::Restarting => n.running += 1,
                Status::Paused => n.paused += 1,
                _ => n.stopped += 1,
            }
        }
        n
    }

    /// The storage driver's name (`overlay2` or `vfs`).
    pub fn driver(&self) -> &'static str {
        self.inner.snap.name()
    }

    /// The events stream since/until, filtered.
    pub fn events(
        &self,
        since: Option<std::time::SystemTime>,
        until: Option<std::time::SystemTime>,
        filters: crate::events::Filters,
    ) -> tokio::sync::mpsc::Receiver<berth_api::event::EventMessage> {
        self.inner.events.subscribe(since, until, filters)
    }

    /// The data root.
    pub fn data_root(&self) -> &Path {
        &self.inner.cfg.data_root
    }
}
