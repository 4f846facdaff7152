//! The parser of Go's `text/template`: actions, pipelines with declarations, commands,
//! `if`/`with`/`range` with `else` (and `else if`/`else with`), `break`/`continue`,
//! `define`/`template`/`block`, checked for defined functions and variables as Go does.

use std::collections::HashMap;

use super::funcs::is_function;
use super::lex::{Item, Tok, is_keyword};

/// A constant number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

/// An operand of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    Num(Num),
    Str(String),
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B`
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    /// `(pipeline)`
    Pipe(Box<Pipe>),
    /// `(pipeline).A.B` and the like.
    Chain(Box<Arg>, Vec<String>),
}

/// An operand, where it is and how Go prints it in an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub kind: ArgKind,
    pub pos: usize,
    pub src: String,
}

/// Operands separated by spaces: a function call or a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    pub args: Vec<Arg>,
    pub pos: usize,
}

impl Cmd {
    pub fn src(&self) -> String {
        self.args
            .iter()
            .map(|a| a.src.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `$x := cmd | cmd`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
    pub pos: usize,
}

impl Pipe {
    pub fn src(&self) -> String {
        let cmds = self
            .cmds
            .iter()
            .map(Cmd::src)
            .collect::<Vec<_>>()
            .join(" | ");
        if self.decl.is_empty() {
            cmds
        } else {
            let op = if self.is_assign { "=" } else { ":=" };
            format!("{} {op} {cmds}", self.decl.join(", "))
        }
    }
}

/// Which of the three branching actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    If,
    With,
    Range,
}

impl Branch {
    fn name(self) -> &'static str {
        match self {
            Branch::If => "if",
            Branch::With => "with",
            Branch::Range => "range",
        }
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Action(Pipe),
    Branch {
        kind: Branch,
        pipe: Pipe,
        list: Vec<Node>,
        else_list: Option<Vec<Node>>,
    },
    Template {
        name: String,
        pipe: Option<Pipe>,
        pos: usize,
    },
    Break,
    Continue,
}

/// A parsed template and the templates it defines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    pub root: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

/// A parse failure at a byte offset.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub pos: usize,
    pub msg: String,
}

type PResult<T> = Result<T, ParseError>;

enum End {
    Close,
    Else { pos: usize, chained: Option<Branch> },
    Eof,
}

struct Parser {
    items: Vec<Item>,
    at: usize,
    vars: Vec<String>,
    range_depth: usize,
    defines: HashMap<String, Vec<Node>>,
}

/// Parses the tokens of a template.
pub fn parse(items: Vec<Item>) -> PResult<Tree> {
    let mut p = Parser {
        items,
        at: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        defines: HashMap::new(),
    };
    let (root, end) = p.list(true)?;
    match end {
        End::Eof => {}
        End::Close => return p.fail_prev("unexpected {{end}}"),
        End::Else { .. } => return p.fail_prev("unexpected {{else}}"),
    }
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

impl Parser {
    /// The next token; past the end, `Eof` again (so backing up one is always right).
    fn next(&mut self) -> Item {
        let it = self.items[self.at.min(self.items.len() - 1)].clone();
        self.at += 1;
        it
    }

    fn peek(&self) -> &Item {
        &self.items[self.at.min(self.items.len() - 1)]
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.tok != Tok::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let save = self.at;
        let it = self.next_non_space();
        self.at = save;
        it
    }

    fn fail<T>(&self, pos: usize, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            pos,
            msg: msg.into(),
        })
    }

    fn fail_prev<T>(&self, msg: &str) -> PResult<T> {
        let pos = self.items[self.at.saturating_sub(1)].pos;
        self.fail(pos, msg)
    }

    fn expect_right(&mut self, context: &str) -> PResult<()> {
        let it = self.next_non_space();
        if it.tok != Tok::Right {
            return self.fail(it.pos, format!("unexpected {} in {context}", it.describe()));
        }
        Ok(())
    }

    /// Nodes up to `{{end}}`, `{{else}}` or the end of input.
    fn list(&mut self, top: bool) -> PResult<(Vec<Node>, End)> {
        let mut nodes = Vec::new();
        loop {
            let it = self.next();
            match it.tok {
                Tok::Eof => {
                    if !top {
                        return self.fail(it.pos, "unexpected EOF");
                    }
                    return Ok((nodes, End::Eof));
                }
                Tok::Text(t) => nodes.push(Node::Text(t)),
                Tok::Left => {
                    let word = self.peek_non_space();
                    match &word.tok {
                        Tok::Ident(k) if k == "end" => {
                            self.next_non_space();
                            self.expect_right("end")?;
                            return Ok((nodes, End::Close));
                        }
                        Tok::Ident(k) if k == "else" => {
                            self.next_non_space();
                            let after = self.peek_non_space();
                            let chained = match &after.tok {
                                Tok::Ident(k) if k == "if" => Some(Branch::If),
                                Tok::Ident(k) if k == "with" => Some(Branch::With),
                                _ => None,
                            };
                            if chained.is_some() {
                                self.next_non_space();
                            } else {
                                self.expect_right("else")?;
                            }
                            return Ok((
                                nodes,
                                End::Else {
                                    pos: word.pos,
                                    chained,
                                },
                            ));
                        }
                        Tok::Ident(k) if k == "define" => {
                            if !top {
                                return self.fail(word.pos, "unexpected <define> in command");
                            }
                            self.next_non_space();
                            self.define(false)?;
                        }
                        _ => nodes.push(self.action()?),
                    }
                }
                _ => return self.fail(it.pos, format!("unexpected {}", it.describe())),
            }
        }
    }

    fn action(&mut self) -> PResult<Node> {
        let word = self.peek_non_space();
        if let Tok::Ident(k) = &word.tok {
            match k.as_str() {
                "if" | "with" | "range" => {
                    self.next_non_space();
                    let kind = match k.as_str() {
                        "if" => Branch::If,
                        "with" => Branch::With,
                        _ => Branch::Range,
                    };
                    return self.branch(kind);
                }
                "break" | "continue" => {
                    self.next_non_space();
                    if self.range_depth == 0 {
                        return self.fail(word.pos, format!("{{{{{k}}}}} outside {{{{range}}}}"));
                    }
                    self.expect_right(k)?;
                    return Ok(if k == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                "template" => {
                    self.next_non_space();
                    return self.template_call("template");
                }
                "block" => {
                    self.next_non_space();
                    return self.define(true);
                }
                _ => {}
            }
        }
        let pipe = self.pipeline("command", Tok::Right)?;
        Ok(Node::Action(pipe))
    }

    fn template_name(&mut self, context: &str) -> PResult<(String, usize)> {
        let it = self.next_non_space();
        match it.tok {
            Tok::Str(s) => Ok((s, it.pos)),
            _ => self.fail(
                it.pos,
                format!("unexpected {} in {context} clause", it.describe()),
            ),
        }
    }

    fn template_call(&mut self, context: &str) -> PResult<Node> {
        let (name, pos) = self.template_name(context)?;
        let pipe = if self.peek_non_space().tok == Tok::Right {
            self.next_non_space();
            None
        } else {
            Some(self.pipeline(context, Tok::Right)?)
        };
        Ok(Node::Template { name, pipe, pos })
    }

    /// `{{define "x"}}...{{end}}`, or `{{block "x" pipeline}}...{{end}}` which also calls it.
    fn define(&mut self, block: bool) -> PResult<Node> {
        let context = if block { "block" } else { "define" };
        let (name, pos) = self.template_name(context)?;
        let pipe = if block {
            Some(self.pipeline(context, Tok::Right)?)
        } else {
            self.expect_right(context)?;
            None
        };
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (body, end) = self.list(false)?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if !matches!(end, End::Close) {
            return self.fail_prev(&format!("unexpected {{{{else}}}} in {context}"));
        }
        self.defines.insert(name.clone(), body);
        Ok(Node::Template { name, pipe, pos })
    }

    fn branch(&mut self, kind: Branch) -> PResult<Node> {
        let mark = self.vars.len();
        let pipe = self.pipeline(kind.name(), Tok::Right)?;
        if kind == Branch::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.list(false)?;
        if kind == Branch::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            End::Close => None,
            End::Else { chained: None, .. } => {
                let (list, end) = self.list(false)?;
                if !matches!(end, End::Close) {
                    return self.fail_prev("expected end; found {{else}}");
                }
                Some(list)
            }
            End::Else {
                chained: Some(next),
                pos,
            } => {
                if next != kind || kind == Branch::Range {
                    return self.fail(
                        pos,
                        format!("unexpected {{{{else {}}}}} in {}", next.name(), kind.name()),
                    );
                }
                // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the outer `{{end}}`.
                Some(vec![self.branch(next)?])
            }
            End::Eof => return self.fail_prev("unexpected EOF"),
        };
        self.vars.truncate(mark);
        Ok(Node::Branch {
            kind,
            pipe,
            list,
            else_list,
        })
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> PResult<Pipe> {
        let start = self.peek_non_space().pos;
        let mut pipe = Pipe {
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
            pos: start,
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let it = self.next_non_space();
            if it.tok == end {
                if pipe.cmds.is_empty() {
                    return self.fail(it.pos, format!("missing value for {context}"));
                }
                for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                    let constant = c.args.first().filter(|a| {
                        matches!(
                            a.kind,
                            ArgKind::Bool(_)
                                | ArgKind::Dot
                                | ArgKind::Nil
                                | ArgKind::Num(_)
                                | ArgKind::Str(_)
                        )
                    });
                    if let Some(a) = constant {
                        return self.fail(
                            a.pos,
                            format!("non executable command in pipeline stage {}", i + 1),
                        );
                    }
                }
                return Ok(pipe);
            }
            match it.tok {
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Var(_)
                | Tok::Str(_)
                | Tok::LParen => {
                    self.at -= 1;
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => {
                    return self.fail(it.pos, format!("unexpected {} in {context}", it.describe()));
                }
            }
        }
    }

    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> PResult<()> {
        loop {
            let save = self.at;
            let v = self.next_non_space();
            let Tok::Var(name) = v.tok else {
                self.at = save;
                return Ok(());
            };
            let next = self.peek_non_space();
            match next.tok {
                Tok::Declare | Tok::Assign => {
                    self.next_non_space();
                    pipe.is_assign = next.tok == Tok::Assign;
                    if pipe.is_assign && !self.vars.contains(&name) {
                        return self.fail(v.pos, format!("undefined variable {name:?}"));
                    }
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    return Ok(());
                }
                Tok::Comma => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Var(_) => continue,
                            _ => return self.fail(next.pos, "range can only initialize variables"),
                        }
                    }
                    return self.fail(next.pos, format!("too many declarations in {context}"));
                }
                _ => {
                    self.at = save;
                    return Ok(());
                }
            }
        }
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Cmd {
            args: Vec::new(),
            pos,
        };
        loop {
            self.skip_spaces();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let it = self.next();
            match it.tok {
                Tok::Space => continue,
                Tok::Right | Tok::RParen => {
                    self.at -= 1;
                }
                Tok::Pipe => {}
                _ => {
                    return self.fail(it.pos, format!("unexpected {} in operand", it.describe()));
                }
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.fail(pos, "empty command");
        }
        Ok(cmd)
    }

    fn skip_spaces(&mut self) {
        while self.peek().tok == Tok::Space {
            self.next();
        }
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        let mut src = term.src.clone();
        // Go reports a chain (`.A.B`, `$x.A`) at its first chained field.
        let chain_pos = self.peek().pos;
        while let Tok::Field(f) = &self.peek().tok {
            fields.push(f.clone());
            src.push('.');
            src.push_str(f);
            self.next();
        }
        if fields.is_empty() {
            return Ok(Some(term));
        }
        let kind = match term.kind {
            ArgKind::Field(mut path) => {
                path.extend(fields);
                ArgKind::Field(path)
            }
            ArgKind::Var(name, mut path) => {
                path.extend(fields);
                ArgKind::Var(name, path)
            }
            ArgKind::Bool(_) | ArgKind::Str(_) | ArgKind::Num(_) | ArgKind::Nil | ArgKind::Dot => {
                return self.fail(term.pos, format!("unexpected . after term {:?}", term.src));
            }
            other => ArgKind::Chain(
                Box::new(Arg {
                    kind: other,
                    pos: term.pos,
                    src: term.src.clone(),
                }),
                fields,
            ),
        };
        Ok(Some(Arg {
            kind,
            pos: chain_pos,
            src,
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let it = self.next_non_space();
        let kind = match it.tok {
            Tok::Ident(ref name) => {
                if is_keyword(name) && name != "else" {
                    return self.fail(it.pos, format!("unexpected <{name}> in command"));
                }
                if !is_function(name) {
                    return self.fail(it.pos, format!("function {name:?} not defined"));
                }
                ArgKind::Ident(name.clone())
            }
            Tok::Dot => ArgKind::Dot,
            Tok::Nil => ArgKind::Nil,
            Tok::Bool(b) => ArgKind::Bool(b),
            Tok::Var(ref name) => {
                if !self.vars.contains(name) {
                    return self.fail(it.pos, format!("undefined variable {name:?}"));
                }
                ArgKind::Var(name.clone(), Vec::new())
            }
            Tok::Field(ref f) => ArgKind::Field(vec![f.clone()]),
            Tok::Char(c) => ArgKind::Num(Num::Int(c)),
            Tok::Number(ref n) => ArgKind::Num(self.number(n, it.pos)?),
            Tok::Str(ref s) => ArgKind::Str(s.clone()),
            Tok::LParen => {
                let pipe = self.pipeline("parenthesized pipeline", Tok::RParen)?;
                let src = format!("({})", pipe.src());
                return Ok(Some(Arg {
                    kind: ArgKind::Pipe(Box::new(pipe)),
                    pos: it.pos,
                    src,
                }));
            }
            _ => {
                self.at -= 1;
                return Ok(None);
            }
        };
        Ok(Some(Arg {
            kind,
            pos: it.pos,
            src: it.src,
        }))
    }

    fn number(&self, text: &str, pos: usize) -> PResult<Num> {
        let clean = text.replace('_', "");
        let (neg, body) = match clean.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
        };
        let radix = match body.get(..2) {
            Some("0x") | Some("0X") => Some(16),
            Some("0o") | Some("0O") => Some(8),
            Some("0b") | Some("0B") => Some(2),
            _ => None,
        };
        let int = match radix {
            Some(r) => i64::from_str_radix(&body[2..], r).ok(),
            None if body.len() > 1
                && body.starts_with('0')
                && body.bytes().all(|b| b.is_ascii_digit()) =>
            {
                i64::from_str_radix(&body[1..], 8).ok()
            }
            None => body.parse::<i64>().ok(),
        };
        if let Some(i) = int {
            return Ok(Num::Int(if neg { -i } else { i }));
        }
        if let (None, Ok(f)) = (radix, body.parse::<f64>()) {
            return Ok(Num::Float(if neg { -f } else { f }));
        }
        self.fail(pos, format!("illegal number syntax: {text:?}"))
    }
}
