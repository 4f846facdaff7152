//! `inspect`: containers first, then images, as docker does without `--type`.

use serde_json::Value;

use crate::cli::InspectArgs;
use crate::client::{Client, DaemonError, enc};
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
    let not_found = |e: &anyhow::Error| {
        e.downcast_ref::<DaemonError>()
            .is_some_and(|d| d.status == hyper::StatusCode::NOT_FOUND)
    };
    match kind {
        Some("container") => client.get(&container).await,
        Some("image") => client.get(&image).await,
        Some(other) => anyhow::bail!("\"{other}\" is not a valid value for --type"),
        None => match client.get(&container).await {
            Err(e) if not_found(&e) => match client.get(&image).await {
                Err(e) if not_found(&e) => anyhow::bail!("No such object: {name}"),
                r => r,
            },
            r => r,
        },
    }
}

/// `berth inspect`.
pub async fn inspect(client: &Client, args: &InspectArgs) -> anyhow::Result<i32> {
    let template = args.format.as_deref().map(Template::parse).transpose()?;
    let mut found = Vec::new();
    let mut code = 0;
    for name in &args.names {
        match fetch(client, args.kind.as_deref(), name, args.size).await {
            Ok(v) => match &template {
                Some(t) => println!("{}", t.render(&v)?),
                None => found.push(v),
            },
            Err(e) => {
                eprintln!("{}", super::error_line(&e));
                code = 1;
            }
        }
    }
    if template.is_none() {
        println!("{}", pretty(&Value::Array(found))?);
    }
    Ok(code)
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
