//! The listings: `list` (the containers) and `ps` (a container's processes), as a table or
//! JSON.

use anyhow::Result;
use berth_runtime::Runtime;

/// `list [--format table|json] [--quiet]`.
pub fn list(rt: &Runtime, format: &str, quiet: bool) -> Result<i32> {
    let states = rt.list()?;
    if quiet {
        for s in &states {
            println!("{}", s.id);
        }
    } else if format == "json" {
        println!("{}", serde_json::to_string(&states)?);
    } else {
        println!(
            "{:<24} {:>8} {:<10} {:<40} CREATED",
            "ID", "PID", "STATUS", "BUNDLE"
        );
        for s in &states {
            println!(
                "{:<24} {:>8} {:<10} {:<40} {}",
                s.id,
                s.pid.unwrap_or(0),
                s.status,
                s.bundle.display(),
                s.created
            );
        }
    }
    Ok(0)
}

/// `ps [--format table|json] ID`.
pub fn ps(rt: &Runtime, id: &str, format: &str) -> Result<i32> {
    let pids = rt.load(id)?.pids()?;
    if format == "json" {
        let raw: Vec<i32> = pids.iter().map(|p| p.as_raw()).collect();
        println!("{}", serde_json::to_string(&raw)?);
    } else {
        println!("{:>8} CMD", "PID");
        for pid in pids {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd: String = String::from_utf8_lossy(&cmd).replace('\0', " ");
            println!("{:>8} {}", pid, cmd.trim_end());
        }
    }
    Ok(0)
}
