//! A RUN step's mounts: `--mount=type=cache|bind|tmpfs` as engine mount specs (cache
//! directories under `DATA_ROOT/build/mounts`, binds confined to the context; `secret`
//! and `ssh` refused), and a `#!` heredoc script bound at `/dev/pipes`.

use berth_api::container::MountSpec;
use berth_build::instructions::{InlineFile, Mount, MountType};

use super::{EngineExecutor, hex_digest, invalid};
use crate::error::{EngineError, Result};

impl EngineExecutor {
    pub(super) fn mount_spec(&mut self, m: &Mount) -> Result<MountSpec> {
        let target = m
            .target
            .clone()
            .ok_or_else(|| invalid("mount target is required"))?;
        match m.kind {
            MountType::Cache => {
                let id = m.id.clone().unwrap_or_else(|| target.clone());
                let dir = self.build_dir.join("mounts").join(&hex_digest(&id)[..32]);
                if !dir.is_dir() {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| EngineError::io("create", &dir, e))?;
                    use std::os::unix::fs::PermissionsExt;
                    let mode = m.mode.unwrap_or(0o755);
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
                        .map_err(|e| EngineError::io("chmod", &dir, e))?;
                    std::os::unix::fs::chown(&dir, m.uid.or(Some(0)), m.gid.or(Some(0)))
                        .map_err(|e| EngineError::io("chown", &dir, e))?;
                }
                if m.from.is_some() {
                    return Err(invalid(
                        "RUN --mount=type=cache,from= is not supported by berth's builder",
                    ));
                }
                Ok(MountSpec {
                    target,
                    source: dir.display().to_string(),
                    r#type: "bind".into(),
                    read_only: m.read_only,
                    ..Default::default()
                })
            }
            MountType::Bind => {
                if m.from.is_some() {
                    return Err(invalid(
                        "RUN --mount=type=bind,from= is not supported by berth's builder: bind from the context, or COPY --from the stage",
                    ));
                }
                let rel = berth_build::copy::context_path(m.source.as_deref().unwrap_or("."))
                    .map_err(invalid)?;
                let src = self.context.join(&rel);
                let real =
                    std::fs::canonicalize(&src).map_err(|e| EngineError::io("resolve", &src, e))?;
                let root = std::fs::canonicalize(&self.context)
                    .map_err(|e| EngineError::io("resolve", &self.context, e))?;
                if !real.starts_with(&root) {
                    return Err(invalid(format!(
                        "forbidden path outside the build context: {rel}"
                    )));
                }
                Ok(MountSpec {
                    target,
                    source: real.display().to_string(),
                    r#type: "bind".into(),
                    read_only: m.read_only,
                    ..Default::default()
                })
            }
            MountType::Tmpfs => Ok(MountSpec {
                target,
                r#type: "tmpfs".into(),
                tmpfs_options: m.size_limit.map(|s| berth_api::container::TmpfsOptions {
                    size_bytes: i64::try_from(s).unwrap_or(i64::MAX),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            MountType::Secret | MountType::Ssh => Err(invalid(format!(
                "RUN --mount=type={} needs BuildKit's client session, which the classic build API has not: berth cannot honour it",
                m.kind.as_str()
            ))),
        }
    }

    /// A `#!` heredoc script, written to a fresh directory (removed with the build) that is
    /// bound read-only at `/dev/pipes`.
    pub(super) fn script_mount(&mut self, f: &InlineFile) -> Result<MountSpec> {
        let dir = self.build_dir.join("scripts").join(crate::names::new_id()?);
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("create", &dir, e))?;
        self.scratch_dirs.push(dir.clone());
        let file = dir.join(&f.name);
        std::fs::write(&file, &f.data).map_err(|e| EngineError::io("write", &file, e))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| EngineError::io("chmod", &file, e))?;
        Ok(MountSpec {
            target: "/dev/pipes".into(),
            source: dir.display().to_string(),
            r#type: "bind".into(),
            read_only: true,
            ..Default::default()
        })
    }
}
