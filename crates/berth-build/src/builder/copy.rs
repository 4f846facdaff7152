//! COPY and ADD steps: where the files come from (`--from`), where they go, and the
//! history text and cache key dockerd gives them.

use super::{BuildError, Builder, Res, StageState};
use crate::cache::inline_digest;
use crate::config::nop_created_by;
use crate::copy::{CopyError, resolve_dest};
use crate::executor::{CacheKey, CopySource, CopyStep, Executor};
use crate::instructions::SourcesAndDest;

impl<X: Executor> Builder<'_, X> {
    pub(super) fn copy_source(&self, from: &str) -> Res<CopySource, X> {
        let stage = self
            .names
            .get(&from.to_lowercase())
            .copied()
            .or_else(|| from.parse::<usize>().ok());
        match stage {
            Some(i) => self
                .results
                .get(&i)
                .map(|r| CopySource::Stage(r.id.clone()))
                .ok_or_else(|| BuildError::Stage(from.to_string())),
            None => Ok(CopySource::Image(from.to_string())),
        }
    }

    pub(super) fn copy_commit(
        &mut self,
        st: &mut StageState,
        name: &str,
        step: CopyStep,
    ) -> Res<(), X> {
        let mut digest = if step.sources.is_empty() {
            String::new()
        } else {
            self.ex
                .source_digest(&st.image, &step)
                .map_err(BuildError::Executor)?
        };
        if !step.contents.is_empty() {
            let inline = inline_digest(&step.contents);
            digest = if digest.is_empty() {
                format!("file:{}", inline.trim_start_matches("sha256:"))
            } else {
                format!("multi:{digest}+{inline}")
            };
        }
        // dockerd: `COPY file:<hex> in /dest `, with the flags that change the result.
        let mut comment = format!("{name} ");
        if let Some(c) = &step.chown {
            comment.push_str(&format!("--chown={c} "));
        }
        if let Some(c) = &step.chmod {
            comment.push_str(&format!("--chmod={c} "));
        }
        match &step.from {
            CopySource::Context => {}
            CopySource::Stage(id) | CopySource::Image(id) => {
                comment.push_str(&format!("--from={id} "));
            }
        }
        comment.push_str(&format!("{digest} in {} ", step.dest));
        let created_by = nop_created_by(&st.config.shell(), &comment);
        let key = CacheKey::new(&st.image, &created_by, Some(digest));
        if self.probe(st, &key)? {
            return Ok(());
        }
        let c = self
            .ex
            .copy(&st.image, &step)
            .map_err(BuildError::Executor)?;
        self.commit_container(st, c, &created_by, &key, false)
    }
}

/// Where a COPY/ADD's files go: the destination resolved against the working directory,
/// with a trailing `/` when it is a directory.
pub(super) fn copy_dest(working_dir: &str, paths: &SourcesAndDest) -> Result<String, CopyError> {
    let count = paths.sources.len() + paths.contents.len();
    let (mut dest, is_dir) = resolve_dest(working_dir, &paths.dest, count)?;
    if is_dir && !dest.ends_with('/') {
        dest.push('/');
    }
    Ok(dest)
}
