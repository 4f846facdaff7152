//! Names of images: tags and repo digests, and the resolution of a name, full ID or ID
//! prefix to an image in docker's order.

use super::index::Index;
use super::{ImageStore, StoreError};
use crate::digest::Digest;
use crate::reference::{IdSpec, Reference};

impl ImageStore {
    /// Resolves a reference, full ID or unique ID prefix (`sha256:` optional) to an image ID,
    /// in docker's order: full ID, then reference, then ID prefix.
    pub fn resolve(&self, name: &str) -> Result<Digest, StoreError> {
        let idx = self.lock();
        Self::resolve_in(&idx, name).map(|(id, _)| id)
    }

    /// The ID and, when found by reference, the reference.
    pub(super) fn resolve_in(
        idx: &Index,
        name: &str,
    ) -> Result<(Digest, Option<Reference>), StoreError> {
        let spec = IdSpec::parse(name);
        if let Some(IdSpec::Full(d)) = &spec {
            return idx
                .images
                .contains_key(d)
                .then(|| (d.clone(), None))
                .ok_or_else(|| StoreError::NotFound(name.to_owned()));
        }
        let parsed = Reference::parse(name);
        if let Ok(r) = &parsed
            && let Some(id) = idx.tags.get(&r.to_string())
        {
            return Ok((id.clone(), Some(r.clone())));
        }
        if let Ok(r) = &parsed
            && let Some(d) = r.digest()
            && let Some(id) = idx.digests.get(&format!("{}@{d}", r.name()))
        {
            return Ok((id.clone(), None));
        }
        if let Some(spec) = spec {
            let mut hits = idx.images.keys().filter(|id| spec.matches(id));
            return match (hits.next(), hits.next()) {
                (Some(id), None) => Ok((id.clone(), None)),
                (Some(_), Some(_)) => Err(StoreError::Ambiguous(name.to_owned())),
                (None, _) => Err(StoreError::NotFound(name.to_owned())),
            };
        }
        match parsed {
            Ok(r) => Err(StoreError::NotFound(r.familiar())),
            Err(e) => Err(e.into()),
        }
    }

    /// Points `target` at the image `source` names (`docker tag`).
    pub fn tag(&self, source: &str, target: &Reference) -> Result<(), StoreError> {
        let id = self.resolve(source)?;
        self.tag_id(&id, target)
    }

    pub(super) fn tag_id(&self, id: &Digest, target: &Reference) -> Result<(), StoreError> {
        if target.digest().is_some() {
            return Err(StoreError::DigestTag);
        }
        let target = target.clone().with_default_tag();
        let mut idx = self.lock();
        if !idx.images.contains_key(id) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        idx.tags.insert(target.to_string(), id.clone());
        idx.save(&self.index_path)
    }

    /// Records that `name` (a repository) serves the image under the manifest `digest`
    /// (docker's `RepoDigests`; set by pull and push).
    pub fn add_repo_digest(
        &self,
        id: &Digest,
        name: &str,
        digest: &Digest,
    ) -> Result<(), StoreError> {
        let mut idx = self.lock();
        if !idx.images.contains_key(id) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        idx.digests.insert(format!("{name}@{digest}"), id.clone());
        idx.save(&self.index_path)
    }

    /// The image's `RepoDigests` (`name@sha256:...`), sorted.
    pub fn repo_digests(&self, id: &Digest) -> Vec<String> {
        let idx = self.lock();
        idx.digests
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Removes a reference; the image stays (possibly untagged).
    pub fn untag(&self, reference: &Reference) -> Result<Digest, StoreError> {
        let mut idx = self.lock();
        let id = idx
            .tags
            .remove(&reference.to_string())
            .ok_or_else(|| StoreError::ReferenceNotFound(reference.familiar()))?;
        idx.save(&self.index_path)?;
        Ok(id)
    }
}
