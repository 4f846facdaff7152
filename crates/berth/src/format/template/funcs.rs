//! Go's builtin template functions and docker's (`json`, `split`, `join`, `title`, `lower`,
//! `upper`, `pad`, `truncate`), over JSON values. `and`/`or` are evaluated lazily by the
//! executor.

use serde_json::Value;

use super::printf::{Val, go_print, go_type, sprint, sprintf, sprintln};

/// Functions a template may call.
pub fn is_function(name: &str) -> bool {
    is_builtin(name) || is_docker(name)
}

fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "and"
            | "or"
            | "not"
            | "len"
            | "index"
            | "slice"
            | "print"
            | "printf"
            | "println"
            | "eq"
            | "ne"
            | "lt"
            | "le"
            | "gt"
            | "ge"
            | "html"
            | "js"
            | "urlquery"
            | "call"
    )
}

/// docker's functions; in a table header they return their first argument unchanged.
pub fn is_docker(name: &str) -> bool {
    matches!(
        name,
        "json" | "split" | "join" | "title" | "lower" | "upper" | "pad" | "truncate"
    )
}

/// Why a call failed: `Call` errors are printed as Go's `error calling NAME: ...`.
#[derive(Debug)]
pub enum FuncError {
    Plain(String),
    Call(String),
}

type FResult = Result<Val, FuncError>;

/// Go's `truth`: false, 0, nil, empty strings, lists and maps are false.
pub fn truth(v: &Val) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

