//! `docker save`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use serde_json::json;

use super::ArchiveError;
use crate::digest::{Digest, HashingReader};
use crate::layer;
use crate::manifest::{self, Descriptor, Manifest};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Writes the images `names` (references or IDs) as one archive to `out`. A reference
/// names its tag in `RepoTags`; an ID saves the image untagged, as docker does.
pub fn save(store: &ImageStore, names: &[String], out: impl Write) -> Result<(), ArchiveError> {
    let mut tar = tar::Builder::new(out);
    let mut written: BTreeSet<Digest> = BTreeSet::new();
    let mut manifest_json = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut index_entries = Vec::new();
    dir(&mut tar, "blobs/")?;
    dir(&mut tar, "blobs/sha256/")?;
    for name in names {
        let img = store.get(name)?;
        let tags: Vec<Reference> = Reference::parse(name)
            .ok()
            .filter(|r| r.tag().is_some() && img.references.contains(r))
            .into_iter()
            .collect();
        let mut layers = Vec::new();
        for diff_id in &img.config.rootfs.diff_ids {
            let lb = store
                .layer_blob(diff_id)
                .ok_or_else(|| ArchiveError::MissingLayerBlob(diff_id.clone()))?;
            if written.insert(diff_id.clone()) {
                let blob = store.content().open_blob(&lb.digest)?;
                let (r, _) = layer::decompress(blob).map_err(ArchiveError::Compression)?;
                let mut r = HashingReader::new(r.take(lb.tar_size));
                file_from(&mut tar, &blob_path(diff_id), lb.tar_size, &mut r)?;
                let (actual, _) = r.finish().map_err(ArchiveError::Write)?;
                if actual != *diff_id {
                    return Err(ArchiveError::CorruptLayerBlob {
                        expected: diff_id.clone(),
                        actual,
                    });
                }
            }
            layers.push(Descriptor::new(
                manifest::OCI_LAYER_TAR,
                diff_id.clone(),
                lb.tar_size,
            ));
        }
        let config = store.content().read(&img.id)?;
        if written.insert(img.id.clone()) {
            file(&mut tar, &blob_path(&img.id), &config)?;
        }
        let man = Manifest {
            schema_version: 2,
            media_type: Some(manifest::OCI_MANIFEST.to_owned()),
            config: Descriptor::new(manifest::OCI_CONFIG, img.id.clone(), config.len() as u64),
            layers,
            annotations: BTreeMap::new(),
        };
        let man_bytes = serde_json::to_vec(&man).map_err(|e| ArchiveError::Write(e.into()))?;
        let man_digest = Digest::of(&man_bytes);
        if written.insert(man_digest.clone()) {
            file(&mut tar, &blob_path(&man_digest), &man_bytes)?;
        }
        let mut entry = Descriptor::new(manifest::OCI_MANIFEST, man_digest, man_bytes.len() as u64);
        if tags.is_empty() {
            index_entries.push(entry.clone());
        }
        for t in &tags {
            entry.annotations = BTreeMap::from([
                ("io.containerd.image.name".to_owned(), t.to_string()),
                (
                    "org.opencontainers.image.ref.name".to_owned(),
                    t.tag().unwrap_or("latest").to_owned(),
                ),
            ]);
            index_entries.push(entry.clone());
            if let Some(top) = img.config.rootfs.diff_ids.last() {
                repositories
                    .entry(t.familiar_name())
                    .or_default()
                    .insert(t.tag().unwrap_or("latest").to_owned(), top.hex().to_owned());
            }
        }
        manifest_json.push(json!({
            "Config": blob_path(&img.id),
            "RepoTags": if tags.is_empty() { serde_json::Value::Null } else {
                json!(tags.iter().map(Reference::familiar).collect::<Vec<_>>())
            },
            "Layers": img.config.rootfs.diff_ids.iter().map(blob_path).collect::<Vec<_>>(),
        }));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": index_entries,
    });
    let enc =
        |v: &serde_json::Value| serde_json::to_vec(v).map_err(|e| ArchiveError::Write(e.into()));
    file(&mut tar, "index.json", &enc(&index)?)?;
    file(&mut tar, "manifest.json", &enc(&json!(manifest_json))?)?;
    file(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    if !repositories.is_empty() {
        file(&mut tar, "repositories", &enc(&json!(repositories))?)?;
    }
    tar.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(ArchiveError::Write)
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> Result<(), ArchiveError> {
    let mut h = header(tar::EntryType::Directory, 0, 0o755);
    tar.append_data(&mut h, path, io::empty())
        .map_err(ArchiveError::Write)
}

fn file<W: Write>(tar: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<(), ArchiveError> {
    file_from(tar, path, data.len() as u64, &mut &data[..])
}

fn file_from<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: &mut dyn Read,
) -> Result<(), ArchiveError> {
    let mut h = header(tar::EntryType::Regular, size, 0o644);
    tar.append_data(&mut h, path, data)
        .map_err(ArchiveError::Write)
}
