//! One module per group of verbs; each verb builds its requests and prints docker's output.
//! Verbs return the process exit code.

pub mod build;
pub mod containers;
pub mod disk;
mod disk_verbose;
pub mod distribution;
pub mod events;
pub mod exec;
pub mod filesystem;
pub mod groups;
pub mod images;
pub mod inspect;
pub mod list;
pub mod network;
pub mod ops;
pub mod run;
pub mod system;
pub mod volume;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::client::DaemonError;
use crate::format::template::Template;
use crate::format::write_table;

/// `-f key=value` flags as the API's filters JSON.
pub fn filters_json(flags: &[String]) -> anyhow::Result<Option<String>> {
    if flags.is_empty() {
        return Ok(None);
    }
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in flags {
        let Some((k, v)) = f.split_once('=') else {
            anyhow::bail!("bad format of filter (expected name=value)");
        };
        map.entry(k.trim().to_lowercase())
            .or_default()
            .push(v.to_string());
    }
    Ok(Some(serde_json::to_string(&map)?))
}

/// Runs `op` for each item, printing what it returns or docker's error line; exit code 1
/// when any failed.
pub async fn for_each<F, Fut>(items: &[String], mut op: F) -> i32
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<String>>>,
{
    let mut code = 0;
    for item in items {
        match op(item.clone()).await {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{}", error_line(&e));
                code = 1;
            }
        }
    }
    code
}

/// A string setting of docker's `config.json` (`psFormat`, `imagesFormat`, `detachKeys`,
/// ...); an unreadable or absent file has none.
pub fn config_value(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(distribution::docker_config()).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.get(key)?.as_str().map(str::to_string)
}

/// An error printed as it is, without `Error: ` (docker's template errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Verbatim(pub String);

/// docker's wording of a failed `--format`: `template parsing error: template: ...`.
pub fn template_failure(e: crate::format::template::TemplateError) -> anyhow::Error {
    Verbatim(format!("template parsing error: {e}")).into()
}

/// docker's one-line rendering of an error.
pub fn error_line(e: &anyhow::Error) -> String {
    if let Some(v) = e.downcast_ref::<Verbatim>() {
        return v.0.clone();
    }
    if let Some(d) = e.downcast_ref::<DaemonError>() {
        return d.to_string();
    }
    if let Some(c) = e.downcast_ref::<crate::client::ClientError>() {
        return c.to_string();
    }
    format!("Error: {e:#}")
}

/// Prints rows with a `--format` (`table ...`, `json`, or a template) or the default table.
pub fn print_rows(
    rows: &[Value],
    format: Option<&str>,
    default_table: &str,
    label: impl Fn(&str) -> Option<&'static str>,
) -> anyhow::Result<()> {
    print_rows_of(rows, format, default_table, label, None)
}

/// [`print_rows`] for rows docker renders from a Go type (`row_type`), where a field the
/// row does not have is an error naming that type.
pub fn print_rows_of(
    rows: &[Value],
    format: Option<&str>,
    default_table: &str,
    label: impl Fn(&str) -> Option<&'static str>,
    row_type: Option<&'static str>,
) -> anyhow::Result<()> {
    let format = match format {
        None | Some("") | Some("table") => default_table.to_string(),
        Some("json") => {
            for r in rows {
                println!("{}", go_json(r)?);
            }
            return Ok(());
        }
        Some(f) => f.to_string(),
    };
    let mut t = Template::parse(&format).map_err(template_failure)?;
    t.row_type = row_type;
    let mut lines = Vec::with_capacity(rows.len() + 1);
    if t.table {
        lines.push(t.header(label).map_err(template_failure)?);
    }
    for r in rows {
        lines.push(t.render(r).map_err(|e| match row_type {
            // docker's ps words a failed row differently from its other lists.
            Some("*formatter.ContainerContext") => {
                Verbatim(format!("failed to execute template: {e}")).into()
            }
            _ => template_failure(e),
        })?);
    }
    let mut out = std::io::stdout().lock();
    if t.table {
        write_table(&mut out, &lines)?;
    } else {
        use std::io::Write;
        for l in lines {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

/// JSON as Go's `json.Marshal` writes it: `<`, `>`, `&` and the JavaScript line
/// separators escaped (docker's `--format json` rows are marshalled that way).
pub fn go_json(v: &Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string(v)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

/// Renders one value with an optional template, or as indented JSON.
pub fn print_value(v: &Value, format: Option<&str>) -> anyhow::Result<()> {
    match format {
        Some("json") => println!("{}", serde_json::to_string(v)?),
        Some(f) => {
            let t = Template::parse(f).map_err(template_failure)?;
            println!("{}", t.render(v).map_err(template_failure)?);
        }
        None => println!("{}", serde_json::to_string_pretty(v)?),
    }
    Ok(())
}