fn arity(name: &str, args: &[Val], want: usize) -> Result<(), FuncError> {
    if args.len() != want {
        return Err(FuncError::Plain(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn at_least(name: &str, args: &[Val], want: usize) -> Result<(), FuncError> {
    if args.len() < want {
        return Err(FuncError::Plain(format!(
            "wrong number of args for {name}: want at least {want} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn want_string(v: &Val) -> Result<String, FuncError> {
    match v {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(FuncError::Plain("invalid value; expected string".into())),
        other => Err(FuncError::Plain(format!(
            "wrong type for value; expected string; got {}",
            go_type(other)
        ))),
    }
}

fn want_int(v: &Val) -> Result<i64, FuncError> {
    match v {
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        None | Some(Value::Null) => Err(FuncError::Plain("invalid value; expected int".into())),
        other => Err(FuncError::Plain(format!(
            "wrong type for value; expected int; got {}",
            go_type(other)
        ))),
    }
}

fn string(s: impl Into<String>) -> FResult {
    Ok(Some(Value::String(s.into())))
}

/// Calls a function other than `and`/`or`. In `header` mode docker's functions return their
/// first argument, as docker's `HeaderFunctions` do.
pub fn call(name: &str, args: &[Val], header: bool) -> FResult {
    if header && is_docker(name) {
        return string(
            args.first()
                .map(super::printf::print_val)
                .unwrap_or_default(),
        );
    }
    match name {
        "not" => {
            arity(name, args, 1)?;
            Ok(Some(Value::Bool(!truth(&args[0]))))
        }
        "len" => {
            arity(name, args, 1)?;
            let n = match &args[0] {
                Some(Value::String(s)) => s.len(),
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(o)) => o.len(),
                None | Some(Value::Null) => {
                    return Err(FuncError::Call("len of nil pointer".into()));
                }
                other => return Err(FuncError::Call(format!("len of type {}", go_type(other)))),
            };
            Ok(Some(Value::from(n)))
        }
        "index" => {
            at_least(name, args, 1)?;
            index(&args[0], &args[1..])
        }
        "slice" => {
            at_least(name, args, 1)?;
            slice(&args[0], &args[1..])
        }
        "print" => string(sprint(args)),
        "println" => string(sprintln(args)),
        "printf" => {
            at_least(name, args, 1)?;
            let f = want_string(&args[0])?;
            string(sprintf(&f, &args[1..]))
        }
        "eq" => {
            at_least(name, args, 1)?;
            if args.len() < 2 {
                return Err(FuncError::Call("missing argument for comparison".into()));
            }
            for b in &args[1..] {
                if eq(&args[0], b)? {
                    return Ok(Some(Value::Bool(true)));
                }
            }
            Ok(Some(Value::Bool(false)))
        }
        "ne" => {
            arity(name, args, 2)?;
            Ok(Some(Value::Bool(!eq(&args[0], &args[1])?)))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(name, args, 2)?;
            let less = lt(&args[0], &args[1])?;
            let r = match name {
                "lt" => less,
                "ge" => !less,
                "le" => less || eq(&args[0], &args[1])?,
                _ => !(less || eq(&args[0], &args[1])?),
            };
            Ok(Some(Value::Bool(r)))
        }
        "html" => string(html_escape(&text_of(args))),
        "js" => string(js_escape(&text_of(args))),
        "urlquery" => string(query_escape(&text_of(args))),
        "call" => {
            at_least(name, args, 1)?;
            Err(FuncError::Call(format!(
                "non-function of type {}",
                go_type(&args[0])
            )))
        }
        "json" => {
            arity(name, args, 1)?;
            let v = args[0].clone().unwrap_or(Value::Null);
            string(serde_json::to_string(&v).map_err(|e| FuncError::Call(e.to_string()))?)
        }
        "split" => {
            arity(name, args, 2)?;
            let s = want_string(&args[0])?;
            let sep = want_string(&args[1])?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect()
            };
            Ok(Some(Value::Array(parts)))
        }
        "join" => {
            arity(name, args, 2)?;
            let sep = want_string(&args[1])?;
            let items = match &args[0] {
                None | Some(Value::Null) => return string(""),
                Some(Value::Array(a)) => a,
                other => {
                    return Err(FuncError::Plain(format!(
                        "wrong type for value; expected []string; got {}",
                        go_type(other)
                    )));
                }
            };
            let mut parts = Vec::with_capacity(items.len());
            for i in items {
                match i {
                    Value::String(s) => parts.push(s.clone()),
                    _ => {
                        return Err(FuncError::Plain(
                            "wrong type for value; expected []string; got []interface {}".into(),
                        ));
                    }
                }
            }
            string(parts.join(&sep))
        }
        "title" => {
            arity(name, args, 1)?;
            string(title(&want_string(&args[0])?))
        }
        "lower" => {
            arity(name, args, 1)?;
            string(want_string(&args[0])?.to_lowercase())
        }
        "upper" => {
            arity(name, args, 1)?;
            string(want_string(&args[0])?.to_uppercase())
        }
        "pad" => {
            arity(name, args, 3)?;
            let s = want_string(&args[0])?;
            let (pre, post) = (want_int(&args[1])?, want_int(&args[2])?);
            if s.is_empty() {
                return string(s);
            }
            if pre.max(post) > 1 << 20 {
                return Err(FuncError::Call("pad width too large".into()));
            }
            let rep = |n: i64| " ".repeat(usize::try_from(n).unwrap_or(0));
            string(format!("{}{s}{}", rep(pre), rep(post)))
        }
        "truncate" => {
            arity(name, args, 2)?;
            let s = want_string(&args[0])?;
            let n = usize::try_from(want_int(&args[1])?).unwrap_or(0);
            if s.len() < n {
                return string(s);
            }
            let mut cut = n;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            string(&s[..cut])
        }
        other => Err(FuncError::Plain(format!("function {other:?} not defined"))),
    }
}

/// `html`, `js` and `urlquery` take the one string argument or `fmt.Sprint` of all.
fn text_of(args: &[Val]) -> String {
    match args {
        [Some(Value::String(s))] => s.clone(),
        _ => sprint(args),
    }
}

fn index(item: &Val, idx: &[Val]) -> FResult {
    let mut cur = item.clone();
    for i in idx {
        cur = match (&cur, i) {
            (None | Some(Value::Null), _) => {
                return Err(FuncError::Call("index of untyped nil".into()));
            }
            (Some(Value::Array(a)), Some(Value::Number(n))) if !n.is_f64() => {
                let k = n.as_i64().unwrap_or(-1);
                match usize::try_from(k).ok().and_then(|k| a.get(k)) {
                    Some(v) => Some(v.clone()),
                    None => return Err(FuncError::Call(format!("index out of range: {k}"))),
                }
            }
            (Some(Value::String(s)), Some(Value::Number(n))) if !n.is_f64() => {
                let k = n.as_i64().unwrap_or(-1);
                match usize::try_from(k).ok().and_then(|k| s.as_bytes().get(k)) {
                    Some(b) => Some(Value::from(*b)),
                    None => return Err(FuncError::Call(format!("index out of range: {k}"))),
                }
            }
            (Some(Value::Array(_) | Value::String(_)), other) => {
                return Err(FuncError::Call(format!(
                    "cannot index slice/array with type {}",
                    go_type(other)
                )));
            }
            (Some(Value::Object(o)), Some(Value::String(k))) => match o.get(k) {
                Some(v) => Some(v.clone()),
                None => Some(zero_like(o)),
            },
            (Some(Value::Object(_)), other) => {
                return Err(FuncError::Call(format!(
                    "value has type {}; should be string",
                    go_type(other)
                )));
            }
            (other, _) => {
                return Err(FuncError::Call(format!(
                    "can't index item of type {}",
                    go_type(other)
                )));
            }
        };
    }
    Ok(cur)
}

fn slice(item: &Val, idx: &[Val]) -> FResult {
    let mut bounds = Vec::with_capacity(idx.len());
    for i in idx {
        match i {
            Some(Value::Number(n)) if !n.is_f64() => {
                let v = n.as_i64().unwrap_or(-1);
                if v < 0 {
                    return Err(FuncError::Call(format!("index out of range: {v}")));
                }
                bounds.push(v as usize);
            }
            other => {
                return Err(FuncError::Call(format!(
                    "cannot index slice/array with type {}",
                    go_type(other)
                )));
            }
        }
    }
    let len = match item {
        Some(Value::String(s)) => s.len(),
        Some(Value::Array(a)) => a.len(),
        None | Some(Value::Null) => return Err(FuncError::Call("slice of untyped nil".into())),
        other => {
            return Err(FuncError::Call(format!(
                "can't slice item of type {}",
                go_type(other)
            )));
        }
    };
    if bounds.len() > 3 || (bounds.len() == 3 && matches!(item, Some(Value::String(_)))) {
        return Err(FuncError::Call(format!(
            "too many slice indexes: {}",
            bounds.len()
        )));
    }
    let lo = bounds.first().copied().unwrap_or(0);
    let hi = bounds.get(1).copied().unwrap_or(len);
    let cap = bounds.get(2).copied().unwrap_or(len);
    if hi > cap || cap > len || lo > len || hi > len {
        return Err(FuncError::Call(format!(
            "index out of range: {}",
            hi.max(lo)
        )));
    }
    if lo > hi {
        return Err(FuncError::Call(format!("invalid slice index: {lo} > {hi}")));
    }
    match item {
        Some(Value::String(s)) => match s.get(lo..hi) {
            Some(sub) => string(sub),
            None => string(String::from_utf8_lossy(&s.as_bytes()[lo..hi]).into_owned()),
        },
        Some(Value::Array(a)) => Ok(Some(Value::Array(a[lo..hi].to_vec()))),
        _ => Ok(None),
    }
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn kind(v: &Val) -> Kind {
    match v {
        None | Some(Value::Null) => Kind::Invalid,
        Some(Value::Bool(_)) => Kind::Bool,
        Some(Value::Number(n)) if n.is_f64() => Kind::Float,
        Some(Value::Number(_)) => Kind::Int,
        Some(Value::String(_)) => Kind::String,
        _ => Kind::Other,
    }
}

fn num(v: &Val) -> f64 {
    v.as_ref().and_then(Value::as_f64).unwrap_or(0.0)
}

/// Go's `eq` for two operands. Numbers decoded from JSON lose Go's int/float distinction,
/// so an int and a float compare by value here instead of failing.
fn eq(a: &Val, b: &Val) -> Result<bool, FuncError> {
    let (ka, kb) = (kind(a), kind(b));
    let numeric = |k| matches!(k, Kind::Int | Kind::Float);
    if ka != kb {
        if numeric(ka) && numeric(kb) {
            return Ok(num(a) == num(b));
        }
        if ka == Kind::Invalid || kb == Kind::Invalid {
            return Ok(false);
        }
        return Err(FuncError::Call("incompatible types for comparison".into()));
    }
    match ka {
        Kind::Invalid => Ok(true),
        Kind::Other => Err(FuncError::Call(format!(
            "non-comparable type {}: {}",
            a.as_ref().map(go_print).unwrap_or_default(),
            go_type(a)
        ))),
        Kind::Int => Ok(
            a.as_ref().and_then(Value::as_i64) == b.as_ref().and_then(Value::as_i64)
                && a.as_ref().and_then(Value::as_u64) == b.as_ref().and_then(Value::as_u64),
        ),
        Kind::Float => Ok(num(a) == num(b)),
        _ => Ok(a == b),
    }
}

fn lt(a: &Val, b: &Val) -> Result<bool, FuncError> {
    let (ka, kb) = (kind(a), kind(b));
    let invalid = || FuncError::Call("invalid type for comparison".into());
    if matches!(ka, Kind::Invalid | Kind::Bool | Kind::Other)
        || matches!(kb, Kind::Invalid | Kind::Bool | Kind::Other)
    {
        return Err(invalid());
    }
    let numeric = |k| matches!(k, Kind::Int | Kind::Float);
    if numeric(ka) && numeric(kb) {
        if ka == Kind::Int && kb == Kind::Int {
            let (x, y) = (
                a.as_ref().and_then(Value::as_i64),
                b.as_ref().and_then(Value::as_i64),
            );
            if let (Some(x), Some(y)) = (x, y) {
                return Ok(x < y);
            }
        }
        return Ok(num(a) < num(b));
    }
    if ka != kb {
        return Err(FuncError::Call("incompatible types for comparison".into()));
    }
    match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => Ok(x < y),
        _ => Err(invalid()),
    }
}

/// docker's `title`: the first letter of each word upper-cased, the rest left alone.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A missing key's zero value, guessed from the map's other values since JSON has no
/// element type: docker's typed maps are mostly of strings (labels, options), so an empty
/// map gives "".
fn zero_like(o: &serde_json::Map<String, Value>) -> Value {
    if o.values().all(Value::is_string) {
        Value::String(String::new())
    } else if o.values().all(|v| v.is_i64() || v.is_u64()) {
        Value::from(0)
    } else if o.values().all(Value::is_number) {
        Value::from(0.0)
    } else if o.values().all(Value::is_boolean) {
        Value::Bool(false)
    } else {
        Value::Null
    }
}
