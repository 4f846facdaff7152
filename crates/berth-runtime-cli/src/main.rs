//! The runc-compatible CLI around the berth-runtime library: `create`, `start`, `state`,
//! `kill`, `delete`, `run`, `exec`, `ps`, `spec`, `list`, `pause`, `resume`, with runc's
//! global `--root`, `--log`, `--log-format` and `--debug`. `main` picks the verb; each verb is
//! a short function in `commands` that calls the library; `relay` carries a foreground
//! container's terminal and signals.

mod cli;
mod commands;
mod relay;

use std::io::Write;

use anyhow::Result;
use berth_runtime::Runtime;
use clap::Parser;

use crate::cli::{Cli, Cmd};

fn main() {
    let cli = Cli::parse();
    if cli.debug {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    }
    let code = match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            report(&cli, &err);
            err.downcast_ref::<berth_runtime::Error>()
                .map_or(1, berth_runtime::Error::exit_code)
        }
    };
    std::process::exit(code);
}

/// Print the error to stderr and, with --log, append it to the log file.
fn report(cli: &Cli, err: &anyhow::Error) {
    let text = format!("{err:#}");
    eprintln!("berth-runtime: {text}");
    if let Some(log) = &cli.log
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
    {
        let time = berth_runtime::state::now_rfc3339();
        let line = if cli.log_format == "json" {
            serde_json::json!({"level": "error", "msg": text, "time": time}).to_string()
        } else {
            format!("time=\"{time}\" level=error msg={text:?}")
        };
        let _ = writeln!(file, "{line}");
    }
}

/// Run the verb; its exit code.
fn run(cli: &Cli) -> Result<i32> {
    let rt = Runtime::new(&cli.root);
    match &cli.cmd {
        Cmd::Create(a) => commands::create::create(&rt, a),
        Cmd::Start { id } => commands::start(&rt, id),
        Cmd::State { id } => commands::state(&rt, id),
        Cmd::Kill { all, id, signal } => commands::kill(&rt, id, signal, *all),
        Cmd::Delete { force, id } => commands::delete(&rt, id, *force),
        Cmd::Run(a) => commands::create::run(&rt, a),
        Cmd::Exec(a) => commands::exec::exec(&rt, a),
        Cmd::Ps { format, id } => commands::list::ps(&rt, id, format),
        Cmd::Spec { bundle } => commands::spec(bundle),
        Cmd::List { format, quiet } => commands::list::list(&rt, format, *quiet),
        Cmd::Pause { id } => commands::pause(&rt, id),
        Cmd::Resume { id } => commands::resume(&rt, id),
    }
}
