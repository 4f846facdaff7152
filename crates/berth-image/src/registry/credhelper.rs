//! docker's credential helpers: `docker-credential-<name>` programs on `PATH` that keep
//! registry credentials outside `config.json` (a keychain, pass, a cloud's token service).
//!
//! The protocol is docker-credential-helpers': one action per run, as the first argument.
//! `get` reads the server URL on stdin and prints `{"ServerURL","Username","Secret"}`, or
//! fails saying `credentials not found`; `store` reads that JSON; `erase` reads the server
//! URL. A `Username` of `<token>` makes `Secret` an identity token. Which helper serves a
//! registry comes from `config.json`: `credHelpers[host]`, else `credsStore`, else none
//! (the file's own `auths`).

use std::io::{self, Write};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::auth::Credentials;

/// Credential helper errors.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// The helper's name could make a path (`/`, `..`) or is empty.
    #[error("invalid credential helper name {0:?}")]
    InvalidName(String),
    /// The program could not be started or talked to.
    #[error("run docker-credential-{helper} {action}")]
    Run {
        /// The helper's name.
        helper: String,
        /// `get`, `store` or `erase`.
        action: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The program failed.
    #[error("docker-credential-{helper} {action}: {message}")]
    Failed {
        /// The helper's name.
        helper: String,
        /// `get`, `store` or `erase`.
        action: &'static str,
        /// What it printed.
        message: String,
    },
    /// `get` printed something that is not docker's credentials JSON.
    #[error("docker-credential-{helper} get: invalid output")]
    Output {
        /// The helper's name.
        helper: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

fn check_name(helper: &str) -> Result<(), HelperError> {
    let ok = !helper.is_empty()
        && helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && helper != "."
        && helper != "..";
    if ok {
        Ok(())
    } else {
        Err(HelperError::InvalidName(helper.to_owned()))
    }
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin: (success, stdout,
/// stderr).
fn run(
    helper: &str,
    action: &'static str,
    input: &[u8],
) -> Result<(bool, String, String), HelperError> {
    check_name(helper)?;
    let rerr = |source| HelperError::Run {
        helper: helper.to_owned(),
        action,
        source,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(rerr)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its status.
        match stdin.write_all(input) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(rerr(e)),
        }
    }
    let out = child.wait_with_output().map_err(rerr)?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    ))
}

fn failed(helper: &str, action: &'static str, stdout: String, stderr: String) -> HelperError {
    HelperError::Failed {
        helper: helper.to_owned(),
        action,
        message: if stdout.is_empty() { stderr } else { stdout },
    }
}

/// `get`: the credentials `helper` keeps for `server_url`; `None` when it has none.
pub fn get(helper: &str, server_url: &str) -> Result<Option<Credentials>, HelperError> {
    let (ok, stdout, stderr) = run(helper, "get", server_url.as_bytes())?;
    if !ok {
        if stdout.contains("credentials not found") || stderr.contains("credentials not found") {
            return Ok(None);
        }
        return Err(failed(helper, "get", stdout, stderr));
    }
    let w: Wire = serde_json::from_str(&stdout).map_err(|source| HelperError::Output {
        helper: helper.to_owned(),
        source,
    })?;
    if w.username.is_empty() && w.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials {
        username: w.username,
        password: w.secret,
    }))
}

/// `store`: hands `creds` for `server_url` to `helper`.
pub fn store(helper: &str, server_url: &str, creds: &Credentials) -> Result<(), HelperError> {
    let w = Wire {
        server_url: server_url.to_owned(),
        username: creds.username.clone(),
        secret: creds.password.clone(),
    };
    let input = serde_json::to_vec(&w).map_err(|source| HelperError::Output {
        helper: helper.to_owned(),
        source,
    })?;
    let (ok, stdout, stderr) = run(helper, "store", &input)?;
    if ok {
        Ok(())
    } else {
        Err(failed(helper, "store", stdout, stderr))
    }
}

/// `erase`: makes `helper` forget `server_url` (not an error when it had nothing).
pub fn erase(helper: &str, server_url: &str) -> Result<(), HelperError> {
    let (ok, stdout, stderr) = run(helper, "erase", server_url.as_bytes())?;
    if ok || stdout.contains("credentials not found") || stderr.contains("credentials not found") {
        Ok(())
    } else {
        Err(failed(helper, "erase", stdout, stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_names_cannot_make_paths() {
        for bad in ["", ".", "..", "../x", "a/b", "a b"] {
            assert!(
                matches!(check_name(bad), Err(HelperError::InvalidName(_))),
                "{bad:?}"
            );
        }
        for good in [
            "pass",
            "desktop",
            "ecr-login",
            "gcloud",
            "osxkeychain",
            "a.b_c",
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_missing_helper_is_an_error_naming_it() {
        let err = get("berth-test-no-such-helper", "reg.example").unwrap_err();
        assert!(
            err.to_string()
                .contains("docker-credential-berth-test-no-such-helper get"),
            "{err}"
        );
    }

    #[test]
    fn wire_format_is_dockers() {
        let w = Wire {
            server_url: "https://index.docker.io/v1/".into(),
            username: "u".into(),
            secret: "s".into(),
        };
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"ServerURL":"https://index.docker.io/v1/","Username":"u","Secret":"s"}"#
        );
    }
}
