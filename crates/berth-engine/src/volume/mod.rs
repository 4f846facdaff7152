//! Volumes with docker's `local` driver: a directory `DATA_ROOT/volumes/<name>/_data`, or,
//! with the driver's `type`/`device`/`o` options, a filesystem mounted there while
//! containers use it. Records live in the engine's redb file (table `volumes`), so volumes
//! survive a daemon restart; which containers use a volume is read from the containers'
//! records (their mount points), never counted separately, so it cannot drift.
//!
//! One mutex guards the volumes. A container's create takes it while it makes or finds
//! its volumes and writes them into its record, and `rm`/`prune` take it while they check
//! that no container refers to a volume: a volume is never removed under a new container.

mod local;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use berth_api::volume::{Volume, VolumeCreateOptions, VolumeUsageData};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::mounts::parse::{MountKind, validate_volume_name};
use crate::network::store as kv;
use crate::table::Engine;

/// The label docker puts on anonymous volumes (what `volume prune` removes without `all`).
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

const VOLUMES: redb::TableDefinition<'static, &'static str, &'static [u8]> =
    redb::TableDefinition::new("volumes");

/// A volume as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeRecord {
    /// Name.
    pub name: String,
    /// `local`.
    pub driver: String,
    /// RFC 3339.
    pub created_at: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Driver options (`type`, `device`, `o`).
    pub options: BTreeMap<String, String>,
}

impl VolumeRecord {
    /// Made for a container without a name.
    pub fn anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// The volumes in memory, in front of their table.
#[derive(Debug, Default)]
pub struct Volumes {
    map: Mutex<BTreeMap<String, VolumeRecord>>,
}

impl Volumes {
    pub(crate) fn lock(&self) -> MutexGuard<'_, BTreeMap<String, VolumeRecord>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Engine {
    /// `DATA_ROOT/volumes`.
    pub(crate) fn volumes_root(&self) -> PathBuf {
        self.inner.cfg.data_root.join("volumes")
    }

    /// A volume's data directory, `DATA_ROOT/volumes/<name>/_data`.
    pub(crate) fn volume_data(&self, name: &str) -> PathBuf {
        self.volumes_root().join(name).join("_data")
    }

    /// Reloads the stored volumes (at open).
    pub(crate) fn restore_volumes(&self) -> Result<()> {
        let all: Vec<VolumeRecord> = kv::load_all(&self.inner.store, VOLUMES)?;
        let mut map = self.inner.volumes.lock();
        for v in all {
            map.insert(v.name.clone(), v);
        }
        Ok(())
    }

    fn volume_api(&self, v: &VolumeRecord) -> Volume {
        Volume {
            name: v.name.clone(),
            driver: v.driver.clone(),
            mountpoint: self.volume_data(&v.name).display().to_string(),
            created_at: v.created_at.clone(),
            status: None,
            labels: (!v.labels.is_empty()).then(|| v.labels.clone()),
            scope: "local".into(),
            options: (!v.options.is_empty()).then(|| v.options.clone()),
            usage_data: None,
        }
    }

    /// Containers (IDs) whose mount points name each volume.
    pub(crate) fn volume_refs(&self) -> BTreeMap<String, Vec<String>> {
        let mut refs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, c) in &self.table().by_id {
            for m in c.record().mounts {
                if m.kind == MountKind::Volume && !m.name.is_empty() {
                    refs.entry(m.name).or_default().push(id.clone());
                }
            }
        }
        refs
    }

