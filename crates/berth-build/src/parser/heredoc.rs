//! Heredoc markers (`<<EOF`, `<<-EOF`, `3<<"EOF"`) as BuildKit recognises them.

use crate::shell::{LexError, Lexer, NoEnv};

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heredoc {
    /// The terminator word, quotes removed (`EOF`).
    pub name: String,
    /// The file descriptor before `<<` (`3<<EOF`), 0 when absent.
    pub file_descriptor: u32,
    /// False when any part of the marker was quoted: the body is taken literally.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body and the terminator.
    pub chomp: bool,
    /// The body, each line with its newline, terminator excluded.
    pub content: String,
}

/// `^(\d*)<<(-?)\s*([^<]*)$` split by hand.
fn match_marker(src: &str) -> Option<(&str, bool, &str)> {
    let digits_end = src
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(src.len(), |(i, _)| i);
    let fd = &src[..digits_end];
    let rest = src[digits_end..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.contains('<') {
        return None;
    }
    Some((fd, chomp, rest))
}

/// Parses a word as a heredoc marker; `Ok(None)` when it is not one.
pub fn parse_heredoc(src: &str) -> Result<Option<Heredoc>, LexError> {
    let Some((fd, chomp, rest)) = match_marker(src) else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let mut lex = Lexer::new('\\');
    lex.skip_unset_env = true;
    let words = lex.process_words(rest, &NoEnv)?;
    if words.len() != 1 {
        return Ok(None);
    }
    lex.raw_quotes = true;
    let raw = lex.process_words(rest, &NoEnv)?;
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    let expand = raw.len() == 1 && quotes(&words[0]) == quotes(&raw[0]);
    Ok(Some(Heredoc {
        name: words[0].clone(),
        // BuildKit ignores an unparsable descriptor (it becomes 0).
        file_descriptor: fd.parse().unwrap_or(0),
        expand,
        chomp,
        content: String::new(),
    }))
}

/// The heredoc markers of a whole instruction line, in order.
pub(crate) fn heredocs_from_line(line: &str) -> Result<Vec<Heredoc>, LexError> {
    let mut lex = Lexer::new('\\');
    lex.raw_quotes = true;
    lex.raw_escapes = true;
    lex.skip_unset_env = true;
    // Like BuildKit, a line that does not lex simply has no heredocs.
    let words = lex.process_words(line, &NoEnv).unwrap_or_default();
    let mut docs = Vec::new();
    for w in words {
        if let Some(d) = parse_heredoc(&w)? {
            docs.push(d);
        }
    }
    Ok(docs)
}

/// Strips leading tabs from every line (`<<-`).
pub fn chomp_heredoc_content(src: &str) -> String {
    src.split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}
