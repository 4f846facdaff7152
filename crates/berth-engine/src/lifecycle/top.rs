//! `top`: the host's `ps` (with the client's arguments, `-ef` by default), keeping the rows
//! of the processes in the container's cgroup, as dockerd does.

use std::collections::HashSet;

use berth_api::container::ContainerTopResponse;

use crate::error::{EngineError, Result};
use crate::table::Engine;

impl Engine {
    /// `GET /containers/{id}/top?ps_args=`.
    pub async fn top(&self, name: &str, ps_args: &str) -> Result<ContainerTopResponse> {
        let c = self.lookup(name)?;
        if !c.status().has_process() {
            return Err(EngineError::NotRunning(c.id.clone()));
        }
        let pids: HashSet<i32> = self
            .with_cgroup(&c.id, |cg| cg.pids())
            .await?
            .into_iter()
            .map(|p| p.as_raw())
            .collect();
        let args: Vec<&str> = if ps_args.trim().is_empty() {
            vec!["-ef"]
        } else {
            ps_args.split_whitespace().collect()
        };
        let out = tokio::process::Command::new("ps")
            .args(&args)
            .env("LC_ALL", "C")
            .output()
            .await
            .map_err(|e| EngineError::Invalid(format!("Error running ps: {e}")))?;
        if !out.status.success() {
            return Err(EngineError::Invalid(format!(
                "ps: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        parse_ps(&String::from_utf8_lossy(&out.stdout), &pids)
    }
}

/// Keeps the rows of `ps` output whose PID column is in `pids`; the last column takes the
/// rest of the line (a command with spaces).
fn parse_ps(text: &str, pids: &HashSet<i32>) -> Result<ContainerTopResponse> {
    let mut lines = text.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| EngineError::Invalid("Couldn't find PID field in ps output".into()))?;
    let mut processes = Vec::new();
    for line in lines {
        let mut fields: Vec<String> = Vec::with_capacity(titles.len());
        let mut rest = line.trim_start();
        while fields.len() + 1 < titles.len() && !rest.is_empty() {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            fields.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
        if !rest.is_empty() {
            fields.push(rest.to_owned());
        }
        let Some(pid) = fields.get(pid_col).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pids.contains(&pid) {
            processes.push(fields);
        }
    }
    Ok(ContainerTopResponse { titles, processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_containers_rows() {
        let text = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
                    root           1       0  0 10:00 ?        00:00:01 /sbin/init\n\
                    root        4242    4200  0 10:01 ?        00:00:00 sleep 1000 now\n";
        let top = parse_ps(text, &HashSet::from([4242])).unwrap();
        assert_eq!(top.titles.len(), 8);
        assert_eq!(top.processes.len(), 1);
        assert_eq!(top.processes[0][1], "4242");
        assert_eq!(top.processes[0][7], "sleep 1000 now");
        assert!(parse_ps("USER COMMAND\nroot x\n", &HashSet::new()).is_err());
    }
}
