//! `docker load`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::ArchiveError;
use crate::config::ImageConfig;
use crate::digest::Digest;
use crate::layer;
use crate::manifest::{self, Descriptor, Parsed};
use crate::reference::Reference;
use crate::store::ImageStore;

/// An image a load registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// The image ID.
    pub id: Digest,
    /// The references it was tagged with (docker prints `Loaded image: <ref>` for each,
    /// `Loaded image ID: <id>` when there is none).
    pub tags: Vec<Reference>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An archive unpacked into a temp directory, with its symlinks kept aside.
struct Unpacked {
    dir: tempfile::TempDir,
    links: BTreeMap<String, String>,
}

impl Unpacked {
    /// The real file for an archive path, following archive symlinks (bounded).
    fn path(&self, name: &str) -> Result<PathBuf, ArchiveError> {
        let mut name = clean(name).ok_or_else(|| ArchiveError::BadPath(name.to_owned()))?;
        for _ in 0..16 {
            match self.links.get(&name) {
                Some(t) => name = t.clone(),
                None => {
                    let p = self.dir.path().join(&name);
                    return if p.is_file() {
                        Ok(p)
                    } else {
                        Err(ArchiveError::MissingFile(name))
                    };
                }
            }
        }
        Err(ArchiveError::Invalid(format!("symlink loop at {name}")))
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let p = self.path(name)?;
        fs::read(&p).map_err(|source| ArchiveError::Io {
            op: "read",
            path: p,
            source,
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<T, ArchiveError> {
        serde_json::from_slice(&self.read(name)?).map_err(|source| ArchiveError::Parse {
            path: name.to_owned(),
            source,
        })
    }
}

/// A normalised relative path, or `None` when it would leave the root.
fn clean(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn unpack(store: &ImageStore, reader: impl Read) -> Result<Unpacked, ArchiveError> {
    let layers_dir = store
        .layer_path(&Digest::of(b""))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix(".tmp-load-")
        .tempdir_in(&layers_dir)
        .map_err(|source| ArchiveError::Io {
            op: "create temp directory in",
            path: layers_dir.clone(),
            source,
        })?;
    let (r, _) = layer::decompress(reader).map_err(ArchiveError::Compression)?;
    let mut archive = tar::Archive::new(r);
    let mut links = BTreeMap::new();
    let mut files = 0usize;
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw = entry
            .path()
            .map_err(ArchiveError::Read)?
            .to_string_lossy()
            .into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() {
            continue;
        }
        let name = clean(&raw).ok_or_else(|| ArchiveError::BadPath(raw.clone()))?;
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(ArchiveError::Read)?
                .ok_or_else(|| ArchiveError::BadPath(raw.clone()))?;
            let target = target.to_string_lossy();
            // Symlinks are relative to their directory, hard links to the root.
            let joined = match (kind.is_symlink(), name.rsplit_once('/')) {
                (true, Some((parent, _))) => format!("{parent}/{target}"),
                _ => target.into_owned(),
            };
            let t = clean(&joined).ok_or_else(|| ArchiveError::BadPath(joined.clone()))?;
            links.insert(name, t);
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let path = dir.path().join(&name);
        let ioerr = |source| ArchiveError::Io {
            op: "write",
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(ioerr)?;
        }
        let mut f = File::create(&path).map_err(ioerr)?;
        // A short read here (a truncated archive) is an error, not a short file.
        let want = entry.header().size().map_err(ArchiveError::Read)?;
        // A failed read is the archive's; a failed write (a full disk) names the file.
        let mut got = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::Read(e)),
            };
            f.write_all(&buf[..n]).map_err(ioerr)?;
            got += n as u64;
        }
        if got != want {
            return Err(ArchiveError::Read(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name}: {got} of {want} bytes"),
            )));
        }
        files += 1;
    }
    // Drain the compressed stream's tail so a truncated or corrupt gzip is noticed.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(ArchiveError::Read)?;
    if files == 0 {
        return Err(ArchiveError::UnknownFormat);
    }
    Ok(Unpacked { dir, links })
}

/// Reads an archive (docker or OCI layout; plain, gzip or zstd) into the store and returns
/// the images it held, tagged as the archive says.
pub fn load(store: &ImageStore, reader: impl Read) -> Result<Vec<LoadedImage>, ArchiveError> {
    let u = unpack(store, reader)?;
    if u.path("manifest.json").is_ok() {
        load_docker(store, &u)
    } else if u.path("index.json").is_ok() {
        load_oci(store, &u)
    } else {
        Err(ArchiveError::UnknownFormat)
    }
}

/// The expected digest of an archive file named like a blob (`blobs/sha256/<hex>`,
/// `<hex>.json`, `<hex>/layer.tar` is not: that hex is a v1 ID).
fn digest_in_name(name: &str) -> Option<Digest> {
    let base = name.rsplit('/').next()?;
    if let Some(hex) = name.strip_prefix("blobs/sha256/") {
        return Digest::from_hex(hex).ok();
    }
    Digest::from_hex(base.strip_suffix(".json").or(base.strip_suffix(".tar"))?).ok()
}

fn store_blob(
    store: &ImageStore,
    u: &Unpacked,
    name: &str,
    expected: Option<&Digest>,
) -> Result<Digest, ArchiveError> {
    let p = u.path(name)?;
    let mut f = File::open(&p).map_err(|source| ArchiveError::Io {
        op: "open",
        path: p.clone(),
        source,
    })?;
    Ok(store.content().write(&mut f, expected)?.0)
}

