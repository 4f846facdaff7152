//! OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`) and their overlayfs form.
//!
//! In a layer tar, `dir/.wh.NAME` deletes `dir/NAME` from the layers below, and
//! `dir/.wh..wh..opq` hides everything the layers below have in `dir`. overlayfs spells the
//! same things as a 0:0 character device named `NAME`, and the xattr
//! `trusted.overlay.opaque=y` on `dir`. Layers are stored in the overlay form so they can be
//! used directly as lowerdirs; the copy snapshotter reads that form back.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Prefix of a whiteout file name.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// Prefix of AUFS metadata names (`.wh..wh.plnk` and such), skipped.
pub const WHITEOUT_META_PREFIX: &str = ".wh..wh.";
/// Name of the opaque-directory marker.
pub const WHITEOUT_OPAQUE: &str = ".wh..wh..opq";
/// The overlayfs xattr marking an opaque directory.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// The prefix of every overlayfs xattr; such xattrs in a tar are dropped so a layer cannot
/// forge overlay metadata (redirects, metacopy).
pub const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

/// What a tar entry's file name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Whiteout<'a> {
    /// Not a whiteout.
    None,
    /// `.wh..wh..opq`: the containing directory is opaque.
    Opaque,
    /// `.wh.NAME`: delete `NAME`.
    Delete(&'a OsStr),
    /// Other `.wh..wh.*` AUFS metadata: ignore.
    Meta,
}

/// Classifies a file name.
pub fn classify(name: &OsStr) -> Whiteout<'_> {
    let b = name.as_bytes();
    if b == WHITEOUT_OPAQUE.as_bytes() {
        Whiteout::Opaque
    } else if b.starts_with(WHITEOUT_META_PREFIX.as_bytes()) {
        Whiteout::Meta
    } else if let Some(rest) = b.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
        if rest.is_empty() || rest == b"." || rest == b".." {
            Whiteout::Meta
        } else {
            Whiteout::Delete(OsStr::from_bytes(rest))
        }
    } else {
        Whiteout::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_names() {
        assert_eq!(classify(OsStr::new("a")), Whiteout::None);
        assert_eq!(
            classify(OsStr::new(".wh.a")),
            Whiteout::Delete(OsStr::new("a"))
        );
        assert_eq!(classify(OsStr::new(".wh..wh..opq")), Whiteout::Opaque);
        assert_eq!(classify(OsStr::new(".wh..wh.plnk")), Whiteout::Meta);
        assert_eq!(classify(OsStr::new(".wh..")), Whiteout::Meta);
        assert_eq!(classify(OsStr::new(".wh.")), Whiteout::Meta);
    }
}
