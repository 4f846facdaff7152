//! A build step's image: the container's changes committed on the parent with the
//! builder's config and one history entry.

use berth_build::executor::ImageConfig;
use berth_image::config::History;

use super::super::config::to_store;
use crate::error::{EngineError, Result};
use crate::table::Engine;

impl Engine {
    /// A build step's image: `parent` plus the container's changes (none for a config-only
    /// step, recorded as an empty layer), `config`, and one history entry.
    pub(crate) async fn build_commit(
        &self,
        parent: &str,
        container: Option<&str>,
        config: &ImageConfig,
        created_by: &str,
    ) -> Result<String> {
        let images = self.inner.images.clone();
        let parent_img = images.get(parent)?;
        let dir = match container {
            Some(c) => Some(self.dir(&self.lookup(c)?.record().id)),
            None => None,
        };
        let config = config.clone();
        let history = History {
            created_by: created_by.to_owned(),
            ..Default::default()
        };
        let id = tokio::task::spawn_blocking(move || {
            crate::filesystem::commit_image(&images, &parent_img, dir.as_deref(), history, |cfg| {
                if let Some(a) = &config.author {
                    cfg.author = a.clone();
                }
                cfg.config = Some(to_store(&config, parent_img.config.config.as_ref()));
            })
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))??;
        Ok(id.to_string())
    }
}
