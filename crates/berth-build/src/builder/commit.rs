//! What every step that may change the image shares: the cache probe, the commit (of a
//! container, or config-only) and the removal of the step's container.

use super::{BuildError, Builder, Res, StageState, short_id};
use crate::config::nop_created_by;
use crate::executor::{CacheKey, Executor};

impl<X: Executor> Builder<'_, X> {
    /// Probes the cache for `key` unless `nocache`; on a hit the stage moves on to it.
    pub(super) fn probe(&mut self, st: &mut StageState, key: &CacheKey) -> Res<bool, X> {
        if self.settings.no_cache {
            return Ok(false);
        }
        match self.ex.cached(key).map_err(BuildError::Executor)? {
            Some(id) => {
                self.say(" ---> Using cache\n".into());
                st.image = id;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A config-only step: a nop history entry, no layer.
    pub(super) fn config_commit(&mut self, st: &mut StageState, comment: &str) -> Res<(), X> {
        let created_by = nop_created_by(&st.config.shell(), comment);
        let key = CacheKey::new(&st.image, &created_by, None);
        if self.probe(st, &key)? {
            return Ok(());
        }
        st.image = self
            .ex
            .commit(&st.image, None, &st.config.config, &created_by, &key)
            .map_err(BuildError::Executor)?;
        Ok(())
    }

    /// Commits a step's container and removes it (reported for RUN containers only, the
    /// only ones dockerd makes and reports).
    pub(super) fn commit_container(
        &mut self,
        st: &mut StageState,
        c: X::Container,
        created_by: &str,
        key: &CacheKey,
        report: bool,
    ) -> Res<(), X> {
        let committed = self
            .ex
            .commit(&st.image, Some(&c), &st.config.config, created_by, key);
        match committed {
            Ok(id) => {
                if self.settings.remove || self.settings.force_remove || !report {
                    self.remove_container(c, report);
                }
                st.image = id;
                Ok(())
            }
            Err(e) => {
                if self.settings.force_remove || !report {
                    self.remove_container(c, report);
                }
                Err(BuildError::Executor(e))
            }
        }
    }

    pub(super) fn remove_container(&mut self, c: X::Container, report: bool) {
        let id = self.ex.container_id(&c);
        match self.ex.remove(c) {
            Ok(()) if report => {
                self.say(format!(
                    " ---> Removed intermediate container {}\n",
                    short_id(&id)
                ));
            }
            Ok(()) => {}
            Err(e) => self.say(format!(
                "Removing intermediate container {}: {e}\n",
                short_id(&id)
            )),
        }
    }
}