    /// Finds `name` or makes it (an empty name makes an anonymous volume); returns it and
    /// whether it was made. The caller holds the volumes lock.
    pub(crate) fn volume_ensure(
        &self,
        map: &mut BTreeMap<String, VolumeRecord>,
        name: &str,
        driver: &str,
        options: BTreeMap<String, String>,
        mut labels: BTreeMap<String, String>,
    ) -> Result<(VolumeRecord, bool)> {
        let driver = if driver.is_empty() { "local" } else { driver };
        if driver != "local" {
            return Err(EngineError::NoSuchVolumeDriver(driver.to_owned()));
        }
        if let Some(v) = map.get(name) {
            return Ok((v.clone(), false));
        }
        let name = if name.is_empty() {
            labels.insert(ANONYMOUS_LABEL.into(), String::new());
            crate::names::new_id()?
        } else {
            validate_volume_name(name)?;
            name.to_owned()
        };
        local::validate_options(&options)?;
        let rec = VolumeRecord {
            name: name.clone(),
            driver: driver.to_owned(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            labels,
            options,
        };
        let data = self.volume_data(&name);
        std::fs::create_dir_all(&data).map_err(|e| EngineError::io("create", &data, e))?;
        if let Err(e) = kv::put(&self.inner.store, VOLUMES, &name, &rec) {
            let _ = std::fs::remove_dir_all(self.volumes_root().join(&name));
            return Err(e);
        }
        map.insert(name.clone(), rec.clone());
        self.inner.events.emit(
            "volume",
            "create",
            &name,
            [("driver".to_owned(), rec.driver.clone())].into(),
        );
        Ok((rec, true))
    }

    /// Deletes a volume's record, mount and directory; the caller holds the volumes lock and
    /// has checked that no container uses it.
    pub(crate) fn volume_delete(
        &self,
        map: &mut BTreeMap<String, VolumeRecord>,
        name: &str,
    ) -> Result<()> {
        let Some(v) = map.get(name).cloned() else {
            return Err(EngineError::NoSuchVolume(name.to_owned()));
        };
        let data = self.volume_data(name);
        local::unmount(&data)?;
        kv::delete(&self.inner.store, VOLUMES, name)?;
        map.remove(name);
        let dir = self.volumes_root().join(name);
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(EngineError::io("remove", &dir, e));
        }
        self.inner.events.emit(
            "volume",
            "destroy",
            name,
            [("driver".to_owned(), v.driver)].into(),
        );
        Ok(())
    }

    /// `POST /volumes/create`.
    pub fn volume_create(&self, req: VolumeCreateOptions) -> Result<Volume> {
        let mut map = self.inner.volumes.lock();
        let (v, _) = self.volume_ensure(
            &mut map,
            &req.name,
            &req.driver,
            req.driver_opts.unwrap_or_default(),
            req.labels.unwrap_or_default(),
        )?;
        Ok(self.volume_api(&v))
    }

    /// `GET /volumes/{name}`.
    pub fn volume_inspect(&self, name: &str) -> Result<Volume> {
        let map = self.inner.volumes.lock();
        map.get(name)
            .map(|v| self.volume_api(v))
            .ok_or_else(|| EngineError::NoSuchVolume(name.to_owned()))
    }

    /// `GET /volumes` with docker's filters `dangling`, `name`, `label`, `driver`.
    pub fn volume_list(&self, filters: &BTreeMap<String, Vec<String>>) -> Result<Vec<Volume>> {
        for (k, vals) in filters {
            match k.as_str() {
                "name" | "label" | "driver" => {}
                "dangling" => {
                    if let Some(bad) = vals.iter().find(|v| crate::filters::truthy(v).is_none()) {
                        return Err(EngineError::Invalid(format!(
                            "invalid filter 'dangling={bad}'"
                        )));
                    }
                }
                other => {
                    return Err(EngineError::Invalid(format!("invalid filter '{other}'")));
                }
            }
        }
        let map = self.inner.volumes.lock();
        let refs = self.volume_refs();
        let get = |k: &str| filters.get(k).filter(|v| !v.is_empty());
        let out = map
            .values()
            .filter(|v| {
                get("dangling").is_none_or(|d| {
                    d.iter()
                        .any(|x| crate::filters::truthy(x) == Some(!refs.contains_key(&v.name)))
                }) && get("name").is_none_or(|n| n.iter().any(|x| v.name.contains(x.as_str())))
                    && get("driver").is_none_or(|d| d.contains(&v.driver))
                    && get("label").is_none_or(|l| {
                        l.iter()
                            .all(|x| crate::filters::label_matches(&v.labels, x))
                    })
            })
            .map(|v| self.volume_api(v))
            .collect();
        Ok(out)
    }

