//! COPY, ADD and WORKDIR steps: a holder container (created, never started) from the
//! parent, and the step's files put into it through `archive_put` as one tar: from the
//! context, from another stage or image (read through `archive_get` of a second holder),
//! or heredoc bodies; `--chown` names read from the holder's `/etc/passwd` and `/etc/group`.

use berth_api::container::{ContainerConfig, ContainerCreateBody, HostConfig};
use berth_build::executor::{CopySource, CopyStep};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::super::copy::{ContextCopy, Overrides, TarOut, context_tar, inline_tar};
use super::{EngineExecutor, GO_DIR, invalid};
use crate::archive::PutOptions;
use crate::error::{EngineError, Result};

impl EngineExecutor {
    pub(super) fn holder(&self, image: &str) -> Result<String> {
        let body = ContainerCreateBody {
            config: ContainerConfig {
                image: image.to_owned(),
                cmd: Some(vec!["#(nop)".into()]),
                entrypoint: Some(Vec::new()),
                ..Default::default()
            },
            host_config: Some(HostConfig {
                network_mode: "none".into(),
                ..Default::default()
            }),
            networking_config: None,
        };
        Ok(self.block(self.engine.create(None, body))?.id)
    }

    pub(super) fn drop_container(&self, id: &str) {
        if let Err(e) = self.block(self.engine.remove(id, true, true)) {
            tracing::warn!("build: remove container {id}: {e}");
        }
    }

    /// A file of the container (`/etc/passwd`), empty when it has none.
    fn read_in(&self, id: &str, path: &str) -> String {
        let Ok((_, rx)) = self.block(self.engine.archive_get(id, path)) else {
            return String::new();
        };
        let reader = crate::images::ChannelReader {
            rx,
            cur: Bytes::new(),
        };
        let mut a = tar::Archive::new(reader);
        let mut out = String::new();
        if let Ok(mut entries) = a.entries()
            && let Some(Ok(mut e)) = entries.next()
        {
            let _ = std::io::Read::read_to_string(&mut e, &mut out);
        }
        out
    }

    fn is_dir_in(&self, id: &str, path: &str) -> Option<bool> {
        self.block(self.engine.archive_stat(id, path))
            .ok()
            .map(|s| s.mode & GO_DIR != 0)
    }

    /// Feeds what `produce` writes into `archive_put` at the container's root.
    fn put<F>(&self, id: &str, produce: F) -> Result<()>
    where
        F: FnOnce(&mut crate::distribution::ChannelWriter) -> Result<()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(4);
        let producer = std::thread::spawn(move || {
            let mut w = crate::distribution::ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(crate::distribution::CHUNK),
            };
            let r = produce(&mut w).and_then(|()| {
                std::io::Write::flush(&mut w).map_err(|e| EngineError::io("write", "copy", e))
            });
            if let Err(e) = &r {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            r
        });
        let opts = PutOptions {
            no_overwrite_dir_non_dir: false,
            copy_uid_gid: true,
        };
        let put = self.block(self.engine.archive_put(id, "/", rx, opts));
        let produced = producer
            .join()
            .map_err(|_| EngineError::Task("the copy thread panicked".into()))?;
        produced?;
        put
    }

    fn parse_chown(&self, holder: &str, spec: &str) -> Result<(u32, u32)> {
        let passwd = self.read_in(holder, "/etc/passwd");
        let group = self.read_in(holder, "/etc/group");
        berth_build::copy::resolve_chown(spec, &passwd, &group).map_err(invalid)
    }

    pub(super) fn copy_into(&self, id: &str, step: &CopyStep) -> Result<()> {
        let ov = Overrides {
            owner: match &step.chown {
                Some(c) => Some(self.parse_chown(id, c)?),
                None => None,
            },
            mode: match &step.chmod {
                Some(m) => Some(berth_build::copy::parse_chmod(m).map_err(invalid)?),
                None => None,
            },
        };
        let dest = step.dest.clone();
        let dest_is_dir = dest.ends_with('/') || self.is_dir_in(id, &dest).unwrap_or(false);
        if step.sources.is_empty() && step.contents.is_empty() {
            // WORKDIR: make the directory when it is missing.
            if self.is_dir_in(id, &dest).is_none() {
                let name = dest.trim_matches('/').to_owned();
                self.put(id, move |w| {
                    let mut b = tar::Builder::new(w);
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{name}/"), std::io::empty())
                        .and_then(|()| b.finish())
                        .map_err(|e| EngineError::io("write", "workdir", e))
                })?;
            }
            return Ok(());
        }
        if !step.sources.is_empty() {
            match &step.from {
                CopySource::Context => {
                    let root = self.context.clone();
                    let (sources, excludes) = (step.sources.clone(), step.excludes.clone());
                    let (unpack, parents, d) = (step.unpack_archives, step.parents, dest.clone());
                    self.put(id, move |w| {
                        let c = ContextCopy {
                            root: &root,
                            sources: &sources,
                            dest: &d,
                            dest_is_dir,
                            unpack,
                            excludes: &excludes,
                            parents,
                        };
                        context_tar(&c, ov, w)
                    })?;
                }
                CopySource::Stage(image) | CopySource::Image(image) => {
                    let image = self.resolve_local(image)?.id;
                    let src = self.holder(&image)?;
                    let r = self.copy_from(id, &src, step, &dest, dest_is_dir, ov);
                    self.drop_container(&src);
                    r?;
                }
            }
        }
        if !step.contents.is_empty() {
            let files = step.contents.clone();
            self.put(id, move |w| inline_tar(&files, &dest, dest_is_dir, ov, w))?;
        }
        Ok(())
    }

    fn copy_from(
        &self,
        id: &str,
        src: &str,
        step: &CopyStep,
        dest: &str,
        dest_is_dir: bool,
        ov: Overrides,
    ) -> Result<()> {
        let dest_is_dir = dest_is_dir || step.sources.len() > 1;
        for s in &step.sources {
            if s.contains(['*', '?', '[']) {
                return Err(invalid(format!(
                    "COPY --from with a wildcard ({s}) is not supported by berth's builder"
                )));
            }
            let path = format!("/{}", s.trim_start_matches('/'));
            let (stat, rx) = self
                .block(self.engine.archive_get(src, &path))
                .map_err(|e| {
                    invalid(format!(
                        "failed to compute cache key: \"{path}\" not found: {e}"
                    ))
                })?;
            let single = if stat.mode & GO_DIR != 0 {
                None
            } else if dest_is_dir {
                Some(format!("{}/{}", dest.trim_end_matches('/'), stat.name))
            } else {
                Some(dest.to_owned())
            };
            let d = dest.to_owned();
            self.put(id, move |w| {
                let reader = crate::images::ChannelReader {
                    rx,
                    cur: Bytes::new(),
                };
                let mut t = TarOut::new(w, ov);
                t.tar_entries(reader, &d, 1, single.as_deref())?;
                t.finish_ok()
            })?;
        }
        Ok(())
    }
}
