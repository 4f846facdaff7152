//! The `local` driver's options (moby `volume/local`): `type`, `device` and `o` mount a
//! filesystem on the volume's data directory (`type=tmpfs,device=tmpfs,o=size=64m`, or
//! `type=none,o=bind,device=/srv/x` for a bind volume); `size` needs quota support berth
//! does not have and is refused.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{MntFlags, MsFlags};

use crate::error::{EngineError, Result};

/// moby's `validateOpts`.
pub(super) fn validate_options(opts: &BTreeMap<String, String>) -> Result<()> {
    for k in opts.keys() {
        match k.as_str() {
            "type" | "device" | "o" => {}
            "size" => {
                return Err(EngineError::Invalid(
                    "quota size requested but no quota support".into(),
                ));
            }
            other => {
                return Err(EngineError::Invalid(format!("invalid option: {other:?}")));
            }
        }
    }
    for (opt, needs) in [
        ("device", &["type"][..]),
        ("type", &["device"][..]),
        ("o", &["device", "type"][..]),
    ] {
        if opts.contains_key(opt) {
            for n in needs {
                if !opts.contains_key(*n) {
                    return Err(EngineError::Invalid(format!(
                        "missing required option: {n:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The options ask for a filesystem of its own.
pub(super) fn needs_mount(opts: &BTreeMap<String, String>) -> bool {
    opts.contains_key("type") || opts.contains_key("device")
}

/// `/proc/self/mountinfo` lists `path` as a mount point.
fn is_mountpoint(path: &Path) -> Result<bool> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| EngineError::io("read", "/proc/self/mountinfo", e))?;
    let want = path.to_string_lossy();
    Ok(text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| unescape(mp) == want))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Ok(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .map_err(|_| ())
                .and_then(|t| u8::from_str_radix(t, 8).map_err(|_| ()))
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mounts the volume's filesystem on `data` unless it is there already.
pub(super) fn mount(opts: &BTreeMap<String, String>, data: &Path) -> Result<()> {
    if !needs_mount(opts) || is_mountpoint(data)? {
        return Ok(());
    }
    let fstype = opts.get("type").map(String::as_str).unwrap_or("none");
    let device = opts.get("device").map(String::as_str).unwrap_or("");
    let o: Vec<String> = opts
        .get("o")
        .map(|o| o.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let parsed = berth_runtime::rootfs::options::parse(&o);
    let data_opt = (!parsed.data.is_empty()).then_some(parsed.data.as_str());
    let fs = (!parsed.bind).then_some(fstype);
    nix::mount::mount(Some(device), data, fs, parsed.flags, data_opt).map_err(|e| {
        EngineError::Invalid(format!(
            "error while mounting volume '{}': failed to mount local volume: mount {device}:{} , flags: {:#x}, data: {}: {}",
            data.display(),
            data.display(),
            parsed.flags.bits(),
            parsed.data,
            e.desc()
        ))
    })?;
    for p in parsed.propagation {
        let _ = nix::mount::mount(None::<&str>, data, None::<&str>, p, None::<&str>);
    }
    if parsed.bind && parsed.flags.contains(MsFlags::MS_RDONLY) {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        nix::mount::mount(None::<&str>, data, None::<&str>, flags, None::<&str>)
            .map_err(|e| EngineError::io("remount read-only", data, e.into()))?;
    }
    Ok(())
}

/// Unmounts whatever is mounted on `data` (nothing is fine).
pub(super) fn unmount(data: &Path) -> Result<()> {
    while is_mountpoint(data)? {
        nix::mount::umount2(data, MntFlags::MNT_DETACH)
            .map_err(|e| EngineError::io("unmount", data, e.into()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn options_are_checked_as_moby_does() {
        validate_options(&opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m"),
        ]))
        .unwrap();
        let e = validate_options(&opts(&[("o", "size=1m")])).unwrap_err();
        assert!(e.message().starts_with("missing required option"));
        let e = validate_options(&opts(&[("bogus", "1")])).unwrap_err();
        assert_eq!(e.message(), "invalid option: \"bogus\"");
    }

    #[test]
    fn mountinfo_paths_are_unescaped() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
