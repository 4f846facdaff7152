//! Word expansion and splitting as BuildKit's `frontend/dockerfile/shell/lex.go` does it:
//! quotes, the escape token, `$V`, `${V}` and the `${V<op>word}` forms (`:-`, `-`, `:+`,
//! `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/`, `//`).
//!
//! One deliberate difference: BuildKit's lexer shares one word buffer between a word and the
//! `${V:-...}` nested inside it, so `ProcessWords("a${X:-b}")` loses the `a`. Here each level
//! has its own buffer, which is what a shell (and BuildKit's own `ProcessWord`) gives.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

/// How deeply `${...}` forms may nest.
pub const MAX_NESTING: usize = 100;

/// Where variable values come from during expansion.
pub trait Env {
    /// The value of `name`, or `None` when it is unset (set-but-empty is `Some("")`).
    fn lookup(&self, name: &str) -> Option<String>;
}

impl Env for HashMap<String, String> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Env for BTreeMap<String, String> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// An ordered `(name, value)` list: the last entry for a name wins, as in an image's `Env`.
impl Env for [(String, String)] {
    fn lookup(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

impl Env for Vec<(String, String)> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.as_slice().lookup(name)
    }
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn lookup(&self, _: &str) -> Option<String> {
        None
    }
}

/// Why a word could not be expanded (wording from BuildKit's lexer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexErrorKind {
    /// A quote or `${` was never closed.
    #[error("unexpected end of statement while looking for matching {0}")]
    Unterminated(&'static str),
    /// `${...` without its `}`.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${V/pattern` without the `/` before the replacement.
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    /// `${a:-${a:-...}}` nested deeper than [`MAX_NESTING`] (a Go stack grows; ours must not
    /// overflow on hostile input).
    #[error("variable substitution nested too deeply")]
    TooDeep,
    /// `${}`, `${:}`, `${{`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// `${V:=w}`, `${V:#p}` and other forms BuildKit does not have.
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${V?msg}` / `${V:?msg}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required {
        /// The variable.
        name: String,
        /// The user's message or BuildKit's default.
        message: String,
    },
    /// A `#`, `%` or `/` pattern that does not translate.
    #[error("invalid pattern ({pattern}) in substitution: {reason}")]
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A word that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {source_text:?}: {kind}")]
pub struct LexError {
    /// The whole word being processed.
    pub source_text: String,
    /// What went wrong.
    pub kind: LexErrorKind,
}

/// The result of processing one word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    /// The expanded text, quotes removed, spacing kept.
    pub result: String,
    /// The expanded text split into words (quoted spaces do not split).
    pub words: Vec<String>,
    /// Variables that were referenced and set.
    pub matched: BTreeSet<String>,
    /// Variables that were referenced and unset.
    pub unmatched: BTreeSet<String>,
}

/// The lexer's settings (BuildKit's `Lex` fields).
#[derive(Debug, Clone, Copy)]
pub struct Lexer {
    /// The escape token: `\` or `` ` `` (the `escape` directive).
    pub escape: char,
    /// Keep quote characters in the output.
    pub raw_quotes: bool,
    /// Keep escape tokens in the output.
    pub raw_escapes: bool,
    /// Treat quotes as ordinary characters.
    pub skip_process_quotes: bool,
    /// Leave references to unset variables as written (`$X`, `${X:-w}`).
    pub skip_unset_env: bool,
}

impl Lexer {
    /// A lexer with `escape` as the escape token and everything else off.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// Expands `word` into one string (BuildKit's `ProcessWord`).
    pub fn process_word(&self, word: &str, env: &dyn Env) -> Result<String, LexError> {
        Ok(self.process(word, env)?.result)
    }

    /// Expands `word` and splits it into words after expansion (BuildKit's `ProcessWords`).
    pub fn process_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, LexError> {
        Ok(self.process(word, env)?.words)
    }

    /// Expands `word`, returning both forms and which variables were used.
    pub fn process(&self, word: &str, env: &dyn Env) -> Result<Processed, LexError> {
        let mut sw = ShellWord {
            lex: *self,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: self.raw_escapes,
            depth: 0,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        };
        match sw.process_stop_on(None, self.raw_escapes) {
            Ok((result, words)) => Ok(Processed {
                result,
                words,
                matched: sw.matched,
                unmatched: sw.unmatched,
            }),
            Err(kind) => Err(LexError {
                source_text: word.to_string(),
                kind,
            }),
        }
    }
}

