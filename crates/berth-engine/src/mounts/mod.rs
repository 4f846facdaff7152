//! A container's mounts: bind mounts, volumes and tmpfs, as docker resolves them.
//!
//! At create ([`Engine::plan_mounts`]) the request's `VolumesFrom`, `Binds`, `Mounts` and
//! the config's `Volumes` (the image's `VOLUME`s and `-v /path`) become [`MountRecord`]s in
//! the container's record, in moby's order (a later source replaces an earlier one at the
//! same destination; two binds or a bind and a tmpfs on one destination are refused), and
//! the named and anonymous volumes they need are made. Nothing else is touched on the host,
//! so a refused create leaves only the volumes it made, which it removes.
//!
//! At start ([`Engine::prepare_mounts`]) missing `-v` bind sources are made (as dockerd
//! does), volumes with driver options are mounted, an empty volume is filled with the
//! image's content at its mount point (copy-up, see [`copy`]), and the mounts become OCI
//! spec entries that override docker's defaults at the same destination. The runtime mounts
//! them inside the rootfs with `openat2(RESOLVE_IN_ROOT)`, so a destination never resolves
//! through a symlink out of the root, and makes a read-only bind read-only recursively.

pub mod copy;
pub mod parse;
mod subpath;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_api::container::MountPoint;
use oci_spec::runtime::{Mount, Spec};

use crate::error::{EngineError, Result};
use crate::model::ContainerRecord;
use crate::table::{Container, Engine};
pub use parse::{MountKind, MountRecord};
use parse::{Planned, parse_bind, parse_spec, parse_volumes_from, tmpfs_options, validate_target};

/// What [`Engine::plan_mounts`] made, for undo.
#[derive(Debug, Default)]
pub(crate) struct Made {
    /// Volumes made for this container.
    pub volumes: Vec<String>,
}

/// The user's mounts as OCI entries, and what the root's propagation must be for them.
#[derive(Debug, Default)]
pub(crate) struct UserMounts {
    pub mounts: Vec<Mount>,
    pub root_propagation: Option<&'static str>,
}

fn duplicate(dest: &str) -> EngineError {
    EngineError::Invalid(format!("Duplicate mount point: {dest}"))
}

/// The optional fields of the mount holding `path` in this process's mount namespace: its
/// mount point and whether it is shared / a slave.
fn source_mount(path: &Path) -> Result<(String, bool, bool)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| EngineError::io("read", "/proc/self/mountinfo", e))?;
    let mut best: Option<(String, bool, bool)> = None;
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(mp) = fields.get(4) else { continue };
        if !path.starts_with(mp) {
            continue;
        }
        if best.as_ref().is_some_and(|(b, ..)| b.len() > mp.len()) {
            continue;
        }
        let opt = fields.iter().skip(6).take_while(|f| **f != "-");
        let (mut shared, mut slave) = (false, false);
        for f in opt {
            shared |= f.starts_with("shared:");
            slave |= f.starts_with("master:");
        }
        best = Some(((*mp).to_owned(), shared, slave));
    }
    best.ok_or_else(|| {
        EngineError::Invalid(format!("Can't find mount point of {}", path.display()))
    })
}

