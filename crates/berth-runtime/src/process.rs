//! The settings of one container process, shared by the init and `exec`: rlimits, the OOM
//! score, user and groups, capabilities, umask, working directory, no_new_privs, and finding
//! and exec'ing the program.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
use oci_spec::runtime::{PosixRlimitType, Process};

/// PATH when the process's environment has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Applying a process setting failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A hard limit above the current one: raising it needs CAP_SYS_RESOURCE.
    #[error(
        "process.rlimits {name}: hard limit {want} above the current hard limit {have} (raising it needs CAP_SYS_RESOURCE)"
    )]
    RlimitAboveHard {
        /// The limit's name.
        name: String,
        /// Requested hard limit.
        want: u64,
        /// The hard limit in force.
        have: u64,
    },
    /// setrlimit(2) failed.
    #[error("process.rlimits {0}: set limit")]
    Rlimit(String, #[source] nix::Error),
    /// Writing oom_score_adj failed.
    #[error("process.oomScoreAdj: write /proc/self/oom_score_adj")]
    OomScoreAdj(#[source] std::io::Error),
    /// setgroups(2) failed.
    #[error("process.user.additionalGids: setgroups")]
    Setgroups(#[source] nix::Error),
    /// setresgid(2) failed.
    #[error("process.user.gid: setgid {0}")]
    Setgid(u32, #[source] nix::Error),
    /// setresuid(2) failed.
    #[error("process.user.uid: setuid {0}")]
    Setuid(u32, #[source] nix::Error),
    /// prctl(PR_SET_KEEPCAPS) failed.
    #[error("prctl keepcaps")]
    KeepCaps(#[source] nix::Error),
    /// Setting capabilities failed.
    #[error("process.capabilities")]
    Caps(#[source] crate::capabilities::CapsError),
    /// chdir(2) to the working directory failed.
    #[error("process.cwd: chdir to {0}")]
    Cwd(PathBuf, #[source] nix::Error),
    /// prctl(PR_SET_NO_NEW_PRIVS) failed.
    #[error("process.noNewPrivileges: prctl")]
    NoNewPrivs(#[source] nix::Error),
    /// The program is not on PATH or not a file.
    #[error("exec {0}: executable file not found in $PATH")]
    NotFound(String),
    /// The program exists but cannot be executed.
    #[error("exec {0}: permission denied")]
    NotExecutable(String),
    /// An argument or variable holds a NUL byte.
    #[error("process.{0}: contains a NUL byte")]
    Nul(&'static str),
    /// execve(2) failed.
    #[error("exec {0}")]
    Exec(String, #[source] nix::Error),
    /// Loading seccomp failed.
    #[error("linux.seccomp: load filter")]
    Seccomp(#[source] crate::seccomp::SeccompError),
    /// Marking inherited descriptors close-on-exec failed.
    #[error("mark inherited descriptors close-on-exec")]
    CloseFds(#[source] nix::Error),
    /// Resetting signal dispositions failed.
    #[error("reset signal mask")]
    Signals(#[source] nix::Error),
}

impl ProcessError {
    /// The exit code a shell would give this failure: 127 not found, 126 not executable.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProcessError::NotFound(_) => 127,
            ProcessError::Exec(_, nix::Error::ENOENT) => 127,
            ProcessError::NotExecutable(_) | ProcessError::Exec(..) => 126,
            _ => 1,
        }
    }
}

fn resource(t: PosixRlimitType) -> Resource {
    match t {
        PosixRlimitType::RlimitCpu => Resource::RLIMIT_CPU,
        PosixRlimitType::RlimitFsize => Resource::RLIMIT_FSIZE,
        PosixRlimitType::RlimitData => Resource::RLIMIT_DATA,
        PosixRlimitType::RlimitStack => Resource::RLIMIT_STACK,
        PosixRlimitType::RlimitCore => Resource::RLIMIT_CORE,
        PosixRlimitType::RlimitRss => Resource::RLIMIT_RSS,
        PosixRlimitType::RlimitNproc => Resource::RLIMIT_NPROC,
        PosixRlimitType::RlimitNofile => Resource::RLIMIT_NOFILE,
        PosixRlimitType::RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        PosixRlimitType::RlimitAs => Resource::RLIMIT_AS,
        PosixRlimitType::RlimitLocks => Resource::RLIMIT_LOCKS,
        PosixRlimitType::RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        PosixRlimitType::RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        PosixRlimitType::RlimitNice => Resource::RLIMIT_NICE,
        PosixRlimitType::RlimitRtprio => Resource::RLIMIT_RTPRIO,
        PosixRlimitType::RlimitRttime => Resource::RLIMIT_RTTIME,
    }
}

/// Set the process's rlimits; a hard limit above the current one fails with a clear error
/// when setrlimit refuses it.
pub fn set_rlimits(process: &Process) -> Result<(), ProcessError> {
    for rl in process.rlimits().iter().flatten() {
        let res = resource(rl.typ());
        if let Err(e) = setrlimit(res, rl.soft(), rl.hard()) {
            let name = rl.typ().to_string();
            if e == nix::Error::EPERM
                && let Ok((_, have)) = getrlimit(res)
                && rl.hard() > have
            {
                return Err(ProcessError::RlimitAboveHard {
                    name,
                    want: rl.hard(),
                    have,
                });
            }
            return Err(ProcessError::Rlimit(name, e));
        }
    }
    Ok(())
}

/// Write the OOM score adjustment.
pub fn set_oom_score_adj(process: &Process) -> Result<(), ProcessError> {
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(ProcessError::OomScoreAdj)?;
    }
    Ok(())
}

/// Drop the bounding set (still privileged), switch to the spec's user and groups keeping
/// capabilities across the uid change, then set the five capability sets.
pub fn set_user_and_caps(process: &Process) -> Result<(), ProcessError> {
    let caps = process.capabilities().as_ref();
    if let Some(bounding) = caps.and_then(|c| c.bounding().as_ref()) {
        crate::capabilities::drop_bounding(bounding).map_err(ProcessError::Caps)?;
    }
    let user = process.user();
    let gids: Vec<Gid> = user
        .additional_gids()
        .iter()
        .flatten()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&gids).map_err(ProcessError::Setgroups)?;
    let gid = Gid::from_raw(user.gid());
    setresgid(gid, gid, gid).map_err(|e| ProcessError::Setgid(user.gid(), e))?;
    nix::sys::prctl::set_keepcaps(true).map_err(ProcessError::KeepCaps)?;
    let uid = Uid::from_raw(user.uid());
    setresuid(uid, uid, uid).map_err(|e| ProcessError::Setuid(user.uid(), e))?;
    nix::sys::prctl::set_keepcaps(false).map_err(ProcessError::KeepCaps)?;
    if let Some(caps) = caps {
        crate::capabilities::apply(caps).map_err(ProcessError::Caps)?;
    }
    Ok(())
}

/// The umask of the process (0022 unless the spec says otherwise).
pub fn set_umask(process: &Process) {
    let mask = process.user().umask().unwrap_or(0o022);
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
}

/// Change to the working directory.
pub fn set_cwd(process: &Process) -> Result<(), ProcessError> {
    nix::unistd::chdir(process.cwd()).map_err(|e| ProcessError::Cwd(process.cwd().clone(), e))
}

/// Set no_new_privs if the spec asks for it.
pub fn set_no_new_privs(process: &Process) -> Result<(), ProcessError> {
    if process.no_new_privileges() == Some(true) {
        nix::sys::prctl::set_no_new_privs().map_err(ProcessError::NoNewPrivs)?;
    }
    Ok(())
}

/// The program, its arguments and environment, ready for execve.
#[derive(Debug)]
pub struct Program {
    /// The resolved path.
    pub path: CString,
    /// argv.
    pub args: Vec<CString>,
    /// envp.
    pub env: Vec<CString>,
}

/// Apply the process's OOM score, rlimits, user, capabilities, umask, cwd and no_new_privs,
/// and resolve its program: the steps a container's init and an exec'd process share. Without
/// no_new_privs, loading a seccomp filter needs CAP_SYS_ADMIN, so `seccomp` is loaded here,
/// before capabilities are dropped; with it, the caller loads the filter last.
pub fn prepare(
    process: &Process,
    seccomp: Option<&crate::seccomp::SeccompProgram>,
) -> Result<Program, ProcessError> {
    set_oom_score_adj(process)?;
    set_rlimits(process)?;
    if process.no_new_privileges() != Some(true)
        && let Some(p) = seccomp
    {
        crate::seccomp::load(p).map_err(ProcessError::Seccomp)?;
    }
    set_user_and_caps(process)?;
    set_umask(process);
    set_cwd(process)?;
    set_no_new_privs(process)?;
    program(process)
}

/// Resolve `args[0]` against the process's PATH (inside the container, after pivot_root) and
/// build argv and envp.
pub fn program(process: &Process) -> Result<Program, ProcessError> {
    let args: Vec<String> = process.args().clone().unwrap_or_default();
    let name = args.first().ok_or(ProcessError::NotFound(String::new()))?;
    let env: Vec<String> = process.env().clone().unwrap_or_default();
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let path = find_executable(name, path_var)?;
    let c = |s: &[u8], what| CString::new(s).map_err(|_| ProcessError::Nul(what));
    Ok(Program {
        path: c(path.as_os_str().as_bytes(), "args")?,
        args: args
            .iter()
            .map(|a| c(a.as_bytes(), "args"))
            .collect::<Result<_, _>>()?,
        env: env
            .iter()
            .map(|e| c(e.as_bytes(), "env"))
            .collect::<Result<_, _>>()?,
    })
}

/// Find `name` as `execvp` would: a name with a slash as is, otherwise each PATH entry.
pub fn find_executable(name: &str, path_var: &str) -> Result<PathBuf, ProcessError> {
    use nix::unistd::{AccessFlags, access};
    let candidates: Vec<PathBuf> = if name.contains('/') {
        vec![PathBuf::from(name)]
    } else {
        path_var
            .split(':')
            .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
            .collect()
    };
    let mut denied = false;
    for candidate in candidates {
        match std::fs::metadata(&candidate) {
            Ok(m) if m.is_file() => {
                if access(&candidate, AccessFlags::X_OK).is_ok() {
                    return Ok(candidate);
                }
                denied = true;
            }
            Ok(_) => denied |= name.contains('/'),
            Err(_) => {}
        }
    }
    if denied {
        Err(ProcessError::NotExecutable(name.into()))
    } else {
        Err(ProcessError::NotFound(name.into()))
    }
}

/// Replace this process image; returns only on failure.
pub fn exec(p: &Program) -> ProcessError {
    let name = OsStr::from_bytes(p.path.as_bytes())
        .to_string_lossy()
        .into_owned();
    match nix::unistd::execve(&p.path, &p.args, &p.env) {
        Err(e) => ProcessError::Exec(name, e),
        Ok(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_found_on_path() {
        assert_eq!(
            find_executable("sh", "/nonexistent:/bin").unwrap(),
            PathBuf::from("/bin/sh")
        );
        let err = find_executable("no-such-program-here", "/bin:/usr/bin").unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert_eq!(
            err.to_string(),
            "exec no-such-program-here: executable file not found in $PATH"
        );
    }

    #[test]
    fn a_directory_is_not_executable() {
        let err = find_executable("/tmp", "").unwrap_err();
        assert_eq!(err.exit_code(), 126);
    }
}