/// Accumulates the split form of a word (BuildKit's `wordsStruct`).
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        for ch in s.chars() {
            self.add_char(ch);
        }
    }

    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(std::mem::take(&mut self.buf));
        }
        self.words
    }
}

struct ShellWord<'a> {
    lex: Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn Env,
    raw_escapes: bool,
    depth: usize,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

type LexResult<T> = Result<T, LexErrorKind>;

impl ShellWord<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        match self.env.lookup(name) {
            Some(v) => {
                self.matched.insert(name.to_string());
                Some(v)
            }
            None => {
                self.unmatched.insert(name.to_string());
                None
            }
        }
    }

    /// Processes until `stop` (consumed) or the end; returns the text and its words.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> LexResult<(String, Vec<String>)> {
        if self.depth >= MAX_NESTING {
            return Err(LexErrorKind::TooDeep);
        }
        self.depth += 1;
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        r
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> LexResult<(String, Vec<String>)> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            let special = match ch {
                '$' => Some(self.process_dollar()?),
                '<' => Some(self.process_possible_heredoc()),
                '\'' if !self.lex.skip_process_quotes => Some(self.process_single_quote()?),
                '"' if !self.lex.skip_process_quotes => Some(self.process_double_quote()?),
                _ => None,
            };
            if let Some(tmp) = special {
                result.push_str(&tmp);
                if ch == '$' {
                    words.add_string(&tmp);
                } else {
                    words.add_raw_string(&tmp);
                }
                continue;
            }
            self.pos += 1;
            if ch == self.lex.escape {
                if self.raw_escapes {
                    words.add_raw_char(ch);
                    result.push(ch);
                }
                // The escape token escapes the next character; at the end it is dropped.
                let Some(escaped) = self.next() else { break };
                words.add_raw_char(escaped);
                result.push(escaped);
            } else {
                words.add_char(ch);
                result.push(ch);
            }
        }
        match stop {
            Some(c) => Err(LexErrorKind::Unterminated(match c {
                '}' => "}",
                '/' => "/",
                _ => "delimiter",
            })),
            None => Ok((result, words.finish())),
        }
    }

    fn process_single_quote(&mut self) -> LexResult<String> {
        // Everything up to the next ' is literal; ' cannot be escaped inside.
        let mut out = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.next() {
                None => return Err(LexErrorKind::Unterminated("single-quote")),
                Some('\'') => {
                    if self.lex.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> LexResult<String> {
        // Literal except `$` and the escape token, which escapes only " $ and itself.
        let mut out = String::new();
        let open = self.next();
        if self.lex.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.peek() {
                None => return Err(LexErrorKind::Unterminated("double-quote")),
                Some('"') => {
                    self.pos += 1;
                    if self.lex.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    out.push_str(&v);
                }
                Some(mut ch) => {
                    self.pos += 1;
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            out.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                self.pos += 1;
                                ch = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(ch);
                }
            }
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                // Positional parameters: all the digits.
                while let Some(d) = self.peek().filter(|c| c.is_numeric()) {
                    self.pos += 1;
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && is_special_param(ch) {
                self.pos += 1;
                return ch.to_string();
            }
            if !ch.is_alphabetic() && !ch.is_numeric() && ch != '_' {
                break;
            }
            self.pos += 1;
            name.push(ch);
        }
        name
    }

    fn process_dollar(&mut self) -> LexResult<String> {
        self.pos += 1; // the '$'
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1; // the '{'
        match self.peek() {
            None => return Err(LexErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(LexErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.process_name();
        let first = self.next();
        let mut chs: String = first
            .map(String::from)
            .unwrap_or_else(|| char::REPLACEMENT_CHARACTER.to_string());
        match first {
            Some('}') => Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => {
                let op = self.next();
                chs.push(op.unwrap_or(char::REPLACEMENT_CHARACTER));
                self.modifier(&name, op, true, chs)
            }
            Some(op @ ('+' | '-' | '?' | '#' | '%')) => self.modifier(&name, Some(op), false, chs),
            Some('/') => self.substitute(&name),
            _ => Err(LexErrorKind::UnsupportedModifier(chs)),
        }
    }

    /// `${name<op>word}` and `${name:<op>word}`.
    fn modifier(
        &mut self,
        name: &str,
        op: Option<char>,
        null_is_unset: bool,
        chs: String,
    ) -> LexResult<String> {
        let raw = matches!(op, Some('#' | '%'));
        if null_is_unset && raw {
            return Err(LexErrorKind::UnsupportedModifier(chs));
        }
        let word = match self.process_stop_on(Some('}'), raw) {
            Ok((w, _)) => w,
            Err(LexErrorKind::TooDeep) => return Err(LexErrorKind::TooDeep),
            Err(e) => {
                return Err(if self.peek().is_none() {
                    LexErrorKind::MissingBrace
                } else {
                    e
                });
            }
        };
        let value = self.get_env(name);
        let Some(value) = value else {
            if self.lex.skip_unset_env {
                return Ok(format!("${{{name}{chs}{word}}}"));
            }
            return match op {
                Some('-') => Ok(word),
                Some('+') => Ok(String::new()),
                Some('?') => Err(LexErrorKind::Required {
                    name: name.to_string(),
                    message: if word.is_empty() {
                        "is not allowed to be unset".into()
                    } else {
                        word
                    },
                }),
                Some('%') => trim_suffix(&word, ""),
                Some('#') => trim_prefix(&word, ""),
                _ => Err(LexErrorKind::UnsupportedModifier(chs)),
            };
        };
        let empty_as_unset = null_is_unset && value.is_empty();
        match op {
            Some('-') => Ok(if empty_as_unset { word } else { value }),
            Some('+') => Ok(if empty_as_unset { String::new() } else { word }),
            Some('?') => {
                if empty_as_unset {
                    Err(LexErrorKind::Required {
                        name: name.to_string(),
                        message: if word.is_empty() {
                            "is not allowed to be empty".into()
                        } else {
                            word
                        },
                    })
                } else {
                    Ok(value)
                }
            }
            Some('%') => trim_suffix(&word, &value),
            Some('#') => trim_prefix(&word, &value),
            _ => Err(LexErrorKind::UnsupportedModifier(chs)),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn substitute(&mut self, name: &str) -> LexResult<String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = match self.process_stop_on(Some('/'), true) {
            Ok((p, _)) => p,
            Err(e) => {
                return Err(if self.peek().is_none() {
                    LexErrorKind::MissingSlash
                } else {
                    e
                });
            }
        };
        let replacement = match self.process_stop_on(Some('}'), true) {
            Ok((r, _)) => r,
            Err(e) => {
                return Err(if self.peek().is_none() {
                    LexErrorKind::MissingBrace
                } else {
                    e
                });
            }
        };
        let value = match self.get_env(name) {
            Some(v) => v,
            None if self.lex.skip_unset_env => {
                return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
            }
            None => String::new(),
        };
        let re = shell_pattern_to_regex(&pattern, true, false).map_err(|reason| {
            LexErrorKind::InvalidPattern {
                pattern: pattern.clone(),
                reason,
            }
        })?;
        if all {
            return Ok(re.replace_all(&value, replacement.as_str()).into_owned());
        }
        Ok(match re.find(&value) {
            Some(m) => format!(
                "{}{}{}",
                &value[..m.start()],
                replacement,
                &value[m.end()..]
            ),
            None => value,
        })
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.pos += 1; // the '<'
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        // `<< EOF` keeps the spaces so the marker stays one word.
        let mut out = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            out.push(c);
            self.pos += 1;
        }
        out
    }
}

fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

/// Translates a shell pattern (`*`, `?`, `\` escapes; no bracket expressions) to a regex,
/// as BuildKit's `convertShellPatternToRegex`.
pub(crate) fn shell_pattern_to_regex(
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

fn trim_prefix(pattern: &str, value: &str) -> LexResult<String> {
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

fn trim_suffix(pattern: &str, value: &str) -> LexResult<String> {
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
pub(crate) fn reverse_pattern(pattern: &str) -> String {
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

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
