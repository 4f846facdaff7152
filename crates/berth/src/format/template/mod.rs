//! Go's `text/template`, complete, over the JSON values the API returns: actions and
//! pipelines, `if`/`with`/`range` with `else`, `else if`/`else with`, `break`/`continue`,
//! variables (`$x := ...`, `$x = ...`, `range $i, $e := ...`), `define`/`template`/`block`,
//! comments and `{{-`/`-}}` trimming, Go's builtins (`and`, `or`, `not`, `len`, `index`,
//! `slice`, `print`, `printf`, `println`, `eq`...`ge`, `html`, `js`, `urlquery`, `call`)
//! and docker's functions (`json`, `split`, `join`, `title`, `lower`, `upper`, `pad`,
//! `truncate`). Values print as Go prints decoded JSON (`map[k:v]`, `[a b]`, `<nil>`) and a
//! missing key as `<no value>` (docker's default `missingkey`). On top sits docker's
//! `--format` handling: a `table` prefix, `\t`/`\n` escapes, and headers rendered by running
//! the template over the column labels.

mod exec;
mod funcs;
mod lex;
mod parse;
mod printf;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

/// A template that cannot be parsed or executed, worded as Go's `template:` errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template: :{line}: {msg}")]
    Parse { line: usize, msg: String },
    #[error("template: :{line}:{col}: executing \"\" at <{node}>: {msg}")]
    Exec {
        line: usize,
        col: usize,
        node: String,
        msg: String,
    },
}

/// A parsed `--format`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    tree: parse::Tree,
    text: String,
    /// The format began with `table`: print a header row and align columns.
    pub table: bool,
    /// Go's `missingkey=error`: a missing map key fails instead of printing `<no value>`
    /// (docker's `inspect` runs templates over the raw JSON this way).
    pub missing_key_error: bool,
    /// The Go type docker runs list templates over (`*formatter.ContainerContext`): a field
    /// the row lacks is an error naming it, as docker's method lookup fails.
    pub row_type: Option<&'static str>,
}

/// Line (1-based) and column (byte offset in the line, 0-based) of `pos`, as Go reports them.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text.as_bytes()[..pos];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(i) => pos - i - 1,
        None => pos,
    };
    (line, col)
}

impl Template {
    /// Parses a `--format` as docker does: `table` prefix removed (and remembered), spaces
    /// trimmed, `\t` and `\n` written as two characters turned into tab and newline.
    pub fn parse(format: &str) -> Result<Self, TemplateError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let body = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        let mut t = Self::parse_go(&body)?;
        t.table = table;
        Ok(t)
    }

    /// Parses a template exactly as Go's `template.New("").Parse(text)` would.
    pub fn parse_go(text: &str) -> Result<Self, TemplateError> {
        let perr = |pos: usize, msg: String| TemplateError::Parse {
            line: line_col(text, pos).0,
            msg,
        };
        let items = lex::lex(text).map_err(|e| perr(e.pos, e.msg))?;
        let tree = parse::parse(items).map_err(|e| perr(e.pos, e.msg))?;
        Ok(Self {
            tree,
            text: text.to_string(),
            table: false,
            missing_key_error: false,
            row_type: None,
        })
    }

    /// Renders the template for one value.
    pub fn render(&self, v: &Value) -> Result<String, TemplateError> {
        exec::execute(&self.tree, v, false, self.missing_key_error, self.row_type)
            .map_err(|e| self.exec_error(e))
    }

    fn exec_error(&self, e: exec::ExecError) -> TemplateError {
        let (line, col) = line_col(&self.text, e.pos);
        TemplateError::Exec {
            line,
            col,
            node: e.node,
            msg: e.msg,
        }
    }

    /// The header row of a table: the template run over a map of each field to its label
    /// (`ID` → `CONTAINER ID`, or the field's name upper-cased when `label` has none), with
    /// docker's functions returning their argument, as docker renders headers.
    pub fn header(
        &self,
        label: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<String, TemplateError> {
        let mut names = Vec::new();
        collect_fields(&self.tree.root, &mut names);
        for body in self.tree.defines.values() {
            collect_fields(body, &mut names);
        }
        let mut map = Map::new();
        for n in names {
            let l = label(&n).map_or_else(|| n.to_uppercase(), str::to_string);
            map.insert(n, Value::String(l));
        }
        exec::execute(&self.tree, &Value::Object(map), true, false, None)
            .map_err(|e| self.exec_error(e))
    }
}

fn collect_fields(nodes: &[parse::Node], out: &mut Vec<String>) {
    use parse::Node;
    for n in nodes {
        match n {
            Node::Action(p) => collect_pipe(p, out),
            Node::Branch {
                pipe,
                list,
                else_list,
                ..
            } => {
                collect_pipe(pipe, out);
                collect_fields(list, out);
                if let Some(e) = else_list {
                    collect_fields(e, out);
                }
            }
            Node::Template { pipe: Some(p), .. } => collect_pipe(p, out),
            _ => {}
        }
    }
}

fn collect_pipe(p: &parse::Pipe, out: &mut Vec<String>) {
    for c in &p.cmds {
        for a in &c.args {
            collect_arg(a, out);
        }
    }
}

fn collect_arg(a: &parse::Arg, out: &mut Vec<String>) {
    match &a.kind {
        parse::ArgKind::Field(path) => {
            if let Some(f) = path.first() {
                out.push(f.clone());
            }
        }
        parse::ArgKind::Pipe(p) => collect_pipe(p, out),
        parse::ArgKind::Chain(inner, _) => collect_arg(inner, out),
        _ => {}
    }
}
