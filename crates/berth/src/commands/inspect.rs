//! `inspect`: containers first, then images, as docker does without `--type`.

use serde_json::Value;

use crate::cli::InspectArgs;
use crate::client::{Client, DaemonError, enc};
use crate::commands::run::RunError;
use crate::format::template::Template;

async fn fetch(
    client: &Client,
    kind: Option<&str>,
    name: &str,
    size: bool,
) -> anyhow::Result<Value> {
    let container = format!(
        "/containers/{}/json{}",
        enc(name),
        if size { "?size=1" } else { "" }
    );
    let image = format!("/images/{name}/json");
    let network = format!("/networks/{}", enc(name));
    let volume = format!("/volumes/{}", enc(name));
    let not_found = |e: &anyhow::Error| {
        e.downcast_ref::<DaemonError>()
            .is_some_and(|d| d.status == hyper::StatusCode::NOT_FOUND)
    };
    match kind {
        Some("container") => client.get(&container).await,
        Some("image") => client.get(&image).await,
        Some("network") => client.get(&network).await,
        Some("volume") => client.get(&volume).await,
        Some("plugin") => client.get(&format!("/plugins/{}/json", enc(name))).await,
        // Swarm objects: the daemon answers (berthd as a dockerd with swarm inactive).
        Some(other) => client.get(&format!("/{other}s/{}", enc(name))).await,
        // docker's order without a type: container, image, network, volume.
        None => {
            for path in [&container, &image, &network, &volume] {
                match client.get(path).await {
                    Err(e) if not_found(&e) => continue,
                    r => return r,
                }
            }
            anyhow::bail!("No such object: {name}")
        }
    }
}

/// `berth inspect`. A template runs over the raw JSON with Go's `missingkey=error`, as
/// docker's fallback does; with nothing printed, a lone newline (docker's flush).
pub async fn inspect(client: &Client, args: &InspectArgs) -> anyhow::Result<i32> {
    const TYPES: [&str; 10] = [
        "config",
        "container",
        "image",
        "network",
        "node",
        "plugin",
        "secret",
        "service",
        "task",
        "volume",
    ];
    if let Some(kind) = args.kind.as_deref().filter(|k| !TYPES.contains(k)) {
        let all: Vec<String> = TYPES.iter().map(|t| format!("{t:?}")).collect();
        return Err(super::Verbatim(format!(
            "unknown type: {kind:?}: must be one of {}",
            all.join(", ")
        ))
        .into());
    }
    let template = match args.format.as_deref() {
        None | Some("json") => None,
        Some(f) => {
            let mut t = Template::parse_go(f).map_err(|e| RunError {
                code: 64,
                source: super::Verbatim(format!("template parsing error: {e}")).into(),
            })?;
            t.missing_key_error = true;
            Some(t)
        }
    };
    let mut found = Vec::new();
    let mut out = String::new();
    let mut errors = Vec::new();
    for name in &args.names {
        match fetch(client, args.kind.as_deref(), name, args.size).await {
            Ok(v) => match &template {
                Some(t) => match t.render(&v) {
                    Ok(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    Err(e) => errors.push(format!("template parsing error: {e}")),
                },
                None => found.push(v),
            },
            Err(e) => errors.push(super::error_line(&e)),
        }
    }
    match (&template, args.format.as_deref()) {
        (Some(_), _) if out.is_empty() => println!(),
        (Some(_), _) => print!("{out}"),
        (None, Some("json")) => println!("{}", serde_json::to_string(&Value::Array(found))?),
        (None, _) => println!("{}", pretty(&Value::Array(found))?),
    }
    for e in &errors {
        eprintln!("{e}");
    }
    Ok(if errors.is_empty() { 0 } else { 1 })
}

/// docker's indented JSON (4 spaces).
pub fn pretty(v: &Value) -> anyhow::Result<String> {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    v.serialize(&mut ser)?;
    Ok(String::from_utf8(buf)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_uses_four_spaces() {
        let v = serde_json::json!([{"Id": "x"}]);
        assert_eq!(
            pretty(&v).unwrap(),
            "[\n    {\n        \"Id\": \"x\"\n    }\n]"
        );
    }
}
