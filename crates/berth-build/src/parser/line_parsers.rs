//! Per-instruction argument shapes (BuildKit's `line_parsers.go` and `split_command.go`).

use super::Node;
use crate::error::ParseErrorKind;

/// BuildKit's `reWhitespace`: `[\t\v\f\r ]+`.
fn is_ws(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

fn split_ws(s: &str, limit: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while out.len() + 1 < limit {
        match rest.find(is_ws) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = rest[i..].trim_start_matches(is_ws);
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fn split_ws_all(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    split_ws(s, usize::MAX)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Splits a joined instruction line into a node (name, flags, shaped arguments).
pub(crate) fn node_from_line(line: &str, escape: char) -> Result<Node, ParseErrorKind> {
    node_at_depth(line, escape, 0)
}

/// ONBUILD nests one trigger; deeper chains (refused when typed anyway) are not parsed
/// further, so `ONBUILD ONBUILD ...` cannot recurse without bound.
fn node_at_depth(line: &str, escape: char, depth: usize) -> Result<Node, ParseErrorKind> {
    let trimmed = line.trim();
    let parts = split_ws(trimmed, 2);
    let command = parts[0].to_string();
    let (args, flags) = match parts.get(1) {
        Some(rest) => {
            let (args, flags) = extract_builder_flags(rest, escape);
            (args.trim().to_string(), flags)
        }
        None => (String::new(), Vec::new()),
    };
    let mut node = Node {
        command: command.clone(),
        flags,
        original: line.to_string(),
        ..Node::default()
    };
    match command.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => maybe_json_to_list(&args, &mut node)?,
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(&args, &mut node)?,
        "arg" => node.args = parse_words(&args, escape),
        "env" => node.args = parse_name_val(&args, "ENV", escape)?,
        "label" => node.args = parse_name_val(&args, "LABEL", escape)?,
        "expose" | "from" => node.args = split_ws_all(&args),
        "healthcheck" => health_config(&args, &mut node)?,
        "maintainer" | "stopsignal" | "user" | "workdir" if !args.is_empty() => {
            node.args = vec![args];
        }
        "onbuild" if !args.is_empty() && depth < 2 => {
            let sub = node_at_depth(&args, escape, depth + 1)?;
            node.args = std::iter::once(sub.command.clone())
                .chain(sub.args.iter().cloned())
                .collect();
            node.sub = Some(Box::new(sub));
        }
        // Unknown instructions keep no arguments; typing rejects them with their line.
        _ => {}
    }
    Ok(node)
}

/// Parses the leading `--flag` words; returns the rest of the line and the flags.
pub(crate) fn extract_builder_flags(line: &str, escape: char) -> (&str, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let n = chars.len();
    let at = |p: usize| chars.get(p).map_or(line.len(), |(i, _)| *i);
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= n {
        let ch = chars.get(pos).map_or('\0', |(_, c)| *c);
        if phase == Phase::Spaces {
            if pos == n {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            let next_dash = chars.get(pos + 1).is_some_and(|(_, c)| *c == '-');
            if ch != '-' || !next_dash {
                return (&line[at(pos)..], words);
            }
            phase = Phase::Word;
        }
        if pos == n {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if word == "--" {
                    return (&line[at(pos)..], words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if ch == escape {
                if pos + 1 == n {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = chars[pos].1;
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // Quote
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if ch == escape {
            if pos + 1 == n {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = chars[pos].1;
        }
        word.push(c);
        pos += 1;
    }
    ("", words)
}

/// Splits on unquoted whitespace keeping quotes and escapes (they are removed later by
/// expansion), as BuildKit's `parseWords`.
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let n = chars.len();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut pos = 0;
    while pos <= n {
        let mut ch = chars.get(pos).copied().unwrap_or('\0');
        if phase == Phase::Spaces {
            if pos == n {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if pos == n {
            if blank_ok || !word.is_empty() {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == n {
                    pos += 1;
                    continue; // an escape at the very end is dropped
                }
                // Unquoted: keep the escape and the escaped char (even a quote).
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // Quote
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == n {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// ENV/LABEL: `KEY value` (old form) or `k=v k2="v 2"`; returns key, value, separator
/// triples (separator `=` or empty for the old form).
fn parse_name_val(
    rest: &str,
    key: &'static str,
    escape: char,
) -> Result<Vec<String>, ParseErrorKind> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Vec::new());
    };
    if !first.contains('=') {
        let parts = split_ws(rest, 2);
        if parts.len() < 2 {
            return Err(ParseErrorKind::MustHaveTwoArguments(key));
        }
        return Ok(vec![parts[0].into(), parts[1].into(), String::new()]);
    }
    let mut out = Vec::with_capacity(words.len() * 3);
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(ParseErrorKind::MissingEquals(w));
        };
        out.extend([k.to_string(), v.to_string(), "=".to_string()]);
    }
    Ok(out)
}

/// `Some(strings)` for a JSON array of strings, `None` when it is not JSON.
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, ParseErrorKind> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(rest) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(ParseErrorKind::JsonNotStrings),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn maybe_json(rest: &str, node: &mut Node) -> Result<(), ParseErrorKind> {
    if rest.is_empty() {
        return Ok(());
    }
    match parse_json(rest)? {
        Some(v) => {
            node.args = v;
            node.json = true;
        }
        None => node.args = vec![rest.to_string()],
    }
    Ok(())
}

fn maybe_json_to_list(rest: &str, node: &mut Node) -> Result<(), ParseErrorKind> {
    match parse_json(rest)? {
        Some(v) => {
            node.args = v;
            node.json = true;
        }
        None => node.args = split_ws_all(rest),
    }
    Ok(())
}

/// HEALTHCHECK: a type word (`CMD`, `NONE`) then a maybe-JSON command.
fn health_config(rest: &str, node: &mut Node) -> Result<(), ParseErrorKind> {
    let sep = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if sep == 0 {
        return Ok(());
    }
    let typ = &rest[..sep];
    let cmd = rest[sep..].trim_start();
    let mut sub = Node::default();
    maybe_json(cmd, &mut sub)?;
    node.args = std::iter::once(typ.to_string()).chain(sub.args).collect();
    node.json = sub.json;
    Ok(())
}
