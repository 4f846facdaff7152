//! The scanner that walks one word: quotes, the escape token, `$V` and every `${...}` form,
//! building the expanded text and its split words side by side.

use std::collections::BTreeSet;

use super::env::Env;
use super::error::{LexErrorKind, LexResult};
use super::pattern::{shell_pattern_to_regex, trim_prefix, trim_suffix};
use super::{Lexer, MAX_NESTING};

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

/// One word being expanded: where the scan stands and which variables it has met.
pub(super) struct ShellWord<'a> {
    lex: Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn Env,
    raw_escapes: bool,
    depth: usize,
    /// Variables referenced and set.
    pub(super) matched: BTreeSet<String>,
    /// Variables referenced and unset.
    pub(super) unmatched: BTreeSet<String>,
}

impl<'a> ShellWord<'a> {
    /// A scan of `word` with `lex`'s settings, reading variables from `env`.
    pub(super) fn new(lex: Lexer, word: &str, env: &'a dyn Env) -> Self {
        ShellWord {
            lex,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: lex.raw_escapes,
            depth: 0,
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
        }
    }
}

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
    pub(super) fn process_stop_on(
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