fn load_docker(store: &ImageStore, u: &Unpacked) -> Result<Vec<LoadedImage>, ArchiveError> {
    let entries: Vec<DockerEntry> = u.json("manifest.json")?;
    // Check everything before storing anything.
    let mut plan = Vec::new();
    for e in &entries {
        let config_bytes = u.read(&e.config)?;
        let config =
            ImageConfig::from_slice(&config_bytes).map_err(|source| ArchiveError::Parse {
                path: e.config.clone(),
                source,
            })?;
        if config.rootfs.diff_ids.len() != e.layers.len() {
            return Err(ArchiveError::Invalid(format!(
                "{} lists {} layers, its config {}",
                e.config,
                e.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        for l in &e.layers {
            u.path(l)?;
        }
        let mut tags = Vec::new();
        for t in e.repo_tags.iter().flatten() {
            tags.push(
                Reference::parse(t)
                    .map_err(|err| ArchiveError::Invalid(format!("tag {t:?}: {err}")))?,
            );
        }
        plan.push((config_bytes, config, tags));
    }
    let mut out = Vec::new();
    for (e, (config_bytes, config, tags)) in entries.iter().zip(plan) {
        let mut parent: Option<Digest> = None;
        for (l, diff_id) in e.layers.iter().zip(&config.rootfs.diff_ids) {
            let expected = digest_in_name(l).filter(|d| l.starts_with("blobs/") || d == diff_id);
            let blob = store_blob(store, u, l, expected.as_ref())?;
            let info = store.add_layer_from_blob(parent.as_ref(), &blob, Some(diff_id))?;
            parent = Some(info.chain_id);
        }
        out.push(register(store, &config_bytes, tags)?);
    }
    Ok(out)
}

fn register(
    store: &ImageStore,
    config: &[u8],
    tags: Vec<Reference>,
) -> Result<LoadedImage, ArchiveError> {
    let id = store.add_image(config)?;
    for t in &tags {
        store.tag(&id.to_string(), t)?;
    }
    Ok(LoadedImage { id, tags })
}

fn load_oci(store: &ImageStore, u: &Unpacked) -> Result<Vec<LoadedImage>, ArchiveError> {
    let index = u.read("index.json")?;
    let mut manifests = Vec::new();
    collect(u, None, &index, None, &mut manifests, 0)?;
    // Check every blob is there before storing anything.
    for (m, _) in &manifests {
        u.path(&blob_name(&m.config.digest))?;
        for l in &m.layers {
            u.path(&blob_name(&l.digest))?;
        }
    }
    let mut out = Vec::new();
    for (m, name) in manifests {
        let config_bytes = u.read(&blob_name(&m.config.digest))?;
        if Digest::of(&config_bytes) != m.config.digest {
            return Err(ArchiveError::Invalid(format!(
                "config blob {} does not match its digest",
                m.config.digest
            )));
        }
        let config =
            ImageConfig::from_slice(&config_bytes).map_err(|source| ArchiveError::Parse {
                path: blob_name(&m.config.digest),
                source,
            })?;
        if config.rootfs.diff_ids.len() != m.layers.len() {
            return Err(ArchiveError::Invalid(format!(
                "manifest has {} layers, config {}",
                m.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let mut parent: Option<Digest> = None;
        for (l, diff_id) in m.layers.iter().zip(&config.rootfs.diff_ids) {
            let blob = store_blob(store, u, &blob_name(&l.digest), Some(&l.digest))?;
            let info = store.add_layer_from_blob(parent.as_ref(), &blob, Some(diff_id))?;
            parent = Some(info.chain_id);
        }
        out.push(register(store, &config_bytes, name.into_iter().collect())?);
    }
    Ok(out)
}

fn blob_name(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Walks an index (nested indexes too) down to manifests for the host platform, each with
/// the reference its annotations name.
fn collect(
    u: &Unpacked,
    ct: Option<&str>,
    body: &[u8],
    name: Option<Reference>,
    out: &mut Vec<(manifest::Manifest, Option<Reference>)>,
    depth: usize,
) -> Result<(), ArchiveError> {
    if depth > 4 {
        return Err(ArchiveError::Invalid("index nesting too deep".into()));
    }
    match manifest::parse(ct, body).map_err(|e| ArchiveError::Invalid(e.to_string()))? {
        Parsed::Manifest(m, _) => out.push((*m, name)),
        Parsed::Index(idx, _) => {
            let host = manifest::Platform::host();
            let many = idx.manifests.len() > 1;
            for d in &idx.manifests {
                if many && d.platform.as_ref().is_some_and(|p| !host.matches(p)) {
                    continue;
                }
                let b = u.read(&blob_name(&d.digest))?;
                if Digest::of(&b) != d.digest {
                    return Err(ArchiveError::Invalid(format!(
                        "blob {} does not match its digest",
                        d.digest
                    )));
                }
                let n = ref_name(d).or_else(|| name.clone());
                collect(u, Some(&d.media_type), &b, n, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// The reference an index entry names: containerd's full name, else an OCI ref name that
/// is a whole reference (a bare tag names no repository).
fn ref_name(d: &Descriptor) -> Option<Reference> {
    let full = d.annotations.get("io.containerd.image.name");
    let oci = d.annotations.get("org.opencontainers.image.ref.name");
    full.and_then(|n| Reference::parse(n).ok())
        .or_else(|| {
            oci.filter(|n| n.contains('/') || n.contains(':'))
                .and_then(|n| Reference::parse(n).ok())
        })
        .filter(|r| r.tag().is_some())
}
