//! `User` (`name`, `uid`, `name:group`, `uid:gid`) resolved against the image's
//! `/etc/passwd` and `/etc/group`, as docker does it (moby/sys/user `GetExecUser`): names must
//! exist, numbers need not; the supplementary groups are the groups listing the user.

use std::path::Path;

use crate::error::{EngineError, Result};

/// The user a container's process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Supplementary group IDs.
    pub additional_gids: Vec<u32>,
    /// Home directory (for `HOME`).
    pub home: String,
}

/// Reads a file of the image, refusing symlinks (they could point out of the rootfs);
/// a missing file reads as empty.
fn read_image_file(rootfs: &Path, rel: &str) -> Result<String> {
    let path = rootfs.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => {
            std::fs::read_to_string(&path).map_err(|e| EngineError::io("read", &path, e))
        }
        _ => Ok(String::new()),
    }
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 7 || l.starts_with('#') {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f[5],
        })
    })
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn groups(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 || l.starts_with('#') {
            return None;
        }
        Some(GroupEntry {
            name: f[0],
            gid: f[2].parse().ok()?,
            members: f[3].split(',').filter(|m| !m.is_empty()).collect(),
        })
    })
}

/// Resolves `spec` (plus `group_add`) in the image at `rootfs`.
pub fn resolve(rootfs: &Path, spec: &str, group_add: &[String]) -> Result<ExecUser> {
    let passwd_text = read_image_file(rootfs, "etc/passwd")?;
    let group_text = read_image_file(rootfs, "etc/group")?;
    resolve_in(&passwd_text, &group_text, spec, group_add)
}

fn resolve_in(
    passwd_text: &str,
    group_text: &str,
    spec: &str,
    group_add: &[String],
) -> Result<ExecUser> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let numeric = user.parse::<u32>().ok();
    let entry = passwd(passwd_text).find(|e| match numeric {
        Some(n) => e.uid == n,
        None => e.name == user,
    });
    let mut out = match (entry, numeric) {
        (Some(e), _) => ExecUser {
            uid: e.uid,
            gid: e.gid,
            additional_gids: Vec::new(),
            home: e.home.to_owned(),
        },
        (None, Some(n)) => ExecUser {
            uid: n,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/".to_owned(),
        },
        (None, None) => {
            return Err(EngineError::NoSuchUser {
                what: "user",
                name: user.to_owned(),
                file: "passwd",
            });
        }
    };
    let user_name = entry_name(passwd_text, out.uid);
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        out.gid = group_id(group_text, g)?;
    } else if let Some(name) = &user_name {
        out.additional_gids = groups(group_text)
            .filter(|e| e.members.contains(&name.as_str()))
            .map(|e| e.gid)
            .collect();
    }
    for g in group_add {
        let gid = group_id(group_text, g)?;
        if !out.additional_gids.contains(&gid) {
            out.additional_gids.push(gid);
        }
    }
    Ok(out)
}

fn entry_name(passwd_text: &str, uid: u32) -> Option<String> {
    passwd(passwd_text)
        .find(|e| e.uid == uid)
        .map(|e| e.name.to_owned())
}

fn group_id(group_text: &str, g: &str) -> Result<u32> {
    if let Ok(n) = g.parse::<u32>() {
        return Ok(n);
    }
    groups(group_text)
        .find(|e| e.name == g)
        .map(|e| e.gid)
        .ok_or_else(|| EngineError::NoSuchUser {
            what: "group",
            name: g.to_owned(),
            file: "group",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nuser:x:1000:\nwheel:x:10:user,other\n";

    #[test]
    fn names_and_numbers() {
        let u = resolve_in(PASSWD, GROUP, "", &[]).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (0, 0, "/root"));
        let u = resolve_in(PASSWD, GROUP, "user", &[]).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 1000));
        assert_eq!(u.additional_gids, vec![10]);
        let u = resolve_in(PASSWD, GROUP, "4242:wheel", &[]).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 10, "/"));
        let u = resolve_in(PASSWD, GROUP, "1000:7", &["root".into()]).unwrap();
        assert_eq!((u.gid, u.additional_gids.clone()), (7, vec![0]));
    }

    #[test]
    fn unknown_names_fail_like_docker() {
        let e = resolve_in(PASSWD, GROUP, "nobody", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
        let e = resolve_in(PASSWD, GROUP, "0:staff", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find group staff: no matching entries in group file"
        );
    }
}