impl Engine {
    /// Resolves the container's mount points and makes the volumes they name (see the
    /// module docs). The caller stores the returned records in the container's record.
    pub(crate) fn plan_mounts(&self, c: &Container, made: &mut Made) -> Result<()> {
        let rec = c.record();
        let (id, cfg, hc) = (&c.id, &rec.config, &rec.host_config);
        let tmpfs = hc.tmpfs.clone().unwrap_or_default();
        for dest in tmpfs.keys() {
            validate_target(dest).map_err(EngineError::Invalid)?;
        }
        let mut points: BTreeMap<String, Planned> = BTreeMap::new();
        for spec in hc.volumes_from.iter().flatten() {
            let (from, mode) = parse_volumes_from(spec)?;
            let other = self.lookup(&from).map_err(|e| match e {
                EngineError::NoSuchContainer(n) => {
                    EngineError::Invalid(format!("No such container: {n}"))
                }
                e => e,
            })?;
            if &other.id == id {
                continue;
            }
            let ro = mode.split(',').any(|o| o == "ro");
            for mut m in other.record().mounts {
                m.rw = m.rw && !ro;
                m.copy_data = false;
                m.anonymous = false;
                points.insert(
                    m.destination.clone(),
                    Planned {
                        mount: m,
                        ..Planned::default()
                    },
                );
            }
        }
        let mut binds: Vec<String> = Vec::new();
        for raw in hc.binds.iter().flatten() {
            let p = parse_bind(raw, &hc.volume_driver)?;
            let dest = p.mount.destination.clone();
            if binds.contains(&dest) || tmpfs.contains_key(&dest) {
                return Err(duplicate(&dest));
            }
            binds.push(dest.clone());
            points.insert(dest, p);
        }
        for spec in hc.mounts.iter().flatten() {
            let p = parse_spec(spec)?;
            let dest = p.mount.destination.clone();
            if binds.contains(&dest) {
                return Err(duplicate(&spec.target));
            }
            binds.push(dest.clone());
            points.insert(dest, p);
        }
        for dest in cfg.volumes.iter().flat_map(|v| v.keys()) {
            let clean = parse::clean(dest);
            validate_target(dest).map_err(|e| {
                EngineError::Invalid(format!("invalid mount config for type \"volume\": {e}"))
            })?;
            if points.contains_key(&clean) || tmpfs.contains_key(&clean) {
                continue;
            }
            let m = MountRecord {
                kind: MountKind::Volume,
                destination: clean.clone(),
                rw: true,
                copy_data: true,
                anonymous: true,
                driver: hc.volume_driver.clone(),
                ..MountRecord::default()
            };
            points.insert(
                clean,
                Planned {
                    mount: m,
                    ..Planned::default()
                },
            );
        }
        let mut map = self.inner.volumes.lock();
        let mut out = Vec::with_capacity(points.len());
        for (_, p) in points {
            let mut m = p.mount;
            if m.kind == MountKind::Volume {
                let (v, created) = self
                    .volume_ensure(&mut map, &m.name, &m.driver, p.driver_opts, p.labels)
                    // 400, not the 404 of `volume create -d`: a 404 to a create makes
                    // the docker CLI pull the image.
                    .map_err(|e| match e {
                        EngineError::NoSuchVolumeDriver(_) => EngineError::Invalid(e.message()),
                        e => e,
                    })?;
                if created {
                    made.volumes.push(v.name.clone());
                }
                m.name = v.name.clone();
                m.driver = v.driver.clone();
                m.source = self.volume_data(&v.name).display().to_string();
            }
            out.push(m);
        }
        // Written into the record while the volumes lock is held: a concurrent `volume rm`
        // sees this container as a user.
        self.save(c, |r| r.mounts = out)?;
        Ok(())
    }

    /// Removes the volumes a failed create made.
    pub(crate) fn unmake_volumes(&self, made: &Made) -> Vec<String> {
        let mut map = self.inner.volumes.lock();
        made.volumes
            .iter()
            .filter_map(|n| self.volume_delete(&mut map, n).err().map(|e| e.message()))
            .collect()
    }

    /// Removes the anonymous volumes of a removed container that no other container uses
    /// (`rm -v`, `--rm`). Failures are logged, as docker does.
    pub(crate) fn remove_anonymous_volumes(&self, rec: &ContainerRecord) {
        let mut map = self.inner.volumes.lock();
        let refs = self.volume_refs();
        for m in rec.mounts.iter().filter(|m| m.anonymous) {
            if refs.contains_key(&m.name) {
                continue;
            }
            if let Err(e) = self.volume_delete(&mut map, &m.name) {
                tracing::warn!("remove volume {}: {}", m.name, e.message());
            }
        }
    }

    /// At start: bind sources, volume mounts and copy-up, then the OCI entries.
    pub(crate) fn prepare_mounts(
        &self,
        rec: &ContainerRecord,
        rootfs: &Path,
    ) -> Result<UserMounts> {
        let mut user = UserMounts::default();
        let mut sorted: Vec<&MountRecord> = rec.mounts.iter().collect();
        sorted.sort_by_key(|m| Path::new(&m.destination).components().count());
        for (index, m) in sorted.into_iter().enumerate() {
            match m.kind {
                MountKind::Tmpfs => user.mounts.push(tmpfs_mount(&m.destination, &m.tmpfs_data)),
                MountKind::Bind => {
                    let src = Path::new(&m.source);
                    if std::fs::symlink_metadata(src).is_err() {
                        if !m.create_source {
                            return Err(EngineError::Invalid(format!(
                                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                                m.source
                            )));
                        }
                        std::fs::create_dir_all(src).map_err(|e| {
                            EngineError::Invalid(format!(
                                "error while creating mount source path '{}': {e}",
                                m.source
                            ))
                        })?;
                    }
                    match m.propagation.as_str() {
                        "shared" | "rshared" => {
                            let (mp, shared, _) = source_mount(src)?;
                            if !shared {
                                return Err(EngineError::Invalid(format!(
                                    "path {} is mounted on {mp} but it is not a shared mount",
                                    m.source
                                )));
                            }
                            user.root_propagation = Some("rshared");
                        }
                        "slave" | "rslave" => {
                            let (mp, shared, slave) = source_mount(src)?;
                            if !shared && !slave {
                                return Err(EngineError::Invalid(format!(
                                    "path {} is mounted on {mp} but it is not a shared or slave mount",
                                    m.source
                                )));
                            }
                            if user.root_propagation.is_none() {
                                user.root_propagation = Some("rslave");
                            }
                        }
                        _ => {}
                    }
                    user.mounts.push(bind_mount(src.to_path_buf(), m));
                }
                MountKind::Volume => {
                    let data = self.volume_mount(&m.name)?;
                    if m.copy_data {
                        copy::copy_up(rootfs, &m.destination, &data).map_err(|e| {
                            EngineError::Invalid(format!(
                                "copy {} of the image into volume {}: {e}",
                                m.destination, m.name
                            ))
                        })?;
                    }
                    let src = if m.subpath.is_empty() {
                        data
                    } else {
                        let target = self.subpaths_dir(&rec.id).join(index.to_string());
                        subpath::stage(&data, &m.subpath, &target).map_err(|e| {
                            EngineError::Invalid(format!(
                                "cannot access path {}/{}: {e}",
                                data.display(),
                                m.subpath
                            ))
                        })?
                    };
                    user.mounts.push(bind_mount(src, m));
                }
            }
        }
        for (dest, data) in rec.host_config.tmpfs.iter().flatten() {
            user.mounts.push(tmpfs_mount(&parse::clean(dest), data));
        }
        Ok(user)
    }

