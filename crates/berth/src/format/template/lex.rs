//! The lexer of Go's `text/template`: text, `{{`/`}}` with `{{- ` and ` -}}` trim markers,
//! `{{/* comments */}}`, and the tokens inside actions.

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Text(String),
    Left,
    Right,
    Space,
    /// `.Name` (the name without its dot).
    Field(String),
    Dot,
    /// `$` or `$name` (with its `$`).
    Var(String),
    Ident(String),
    Str(String),
    Char(i64),
    Number(String),
    Bool(bool),
    Nil,
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    Eof,
}

/// A token, where it starts in the template and its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub tok: Tok,
    pub pos: usize,
    pub src: String,
}

impl Item {
    /// How Go's `item.String()` shows a token in an error.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "EOF".into(),
            Tok::Ident(k) if is_keyword(k) => format!("<{k}>"),
            _ if self.src.chars().count() > 10 => {
                let cut: String = self.src.chars().take(10).collect();
                format!("{}...", super::printf::go_quote(&cut))
            }
            _ => super::printf::go_quote(&self.src),
        }
    }
}

/// Words with a meaning of their own inside an action.
pub fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "block"
            | "break"
            | "continue"
            | "define"
            | "else"
            | "end"
            | "if"
            | "range"
            | "template"
            | "with"
    )
}

/// A lexing failure at a byte offset.
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub pos: usize,
    pub msg: String,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// `s` starts with ` -}}` (a right trim marker then the delimiter).
fn right_trim_at(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 4 && is_space(b[0]) && &s[1..4] == "-}}"
}

struct Lexer<'a> {
    input: &'a str,
    items: Vec<Item>,
    paren_depth: usize,
}

/// Splits a template into tokens.
pub fn lex(input: &str) -> Result<Vec<Item>, LexError> {
    let mut l = Lexer {
        input,
        items: Vec::new(),
        paren_depth: 0,
    };
    let mut i = 0;
    loop {
        let Some(off) = input[i..].find("{{") else {
            if i < input.len() {
                l.push(Tok::Text(input[i..].to_string()), i, input.len());
            }
            break;
        };
        let start = i + off;
        let after = &input.as_bytes()[start + 2..];
        let trim_left = after.len() >= 2 && after[0] == b'-' && is_space(after[1]);
        let mut text_end = start;
        if trim_left {
            text_end = i + input[i..start]
                .trim_end_matches([' ', '\t', '\r', '\n'])
                .len();
        }
        if text_end > i {
            l.push(Tok::Text(input[i..text_end].to_string()), i, text_end);
        }
        let mut p = start + 2 + if trim_left { 2 } else { 0 };
        let trim_right;
        if input[p..].starts_with("/*") {
            let Some(end) = input[p + 2..].find("*/") else {
                return Err(LexError {
                    pos: start,
                    msg: "unclosed comment".into(),
                });
            };
            p += 2 + end + 2;
            if right_trim_at(&input[p..]) {
                trim_right = true;
                p += 4;
            } else if input[p..].starts_with("}}") {
                trim_right = false;
                p += 2;
            } else {
                return Err(LexError {
                    pos: start,
                    msg: "comment ends before closing delimiter".into(),
                });
            }
        } else {
            l.push(Tok::Left, start, start + 2);
            (p, trim_right) = l.inside_action(p)?;
        }
        i = p;
        if trim_right {
            i += input[i..].len() - input[i..].trim_start_matches([' ', '\t', '\r', '\n']).len();
        }
    }
    l.push(Tok::Eof, input.len(), input.len());
    Ok(l.items)
}

