//! The verbs: each a short function from parsed arguments to a library call and an exit code.
//! The ones with more to do have their own module: `create` (and `run`), `exec`, `list` (and
//! `ps`).

pub mod create;
pub mod exec;
pub mod list;

use std::path::Path;

use anyhow::{Context, Result, bail};
use berth_runtime::Runtime;
use nix::sys::signal::Signal;

/// `start ID`: release a created container's process.
pub fn start(rt: &Runtime, id: &str) -> Result<i32> {
    rt.load(id)?.start()?;
    Ok(0)
}

/// `state ID`: print the OCI state as JSON.
pub fn state(rt: &Runtime, id: &str) -> Result<i32> {
    let state = rt.load(id)?.state()?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(0)
}

/// `kill [--all] ID [SIGNAL]`.
pub fn kill(rt: &Runtime, id: &str, signal: &str, all: bool) -> Result<i32> {
    rt.load(id)?.kill(parse_signal(signal)?, all)?;
    Ok(0)
}

/// `delete [--force] ID`.
pub fn delete(rt: &Runtime, id: &str, force: bool) -> Result<i32> {
    match rt.load(id) {
        Ok(c) => c.delete(force)?,
        // runc deletes a missing container with --force quietly.
        Err(berth_runtime::Error::NotFound(_)) if force => {}
        Err(e) => return Err(e.into()),
    }
    Ok(0)
}

/// `pause ID`.
pub fn pause(rt: &Runtime, id: &str) -> Result<i32> {
    rt.load(id)?.pause()?;
    Ok(0)
}

/// `resume ID`.
pub fn resume(rt: &Runtime, id: &str) -> Result<i32> {
    rt.load(id)?.resume()?;
    Ok(0)
}

/// `spec [--bundle DIR]`: write the default config.json, never over an existing one.
pub fn spec(bundle: &Path) -> Result<i32> {
    let path = bundle.join("config.json");
    if path.exists() {
        bail!("{} exists: remove it first", path.display());
    }
    let spec = berth_runtime::defaults::default_spec()?;
    let text = serde_json::to_string_pretty(&spec)?;
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}

/// A signal name or number (`berth_runtime::signal`'s forms) as one this system can send.
fn parse_signal(s: &str) -> Result<Signal> {
    let n = berth_runtime::signal::parse(s)?;
    Signal::try_from(n).with_context(|| format!("signal {s}"))
}
