//! Start-up reconciliation of the host with the store, after a daemon killed mid-operation:
//! a shim whose container has no record, or whose record says it never ran (a start cut
//! short, e.g. a `--defer-start` shim never told to start), is killed with its container; its
//! cgroups, rootfs mount, `/dev/shm` and network namespace pin go with it. Each removal is
//! logged.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth_image::snapshot::Snapshotter;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::table::{Container, Engine};

/// How long a killed container may take to leave its cgroups.
const CGROUP_EMPTY_WAIT: Duration = Duration::from_secs(2);

/// The pid in `dir/file` when that process still runs and `owns` it (a reused pid is left
/// alone).
fn live_pid(dir: &Path, file: &str, owns: impl Fn(i32) -> bool) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(dir.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (pid > 1 && owns(pid)).then_some(pid)
}

fn proc_file_contains(pid: i32, file: &str, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/{file}"))
        .map(|b| String::from_utf8_lossy(&b).contains(needle))
        .unwrap_or(false)
}

/// SIGKILLs the container init and the shim recorded in `shim_dir` (named by the id's first
/// 24 characters); true when there was one.
pub(crate) fn kill_shim(shim_dir: &Path) -> bool {
    let Some(short) = shim_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return false;
    };
    let init = live_pid(shim_dir, "init.pid", |p| {
        proc_file_contains(p, "cgroup", &short)
    });
    let shim = live_pid(shim_dir, "shim.pid", |p| {
        proc_file_contains(p, "cmdline", &short)
    });
    for pid in [init, shim].into_iter().flatten() {
        tracing::info!(
            pid,
            "killing process of a container with no running record ({short})"
        );
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    init.is_some() || shim.is_some()
}

/// Every hierarchy's directory for the cgroup path `path` (`/berth/<id>`), v1 and v2.
fn cgroup_dirs(path: &Path) -> Vec<PathBuf> {
    let rel = path.strip_prefix("/").unwrap_or(path);
    let root = Path::new("/sys/fs/cgroup");
    let mut dirs = vec![root.join(rel)];
    if let Ok(rd) = std::fs::read_dir(root) {
        dirs.extend(rd.flatten().map(|e| e.path().join(rel)));
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

/// Removes the cgroup `path` in every hierarchy, waiting a little for killed processes to
/// leave it.
pub(crate) fn remove_cgroup(path: &Path) {
    let deadline = Instant::now() + CGROUP_EMPTY_WAIT;
    loop {
        let left: Vec<PathBuf> = cgroup_dirs(path)
            .into_iter()
            .filter(|d| std::fs::remove_dir(d).is_err())
            .collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            for d in left {
                tracing::warn!("cgroup {} is still in use; left in place", d.display());
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Engine {
    /// A container whose record has no process but whose start left pieces behind (a shim,
    /// a namespace pin, a mounted rootfs): those pieces go.
    pub(crate) async fn undo_cut_start(&self, c: &Container) {
        let shim_dir = self.shim_dir(&c.id);
        let netns = self.netns_path(&c.id);
        if !shim_dir.exists() && !netns.exists() {
            return;
        }
        tracing::info!(id = %c.id, "undoing a start cut short by the daemon's death");
        kill_shim(&shim_dir);
        if let Err(e) = std::fs::remove_dir_all(&shim_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("remove {}: {e}", shim_dir.display());
        }
        let rec = c.record();
        remove_cgroup(&crate::spec::cgroups_path(&rec.host_config, &c.id));
        if let Err(e) = self.inner.snap.unmount(&self.dir(&c.id)) {
            tracing::warn!("unmount rootfs of {}: {e}", c.id);
        }
        if let Err(e) = self.release_host_mounts(&c.id) {
            tracing::warn!("release the host mounts of {}: {e}", c.id);
        }
        self.net_stop(&c.id, berth_net::LinkTeardown::Wait).await;
        if let Err(e) = berth_net::netns::remove(&netns) {
            tracing::warn!("remove network namespace of {}: {e}", c.id);
        }
    }
}
