//! The subset of Go's `text/template` that `--format` needs, over JSON values:
//! `{{.}}`, `{{.Field}}`, `{{.A.B}}`, `{{json .X}}`, `{{join .X ", "}}`, `{{upper .X}}`,
//! `{{lower .X}}`, `{{- trimming -}}`, and docker's `table` prefix with `\t` and `\n`
//! escapes. Values print as Go prints them: maps as `map[k:v]`, lists as `[a b]`,
//! `null` as `<nil>`, a missing field as `<no value>`.

use serde_json::Value;

/// A template that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("template: unclosed action")]
    Unclosed,
    /// An unknown function.
    #[error("template: function {0:?} not defined")]
    UnknownFunction(String),
    /// An argument that is not `.` or `.Path`.
    #[error("template: bad argument {0:?}")]
    BadArgument(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Func {
    Print,
    Json,
    Join(String),
    Upper,
    Lower,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Action { func: Func, path: Vec<String> },
}

/// A parsed `--format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    /// The format began with `table`: print a header row and align columns.
    pub table: bool,
}

fn parse_path(arg: &str) -> Result<Vec<String>, TemplateError> {
    if arg == "." {
        return Ok(vec![]);
    }
    let Some(rest) = arg.strip_prefix('.') else {
        return Err(TemplateError::BadArgument(arg.into()));
    };
    Ok(rest.split('.').map(str::to_string).collect())
}

fn parse_action(body: &str) -> Result<Part, TemplateError> {
    let mut words = body.split_whitespace();
    let first = words.next().unwrap_or(".");
    if first.starts_with('.') {
        return Ok(Part::Action {
            func: Func::Print,
            path: parse_path(first)?,
        });
    }
    let arg = words.next().unwrap_or(".");
    let func = match first {
        "json" => Func::Json,
        "upper" => Func::Upper,
        "lower" => Func::Lower,
        "join" => {
            let rest: Vec<&str> = words.collect();
            let sep = rest.join(" ");
            let sep = sep
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .ok_or_else(|| TemplateError::BadArgument(sep.clone()))?;
            Func::Join(sep.replace("\\n", "\n").replace("\\t", "\t"))
        }
        other => return Err(TemplateError::UnknownFunction(other.into())),
    };
    Ok(Part::Action {
        func,
        path: parse_path(arg)?,
    })
}

impl Template {
    /// Parses a format; `table ` and docker's `\t`/`\n` escapes included.
    pub fn parse(format: &str) -> Result<Self, TemplateError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let body = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(start) = rest.find("{{") {
            let mut text = rest[..start].to_string();
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
            let mut inner = &after[..end];
            if let Some(i) = inner.strip_prefix('-') {
                inner = i;
                text = text.trim_end().to_string();
            }
            let mut next = &after[end + 2..];
            if let Some(i) = inner.strip_suffix('-') {
                inner = i;
                next = next.trim_start();
            }
            if !text.is_empty() {
                parts.push(Part::Text(text));
            }
            parts.push(parse_action(inner.trim())?);
            rest = next;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self { parts, table })
    }

    /// Renders the template for one value.
    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action { func, path } => {
                    let found = lookup(v, path);
                    out.push_str(&apply(func, found));
                }
            }
        }
        out
    }

    /// The header row of a table: each field replaced by its label (`ID` → `CONTAINER ID`),
    /// or the field name when `label` has none.
    pub fn header(&self, label: impl Fn(&str) -> Option<&'static str>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action { path, .. } => {
                    let name = path.last().map(String::as_str).unwrap_or("");
                    match label(name) {
                        Some(l) => out.push_str(l),
                        None => out.push_str(&name.to_uppercase()),
                    }
                }
            }
        }
        out
    }
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(k)?;
    }
    Some(cur)
}

fn apply(func: &Func, v: Option<&Value>) -> String {
    match (func, v) {
        (Func::Json, Some(v)) => serde_json::to_string(v).unwrap_or_default(),
        (Func::Json, None) => "null".into(),
        (Func::Join(sep), Some(Value::Array(items))) => {
            items.iter().map(go_print).collect::<Vec<_>>().join(sep)
        }
        (Func::Upper, Some(v)) => go_print(v).to_uppercase(),
        (Func::Lower, Some(v)) => go_print(v).to_lowercase(),
        (_, Some(v)) => go_print(v),
        (_, None) => "<no value>".into(),
    }
}

/// Prints a value as Go's `fmt.Print` prints the decoded JSON.
pub fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => format!(
            "map[{}]",
            o.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(f: &str, v: &Value) -> String {
        Template::parse(f).unwrap().render(v)
    }

    #[test]
    fn fields_paths_and_json() {
        let v = json!({"Id": "abc", "State": {"Status": "running", "Pid": 42},
                       "Config": {"Env": ["A=1", "B=2"], "Labels": null}});
        assert_eq!(render("{{.Id}}", &v), "abc");
        assert_eq!(
            render("{{.State.Status}} {{ .State.Pid }}", &v),
            "running 42"
        );
        assert_eq!(
            render("{{json .Config}}", &v),
            r#"{"Env":["A=1","B=2"],"Labels":null}"#
        );
        assert_eq!(render("{{.Config.Env}}", &v), "[A=1 B=2]");
        assert_eq!(render("{{.State}}", &v), "map[Pid:42 Status:running]");
        assert_eq!(render("{{.Config.Labels}}", &v), "<nil>");
        assert_eq!(render("{{.Nope}}", &v), "<no value>");
        assert_eq!(render("{{join .Config.Env \", \"}}", &v), "A=1, B=2");
        assert_eq!(render("{{upper .State.Status}}", &v), "RUNNING");
        assert_eq!(render("x {{- .Id -}} y", &v), "xabcy");
    }

    #[test]
    fn table_and_escapes() {
        let t = Template::parse("table {{.ID}}\\t{{.Image}}").unwrap();
        assert!(t.table);
        let label = |f: &str| match f {
            "ID" => Some("CONTAINER ID"),
            _ => None,
        };
        assert_eq!(t.header(label), "CONTAINER ID\tIMAGE");
        assert_eq!(t.render(&json!({"ID": "1", "Image": "b"})), "1\tb");
    }

    #[test]
    fn errors() {
        assert_eq!(Template::parse("{{.Id"), Err(TemplateError::Unclosed));
        assert!(matches!(
            Template::parse("{{printf .Id}}"),
            Err(TemplateError::UnknownFunction(_))
        ));
        assert!(matches!(
            Template::parse("{{json Id}}"),
            Err(TemplateError::BadArgument(_))
        ));
    }
}
