//! The Dockerfile syntax tree, after BuildKit's `frontend/dockerfile/parser`: parser
//! directives, comments, line continuations, heredocs, and per-instruction argument shapes
//! (JSON or shell form, key/value pairs, whitespace lists). Nothing is typed or expanded
//! here; [`crate::instructions`] does that.

mod heredoc;
mod line_parsers;

pub use heredoc::{Heredoc, chomp_heredoc_content, parse_heredoc};

use crate::error::{ParseError, ParseErrorKind};

/// The longest physical line BuildKit's scanner reads, plus one.
const MAX_LINE: usize = 64 * 1024;

/// The default escape token.
pub const DEFAULT_ESCAPE: char = '\\';

/// The parser directives found at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// The escape token (`# escape=`), `\` by default.
    pub escape: char,
    /// `# syntax=` (recorded; berth has one front end and never fetches another).
    pub syntax: Option<String>,
    /// `# check=` (lint configuration; recorded only).
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            escape: DEFAULT_ESCAPE,
            syntax: None,
            check: None,
        }
    }
}

/// A parser warning (BuildKit's wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Line the warning is about.
    pub line: usize,
    /// `Empty continuation line found in: ...`.
    pub message: String,
}

/// One instruction as written, its arguments shaped but not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The instruction name as written (`run`, `RUN`).
    pub command: String,
    /// `--flag[=value]` words between the name and the arguments.
    pub flags: Vec<String>,
    /// The arguments (BuildKit's flattened `nodeArgs`; ENV/LABEL come as
    /// key, value, separator triples; HEALTHCHECK as type then command).
    pub args: Vec<String>,
    /// The arguments were a JSON array (exec form).
    pub json: bool,
    /// ONBUILD's trigger instruction.
    pub sub: Option<Box<Node>>,
    /// Heredoc bodies attached to this instruction, in order.
    pub heredocs: Vec<Heredoc>,
    /// The joined line (continuations removed) the instruction was parsed from.
    pub original: String,
    /// First line (1-based).
    pub start_line: usize,
    /// Last line, heredoc bodies included.
    pub end_line: usize,
    /// Comment lines directly above the instruction.
    pub comments: Vec<String>,
}

/// A parsed Dockerfile before typing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ast {
    /// Parser directives.
    pub directives: Directives,
    /// Instructions in order.
    pub nodes: Vec<Node>,
    /// Warnings (empty continuation lines).
    pub warnings: Vec<Warning>,
}

/// Tracks parser directives: only at the very top, each once (BuildKit's `DirectiveParser`).
#[derive(Default)]
struct DirectiveParser {
    seen: Vec<String>,
    done: bool,
}

impl DirectiveParser {
    /// Returns `Some((name, value))` for a directive line; ends directive parsing at the
    /// first line that is not one.
    fn parse_line(&mut self, line: &str) -> Result<Option<(String, String)>, ParseErrorKind> {
        if self.done {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix('#') else {
            self.done = true;
            return Ok(None);
        };
        let Some((name, value)) = split_directive(rest.trim_start()) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&name) {
            return Err(ParseErrorKind::DuplicateDirective(name));
        }
        self.seen.push(name.clone());
        Ok(Some((name, value)))
    }
}

/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
fn split_directive(s: &str) -> Option<(String, String)> {
    let mut chars = s.char_indices();
    let (_, first) = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let end = s
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
        .map_or(s.len(), |(i, _)| i);
    let name = &s[..end];
    let rest = s[end..].trim_start().strip_prefix('=')?;
    let value = rest.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_string(), value.to_string()))
}

struct State {
    escape: char,
    directives: DirectiveParser,
}

impl State {
    /// Handles a possible directive; true when the line was one.
    fn directive(&mut self, line: &str, out: &mut Directives) -> Result<bool, ParseErrorKind> {
        let Some((name, value)) = self.directives.parse_line(line)? else {
            return Ok(false);
        };
        match name.as_str() {
            "escape" => {
                let mut it = value.chars();
                match (it.next(), it.next()) {
                    (Some(c @ ('\\' | '`')), None) => {
                        self.escape = c;
                        out.escape = c;
                    }
                    _ => return Err(ParseErrorKind::InvalidEscape(value)),
                }
            }
            "syntax" => out.syntax = Some(value),
            _ => out.check = Some(value),
        }
        Ok(true)
    }

