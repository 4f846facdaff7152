//! Shell patterns, as the `${V#p}`, `${V%p}` and `${V/p/r}` forms use them: translated to
//! regexes, and the prefix and suffix trimming built on them.

use regex::Regex;

use super::error::{LexErrorKind, LexResult};

/// Translates a shell pattern (`*`, `?`, `\` escapes; no bracket expressions) to a regex,
/// as BuildKit's `convertShellPatternToRegex`.
pub(super) fn shell_pattern_to_regex(
    pattern: &str,
    greedy: bool,
    anchored: bool,
) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    if anchored {
        out.push('^');
    }
    let star = if greedy { ".*" } else { ".*?" };
    let mut it = pattern.chars().peekable();
    while let Some(tok) = it.next() {
        match tok {
            '*' => out.push_str(star),
            '?' => out.push('.'),
            '\\' => {
                // `\}` and `\/` escape the ${} syntax, not the pattern.
                if matches!(it.peek(), Some('}' | '/')) {
                    continue;
                }
                match it.next() {
                    Some(c @ ('*' | '?' | '\\')) => {
                        out.push('\\');
                        out.push(c);
                    }
                    Some(c) => return Err(format!("invalid escape '\\{c}'")),
                    None => return Err("invalid escape at end of pattern".into()),
                }
            }
            '[' | ']' | '{' | '}' | '.' | '+' | '(' | ')' | '|' | '^' | '$' => {
                out.push('\\');
                out.push(tok);
            }
            _ => out.push(tok),
        }
    }
    Regex::new(&out).map_err(|e| e.to_string())
}

/// `${V#p}`: `value` without its shortest prefix matching `p`; the longest when `pattern`
/// is `#p` (`${V##p}`).
pub(super) fn trim_prefix(pattern: &str, value: &str) -> LexResult<String> {
    let (greedy, pattern) = split_greedy(pattern, '#');
    trim_prefix_with(pattern, value, greedy)
}

fn trim_prefix_with(pattern: &str, value: &str, greedy: bool) -> LexResult<String> {
    let re = shell_pattern_to_regex(pattern, greedy, true).map_err(|reason| {
        LexErrorKind::InvalidPattern {
            pattern: pattern.to_string(),
            reason,
        }
    })?;
    Ok(match re.find(value) {
        Some(m) => value[m.end()..].to_string(),
        None => value.to_string(),
    })
}

/// `${V%p}`: `value` without its shortest suffix matching `p`; the longest when `pattern`
/// is `%p` (`${V%%p}`).
pub(super) fn trim_suffix(pattern: &str, value: &str) -> LexResult<String> {
    // Shortest/longest rightmost match = leftmost match on the reversed strings.
    let (greedy, pattern) = split_greedy(pattern, '%');
    let rev = reverse_pattern(pattern);
    let value: String = value.chars().rev().collect();
    let trimmed = trim_prefix_with(&rev, &value, greedy)?;
    Ok(trimmed.chars().rev().collect())
}

fn split_greedy(pattern: &str, op: char) -> (bool, &str) {
    match pattern.strip_prefix(op) {
        Some(rest) => (true, rest),
        None => (false, pattern),
    }
}

/// Reverses a pattern keeping `\x` escapes in order (`a\*c` → `c\*a`).
pub(super) fn reverse_pattern(pattern: &str) -> String {
    let runes: Vec<char> = pattern.chars().collect();
    let mut out = vec!['\0'; runes.len()];
    let last = runes.len().saturating_sub(1);
    let mut i = 0;
    while i < runes.len() {
        let tok = runes[i];
        let o = last - i;
        if tok == '\\' && i != last {
            out[o - 1] = tok;
            out[o] = runes[i + 1];
            i += 2;
        } else {
            out[o] = tok;
            i += 1;
        }
    }
    out.into_iter().collect()
}