impl Lexer<'_> {
    fn push(&mut self, tok: Tok, start: usize, end: usize) {
        self.items.push(Item {
            tok,
            pos: start,
            src: self.input[start..end].to_string(),
        });
    }

    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            pos,
            msg: msg.into(),
        })
    }

    /// Lexes an action from `p` (after `{{`); returns where the text resumes and whether
    /// the action ended with a trim marker.
    fn inside_action(&mut self, mut p: usize) -> Result<(usize, bool), LexError> {
        let input = self.input;
        loop {
            let rest = &input[p..];
            if self.paren_depth == 0 {
                if right_trim_at(rest) {
                    self.push(Tok::Right, p + 2, p + 4);
                    return Ok((p + 4, true));
                }
                if rest.starts_with("}}") {
                    self.push(Tok::Right, p, p + 2);
                    return Ok((p + 2, false));
                }
            }
            let Some(c) = rest.chars().next() else {
                return self.err(p, "unclosed action");
            };
            let start = p;
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    let mut q = p;
                    while q < input.len() && is_space(input.as_bytes()[q]) {
                        if self.paren_depth == 0 && right_trim_at(&input[q..]) {
                            break;
                        }
                        q += 1;
                    }
                    if q > p {
                        self.push(Tok::Space, p, q);
                    }
                    p = q;
                }
                '=' => {
                    self.push(Tok::Assign, p, p + 1);
                    p += 1;
                }
                ':' => {
                    if !rest.starts_with(":=") {
                        return self.err(p, "expected :=");
                    }
                    self.push(Tok::Declare, p, p + 2);
                    p += 2;
                }
                '|' => {
                    self.push(Tok::Pipe, p, p + 1);
                    p += 1;
                }
                ',' => {
                    self.push(Tok::Comma, p, p + 1);
                    p += 1;
                }
                '(' => {
                    self.paren_depth += 1;
                    self.push(Tok::LParen, p, p + 1);
                    p += 1;
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return self.err(p, "unexpected right paren");
                    }
                    self.paren_depth -= 1;
                    self.push(Tok::RParen, p, p + 1);
                    p += 1;
                }
                '"' => {
                    let (s, end) = self.quoted(p)?;
                    self.push(Tok::Str(s), p, end);
                    p = end;
                }
                '`' => {
                    let Some(end) = rest[1..].find('`') else {
                        return self.err(p, "unterminated raw quoted string");
                    };
                    let s = rest[1..1 + end].to_string();
                    self.push(Tok::Str(s), p, p + end + 2);
                    p += end + 2;
                }
                '\'' => {
                    let (v, end) = self.char_const(p)?;
                    self.push(Tok::Char(v), p, end);
                    p = end;
                }
                '$' => {
                    let end = p + 1 + alnum_len(&rest[1..]);
                    self.push(Tok::Var(input[p..end].to_string()), p, end);
                    p = end;
                }
                '.' => {
                    let next = rest[1..].chars().next();
                    if next.is_some_and(|n| n.is_ascii_digit()) {
                        p = self.number(p)?;
                    } else {
                        let end = p + 1 + alnum_len(&rest[1..]);
                        if end == p + 1 {
                            self.push(Tok::Dot, p, end);
                        } else {
                            self.push(Tok::Field(input[p + 1..end].to_string()), p, end);
                        }
                        p = end;
                    }
                }
                '+' | '-' | '0'..='9' => p = self.number(p)?,
                c if is_alnum(c) => {
                    let end = p + alnum_len(rest);
                    let word = &input[p..end];
                    let tok = match word {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        w => Tok::Ident(w.to_string()),
                    };
                    self.push(tok, p, end);
                    p = end;
                }
                c => {
                    return self.err(
                        p,
                        format!("unrecognized character in action: {}", describe_char(c)),
                    );
                }
            }
            if p != start {
                self.check_terminator(p)?;
            }
        }
    }

    /// Go requires a word to be followed by a space, a delimiter or punctuation.
    fn check_terminator(&self, p: usize) -> Result<(), LexError> {
        let Some(last) = self.items.last() else {
            return Ok(());
        };
        let is_word = matches!(
            last.tok,
            Tok::Field(_) | Tok::Var(_) | Tok::Ident(_) | Tok::Bool(_) | Tok::Nil | Tok::Dot
        );
        if !is_word {
            return Ok(());
        }
        let rest = &self.input[p..];
        match rest.chars().next() {
            None => Ok(()),
            Some(c) if " \t\r\n.,|:)(=".contains(c) || rest.starts_with("}}") => Ok(()),
            Some(c) => self.err(p, format!("bad character {}", describe_char(c))),
        }
    }

    fn quoted(&self, p: usize) -> Result<(String, usize), LexError> {
        let rest = &self.input[p + 1..];
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((out, p + 1 + i + 1)),
                '\n' => break,
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    match unescape(e, &mut chars) {
                        Some(ch) => out.push(ch),
                        None => return self.err(p, "invalid syntax"),
                    }
                }
                c => out.push(c),
            }
        }
        self.err(p, "unterminated quoted string")
    }

    fn char_const(&self, p: usize) -> Result<(i64, usize), LexError> {
        let rest = &self.input[p + 1..];
        let mut chars = rest.char_indices();
        let v = match chars.next() {
            Some((_, '\\')) => match chars.next() {
                Some((_, '\'')) => '\'',
                Some((_, e)) => unescape(e, &mut chars).ok_or(LexError {
                    pos: p,
                    msg: "invalid syntax".into(),
                })?,
                None => return self.err(p, "unterminated character constant"),
            },
            Some((_, '\n')) | None => return self.err(p, "unterminated character constant"),
            Some((_, c)) => c,
        };
        match chars.next() {
            Some((i, '\'')) => Ok((v as i64, p + 1 + i + 1)),
            _ => self.err(p, "unterminated character constant"),
        }
    }

    fn number(&mut self, p: usize) -> Result<usize, LexError> {
        let b = self.input.as_bytes();
        let mut q = p;
        if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
            q += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        let mut exp: &[u8] = b"eE";
        if q + 1 < b.len() && b[q] == b'0' && b"xXoObB".contains(&b[q + 1]) {
            match b[q + 1] {
                b'x' | b'X' => {
                    digits = b"0123456789abcdefABCDEF_";
                    exp = b"pP";
                }
                b'o' | b'O' => digits = b"01234567_",
                _ => digits = b"01_",
            }
            q += 2;
        }
        while q < b.len() && digits.contains(&b[q]) {
            q += 1;
        }
        if q < b.len() && b[q] == b'.' {
            q += 1;
            while q < b.len() && digits.contains(&b[q]) {
                q += 1;
            }
        }
        if q < b.len() && exp.contains(&b[q]) {
            q += 1;
            if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
                q += 1;
            }
            while q < b.len() && b"0123456789_".contains(&b[q]) {
                q += 1;
            }
        }
        let next = self.input[q..].chars().next();
        if q == p
            || next.is_some_and(is_alnum)
            || self.input[p..q] == *"+"
            || self.input[p..q] == *"-"
        {
            let end = q + next.map_or(0, char::len_utf8);
            return self.err(
                p,
                format!(
                    "bad number syntax: {:?}",
                    &self.input[p..end.min(self.input.len())]
                ),
            );
        }
        self.push(Tok::Number(self.input[p..q].to_string()), p, q);
        Ok(q)
    }
}

fn alnum_len(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !is_alnum(c))
        .map_or(s.len(), |(i, _)| i)
}

fn describe_char(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// One escape after `\` in a Go string literal.
fn unescape(e: char, chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    let hex = |n: usize, chars: &mut std::str::CharIndices<'_>| -> Option<char> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 16 + chars.next()?.1.to_digit(16)?;
        }
        char::from_u32(v)
    };
    Some(match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        '\\' => '\\',
        '"' => '"',
        'x' => hex(2, chars)?,
        'u' => hex(4, chars)?,
        'U' => hex(8, chars)?,
        '0'..='7' => {
            let mut v = e.to_digit(8)?;
            for _ in 0..2 {
                v = v * 8 + chars.next()?.1.to_digit(8)?;
            }
            char::from_u32(v)?
        }
        _ => return None,
    })
}
