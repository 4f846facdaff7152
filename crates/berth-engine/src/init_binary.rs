//! `--init`: an init process (pid 1 that reaps zombies and forwards signals) in front of
//! the container's command, as dockerd does it with its `docker-init` (tini): the binary is
//! bound read-only at `/sbin/docker-init` and the command becomes
//! `/sbin/docker-init -- CMD...`.
//!
//! The binary must run in any image, so it is a static one: `$BERTH_INIT`, else
//! `docker-init` on `PATH`, else Debian's `tini-static` (package `tini`, installed by
//! `scripts/install-deps.sh`).

use std::path::PathBuf;

use crate::error::{EngineError, Result};

/// Where the init is bound in the container (dockerd's path).
pub const IN_CONTAINER: &str = "/sbin/docker-init";

/// The environment variable that names the init binary.
pub const ENV: &str = "BERTH_INIT";

/// The static init binary to bind, or a clear error saying how to get one.
pub fn find() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(EngineError::Invalid(format!(
                "--init: ${ENV} names {}, which is not a file",
                p.display()
            )))
        };
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("docker-init"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/tini-static")).filter(|p| p.is_file()))
        .ok_or_else(|| {
            EngineError::Invalid(
                "--init needs a static init binary: apt-get install tini (tini-static), or \
                 set BERTH_INIT for the daemon"
                    .into(),
            )
        })
}

/// The process arguments with the init in front.
pub fn wrap(args: Vec<String>) -> Vec<String> {
    let mut out = vec![IN_CONTAINER.to_owned(), "--".to_owned()];
    out.extend(args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_runs_under_the_init() {
        assert_eq!(
            wrap(vec!["sh".into(), "-c".into(), "x".into()]),
            ["/sbin/docker-init", "--", "sh", "-c", "x"]
        );
    }
}
