//! A container's cgroup, found where its OCI spec put it (`linux.cgroupsPath`), for the
//! operations on a live container: pause, top, stats, update.

use berth_runtime::cgroups::AnyCgroupManager;
use oci_spec::runtime::Spec;

use crate::error::{EngineError, Result};
use crate::table::Engine;

impl Engine {
    /// The manager of container `id`'s cgroup (reads its spec and the mount table; blocking).
    pub(crate) fn cgroup(&self, id: &str) -> Result<AnyCgroupManager> {
        let path = self.dir(id).join("config.json");
        let spec = Spec::load(&path).map_err(|e| {
            EngineError::io("load OCI spec", &path, std::io::Error::other(e.to_string()))
        })?;
        let cg = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
        AnyCgroupManager::new(cg.as_deref(), id).map_err(|e| EngineError::Cgroup(id.to_owned(), e))
    }

    /// Runs `f` on container `id`'s cgroup on a blocking thread.
    pub(crate) async fn with_cgroup<T: Send + 'static>(
        &self,
        id: &str,
        f: impl FnOnce(&AnyCgroupManager) -> Result<T, berth_runtime::cgroups::CgroupError>
        + Send
        + 'static,
    ) -> Result<T> {
        let engine = self.clone();
        let id = id.to_owned();
        tokio::task::spawn_blocking(move || {
            let cg = engine.cgroup(&id)?;
            f(&cg).map_err(|e| EngineError::Cgroup(id, e))
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?
    }
}