    /// `DELETE /volumes/{name}`: 409 while a container uses it; `force` makes a missing
    /// volume no error.
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let mut map = self.inner.volumes.lock();
        if !map.contains_key(name) {
            return if force {
                Ok(())
            } else {
                Err(EngineError::NoSuchVolume(name.to_owned()))
            };
        }
        if let Some(ids) = self.volume_refs().remove(name) {
            return Err(EngineError::VolumeInUse {
                name: name.to_owned(),
                ids,
            });
        }
        self.volume_delete(&mut map, name)
    }

    /// `POST /volumes/prune`: unused anonymous volumes (every unused one with `all`),
    /// filtered by `label`/`label!`. Returns the names and the bytes freed.
    pub fn volume_prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<(Vec<String>, u64)> {
        let mut all = false;
        for (k, vals) in filters {
            match k.as_str() {
                "label" | "label!" => {}
                "all" => {
                    all = vals.iter().any(|v| crate::filters::truthy(v) == Some(true));
                    if let Some(bad) = vals.iter().find(|v| crate::filters::truthy(v).is_none()) {
                        return Err(EngineError::Invalid(format!("invalid filter 'all={bad}'")));
                    }
                }
                other => {
                    return Err(EngineError::Invalid(format!("invalid filter '{other}'")));
                }
            }
        }
        let mut map = self.inner.volumes.lock();
        let refs = self.volume_refs();
        let victims: Vec<VolumeRecord> = map
            .values()
            .filter(|v| !refs.contains_key(&v.name) && (all || v.anonymous()))
            .filter(|v| {
                filters.get("label").is_none_or(|l| {
                    l.iter()
                        .all(|x| crate::filters::label_matches(&v.labels, x))
                }) && filters.get("label!").is_none_or(|l| {
                    l.iter()
                        .all(|x| !crate::filters::label_matches(&v.labels, x))
                })
            })
            .cloned()
            .collect();
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for v in victims {
            let size = crate::disk::dir_size(&self.volume_data(&v.name));
            match self.volume_delete(&mut map, &v.name) {
                Ok(()) => {
                    reclaimed += size;
                    deleted.push(v.name);
                }
                Err(e) => tracing::warn!("prune volume {}: {}", v.name, e.message()),
            }
        }
        self.inner.events.emit(
            "volume",
            "prune",
            "",
            [("reclaimed".to_owned(), reclaimed.to_string())].into(),
        );
        Ok((deleted, reclaimed))
    }

    /// Volumes with their size and users, for `GET /system/df`.
    pub fn volume_usage(&self) -> Vec<Volume> {
        let map = self.inner.volumes.lock();
        let refs = self.volume_refs();
        map.values()
            .map(|v| {
                let mut api = self.volume_api(v);
                api.usage_data = Some(VolumeUsageData {
                    size: crate::disk::dir_size(&self.volume_data(&v.name)) as i64,
                    ref_count: refs.get(&v.name).map_or(0, |r| r.len() as i64),
                });
                api
            })
            .collect()
    }

    /// Mounts a volume's filesystem when its driver options ask for one (`type`/`device`);
    /// returns its data directory.
    pub(crate) fn volume_mount(&self, name: &str) -> Result<PathBuf> {
        let v = self
            .inner
            .volumes
            .lock()
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::NoSuchVolume(name.to_owned()))?;
        let data = self.volume_data(name);
        local::mount(&v.options, &data)?;
        Ok(data)
    }

    /// Unmounts the filesystems of these volumes that no running container uses any more.
    pub(crate) fn volume_release(&self, names: &[String]) {
        let map = self.inner.volumes.lock();
        let running: Vec<String> = self
            .table()
            .by_id
            .values()
            .filter(|c| c.status().has_process())
            .flat_map(|c| c.record().mounts.into_iter().map(|m| m.name))
            .collect();
        for n in names {
            let Some(v) = map.get(n) else { continue };
            if local::needs_mount(&v.options)
                && !running.contains(n)
                && let Err(e) = local::unmount(&self.volume_data(n))
            {
                tracing::warn!("unmount volume {n}: {}", e.message());
            }
        }
    }
}
