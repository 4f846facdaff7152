//! The cgroup mounts of `/proc/self/mountinfo`, parsed once per manager.
//!
//! A mountinfo line is
//! `36 35 98:0 /root /mnt rw,noatime master:1 - cgroup cgroup rw,memory`:
//! mount id, parent id, dev, root, mount point, mount options, optional fields, `-`, fstype,
//! source, super options. For a v1 hierarchy the super options name its controllers
//! (`cpu,cpuacct`, `name=systemd`); cgroup2 has one unified hierarchy.

use std::path::{Path, PathBuf};

use super::CgroupError;

/// Where the kernel describes the calling process's mounts.
pub const PROC_SELF_MOUNTINFO: &str = "/proc/self/mountinfo";

/// v1 controller names the kernel knows; anything else in the super options is a mount option
/// (`rw`, `clone_children`, `release_agent=...`, `xattr`, ...).
const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// One mounted v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Its controllers in the kernel's order, e.g. `["cpu", "cpuacct"]`, or `["name=systemd"]`
    /// for a named hierarchy without controllers.
    pub controllers: Vec<String>,
    /// Where it is mounted, e.g. `/sys/fs/cgroup/cpu,cpuacct`.
    pub mount_point: PathBuf,
}

impl V1Hierarchy {
    /// Whether this hierarchy carries `controller`.
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// The mount data to mount this hierarchy again (`cpu,cpuacct`, `name=systemd`).
    pub fn data(&self) -> String {
        self.controllers.join(",")
    }

    /// The directory name under a container's `/sys/fs/cgroup` (`cpu,cpuacct`, `systemd`).
    pub fn subdir(&self) -> String {
        let names: Vec<&str> = self
            .controllers
            .iter()
            .map(|c| c.strip_prefix("name=").unwrap_or(c))
            .collect();
        names.join(",")
    }
}

/// The cgroup mounts found in a mount table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupMounts {
    /// v1 hierarchies, one per distinct controller set (the first mount of each wins).
    pub v1: Vec<V1Hierarchy>,
    /// The first cgroup2 mount, if any.
    pub unified: Option<PathBuf>,
}

impl CgroupMounts {
    /// Reads and parses `/proc/self/mountinfo`.
    pub fn from_proc() -> Result<Self, CgroupError> {
        Self::from_file(Path::new(PROC_SELF_MOUNTINFO))
    }

    /// Reads and parses a mountinfo file.
    pub fn from_file(path: &Path) -> Result<Self, CgroupError> {
        let text = std::fs::read_to_string(path).map_err(|source| CgroupError::ReadMountinfo {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(&text))
    }

    /// Parses mountinfo text. Lines that are not cgroup mounts, or are malformed, are skipped:
    /// the kernel writes this file, and only its cgroup lines matter here.
    pub fn parse(text: &str) -> Self {
        let mut mounts = CgroupMounts::default();
        for line in text.lines() {
            let Some((pre, post)) = line.split_once(" - ") else {
                continue;
            };
            let pre: Vec<&str> = pre.split(' ').collect();
            let Some(mount_point) = pre.get(4) else {
                continue;
            };
            let mut post = post.split(' ');
            let (Some(fstype), Some(_source), Some(super_opts)) =
                (post.next(), post.next(), post.next())
            else {
                continue;
            };
            let mount_point = PathBuf::from(unescape(mount_point));
            match fstype {
                "cgroup2" if mounts.unified.is_none() => mounts.unified = Some(mount_point),
                "cgroup" => {
                    let controllers: Vec<String> = super_opts
                        .split(',')
                        .filter(|o| o.starts_with("name=") || V1_CONTROLLERS.contains(o))
                        .map(str::to_string)
                        .collect();
                    if controllers.is_empty()
                        || mounts.v1.iter().any(|h| h.controllers == controllers)
                    {
                        continue;
                    }
                    mounts.v1.push(V1Hierarchy {
                        controllers,
                        mount_point,
                    });
                }
                _ => {}
            }
        }
        mounts
    }

    /// The hierarchy carrying `controller`, if mounted.
    pub fn hierarchy(&self, controller: &str) -> Option<&V1Hierarchy> {
        self.v1.iter().find(|h| h.has(controller))
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
42 31 0:39 / /sys/fs/cgroup/net_cls,net_prio rw shared:5 - cgroup cgroup rw,net_cls,net_prio
43 23 0:32 / /mnt/mem\\040dup rw,relatime - cgroup cgroup rw,memory
";

    #[test]
    fn parses_hybrid_mountinfo() {
        let m = CgroupMounts::parse(HYBRID);
        assert_eq!(
            m.unified.as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified"))
        );
        let subdirs: Vec<String> = m.v1.iter().map(V1Hierarchy::subdir).collect();
        assert_eq!(
            subdirs,
            ["cpu", "cpuacct", "memory", "systemd", "net_cls,net_prio"]
        );
        let sd = m.hierarchy("name=systemd").map(V1Hierarchy::data);
        assert_eq!(sd.as_deref(), Some("name=systemd"));
        let mem = m.hierarchy("memory").map(|h| h.mount_point.clone());
        assert_eq!(mem, Some(PathBuf::from("/sys/fs/cgroup/memory")));
    }

    #[test]
    fn unescapes_octal() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/trailing\\04"), "/trailing\\04");
    }

    #[test]
    fn skips_garbage() {
        let m = CgroupMounts::parse("garbage\n1 2 3\n - cgroup\n");
        assert_eq!(m, CgroupMounts::default());
    }
}