    /// Removes a trailing continuation token; returns the line and whether it ends the
    /// instruction. Like BuildKit's regex, an escaped escape token before it is not seen.
    fn trim_continuation<'a>(&self, line: &'a str) -> (&'a str, bool) {
        let trimmed = line.trim_end_matches([' ', '\t']);
        let Some(before) = trimmed.strip_suffix(self.escape) else {
            return (line, true);
        };
        if before.is_empty() || !before.ends_with(self.escape) {
            (before, false)
        } else {
            (line, true)
        }
    }
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\r', '\n'])
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Splits keeping line endings, as BuildKit's scanner does.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Parses Dockerfile text into its syntax tree.
pub fn parse_ast(text: &str) -> Result<Ast, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut all = lines(text);
    // BuildKit's line scanner stops at a line of 64 KiB or more; what came before is still
    // parsed (so an empty file or an unterminated heredoc is reported first).
    let too_long = all
        .iter()
        .position(|l| l.strip_suffix('\n').unwrap_or(l).len() >= MAX_LINE);
    if let Some(i) = too_long {
        all.truncate(i);
    }
    let mut st = State {
        escape: DEFAULT_ESCAPE,
        directives: DirectiveParser::default(),
    };
    let mut ast = Ast::default();
    let mut comments: Vec<String> = Vec::new();
    let mut i = 0usize; // index of the next line to read; also the count of lines read
    while i < all.len() {
        let raw = all[i];
        let line = trim_newline(raw).trim_start();
        if is_comment(raw) {
            let c = line[1..].trim();
            if c.is_empty() {
                comments.clear();
            } else {
                comments.push(c.to_string());
            }
        }
        let was_directive = st
            .directive(line, &mut ast.directives)
            .map_err(|k| ParseError::new(i + 1, k))?;
        if was_directive {
            comments.pop();
        }
        i += 1;
        let start_line = i;
        let content = if is_comment(line) { "" } else { line };
        let (first, mut end) = st.trim_continuation(content);
        if end && first.is_empty() {
            continue;
        }
        let mut buf = first.to_string();
        let mut empty_continuation = false;
        while !end && i < all.len() {
            let raw = all[i];
            let l = trim_newline(raw);
            // Directive parsing is over by now, but BuildKit still feeds it every line.
            st.directive(l, &mut ast.directives)
                .map_err(|k| ParseError::new(i + 1, k))?;
            i += 1;
            if is_comment(raw) {
                continue; // comments inside a continuation are dropped
            }
            if l.trim_start().is_empty() {
                empty_continuation = true;
                continue;
            }
            let (part, e) = st.trim_continuation(l);
            end = e;
            buf.push_str(part);
        }
        if empty_continuation {
            ast.warnings.push(Warning {
                line: i,
                message: format!("Empty continuation line found in: {buf}"),
            });
        }
        let mut node = line_parsers::node_from_line(&buf, st.escape)
            .map_err(|k| ParseError::new(start_line, k))?;
        node.comments = std::mem::take(&mut comments);
        if node.can_contain_heredoc() && buf.contains("<<") {
            let docs = heredoc::heredocs_from_line(&buf)
                .map_err(|e| ParseError::new(start_line, e.into()))?;
            for mut doc in docs {
                let mut content = String::new();
                let mut terminated = false;
                while i < all.len() {
                    let body = all[i];
                    i += 1;
                    let mut candidate = trim_newline(body);
                    if doc.chomp {
                        candidate = candidate.trim_start_matches('\t');
                    }
                    if candidate == doc.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(body);
                }
                if !terminated {
                    return Err(ParseError::new(
                        start_line,
                        ParseErrorKind::UnterminatedHeredoc,
                    ));
                }
                doc.content = content;
                node.heredocs.push(doc);
            }
        }
        node.start_line = start_line;
        node.end_line = i;
        ast.nodes.push(node);
    }
    if ast.nodes.is_empty() {
        return Err(ParseError::new(all.len(), ParseErrorKind::Empty));
    }
    if let Some(i) = too_long {
        return Err(ParseError::new(i + 1, ParseErrorKind::LineTooLong));
    }
    Ok(ast)
}

impl Node {
    /// RUN, COPY and ADD (also as ONBUILD triggers) in shell form may carry heredocs.
    fn can_contain_heredoc(&self) -> bool {
        let node = match (self.command.eq_ignore_ascii_case("onbuild"), &self.sub) {
            (true, Some(sub)) => sub.as_ref(),
            _ => self,
        };
        let cmd = node.command.to_ascii_lowercase();
        matches!(cmd.as_str(), "run" | "copy" | "add") && !node.json
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
