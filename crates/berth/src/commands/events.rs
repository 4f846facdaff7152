//! `events`: docker's one line per event.

use berth_api::event::EventMessage;
use hyper::Method;

use super::filters_json;
use crate::cli::EventsArgs;
use crate::client::{Client, JsonLines, empty, query};
use crate::format::template::Template;
use crate::format::units::api_timestamp;

/// docker's default line: `TIME TYPE ACTION ID (k=v, ...)`, time in local RFC 3339 nano.
pub fn format_event(e: &EventMessage) -> String {
    let secs = e.time_nano.div_euclid(1_000_000_000);
    let nanos = u32::try_from(e.time_nano.rem_euclid(1_000_000_000)).unwrap_or(0);
    let time = chrono::DateTime::from_timestamp(secs, nanos)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        })
        .unwrap_or_default();
    let mut line = format!("{time} {} {} {}", e.r#type, e.action, e.actor.id);
    if !e.actor.attributes.is_empty() {
        let attrs: Vec<String> = e
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line
}

/// `berth events`.
pub async fn events(client: &Client, args: &EventsArgs) -> anyhow::Result<i32> {
    let now = chrono::Utc::now();
    let time = |v: &Option<String>| -> anyhow::Result<Option<String>> {
        v.as_deref()
            .map(|s| api_timestamp(s, now).ok_or_else(|| anyhow::anyhow!("invalid time {s:?}")))
            .transpose()
    };
    let q = query(&[
        ("since", time(&args.since)?),
        ("until", time(&args.until)?),
        ("filters", filters_json(&args.filter)?),
    ]);
    let template = match args.format.as_deref() {
        None | Some("json") => None,
        Some(f) => Some(Template::parse(f).map_err(super::template_failure)?),
    };
    let resp = client
        .send(Method::GET, &format!("/events{q}"), empty(), None, false)
        .await?;
    let mut lines = JsonLines::new(resp);
    while let Some(value) = lines.next::<serde_json::Value>().await? {
        match (&template, args.format.as_deref()) {
            (Some(t), _) => {
                let v = go_fields(value);
                println!("{}", t.render(&v).map_err(super::template_failure)?);
            }
            (None, Some("json")) => println!("{}", event_json(&value)?),
            _ => {
                if let Ok(e) = serde_json::from_value::<EventMessage>(value) {
                    println!("{}", format_event(&e));
                }
            }
        }
    }
    Ok(0)
}

/// An event as docker's `--format json` marshals its Go struct: fields in the struct's
/// order (`status`, `id`, `from` only when set), HTML characters escaped.
fn event_json(v: &serde_json::Value) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    for key in ["status", "id", "from"] {
        if let Some(s) = v
            .get(key)
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
        {
            parts.push(format!("\"{key}\":{}", super::go_json(&s.into())?));
        }
    }
    let actor = &v["Actor"];
    let actor = format!(
        "{{\"ID\":{},\"Attributes\":{}}}",
        super::go_json(&actor.get("ID").cloned().unwrap_or_else(|| "".into()))?,
        super::go_json(
            &actor
                .get("Attributes")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({}))
        )?
    );
    for key in ["Type", "Action"] {
        let val = v.get(key).cloned().unwrap_or_else(|| "".into());
        parts.push(format!("\"{key}\":{}", super::go_json(&val)?));
    }
    parts.push(format!("\"Actor\":{actor}"));
    for key in ["scope", "time", "timeNano"] {
        let val = v.get(key).cloned().unwrap_or_else(|| match key {
            "scope" => "".into(),
            _ => 0.into(),
        });
        parts.push(format!("\"{key}\":{}", super::go_json(&val)?));
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

/// docker runs event templates over its Go struct, whose fields are `Status`, `ID`,
/// `From`, `Scope`, `Time` and `TimeNano` where the JSON says `status`, `id`, ...
fn go_fields(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        for (json, go) in [
            ("status", "Status"),
            ("id", "ID"),
            ("from", "From"),
            ("scope", "Scope"),
            ("time", "Time"),
            ("timeNano", "TimeNano"),
        ] {
            let val = o.remove(json).unwrap_or(match go {
                "Time" | "TimeNano" => serde_json::Value::from(0),
                _ => serde_json::Value::String(String::new()),
            });
            o.insert(go.to_string(), val);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_line() {
        let e: EventMessage = serde_json::from_value(serde_json::json!({
            "Type": "container", "Action": "start",
            "Actor": {"ID": "abc", "Attributes": {"name": "x", "image": "busybox"}},
            "time": 1, "timeNano": 1_000_000_005
        }))
        .unwrap();
        let line = format_event(&e);
        assert!(
            line.ends_with(" container start abc (image=busybox, name=x)"),
            "{line}"
        );
        assert!(line.contains(".000000005"), "{line}");
    }
}
