//! Exec instances: `POST /containers/{id}/exec`, `POST /exec/{id}/start`,
//! `GET /exec/{id}/json`.

use serde::{Deserialize, Serialize};

/// The body of `POST /containers/{id}/exec` (docker's `ExecConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    /// Attach the process's stdin.
    #[serde(default)]
    pub attach_stdin: bool,
    /// Attach stdout.
    #[serde(default)]
    pub attach_stdout: bool,
    /// Attach stderr.
    #[serde(default)]
    pub attach_stderr: bool,
    /// Detach key sequence for the attached stream. docker-py sends it as `detachKeys`
    /// (dockerd's JSON decoding ignores case).
    #[serde(default, alias = "detachKeys", skip_serializing_if = "Option::is_none")]
    pub detach_keys: Option<String>,
    /// Allocate a PTY.
    #[serde(default)]
    pub tty: bool,
    /// Initial console size `[height, width]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u16; 2]>,
    /// `KEY=value` entries added to the container's environment.
    #[serde(default, deserialize_with = "crate::de::nd")]
    pub env: Vec<String>,
    /// The command and its arguments.
    #[serde(default, deserialize_with = "crate::de::nd")]
    pub cmd: Vec<String>,
    /// Run with every capability.
    #[serde(default)]
    pub privileged: bool,
    /// `user[:group]`; the container's user when empty.
    #[serde(default)]
    pub user: String,
    /// Working directory; the container's when empty.
    #[serde(default)]
    pub working_dir: String,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecStartConfig {
    /// Start detached: the request returns at once.
    #[serde(default)]
    pub detach: bool,
    /// Allocate a PTY (docker's clients repeat the create's value).
    #[serde(default)]
    pub tty: bool,
    /// Initial console size `[height, width]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u16; 2]>,
}

/// The process of an exec in [`ExecInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProcessConfig {
    /// Has a PTY.
    pub tty: bool,
    /// The program.
    pub entrypoint: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// Privileged.
    pub privileged: bool,
    /// The user.
    pub user: String,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    /// Always false: berth keeps no exec after its container is removed.
    pub can_remove: bool,
    /// The exec's ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// The container's ID.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Detach keys.
    pub detach_keys: String,
    /// The exit code, once exited.
    pub exit_code: Option<i64>,
    /// The process.
    pub process_config: ExecProcessConfig,
    /// stdin is open.
    pub open_stdin: bool,
    /// stderr is attached.
    pub open_stderr: bool,
    /// stdout is attached.
    pub open_stdout: bool,
    /// The process runs.
    pub running: bool,
    /// Its host pid (0 before start).
    pub pid: i64,
}

/// The reply of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCreateResponse {
    /// The exec's ID.
    #[serde(rename = "Id")]
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_config_from_docker_cli() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"User":"","Privileged":false,"Tty":true,"ConsoleSize":[24,80],"AttachStdin":true,"AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["sh"]}"#,
        )
        .unwrap();
        assert!(c.tty && c.attach_stdin);
        assert_eq!(c.cmd, ["sh"]);
        assert_eq!(c.console_size, Some([24, 80]));
        let s: ExecStartConfig =
            serde_json::from_str(r#"{"Detach":true,"Tty":false,"ConsoleSize":null}"#).unwrap();
        assert!(s.detach);
    }
}
