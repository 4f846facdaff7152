//! Go's `fmt` as templates use it: `%v` printing of decoded JSON values, `strconv.Quote`,
//! and `Sprintf`/`Sprint`/`Sprintln`.

use serde_json::Value;

/// A value as the evaluator holds it: `None` is Go's invalid value (a missing map key).
pub type Val = Option<Value>;

/// Go's name of a value's dynamic type, for error messages.
pub fn go_type(v: &Val) -> &'static str {
    match v {
        None | Some(Value::Null) => "<nil>",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) if n.is_f64() => "float64",
        Some(Value::Number(_)) => "int",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "[]interface {}",
        Some(Value::Object(_)) => "map[string]interface {}",
    }
}

/// A float as Go's `%v` prints it (shortest form, exponent past 1e21 or under 1e-4).
pub fn go_float(f: f64) -> String {
    shortest_g(f, 21)
}

fn shortest_g(f: f64, threshold: i32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= threshold {
        format!("{mant}e{}", go_exp(exp))
    } else {
        format!("{f}")
    }
}

fn go_exp(exp: i32) -> String {
    format!("{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// `fmt.Sprint` of one value: Go's `%v` of the decoded JSON.
pub fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => go_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_print(&o[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// `fmt.Sprint` of an argument that may be invalid.
pub fn print_val(v: &Val) -> String {
    match v {
        None => "<nil>".into(),
        Some(v) => go_print(v),
    }
}

/// `fmt.Sprint(args...)`: a space between operands when neither side is a string.
pub fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Some(Value::String(_)));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&print_val(a));
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln(args...)`.
pub fn sprintln(args: &[Val]) -> String {
    let mut out = args.iter().map(print_val).collect::<Vec<_>>().join(" ");
    out.push('\n');
    out
}

/// `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf(format, args...)` with Go's verbs, flags, width and precision, and its
/// `%!v(MISSING)` / `%!(EXTRA ...)` / `%!d(string=x)` markers.
pub fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        spec.width = read_num(&mut chars, args, &mut next);
        if spec.width.is_some_and(|w| w > 1_000_000) {
            // Go's fmt refuses widths past 10^6.
            out.push_str("%!(BADWIDTH)");
            spec.width = None;
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_num(&mut chars, args, &mut next).unwrap_or(0));
            if spec.prec.is_some_and(|p| p > 1_000_000) {
                out.push_str("%!(BADPREC)");
                spec.prec = None;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        out.push_str(&format_one(verb, spec, arg));
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| match a {
                None | Some(Value::Null) => "<nil>".to_string(),
                Some(v) => format!("{}={}", go_type(a), go_print(v)),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn read_num(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Val],
    next: &mut usize,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let v = args
            .get(*next)
            .and_then(|a| a.as_ref())
            .and_then(Value::as_i64);
        *next += 1;
        return v.and_then(|v| usize::try_from(v).ok());
    }
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

fn bad(verb: char, v: &Val) -> String {
    match v {
        None | Some(Value::Null) => format!("%!{verb}(<nil>)"),
        Some(x) => format!("%!{verb}({}={})", go_type(v), go_print(x)),
    }
}

fn format_one(verb: char, spec: Spec, v: &Val) -> String {
    let numeric = matches!(v, Some(Value::Number(_)));
    let body = match (verb, v) {
        ('v', None | Some(Value::Null)) => "<nil>".into(),
        ('v', Some(Value::String(s))) if spec.sharp => go_quote(s),
        ('v', Some(Value::Number(n))) if n.is_f64() => {
            float_verb('g', spec, n.as_f64().unwrap_or(0.0), true)
        }
        ('v', Some(Value::Number(n))) => int_verb('d', spec, n),
        ('v', Some(x)) => go_print(x),
        ('s', Some(Value::String(s))) => truncate_prec(s, spec.prec),
        ('q', Some(Value::String(s))) => go_quote(&truncate_prec(s, spec.prec)),
        ('x' | 'X', Some(Value::String(s))) => {
            let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
            if verb == 'X' { hex.to_uppercase() } else { hex }
        }
        ('s' | 'q' | 'd' | 'x' | 'X' | 'o' | 'b' | 'f' | 'e' | 'g', Some(Value::Array(items))) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| format_one(verb, spec, &Some(i.clone())))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        ('t', Some(Value::Bool(b))) => b.to_string(),
        ('d' | 'x' | 'X' | 'o' | 'O' | 'b' | 'c' | 'q' | 'U', Some(Value::Number(n)))
            if !n.is_f64() =>
        {
            int_verb(verb, spec, n)
        }
        ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Some(Value::Number(n))) if n.is_f64() => {
            float_verb(verb, spec, n.as_f64().unwrap_or(0.0), false)
        }
        _ => return bad(verb, v),
    };
    pad(body, spec, numeric && verb != 'c' && verb != 'q')
}

fn truncate_prec(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn sign(spec: Spec, neg: bool) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn int_verb(verb: char, spec: Spec, n: &serde_json::Number) -> String {
    let (neg, mag) = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => (i < 0, i.unsigned_abs()),
        (_, Some(u)) => (false, u),
        _ => (false, 0),
    };
    let digits = match verb {
        'x' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        'o' | 'O' => format!("{mag:o}"),
        'b' => format!("{mag:b}"),
        'c' => {
            return char::from_u32(mag as u32)
                .map(String::from)
                .unwrap_or_default();
        }
        'q' => {
            let c = char::from_u32(mag as u32).unwrap_or('\u{fffd}');
            let q = go_quote(&c.to_string());
            let inner = &q[1..q.len() - 1];
            return if c == '\'' {
                "'\\''".into()
            } else {
                format!("'{}'", inner.replace("\\\"", "\""))
            };
        }
        'U' => return format!("U+{mag:04X}"),
        _ => mag.to_string(),
    };
    let digits = match spec.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        (_, 'O') => "0o",
        _ => "",
    };
    format!("{}{prefix}{digits}", sign(spec, neg))
}

fn float_verb(verb: char, spec: Spec, f: f64, is_v: bool) -> String {
    let s = sign(spec, f.is_sign_negative() && f != 0.0);
    let a = f.abs();
    let body = match verb.to_ascii_lowercase() {
        'f' => format!("{a:.*}", spec.prec.unwrap_or(6)),
        'e' => exp_form(a, spec.prec.unwrap_or(6)),
        _ => match spec.prec {
            None => shortest_g(a, if is_v { 21 } else { 6 }),
            Some(p) => {
                let p = p.max(1);
                let e = format!("{:.*e}", p - 1, a);
                let exp: i32 = e
                    .split_once('e')
                    .and_then(|(_, x)| x.parse().ok())
                    .unwrap_or(0);
                if exp < -4 || exp >= p as i32 {
                    let (m, _) = e.split_once('e').unwrap_or((&e, ""));
                    format!("{}e{}", trim_zeros(m), go_exp(exp))
                } else {
                    let decimals = (p as i32 - 1 - exp).max(0) as usize;
                    trim_zeros(&format!("{a:.decimals$}"))
                }
            }
        },
    };
    let body = if verb.is_ascii_uppercase() {
        body.to_uppercase()
    } else {
        body
    };
    format!("{s}{body}")
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn exp_form(a: f64, prec: usize) -> String {
    let e = format!("{a:.prec$e}");
    let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
    format!("{m}e{}", go_exp(x.parse().unwrap_or(0)))
}

fn pad(body: String, spec: Spec, numeric: bool) -> String {
    let Some(w) = spec.width else { return body };
    let len = body.chars().count();
    if len >= w {
        return body;
    }
    let fill = w - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_string()),
            _ => (String::new(), body),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else if spec.zero {
        format!("{}{body}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}