    /// Where a container's `volume-subpath` staging mounts live (see [`subpath`]).
    fn subpaths_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("subpaths")
    }

    /// Unmounts what the daemon mounted on the host for a run: a shareable `/dev/shm` and
    /// the `volume-subpath` staging points (nothing when there are none).
    pub(crate) fn release_host_mounts(&self, id: &str) -> Result<()> {
        let shm = self.release_shm(id);
        let dir = self.subpaths_dir(id);
        let subpaths = subpath::release_all(&dir).map_err(|e| EngineError::io("release", &dir, e));
        shm.and(subpaths)
    }

    /// The container's mount points as inspect shows them.
    pub(crate) fn mount_points(&self, rec: &ContainerRecord) -> Vec<MountPoint> {
        rec.mounts
            .iter()
            .map(|m| MountPoint {
                r#type: m.kind.as_str().into(),
                name: m.name.clone(),
                source: m.source.clone(),
                destination: m.destination.clone(),
                driver: m.driver.clone(),
                mode: m.mode.clone(),
                rw: m.rw,
                propagation: if m.kind == MountKind::Bind {
                    m.propagation.clone()
                } else {
                    String::new()
                },
            })
            .collect()
    }

    /// Volume names of a container's mounts.
    pub(crate) fn volume_names(rec: &ContainerRecord) -> Vec<String> {
        rec.mounts
            .iter()
            .filter(|m| m.kind == MountKind::Volume)
            .map(|m| m.name.clone())
            .collect()
    }
}

fn tmpfs_mount(dest: &str, data: &str) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest));
    m.set_typ(Some("tmpfs".into()));
    m.set_source(Some(PathBuf::from("tmpfs")));
    let mut opts = tmpfs_options(data);
    opts.insert(3.min(opts.len()), "rprivate".into());
    m.set_options(Some(opts));
    m
}

/// A bind entry as moby writes it: `rbind` (or `bind`), `rro` for read-only (recursive
/// unless `bind-recursive=writable`), the propagation.
fn bind_mount(src: PathBuf, m: &MountRecord) -> Mount {
    let mut mt = Mount::default();
    mt.set_destination(PathBuf::from(&m.destination));
    mt.set_typ(Some("bind".into()));
    mt.set_source(Some(src));
    let mut opts = vec![if m.non_recursive { "bind" } else { "rbind" }.to_owned()];
    if !m.rw {
        opts.push(if m.ro_non_recursive { "ro" } else { "rro" }.into());
    }
    let prop = if m.propagation.is_empty() {
        "rprivate"
    } else {
        m.propagation.as_str()
    };
    opts.push(prop.into());
    mt.set_options(Some(opts));
    mt
}

/// Adds the user's mounts to a spec: docker's defaults at the same destination (and under
/// `/dev` when `/dev` is the user's) give way, and the root's propagation follows the
/// binds' (moby `WithMounts`).
pub(crate) fn apply(spec: &mut Spec, user: UserMounts) {
    let dests: Vec<PathBuf> = user
        .mounts
        .iter()
        .map(|m| m.destination().clone())
        .collect();
    let dev = dests.iter().any(|d| d == Path::new("/dev"));
    let mut mounts: Vec<Mount> = spec
        .mounts()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            let under_dev = dev && m.destination().starts_with("/dev/");
            !(dests.contains(m.destination()) || under_dev)
        })
        .collect();
    mounts.extend(user.mounts);
    spec.set_mounts(Some(mounts));
    if let Some(p) = user.root_propagation
        && let Some(linux) = spec.linux_mut()
    {
        linux.set_rootfs_propagation(Some(p.into()));
    }
}
