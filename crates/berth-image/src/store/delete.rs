//! `docker rmi`: untagging, then deleting the image and the layers no other image uses
//! (moved aside under the lock, removed after it).

use std::collections::BTreeSet;
use std::fs;
use std::io;

use super::{ImageStore, LayerInfo, StoreError};
use crate::digest::Digest;
use crate::reference::Reference;

/// One step of a delete, in docker's response order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteItem {
    /// A reference was removed (familiar form, as docker reports it).
    Untagged(String),
    /// The image was deleted.
    Deleted(Digest),
    /// A layer no other image uses was deleted (its chain ID).
    DeletedLayer(Digest),
}

impl ImageStore {
    /// `docker rmi`: by reference (forced or not), untags it and deletes the image when no
    /// reference is left; by ID, refuses an image referenced in several repositories unless `force`, else
    /// untags it everywhere and deletes it. Layers no other image uses are removed.
    pub fn delete(&self, name: &str, force: bool) -> Result<Vec<DeleteItem>, StoreError> {
        let mut out = Vec::new();
        let (id, doomed) = {
            let mut idx = self.lock();
            let (id, by_ref) = Self::resolve_in(&idx, name)?;
            let refs = idx.references_to(&id);
            let to_untag: Vec<Reference> = match by_ref {
                // By reference, forced or not, only that reference goes while others
                // remain (docker's `rmi -f TAG`): a lost tag is lost data.
                Some(r) if refs.len() > 1 => vec![r],
                Some(_) => refs,
                None => {
                    let repos: BTreeSet<String> = refs.iter().map(Reference::name).collect();
                    if repos.len() > 1 && !force {
                        return Err(StoreError::MultipleRepositories {
                            short: id.short().to_owned(),
                        });
                    }
                    refs
                }
            };
            for r in &to_untag {
                idx.tags.remove(&r.to_string());
                out.push(DeleteItem::Untagged(r.familiar()));
            }
            let remaining = idx.references_to(&id);
            if !remaining.is_empty() {
                idx.save(&self.index_path)?;
                return Ok(out);
            }
            let entry = idx.images.remove(&id);
            idx.digests.retain(|_, v| *v != id);
            idx.save(&self.index_path)?;
            let in_use: BTreeSet<&Digest> =
                idx.images.values().flat_map(|e| e.layers.iter()).collect();
            let doomed: Vec<Digest> = entry
                .map(|e| e.layers)
                .unwrap_or_default()
                .into_iter()
                .filter(|c| !in_use.contains(c))
                .collect();
            // Move doomed layers aside under the lock, so no concurrent add_layer sees them.
            let mut trashed = Vec::new();
            for c in doomed.iter().rev() {
                let trash = self.layers_dir.join(format!(".trash-{}", c.hex()));
                match fs::rename(self.layer_path(c), &trash) {
                    Ok(()) => trashed.push((c.clone(), trash)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(StoreError::RemoveLayer {
                            chain_id: c.clone(),
                            source,
                        });
                    }
                }
            }
            (id, trashed)
        };
        out.push(DeleteItem::Deleted(id.clone()));
        self.content
            .delete(&id)
            .map_err(|source| StoreError::ConfigBlob {
                id: id.to_string(),
                source,
            })?;
        for (c, trash) in doomed {
            let diff_id = fs::read(trash.join("layer.json"))
                .ok()
                .and_then(|d| serde_json::from_slice::<LayerInfo>(&d).ok())
                .map(|l| l.diff_id);
            fs::remove_dir_all(&trash).map_err(|source| StoreError::RemoveLayer {
                chain_id: c.clone(),
                source,
            })?;
            out.push(DeleteItem::DeletedLayer(c));
            if let Some(d) = diff_id {
                self.forget_layer_blob(&d);
            }
        }
        Ok(out)
    }
}
