//! `version` and `info`.

use std::fmt::Write as _;

use berth_api::API_VERSION;
use berth_api::system::{SystemInfo, SystemVersion};
use serde_json::{Value, json};

use super::error_line;
use crate::client::Client;
use crate::format::units::bytes_size;

fn client_info() -> Value {
    json!({
        "Platform": {"Name": "berth"},
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": API_VERSION.to_string(),
        "APIVersion": API_VERSION.to_string(),
        "DefaultAPIVersion": API_VERSION.to_string(),
        "Os": "linux",
        "Arch": go_arch(),
    })
}

/// docker's template sees its Go struct: `APIVersion` where the JSON says `ApiVersion`.
fn go_server(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut()
        && let Some(a) = o.get("ApiVersion").cloned()
    {
        o.insert("APIVersion".into(), a);
    }
    v
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The client section of `version`, as docker lays it out.
pub fn client_section() -> String {
    format!(
        "Client:\n Version:           {}\n API version:       {}\n OS/Arch:           linux/{}\n",
        env!("CARGO_PKG_VERSION"),
        API_VERSION,
        go_arch()
    )
}

/// The server section of `version`.
pub fn server_section(v: &SystemVersion) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Server: {}", v.platform.name);
    let _ = writeln!(s, " Engine:");
    let _ = writeln!(s, "  Version:          {}", v.version);
    let _ = writeln!(
        s,
        "  API version:      {} (minimum version {})",
        v.api_version, v.min_api_version
    );
    let _ = writeln!(s, "  Rust version:     {}", v.go_version);
    let _ = writeln!(s, "  Git commit:       {}", v.git_commit);
    let _ = writeln!(s, "  Built:            {}", v.build_time);
    let _ = writeln!(s, "  OS/Arch:          {}/{}", v.os, v.arch);
    let _ = writeln!(s, "  Experimental:     {}", v.experimental);
    s
}

/// `berth version`.
pub async fn version(client: &Client, format: Option<&str>) -> anyhow::Result<i32> {
    let server = client.get::<SystemVersion>("/version").await;
    if let Some(f) = format {
        let v = json!({
            "Client": client_info(),
            "Server": match &server { Ok(s) => go_server(serde_json::to_value(s)?), Err(_) => Value::Null },
        });
        super::print_value(&v, Some(f))?;
        return Ok(match server {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("{}", error_line(&e));
                1
            }
        });
    }
    print!("{}", client_section());
    match server {
        Ok(s) => {
            println!();
            print!("{}", server_section(&s));
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}", error_line(&e));
            Ok(1)
        }
    }
}

/// The server section of `info`, as docker lays it out.
pub fn info_section(i: &SystemInfo) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line("Server:".into());
    line(format!(" Containers: {}", i.containers));
    line(format!("  Running: {}", i.containers_running));
    line(format!("  Paused: {}", i.containers_paused));
    line(format!("  Stopped: {}", i.containers_stopped));
    line(format!(" Images: {}", i.images));
    line(format!(" Server Version: {}", i.server_version));
    line(format!(" Storage Driver: {}", i.driver));
    line(format!(" Logging Driver: {}", i.logging_driver));
    line(format!(" Cgroup Driver: {}", i.cgroup_driver));
    line(format!(" Cgroup Version: {}", i.cgroup_version));
    line(format!(" Kernel Version: {}", i.kernel_version));
    line(format!(" Operating System: {}", i.operating_system));
    line(format!(" OSType: {}", i.os_type));
    line(format!(" Architecture: {}", i.architecture));
    line(format!(" CPUs: {}", i.ncpu));
    line(format!(" Total Memory: {}", bytes_size(i.mem_total)));
    line(format!(" Name: {}", i.name));
    line(format!(" ID: {}", i.id));
    line(format!(" Docker Root Dir: {}", i.docker_root_dir));
    line(format!(" Debug Mode: {}", i.debug));
    line(format!(" Experimental: {}", i.experimental_build));
    line(format!(" Live Restore Enabled: {}", i.live_restore_enabled));
    s
}

/// `berth info`.
pub async fn info(client: &Client, format: Option<&str>) -> anyhow::Result<i32> {
    let info = client.get::<SystemInfo>("/info").await;
    if let Some(f) = format {
        return match info {
            Ok(i) => {
                super::print_value(&serde_json::to_value(&i)?, Some(f))?;
                Ok(0)
            }
            Err(e) => {
                eprintln!("{}", error_line(&e));
                Ok(1)
            }
        };
    }
    println!(
        "Client:\n Version:    {}\n Debug Mode: false\n",
        env!("CARGO_PKG_VERSION")
    );
    match info {
        Ok(i) => {
            print!("{}", info_section(&i));
            for w in i.warnings.unwrap_or_default() {
                eprintln!("{w}");
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("{}", error_line(&e));
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_layout() {
        let v = SystemVersion {
            platform: berth_api::system::Platform {
                name: "berth 0.1.0".into(),
            },
            version: "0.1.0".into(),
            api_version: "1.45".into(),
            min_api_version: "1.24".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            ..Default::default()
        };
        let s = server_section(&v);
        assert!(s.starts_with("Server: berth 0.1.0\n Engine:\n  Version:          0.1.0\n"));
        assert!(s.contains("  API version:      1.45 (minimum version 1.24)\n"));
        assert!(client_section().starts_with("Client:\n Version:           "));
    }

    #[test]
    fn info_layout() {
        let i = SystemInfo {
            containers: 3,
            containers_running: 1,
            containers_stopped: 2,
            mem_total: 25_275_056_128,
            ..Default::default()
        };
        let s = info_section(&i);
        assert!(
            s.starts_with("Server:\n Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n")
        );
        assert!(s.contains(" Total Memory: 23.54GiB\n"));
    }
}
